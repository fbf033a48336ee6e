//! Blobs in object storage through the `object_store` crate.

use std::sync::Arc;

use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use tracemark_store::{BlobKey, BlobStore, StoreError};

const BACKEND: &str = "object-store";

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
