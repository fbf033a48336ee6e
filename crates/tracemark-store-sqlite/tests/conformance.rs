//! The storage conformance suite on SQLite: each story on a fresh database file.

use std::sync::Arc;

use tracemark_store::conformance::Opener;
use tracemark_store_sqlite::SqliteStore;

fn fresh() -> Option<Opener> {
    // Kept alive for the test process's life: each story's directory is removed at exit.
    let dir = Box::leak(Box::new(tempfile::tempdir().expect("temporary directory")));
    let path = dir.path().join("vault.db");
    SqliteStore::open(&path, true).expect("create");
    Some(Arc::new(move || {
        Box::new(SqliteStore::open(&path, false).expect("open")) as Box<dyn tracemark_store::Store>
    }))
}

tracemark_store::conformance_suite!(fresh);
