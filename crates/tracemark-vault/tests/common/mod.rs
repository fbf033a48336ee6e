//! Opening test vaults on the embedded backends (SQLite in the directory, local blobs).
#![allow(dead_code)] // Each test binary uses some of these.

use std::path::Path;

use tracemark_blobs::LocalBlobs;
use tracemark_store_sqlite::SqliteStore;
use tracemark_vault::{Clock, Secret, Vault, VaultError};

pub const DB_FILE: &str = "vault.db";

pub fn fixed_clock() -> i64 {
    1_764_000_000_000
}

/// A new vault in `dir` with the given clock.
pub fn init_with_clock(dir: &Path, clock: Clock) -> Result<Vault, VaultError> {
    if dir.join(DB_FILE).exists() {
        return Err(VaultError::AlreadyExists {
            path: dir.to_path_buf(),
        });
    }
    Vault::create_keys(dir)?;
    SqliteStore::open(&dir.join(DB_FILE), true)?;
    open_with_clock(dir, clock)
}

/// A new vault in `dir` whose master secret and log signing seed are derived from
/// `seed` (SHA-256 of a label and the seed), so a test can rebuild the same vault: the same
/// key, biases and codewords every run.
pub fn init_keyed(dir: &Path, seed: u64, clock: Clock) -> Result<Vault, VaultError> {
    use sha2::{Digest, Sha256};
    let key = |label: &str| {
        let d = Sha256::digest(format!("tracemark/test/{label}/{seed}").as_bytes());
        Secret::from_bytes(d.into())
    };
    key("secret").write_new(&dir.join("secret.key"))?;
    key("log-signing").write_new(&dir.join("log-signing.key"))?;
    SqliteStore::open(&dir.join(DB_FILE), true)?;
    open_with_clock(dir, clock)
}

/// A new vault in `dir`.
pub fn init(dir: &Path) -> Result<Vault, VaultError> {
    init_with_clock(dir, tracemark_vault::system_clock)
}

/// The vault in `dir`.
pub fn open(dir: &Path) -> Result<Vault, VaultError> {
    open_with_clock(dir, tracemark_vault::system_clock)
}

/// The vault in `dir` with the given clock.
pub fn open_with_clock(dir: &Path, clock: Clock) -> Result<Vault, VaultError> {
    if !dir.join(DB_FILE).exists() {
        return Err(VaultError::NotAVault {
            path: dir.to_path_buf(),
        });
    }
    let store = SqliteStore::open(&dir.join(DB_FILE), false)?;
    Vault::open_with_clock(dir, Box::new(store), Box::new(LocalBlobs::new(dir)), clock)
}

/// The committed call excerpt (real speech, 60 s, 8 kHz FLAC).
pub fn demo_audio() -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/call-en-8k-excerpt.flac"),
    )
    .expect("the committed demo recording")
}
