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
    if blobs.list().map_err(|e| e.to_string())? != vec![c, a, b] {
        return fail("list is not the sorted keys");
    }
    Ok(())
}
