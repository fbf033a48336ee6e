//! Tracing a leak from a file on the disk (`Vault::trace_file`): the same report as
//! tracing its bytes, text routed to the text trace, and errors naming the file as sent.

mod common;

use tracemark_media::{EncodeOptions, Format, Limits, decode_bytes, encode_bytes};
use tracemark_types::Sha256;
use tracemark_vault::{DEFAULT_BOUND, Delivery, Medium, VaultError};

#[test]
fn a_leak_traced_from_its_file_reads_as_its_bytes_do() {
    let dir = tempfile::tempdir().expect("tmp");
    let v = common::init_with_clock(dir.path(), common::fixed_clock).expect("init");
    let names: Vec<String> = (0..3).map(|i| format!("Office {i}")).collect();
    v.add_recipients(&names).expect("recipients");
    let rec = v
        .ingest(&common::demo_audio(), "call.flac", "Call")
        .expect("ingest");
    let copies = v
        .issue(
            rec.id.as_str(),
            &names,
            Delivery::of(Format::Flac),
            |_, _| {},
        )
        .expect("issue");
    let copy = decode_bytes(&copies[1].bytes, Some("flac"), &Limits::default()).expect("decode");
    let rate = copy.rate().hz() as usize;
    let leak = encode_bytes(
        &copy.slice(10 * rate, 30 * rate),
        Format::Wav,
        &EncodeOptions::default(),
    )
    .expect("encode");
    let path = dir.path().join("leak.wav");
    std::fs::write(&path, &leak).expect("write");

    let from_file = v
        .trace_file(&path, "leak.wav", DEFAULT_BOUND)
        .expect("trace file");
    let from_bytes = v.trace(&leak, "leak.wav", DEFAULT_BOUND).expect("trace");
    assert_eq!(from_file.leak_sha256, Sha256::digest(&leak));
    assert_eq!(from_file.leak_sha256, from_bytes.leak_sha256);
    let accused = |r: &tracemark_types::TraceReport| -> Vec<String> {
        r.accused().map(|a| a.name.clone()).collect()
    };
    assert_eq!(accused(&from_file), vec!["Office 1".to_string()]);
    assert_eq!(accused(&from_file), accused(&from_bytes));
    assert_eq!(from_file.verdict(), from_bytes.verdict());
    // Both are in the log.
    assert!(v.trace_row(from_file.id.as_str()).is_ok());

    // A quoted excerpt in a file is traced as text.
    let quote = dir.path().join("quote.txt");
    std::fs::write(
        &quote,
        "we never said that, it was all arranged beforehand\n",
    )
    .expect("write");
    let r = v
        .trace_file(&quote, "quote.txt", DEFAULT_BOUND)
        .expect("trace text");
    assert_eq!(r.medium, Medium::Text);

    // Bytes that are no audio: an error naming the file as it was sent, not the path.
    let junk = dir.path().join("spool-123");
    let bytes: Vec<u8> = (0..5000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&junk, bytes).expect("write");
    match v.trace_file(&junk, "leak-as-sent.mp3", DEFAULT_BOUND) {
        Err(VaultError::Media(e)) => {
            let text = e.to_string();
            assert!(text.contains("leak-as-sent.mp3"), "{text}");
            assert!(!text.contains("spool-123"), "{text}");
        }
        other => panic!("{other:?}"),
    }
}
