//! The embedded default backend: one SQLite file (WAL, full sync) holding the rows, the
//! log, its checkpoints and the tree's right edge.
//!
//! Writers serialise on SQLite's write lock: [`Store::append`] opens a `BEGIN IMMEDIATE`
//! transaction (waiting up to [`BUSY_TIMEOUT_MS`] for another writer), reads the stored
//! frontier, runs [`tracemark_store::sequence`] and commits, so ids and log indices are
//! assigned inside the transaction and the tree a process signs is the one in the file.
//!
//! Migrations are versioned by `PRAGMA user_version`; a vault written before this crate
//! existed (versions 1 and 2) upgrades in place: migration 3 adds per-recording fingerprints,
//! the stored frontier (computed from the existing log) and a flag asking the use-case layer
//! to state the legacy records' columns in the log (`Store::legacy_upgrade`).
//!
//! ```
//! use tracemark_store::{Draft, Store};
//! use tracemark_store_sqlite::SqliteStore;
//! let dir = tempfile::tempdir()?;
//! let store = SqliteStore::open(&dir.path().join("vault.db"), true)?;
//! let signer = tracemark_store::conformance::signer();
//! let draft = Draft::Recipient { name: "Envoy office".into(), email: None };
//! store.append(tracemark_types::UnixMillis(0), vec![draft], &signer)?;
//! assert_eq!(store.log_size()?, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod rows;
mod schema;
mod store;

pub use schema::SCHEMA_VERSION;
pub use store::{BUSY_TIMEOUT_MS, SqliteStore};
