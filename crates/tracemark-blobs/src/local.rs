//! Blobs as files under one directory.

use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};

use tracemark_store::{BlobKey, BlobStore, StoreError};

const BACKEND: &str = "local-blobs";

/// Blobs as files under `root` (key `originals/x.sealed` is `root/originals/x.sealed`).
/// A put writes a temporary file, syncs it and renames it into place, so a crash leaves
/// the old blob or the new one, never half of one.
#[derive(Debug, Clone)]
pub struct LocalBlobs {
    root: PathBuf,
}

impl LocalBlobs {
    /// Blobs under `root` (created on the first put).
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
        }
    }

    fn path(&self, key: &BlobKey) -> PathBuf {
        // BlobKey's syntax has no `..`, no leading `/` and no backslash: the path stays
        // under the root.
        self.root.join(key.as_str())
    }
}

fn io(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::backend(BACKEND, format!("{}: {e}", path.display()))
}

impl BlobStore for LocalBlobs {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    fn put(&self, key: &BlobKey, bytes: &[u8]) -> Result<(), StoreError> {
        self.put_from(key, &mut &bytes[..]).map(|_| ())
    }

    fn put_from(&self, key: &BlobKey, from: &mut dyn Read) -> Result<u64, StoreError> {
        let path = self.path(key);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        }
        // A temporary name of this write's own (process and a per-process counter), so
        // concurrent writes of one key, from threads or processes, never share a file:
        // each renames a whole file into place and the last one wins.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = path.with_extension(format!("tmp-{}-{n}", std::process::id()));
        let mut write = || {
            let mut f = std::fs::File::create(&tmp).map_err(|e| io(&tmp, e))?;
            let written = std::io::copy(from, &mut f).map_err(|e| io(&tmp, e))?;
            f.sync_all().map_err(|e| io(&tmp, e))?;
            std::fs::rename(&tmp, &path).map_err(|e| io(&path, e))?;
            Ok(written)
        };
        let written = write();
        if written.is_err() {
            // A reader that failed half way leaves no temporary file behind.
            let _ = std::fs::remove_file(&tmp);
        }
        written
    }

    fn get(&self, key: &BlobKey) -> Result<Option<Vec<u8>>, StoreError> {
        let path = self.path(key);
        match std::fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&path, e)),
        }
    }

    fn size(&self, key: &BlobKey) -> Result<Option<u64>, StoreError> {
        let path = self.path(key);
        match std::fs::metadata(&path) {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&path, e)),
        }
    }

    fn get_range(&self, key: &BlobKey, range: Range<u64>) -> Result<Option<Vec<u8>>, StoreError> {
        let path = self.path(key);
        let mut f = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&path, e)),
        };
        let len = f.metadata().map_err(|e| io(&path, e))?.len();
        let want = crate::checked_range(key, &range, len)?;
        let mut out = vec![0; want];
        f.seek(SeekFrom::Start(range.start))
            .map_err(|e| io(&path, e))?;
        f.read_exact(&mut out).map_err(|e| io(&path, e))?;
        Ok(Some(out))
    }

    fn list(&self) -> Result<Vec<BlobKey>, StoreError> {
        let mut out = Vec::new();
        let mut stack = vec![self.root.clone()];
        while let Some(dir) = stack.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io(&dir, e)),
            };
            for entry in entries {
                let entry = entry.map_err(|e| io(&dir, e))?;
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if let Ok(rel) = path.strip_prefix(&self.root)
                    && let Some(rel) = rel.to_str()
                    && let Ok(key) = BlobKey::try_new(rel.replace('\\', "/"))
                    && !rel.contains(".tmp-")
                {
                    out.push(key);
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_blobs_pass_the_blob_checks() {
        let dir = tempfile::tempdir().expect("tmp");
        let blobs = LocalBlobs::new(&dir.path().join("vault"));
        crate::check_blob_store(&blobs).expect("conforms");
    }
}
