//! Appends 100,000 log entries, then proves inclusion and consistency in the largest tree
//! and prints throughput, proof times and proof sizes.
//!
//! `cargo run --release -p tracemark-ledger --example bench_log [ENTRIES]`

use std::time::{Duration, Instant};

use tracemark_ledger::{
    Checkpoint, Hash, Ident, KeyName, LedgerError, LogEntry, MerkleTree, NoteSigner, UnixMillis,
};

fn entry(i: u64) -> Result<LogEntry, LedgerError> {
    Ok(LogEntry::CopyIssued {
        time: UnixMillis(1_760_000_000_000 + i as i64),
        recording: Ident::try_new(format!("rec-{}", i / 100))?,
        recipient: Ident::try_new(format!("recipient-{i}"))?,
        codeword_commitment: Hash::sha256(&i.to_be_bytes()).0,
        format: Ident::try_new("opus-16k")?,
        copy_sha256: Hash::sha256(&i.to_le_bytes()),
    })
}

fn per_op(total: Duration, n: u64) -> String {
    format!("{:.2} µs", total.as_secs_f64() * 1e6 / n as f64)
}

fn main() -> Result<(), LedgerError> {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);

    // Entries are built first so the append figure measures encoding + hashing + tree.
    let entries: Vec<LogEntry> = (0..n).map(entry).collect::<Result<_, _>>()?;
    let mut tree = MerkleTree::new();
    let start = Instant::now();
    let mut encoded_bytes = 0usize;
    for e in &entries {
        let bytes = e.encode();
        encoded_bytes += bytes.len();
        tree.push_leaf_hash(tracemark_ledger::leaf_hash(&bytes));
    }
    let append = start.elapsed();
    let size = tree.size();
    println!("entries appended:        {size}");
    println!(
        "append (encode+hash):    {:.3} s, {:.0} entries/s, mean entry {} bytes",
        append.as_secs_f64(),
        size as f64 / append.as_secs_f64(),
        encoded_bytes / entries.len().max(1)
    );

    let start = Instant::now();
    let root = tree.root();
    println!("root of largest tree:    {:?} ({root})", start.elapsed());

    let signer = NoteSigner::from_seed(KeyName::try_new("tracemark.bench/log")?, &[9; 32]);
    let start = Instant::now();
    let note = Checkpoint::new(signer.verifier_key().name().clone(), size, root).sign(&signer)?;
    let sign = start.elapsed();
    let key = signer.verifier_key();
    let start = Instant::now();
    let cp = Checkpoint::open(note.as_bytes(), &key)?;
    println!(
        "checkpoint:              sign {:?}, open+verify {:?}, {} bytes",
        sign,
        start.elapsed(),
        note.len()
    );

    // Inclusion: prove and verify a spread of leaves in the largest tree.
    let samples: Vec<u64> = (0..1000u64).map(|k| k * 7919 % size).collect();
    let (mut prove, mut verify, mut max_hashes, mut max_bytes, mut max_text) =
        (Duration::ZERO, Duration::ZERO, 0, 0, 0);
    for &i in &samples {
        let t = Instant::now();
        let proof = tree.inclusion_proof(i, size)?;
        prove += t.elapsed();
        max_hashes = max_hashes.max(proof.path().len());
        max_bytes = max_bytes.max(proof.to_bytes().len());
        max_text = max_text.max(proof.to_text().len());
        let leaf = entries[i as usize].leaf_hash();
        let t = Instant::now();
        cp.verify_inclusion(&leaf, &proof)?;
        verify += t.elapsed();
    }
    println!(
        "inclusion proof:         prove {}, verify {} (mean of {}), at most {} hashes, {} bytes binary, {} bytes text",
        per_op(prove, samples.len() as u64),
        per_op(verify, samples.len() as u64),
        samples.len(),
        max_hashes,
        max_bytes,
        max_text
    );

    // Consistency: from a spread of older sizes to the largest tree.
    let olds: Vec<u64> = (1..=1000u64).map(|k| k * 99_991 % size + 1).collect();
    let (mut prove, mut verify, mut max_hashes, mut max_bytes) =
        (Duration::ZERO, Duration::ZERO, 0, 0);
    for &m in &olds {
        let t = Instant::now();
        let proof = tree.consistency_proof(m, size)?;
        prove += t.elapsed();
        max_hashes = max_hashes.max(proof.path().len());
        max_bytes = max_bytes.max(proof.to_bytes().len());
        let old_root = tree.root_at(m)?;
        let t = Instant::now();
        proof.verify(&old_root, &root)?;
        verify += t.elapsed();
    }
    println!(
        "consistency proof:       prove {}, verify {} (mean of {}), at most {} hashes, {} bytes binary",
        per_op(prove, olds.len() as u64),
        per_op(verify, olds.len() as u64),
        olds.len(),
        max_hashes,
        max_bytes
    );
    Ok(())
}
