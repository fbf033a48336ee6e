//! What the crate's unit tests share.

use crate::Vault;

/// A fresh embedded vault (SQLite and local blobs) in `dir`.
pub(crate) fn vault(dir: &std::path::Path) -> Vault {
    Vault::create_keys(dir).expect("keys");
    let store =
        tracemark_store_sqlite::SqliteStore::open(&dir.join("vault.db"), true).expect("store");
    Vault::open(
        dir,
        Box::new(store),
        Box::new(tracemark_blobs::LocalBlobs::new(&dir.join("blobs"))),
    )
    .expect("vault")
}
