//! Blobs in object storage through the `object_store` crate.

use std::io::Read;
use std::ops::Range;
use std::sync::Arc;

use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use tracemark_store::{BlobKey, BlobStore, StoreError};

const BACKEND: &str = "object-store";

/// Bytes per part of a multipart upload: S3's minimum part is 5 MiB (all but the last;
/// Amazon S3 User Guide, "Amazon S3 multipart upload limits").
const PART: usize = 8 << 20;

/// Fills `part` from `from` as far as it goes; returns the bytes read (short only at the end).
fn read_part(from: &mut dyn Read, part: &mut [u8]) -> Result<usize, StoreError> {
    let mut n = 0;
    while n < part.len() {
        match from.read(&mut part[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(err(format!("reading the blob to write: {e}"))),
        }
    }
    Ok(n)
}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError::backend(BACKEND, e)
}

/// Blobs in an object store. Calls block the calling thread on a small runtime of its own,
/// so the store traits stay synchronous.
pub struct ObjectBlobs {
    store: Arc<dyn ObjectStore>,
    prefix: ObjectPath,
    runtime: tokio::runtime::Runtime,
    url: String,
}

impl std::fmt::Debug for ObjectBlobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectBlobs")
            .field("url", &self.url)
            .finish()
    }
}

impl ObjectBlobs {
    /// Opens the object store at `url` (`file:///abs/dir`, `memory:///`, or with the `aws`
    /// feature `s3://bucket/prefix`, configured from the usual `AWS_*` variables).
    pub fn open(url: &str) -> Result<Self, StoreError> {
        let parsed = url::Url::parse(url).map_err(|e| StoreError::Invalid {
            what: "blob store URL",
            reason: format!("{url:?}: {e}"),
        })?;
        let (store, prefix) =
            object_store::parse_url(&parsed).map_err(|e| StoreError::Invalid {
                what: "blob store URL",
                reason: format!("{url:?}: {e}"),
            })?;
        if parsed.scheme() == "file" {
            std::fs::create_dir_all(parsed.path()).map_err(err)?;
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(err)?;
        Ok(Self {
            store: Arc::from(store),
            prefix,
            runtime,
            url: url.to_string(),
        })
    }

    /// Wraps an existing object store (tests, embedding).
    pub fn from_store(store: Arc<dyn ObjectStore>, url: &str) -> Result<Self, StoreError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(err)?;
        Ok(Self {
            store,
            prefix: ObjectPath::default(),
            runtime,
            url: url.to_string(),
        })
    }

    fn location(&self, key: &BlobKey) -> ObjectPath {
        key.as_str()
            .split('/')
            .fold(self.prefix.clone(), |p, part| p.join(part))
    }
}

impl BlobStore for ObjectBlobs {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    fn put(&self, key: &BlobKey, bytes: &[u8]) -> Result<(), StoreError> {
        let loc = self.location(key);
        let payload = PutPayload::from(bytes.to_vec());
        self.runtime
            .block_on(self.store.put(&loc, payload))
            .map(|_| ())
            .map_err(err)
    }

    fn put_from(&self, key: &BlobKey, from: &mut dyn Read) -> Result<u64, StoreError> {
        let loc = self.location(key);
        // The first part read decides: a blob of one part is a plain put (object stores
        // refuse multipart parts under 5 MiB but the last, and it saves the round trips).
        let mut part = vec![0; PART];
        let first = read_part(from, &mut part)?;
        if first < PART {
            part.truncate(first);
            let payload = PutPayload::from(part);
            self.runtime
                .block_on(self.store.put(&loc, payload))
                .map_err(err)?;
            return Ok(first as u64);
        }
        self.runtime.block_on(async {
            let upload = self.store.put_multipart(&loc).await.map_err(err)?;
            let mut writer = WriteMultipart::new_with_chunk_size(upload, PART);
            let mut written = first as u64;
            writer.write(&part);
            loop {
                // At most two parts in flight: memory stays a few parts whatever the length.
                if let Err(e) = writer.wait_for_capacity(2).await {
                    return Err(err(e));
                }
                let n = match read_part(from, &mut part) {
                    Ok(n) => n,
                    Err(e) => {
                        let _ = writer.abort().await;
                        return Err(e);
                    }
                };
                if n == 0 {
                    break;
                }
                writer.write(&part[..n]);
                written += n as u64;
            }
            writer.finish().await.map_err(err)?;
            Ok(written)
        })
    }

    fn get(&self, key: &BlobKey) -> Result<Option<Vec<u8>>, StoreError> {
        let loc = self.location(key);
        self.runtime.block_on(async {
            match self.store.get(&loc).await {
                Ok(r) => Ok(Some(r.bytes().await.map_err(err)?.to_vec())),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(err(e)),
            }
        })
    }

    fn size(&self, key: &BlobKey) -> Result<Option<u64>, StoreError> {
        let loc = self.location(key);
        self.runtime.block_on(async {
            match self.store.head(&loc).await {
                Ok(meta) => Ok(Some(meta.size)),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(err(e)),
            }
        })
    }

    fn get_range(&self, key: &BlobKey, range: Range<u64>) -> Result<Option<Vec<u8>>, StoreError> {
        let loc = self.location(key);
        let read = if range.is_empty() {
            None
        } else {
            Some(
                self.runtime
                    .block_on(self.store.get_range(&loc, range.clone())),
            )
        };
        match read {
            // The store returns exactly the bytes asked for or fails: one request per read.
            Some(Ok(b)) if b.len() as u64 == range.end - range.start => Ok(Some(b.to_vec())),
            // An empty range, or a failed read: the blob's length says which error it is.
            _ => {
                let Some(len) = self.size(key)? else {
                    return Ok(None);
                };
                crate::checked_range(key, &range, len)?;
                match read {
                    None => Ok(Some(Vec::new())),
                    Some(Err(e)) => Err(err(e)),
                    Some(Ok(b)) => Err(err(format!(
                        "{}: {} bytes read for a range of {}",
                        key.as_str(),
                        b.len(),
                        range.end - range.start
                    ))),
                }
            }
        }
    }

    fn list(&self) -> Result<Vec<BlobKey>, StoreError> {
        let prefix = if self.prefix.as_ref().is_empty() {
            None
        } else {
            Some(&self.prefix)
        };
        let metas: Vec<_> = self
            .runtime
            .block_on(self.store.list(prefix).try_collect())
            .map_err(err)?;
        let mut out = Vec::new();
        for m in metas {
            let full = m.location.as_ref();
            let rel = full
                .strip_prefix(self.prefix.as_ref())
                .unwrap_or(full)
                .trim_start_matches('/');
            out.push(BlobKey::try_new(rel)?);
        }
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_blobs_pass_the_blob_checks_in_memory_and_on_files() {
        let mem = ObjectBlobs::open("memory:///").expect("memory store");
        crate::check_blob_store(&mem).expect("memory conforms");
        let dir = tempfile::tempdir().expect("tmp");
        let url = format!("file://{}/blobs", dir.path().display());
        let files = ObjectBlobs::open(&url).expect("file store");
        crate::check_blob_store(&files).expect("files conform");
    }
}
