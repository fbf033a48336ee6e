//! The server backend: one PostgreSQL database holding the rows, the log, its checkpoints
//! and the tree's right edge, for vaults shared by several processes or hosts.
//!
//! # Locking
//! Every writer serialises on one transaction-scoped advisory lock,
//! `pg_advisory_xact_lock(`[`SEQUENCER_LOCK_KEY`]`)`, the log sequencer.
//! [`Store::append`](tracemark_store::Store::append) opens a READ COMMITTED transaction,
//! takes the lock as its first statement (waiting up to [`BUSY_TIMEOUT_MS`], PostgreSQL's
//! `lock_timeout`, then failing with `StoreError::Busy`), reads the stored frontier, runs
//! [`tracemark_store::sequence`] and commits; the lock is released by the commit (or the
//! rollback, or the server when the connection is lost). Ids and log indices are assigned
//! inside that transaction, and because each statement after the lock takes a new snapshot
//! it sees everything the previous holder committed: the tree a process signs is the one in
//! the database. Imports and migrations take the same lock. Reads take no lock; each is one
//! statement and sees committed data, and `export` reads every table in one REPEATABLE
//! READ, read-only transaction.
//!
//! The key is scoped to the database by PostgreSQL, so vaults in different databases of
//! one server do not wait for each other.
//!
//! # Schema
//! Versioned migrations, recorded in `schema_migrations (version, applied_at)` and applied
//! by [`PostgresStore::connect`] under the sequencer lock (so processes starting at once
//! apply each once; a database newer than this build is refused with
//! `StoreError::SchemaTooNew`). The tables mirror the SQLite backend's: `log (idx, entry,
//! leaf_hash)`, `checkpoints (size, note)`, `log_state (frontier)` (the tree's right edge),
//! `recordings`, `fingerprints` (one per recording), `recipients` (unique names, ids `r-N`),
//! `issuances` (an identity id, `UNIQUE (recording_id, recipient_id, format)`, an index on
//! `payload`) and `traces`; BYTEA for hashes and blobs, BIGINT for integers and times,
//! DOUBLE PRECISION for durations, TEXT ids. Every value read is parsed into its type; one
//! that does not parse is `StoreError::Corrupt` naming its table, row and column. The
//! database must be UTF8.
//!
//! The connection has no TLS: use a server on this machine (a Unix socket or loopback) or on
//! a network you trust.
//!
//! ```no_run
//! use tracemark_store::{Draft, Store};
//! use tracemark_store_postgres::PostgresStore;
//! let store = PostgresStore::connect("postgresql://tracemark@127.0.0.1:5432/vault")?;
//! let signer = tracemark_store::conformance::signer();
//! let draft = Draft::Recipient { name: "Envoy office".into(), email: None };
//! store.append(tracemark_types::UnixMillis(0), vec![draft], &signer)?;
//! assert_eq!(store.log_size()?, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! With the `testing` feature, [`testing::fresh_database_url`] gives tests a new, empty
//! database on a throwaway server.

mod rows;
mod schema;
mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use schema::{SCHEMA_VERSION, SEQUENCER_LOCK_KEY};
pub use store::{BUSY_TIMEOUT_MS, PostgresStore};
