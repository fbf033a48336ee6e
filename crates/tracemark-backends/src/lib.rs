//! Where a vault's data lives, chosen by the user: [`Location`] is the vault directory
//! (always: it holds the key files), an optional database URL (`postgres://...`; without
//! one, SQLite in the directory) and an optional blob store URL (`file:///...`,
//! `s3://...` with the `aws` feature; without one, the directory's `originals/`).
//!
//! Several machines with the same key files and the same URLs work on one vault: the
//! database assigns ids and log indices under its one sequencer lock.
//!
//! ```
//! use tracemark_backends::Location;
//! let dir = tempfile::tempdir()?;
//! let here = Location::embedded(dir.path());
//! let vault = here.init()?;
//! vault.add_recipient("Envoy office", None)?;
//! assert_eq!(here.open()?.recipients()?.len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::{Path, PathBuf};

use tracemark_blobs::{LocalBlobs, ObjectBlobs};
use tracemark_store::{BlobStore, Store, StoreError};
use tracemark_store_postgres::PostgresStore;
use tracemark_store_sqlite::SqliteStore;
use tracemark_vault::{LogReport, Vault, VaultError};

/// The SQLite file in the vault directory.
pub const DB_FILE: &str = "vault.db";

/// Where a vault's keys, database and blobs are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The vault directory (key files; SQLite and blobs by default).
    pub dir: PathBuf,
    /// A database URL; `None` is SQLite in `dir`.
    pub database: Option<String>,
    /// A blob store URL; `None` is `dir` itself.
    pub blobs: Option<String>,
}

impl Location {
    /// Everything in `dir`: SQLite and local blobs.
    pub fn embedded(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            database: None,
            blobs: None,
        }
    }

    /// A description for messages: `sqlite:DIR/vault.db` or the URL without its password.
    pub fn describe(&self) -> String {
        match &self.database {
            None => format!("sqlite:{}", self.dir.join(DB_FILE).display()),
            Some(url) => redact(url),
        }
    }

    /// Connects to the database, creating the SQLite file if `create`.
    pub fn store(&self, create: bool) -> Result<Box<dyn Store>, VaultError> {
        match &self.database {
            None => {
                let path = self.dir.join(DB_FILE);
                if !create && !path.exists() {
                    return Err(VaultError::NotAVault {
                        path: self.dir.clone(),
                    });
                }
                Ok(Box::new(SqliteStore::open(&path, create)?))
            }
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(Box::new(PostgresStore::connect(url)?))
            }
            Some(url) if url.starts_with("sqlite:") => {
                let path = PathBuf::from(
                    url.trim_start_matches("sqlite://")
                        .trim_start_matches("sqlite:"),
                );
                Ok(Box::new(SqliteStore::open(&path, create)?))
            }
            Some(url) => Err(VaultError::Invalid {
                what: "database URL",
                reason: format!(
                    "{:?} is neither postgres://... nor sqlite:PATH (leave it out for SQLite in the vault directory)",
                    redact(url)
                ),
            }),
        }
    }

    /// Opens the blob store.
    pub fn blob_store(&self) -> Result<Box<dyn BlobStore>, VaultError> {
        Ok(match &self.blobs {
            None => Box::new(LocalBlobs::new(&self.dir)),
            Some(url) => Box::new(ObjectBlobs::open(url)?),
        })
    }

    /// Creates a vault: key files in `dir` (refused if present) and an empty database.
    pub fn init(&self) -> Result<Vault, VaultError> {
        if Vault::has_keys(&self.dir)
            || (self.database.is_none() && self.dir.join(DB_FILE).exists())
        {
            return Err(VaultError::AlreadyExists {
                path: self.dir.clone(),
            });
        }
        std::fs::create_dir_all(&self.dir).map_err(|source| VaultError::Io {
            path: self.dir.clone(),
            source,
        })?;
        let store = self.store(true)?;
        let entries = store.log_size()?;
        if entries > 0 {
            return Err(VaultError::Store(StoreError::NotEmpty { entries }));
        }
        Vault::create_keys(&self.dir)?;
        Vault::open(&self.dir, store, self.blob_store()?)
    }

    /// Opens the vault.
    pub fn open(&self) -> Result<Vault, VaultError> {
        if !Vault::has_keys(&self.dir) {
            return Err(VaultError::NotAVault {
                path: self.dir.clone(),
            });
        }
        Vault::open(&self.dir, self.store(false)?, self.blob_store()?)
    }

    /// Opens the vault with a given clock (tests).
    pub fn open_with_clock(&self, clock: tracemark_vault::Clock) -> Result<Vault, VaultError> {
        Vault::open_with_clock(&self.dir, self.store(false)?, self.blob_store()?, clock)
    }
}

/// What a migration copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migrated {
    /// Log entries copied.
    pub entries: usize,
    /// Blobs copied.
    pub blobs: usize,
    /// The target's `log verify`.
    pub verified: LogReport,
}

/// Copies the whole vault at `from` (rows, log, checkpoints and, when the blob stores
/// differ, blobs) into the empty database at `to`, then verifies the log there. The key
/// files stay where they are: `to.dir` must be `from.dir` or hold the same keys.
pub fn migrate(from: &Location, to: &Location) -> Result<Migrated, VaultError> {
    let source = from.open()?;
    let dump = source.store().export()?;
    let target = to.store(true)?;
    target.import(&dump)?;
    let mut blobs = 0;
    if from.blobs != to.blobs || from.dir != to.dir {
        let target_blobs = to.blob_store()?;
        for key in source.blobs().list()? {
            let bytes = source
                .blobs()
                .get(&key)?
                .ok_or_else(|| VaultError::NotFound {
                    kind: "blob",
                    name: key.as_str().to_string(),
                })?;
            target_blobs.put(&key, &bytes)?;
            blobs += 1;
        }
    }
    drop(target);
    let verified = to.open()?.verify_log()?;
    Ok(Migrated {
        entries: dump.log.len(),
        blobs,
        verified,
    })
}

/// A URL with any password replaced by `***`.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_appear_in_descriptions() {
        assert_eq!(
            redact("postgres://tm:secret@127.0.0.1:5432/v"),
            "postgres://tm:***@127.0.0.1:5432/v"
        );
        assert_eq!(redact("postgres://127.0.0.1/v"), "postgres://127.0.0.1/v");
    }

    #[test]
    fn unknown_database_urls_are_refused_by_name() {
        let dir = tempfile::tempdir().expect("tmp");
        let loc = Location {
            database: Some("mysql://x".into()),
            ..Location::embedded(dir.path())
        };
        let err = loc
            .store(true)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("neither postgres"), "{err}");
    }
}
