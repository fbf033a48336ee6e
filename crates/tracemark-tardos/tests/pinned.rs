//! Codewords already issued are in signed logs: `Biases::draw`, `Codeword::draw`,
//! `Codeword::draw_slots` and `Codeword::commitment` must give, for every seed, exactly
//! what they gave when these values were recorded (computed by the code of commit
//! d2dfa1b, before drawing was batched). A change here is a new format, not a fix.

use sha2::{Digest, Sha256};
use tracemark_tardos::{Biases, Codeword, Cutoff, sim};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn biases(len: usize) -> Biases {
    Biases::draw(
        &sim::seed("pinned/biases", len as u64),
        len,
        Cutoff::default(),
    )
    .expect("short")
}

fn recipient(j: u64) -> [u8; 32] {
    sim::seed("pinned/recipient", j)
}

/// Slot sets a leak might cover: contiguous, strided, scattered, past the end.
fn slot_sets(len: usize) -> Vec<Vec<usize>> {
    vec![
        (0..len).collect(),
        (len / 3..(len / 3 + 250).min(len)).collect(),
        (0..len).step_by(7).collect(),
        (1..len).filter(|i| i * 31 % 17 < 5).collect(),
        vec![len.saturating_sub(1), len, len + 100],
        Vec::new(),
    ]
}

/// SHA-256 over every bias's bits, and every commitment of full and partial codewords of
/// 40 recipients at each length.
fn digest() -> String {
    let mut h = Sha256::new();
    for len in [1usize, 3, 4, 5, 63, 64, 65, 129, 750, 4097] {
        let b = biases(len);
        for p in b.as_slice() {
            h.update(p.to_bits().to_le_bytes());
        }
        for j in 0..40 {
            h.update(Codeword::draw(&recipient(j), &b).commitment());
            for slots in slot_sets(len) {
                h.update(Codeword::draw_slots(&recipient(j), &b, &slots).commitment());
            }
        }
    }
    hex(&h.finalize())
}

#[test]
fn issued_codewords_and_commitments_are_pinned() {
    let b = biases(750);
    let w = Codeword::draw(&recipient(0), &b);
    let first: String = w
        .symbols()
        .take(64)
        .map(|s| if s { '1' } else { '0' })
        .collect();
    let got = [
        format!("{:016x}", b.as_slice()[0].to_bits()),
        format!("{:016x}", b.as_slice()[749].to_bits()),
        first,
        hex(&w.commitment()),
        hex(&Codeword::draw(&recipient(1), &b).commitment()),
        hex(&Codeword::draw_slots(&recipient(0), &b, &(250..500).collect::<Vec<_>>()).commitment()),
        digest(),
    ];
    let want: [&str; 7] = [
        "3fec1404c9b895aa",
        "3fe38098a5ca820a",
        "1010001011000001011011101100000001010100111001011100100010110110",
        "1d7b73356b63c9ed65d8a37e3d50b515d1ee43d87789ba60f026ef1aa03cf7c1",
        "d74272d21e217d6f4f1576122e1db481bc297edcefbe04ef1873a7218b5a6d37",
        "3bcaa77fcc419262684bc9cc788151e3680910eb52aaed969cb2119543f80d4e",
        "4a01e5c5d0e6b236e55faf41b0e573d584b59a5fdae3ebe127618c725ae7589e",
    ];
    assert_eq!(got.each_ref().map(String::as_str), want, "{got:#?}");
}
