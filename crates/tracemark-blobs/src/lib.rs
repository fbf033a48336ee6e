//! Where large values live: [`LocalBlobs`] (a directory, the embedded default; the layout
//! older vaults already have) and [`ObjectBlobs`] (any `object_store` URL: `file:///...`,
//! `memory:///`, and `s3://bucket/prefix` with the `aws` feature), both behind
//! [`tracemark_store::BlobStore`].
//!
//! ```
//! use tracemark_blobs::LocalBlobs;
//! use tracemark_store::{BlobKey, BlobStore};
//! let dir = tempfile::tempdir()?;
//! let blobs = LocalBlobs::new(dir.path());
//! let key = BlobKey::try_new("originals/rec-0123456789ab.sealed")?;
//! blobs.put(&key, b"sealed bytes")?;
//! assert_eq!(blobs.get(&key)?.as_deref(), Some(&b"sealed bytes"[..]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod local;
mod object;

pub use local::LocalBlobs;
pub use object::ObjectBlobs;

/// The length of `range` of a blob of `len` bytes, or why it cannot be read.
fn checked_range(
    key: &tracemark_store::BlobKey,
    range: &std::ops::Range<u64>,
    len: u64,
) -> Result<usize, tracemark_store::StoreError> {
    if range.start > range.end || range.end > len {
        return Err(tracemark_store::StoreError::Invalid {
            what: "blob range",
            reason: format!(
                "{}: bytes {}..{} of a blob of {len}",
                key.as_str(),
                range.start,
                range.end
            ),
        });
    }
    usize::try_from(range.end - range.start).map_err(|_| tracemark_store::StoreError::Invalid {
        what: "blob range",
        reason: format!("{}: {} bytes", key.as_str(), range.end - range.start),
    })
}

/// Runs the blob-store conformance checks on `blobs` (used by this crate's tests for both
/// implementations).
#[doc(hidden)]
pub fn check_blob_store(blobs: &dyn tracemark_store::BlobStore) -> Result<(), String> {
    use tracemark_store::BlobKey;
    let key = |s: &str| BlobKey::try_new(s).map_err(|e| e.to_string());
    let a = key("originals/rec-aaaaaaaaaaaa.sealed")?;
    let b = key("originals/rec-bbbbbbbbbbbb.sealed")?;
    let fail = |what: &str| Err(format!("blob store {}: {what}", blobs.backend()));
    if blobs.get(&a).map_err(|e| e.to_string())?.is_some() {
        return fail("a missing blob reads as present");
    }
    blobs.put(&b, &[2; 70_000]).map_err(|e| e.to_string())?;
    blobs.put(&a, b"first").map_err(|e| e.to_string())?;
    blobs.put(&a, b"second").map_err(|e| e.to_string())?;
    if blobs.get(&a).map_err(|e| e.to_string())?.as_deref() != Some(&b"second"[..]) {
        return fail("a rewritten blob does not read back");
    }
    if blobs.get(&b).map_err(|e| e.to_string())?.map(|v| v.len()) != Some(70_000) {
        return fail("a 70 kB blob does not read back whole");
    }
    // Concurrent writers of one key (two uploads of the same leak): the blob reads back
    // as exactly one of the writes, never a mix or a missing file.
    let c = key("leaks/cccc.sealed")?;
    let contents: Vec<Vec<u8>> = (0..8u8)
        .map(|i| vec![i; 200_000 + usize::from(i)])
        .collect();
    let results: Vec<Result<(), String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = contents
            .iter()
            .map(|body| scope.spawn(|| blobs.put(&c, body).map_err(|e| e.to_string())))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a writer panicked".into())))
            .collect()
    });
    for r in results {
        r?;
    }
    let read = blobs.get(&c).map_err(|e| e.to_string())?;
    if !read.is_some_and(|r| contents.contains(&r)) {
        return fail("concurrent writes of one key left something other than one whole write");
    }
    if blobs.list().map_err(|e| e.to_string())? != vec![c.clone(), a.clone(), b.clone()] {
        return fail("list is not the sorted keys");
    }
    // Ranged reads and lengths.
    if blobs.size(&b).map_err(|e| e.to_string())? != Some(70_000) {
        return fail("the size of a 70 kB blob");
    }
    let missing = key("originals/rec-dddddddddddd.sealed")?;
    if blobs.size(&missing).map_err(|e| e.to_string())?.is_some()
        || blobs
            .get_range(&missing, 0..1)
            .map_err(|e| e.to_string())?
            .is_some()
    {
        return fail("a missing blob has a size or a range");
    }
    if blobs
        .get_range(&a, 1..4)
        .map_err(|e| e.to_string())?
        .as_deref()
        != Some(&b"eco"[..])
        || blobs
            .get_range(&a, 6..6)
            .map_err(|e| e.to_string())?
            .as_deref()
            != Some(&[][..])
        || blobs
            .get_range(&a, 0..6)
            .map_err(|e| e.to_string())?
            .as_deref()
            != Some(&b"second"[..])
    {
        return fail("a range does not read its bytes");
    }
    for past in [5..7, 7..8] {
        if !matches!(
            blobs.get_range(&a, past.clone()),
            Err(tracemark_store::StoreError::Invalid { .. })
        ) {
            return fail(&format!("range {past:?} of a 6-byte blob is not refused"));
        }
    }
    // Streamed writes: empty, small, and several object-store parts long.
    let big: Vec<u8> = (0..20_000_003u32).map(|i| (i % 251) as u8).collect();
    for body in [&b""[..], b"streamed", &big] {
        let written = blobs
            .put_from(&c, &mut &body[..])
            .map_err(|e| e.to_string())?;
        if written != body.len() as u64
            || blobs.get(&c).map_err(|e| e.to_string())?.as_deref() != Some(body)
        {
            return fail(&format!("a streamed write of {} bytes", body.len()));
        }
    }
    if blobs
        .get_range(&c, 9_000_000..9_000_010)
        .map_err(|e| e.to_string())?
        .as_deref()
        != Some(&big[9_000_000..9_000_010])
    {
        return fail("a range across parts");
    }
    // A reader that fails half way writes nothing and leaves the old blob.
    struct Failing(usize);
    impl std::io::Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Err(std::io::Error::other("the source failed"));
            }
            let n = buf.len().min(self.0);
            buf[..n].fill(9);
            self.0 -= n;
            Ok(n)
        }
    }
    for fail_after in [10, 9 << 20] {
        if blobs.put_from(&a, &mut Failing(fail_after)).is_ok() {
            return fail("a write whose reader failed succeeded");
        }
        if blobs.get(&a).map_err(|e| e.to_string())?.as_deref() != Some(&b"second"[..]) {
            return fail("a failed streamed write changed the blob");
        }
    }
    if blobs.list().map_err(|e| e.to_string())? != vec![c, a, b] {
        return fail("a failed streamed write left a key behind");
    }
    Ok(())
}
