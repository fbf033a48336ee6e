//! The vault's use cases: init, open, recipients, ingest, issue, and the log that records
//! each of them in the same transaction as the rows it describes.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, Transaction};
use sha2::{Digest, Sha256};
use tracemark_dsp::AudioBuffer;
use tracemark_ledger::note::{KeyName, NoteSigner, VerifierKey};
use tracemark_ledger::{Checkpoint, Hash, Ident, LogEntry, MerkleTree, UnixMillis};
use tracemark_media::{Limits, decode_bytes};

use crate::VaultError;
use crate::db::{self, Recipient, Recording};
use crate::secret::Secret;

const DB_FILE: &str = "vault.db";
const SECRET_FILE: &str = "secret.key";
const SIGNING_FILE: &str = "log-signing.key";
const ORIGINALS_DIR: &str = "originals";

/// Where time comes from: the system clock, or a fixed one in tests.
pub type Clock = fn() -> i64;

/// Milliseconds since the Unix epoch from the system clock.
pub fn system_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// An open vault.
pub struct Vault {
    pub(crate) dir: PathBuf,
    pub(crate) conn: Connection,
    pub(crate) secret: Secret,
    pub(crate) signer: NoteSigner,
    pub(crate) tree: MerkleTree,
    pub(crate) clock: Clock,
    pub(crate) limits: Limits,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("dir", &self.dir)
            .field("log_size", &self.tree.size())
            .finish()
    }
}

fn ident(s: impl Into<String>) -> Result<Ident, VaultError> {
    Ok(Ident::try_new(s)?)
}

/// SHA-256 of bytes.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Vault {
    /// Creates a vault in `dir` (created if missing; must not hold a vault yet).
    pub fn init(dir: &Path) -> Result<Self, VaultError> {
        Self::init_with_clock(dir, system_clock)
    }

    /// [`Vault::init`] with a given clock.
    pub fn init_with_clock(dir: &Path, clock: Clock) -> Result<Self, VaultError> {
        if dir.join(DB_FILE).exists() || dir.join(SECRET_FILE).exists() {
            return Err(VaultError::AlreadyExists {
                path: dir.to_path_buf(),
            });
        }
        std::fs::create_dir_all(dir.join(ORIGINALS_DIR)).map_err(VaultError::io(dir))?;
        Secret::generate()?.write_new(&dir.join(SECRET_FILE))?;
        Secret::generate()?.write_new(&dir.join(SIGNING_FILE))?;
        db::open(&dir.join(DB_FILE), true)?;
        Self::open_with_clock(dir, clock)
    }

    /// Opens the vault in `dir`.
    pub fn open(dir: &Path) -> Result<Self, VaultError> {
        Self::open_with_clock(dir, system_clock)
    }

    /// [`Vault::open`] with a given clock.
    pub fn open_with_clock(dir: &Path, clock: Clock) -> Result<Self, VaultError> {
        let db_path = dir.join(DB_FILE);
        if !db_path.exists() || !dir.join(SECRET_FILE).exists() {
            return Err(VaultError::NotAVault {
                path: dir.to_path_buf(),
            });
        }
        let secret = Secret::read(&dir.join(SECRET_FILE))?;
        let signing = Secret::read(&dir.join(SIGNING_FILE))?;
        let conn = db::open(&db_path, false)?;
        let name = KeyName::try_new(format!(
            "tracemark.vault/{}",
            &hex(&secret.derive("tracemark/v1/vault/id"))[..16]
        ))?;
        let signer = NoteSigner::from_seed(name, signing.bytes());
        let mut vault = Self {
            dir: dir.to_path_buf(),
            conn,
            secret,
            signer,
            tree: MerkleTree::new(),
            clock,
            limits: Limits::default(),
        };
        vault.reload_tree()?;
        Ok(vault)
    }

    /// The vault directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The public key that verifies this vault's checkpoints (C2SP signed-note format).
    pub fn verifier_key(&self) -> VerifierKey {
        self.signer.verifier_key()
    }

    pub(crate) fn reload_tree(&mut self) -> Result<(), VaultError> {
        let rows = db::log_rows(&self.conn)?;
        self.tree = MerkleTree::from_leaf_hashes(
            rows.iter()
                .map(|(_, entry, _)| tracemark_ledger::leaf_hash(entry)),
        );
        Ok(())
    }

    /// Runs `f` in one transaction; the log entries it returns are appended, and a new
    /// checkpoint signed, in that same transaction. Either all of it is stored or none.
    pub(crate) fn write<T>(
        &mut self,
        f: impl FnOnce(&Transaction<'_>, u64, i64) -> Result<(T, Vec<LogEntry>), VaultError>,
    ) -> Result<T, VaultError> {
        let now = (self.clock)();
        let mut tree = self.tree.clone();
        let tx = self.conn.transaction()?;
        let (value, entries) = f(&tx, tree.size(), now)?;
        for entry in &entries {
            let encoded = entry.encode();
            let leaf = entry.leaf_hash();
            let idx = tree.push_leaf_hash(leaf);
            db::insert_log(&tx, idx, &encoded, leaf.as_bytes())?;
        }
        let note = Checkpoint::new(
            self.signer.verifier_key().name().clone(),
            tree.size(),
            tree.root(),
        )
        .sign(&self.signer)?;
        db::insert_checkpoint(&tx, tree.size(), &note)?;
        tx.commit()?;
        self.tree = tree;
        Ok(value)
    }

    /// Every log entry, encoded, with its index.
    pub fn log_entries(&self) -> Result<Vec<(u64, Vec<u8>)>, VaultError> {
        Ok(db::log_rows(&self.conn)?
            .into_iter()
            .map(|(i, e, _)| (i.max(0) as u64, e))
            .collect())
    }

    /// The latest signed checkpoint, if anything was logged.
    pub fn latest_checkpoint(&self) -> Result<Option<String>, VaultError> {
        Ok(db::checkpoints(&self.conn)?.pop().map(|(_, note)| note))
    }

    /// Registers a recipient.
    pub fn add_recipient(
        &mut self,
        name: &str,
        email: Option<&str>,
    ) -> Result<Recipient, VaultError> {
        let name = name.trim();
        if name.is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
            return Err(VaultError::Invalid {
                what: "recipient name",
                reason: "must be 1 to 200 printable characters".into(),
            });
        }
        if let Some(e) = email
            && (e.len() > 320 || !e.contains('@') || e.chars().any(char::is_whitespace))
        {
            return Err(VaultError::Invalid {
                what: "e-mail",
                reason: format!("{e:?} is not an address"),
            });
        }
        if self.recipients()?.iter().any(|r| r.name == name) {
            return Err(VaultError::Duplicate {
                kind: "recipient",
                name: name.to_string(),
            });
        }
        let id = format!("r-{}", db::recipient_count(&self.conn)? + 1);
        self.write(|tx, next, now| {
            let r = Recipient {
                id: id.clone(),
                name: name.to_string(),
                email: email.map(str::to_string),
                created_at: now,
                log_index: next,
            };
            db::insert_recipient(tx, &r)?;
            let entry = recipient_entry(&r)?;
            Ok((r, vec![entry]))
        })
    }

    /// Every recipient.
    pub fn recipients(&self) -> Result<Vec<Recipient>, VaultError> {
        db::recipients(&self.conn)
    }

    /// The recipient called `name`.
    pub fn recipient(&self, name: &str) -> Result<Recipient, VaultError> {
        self.recipients()?
            .into_iter()
            .find(|r| r.name == name || r.id == name)
            .ok_or_else(|| VaultError::NotFound {
                kind: "recipient",
                name: name.to_string(),
            })
    }

    /// Ingests the audio file `bytes` (named `file_name`, for its extension): checks that
    /// it decodes, stores it encrypted and logs it. Ingesting the same bytes again returns
    /// the existing recording.
    pub fn ingest(
        &mut self,
        bytes: &[u8],
        file_name: &str,
        title: &str,
    ) -> Result<Recording, VaultError> {
        let title = title.trim();
        if title.is_empty() || title.len() > 500 || title.chars().any(char::is_control) {
            return Err(VaultError::Invalid {
                what: "title",
                reason: "must be 1 to 500 printable characters".into(),
            });
        }
        let sha = sha256(bytes);
        if let Some(existing) = db::recording_by_hash(&self.conn, &sha)? {
            return Ok(existing);
        }
        let ext = Path::new(file_name)
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        let audio = decode_bytes(bytes, Some(&ext), &self.limits)?;
        let id = format!("rec-{}", &hex(&sha)[..12]);
        let narrow = tracemark_dsp::resample(
            &audio.downmix(),
            audio.rate().hz(),
            tracemark_fingerprint::SAMPLE_RATE_HZ,
        )?;
        let fingerprint = tracemark_fingerprint::fingerprint(&narrow)?;
        let mut index = self.fingerprint_index()?;
        index.add(fingerprint_id(&id), fingerprint)?;
        let index_bytes = index.to_bytes();
        let blob = self.dir.join(ORIGINALS_DIR).join(format!("{id}.sealed"));
        let sealed = self.secret.seal(bytes, &sha)?;
        // Written before the transaction: a crash leaves at most an orphan blob, never a
        // recording row without its original.
        write_durably(&blob, &sealed)?;
        self.write(|tx, next, now| {
            let r = Recording {
                id: id.clone(),
                title: title.to_string(),
                sha256: sha,
                duration_s: audio.duration_s(),
                sample_rate: audio.rate().hz(),
                channels: audio.channel_count() as u32,
                format: if ext.is_empty() {
                    "unknown".into()
                } else {
                    ext.clone()
                },
                ingested_at: now,
                log_index: next,
            };
            db::insert_recording(tx, &r)?;
            db::store_fingerprint_index(tx, &index_bytes)?;
            let entry = recording_entry(&r)?;
            Ok((r, vec![entry]))
        })
    }

    /// The fingerprint index of every ingested recording.
    pub fn fingerprint_index(&self) -> Result<tracemark_fingerprint::Index, VaultError> {
        Ok(match db::fingerprint_index(&self.conn)? {
            Some(bytes) => tracemark_fingerprint::Index::from_bytes(&bytes)?,
            None => tracemark_fingerprint::Index::new(),
        })
    }

    /// Every recording.
    pub fn recordings(&self) -> Result<Vec<Recording>, VaultError> {
        db::recordings(&self.conn)
    }

    /// The recording with id `id`.
    pub fn recording(&self, id: &str) -> Result<Recording, VaultError> {
        db::recording(&self.conn, id)?.ok_or_else(|| VaultError::NotFound {
            kind: "recording",
            name: id.to_string(),
        })
    }

    /// The original's file bytes, decrypted and checked against the stored hash.
    pub fn original_bytes(&self, r: &Recording) -> Result<Vec<u8>, VaultError> {
        let blob = self
            .dir
            .join(ORIGINALS_DIR)
            .join(format!("{}.sealed", r.id));
        let sealed = std::fs::read(&blob).map_err(VaultError::io(&blob))?;
        let plain = self.secret.open(&sealed, &r.sha256, &r.id)?;
        if sha256(&plain) != r.sha256 {
            return Err(VaultError::Tampered { what: r.id.clone() });
        }
        Ok(plain)
    }

    /// The original, decoded.
    pub fn original(&self, r: &Recording) -> Result<AudioBuffer, VaultError> {
        Ok(decode_bytes(
            &self.original_bytes(r)?,
            Some(&r.format),
            &self.limits,
        )?)
    }
}

/// The fingerprint index's numeric id of a recording: its 48-bit content-hash prefix.
pub(crate) fn fingerprint_id(recording_id: &str) -> u64 {
    u64::from_str_radix(recording_id.trim_start_matches("rec-"), 16).unwrap_or(0)
}

/// Writes a file and syncs it to disk before returning.
pub(crate) fn write_durably(path: &Path, bytes: &[u8]) -> Result<(), VaultError> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp).map_err(VaultError::io(&tmp))?;
    f.write_all(bytes).map_err(VaultError::io(&tmp))?;
    f.sync_all().map_err(VaultError::io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(VaultError::io(path))
}

/// The canonical bytes of a recipient record, hashed into its log entry (the log holds
/// no personal data, only this commitment).
pub(crate) fn recipient_record(r: &Recipient) -> Vec<u8> {
    let mut out = b"tracemark/v1/recipient\0".to_vec();
    for field in [
        r.id.as_str(),
        r.name.as_str(),
        r.email.as_deref().unwrap_or(""),
    ] {
        out.extend_from_slice(&(field.len() as u32).to_be_bytes());
        out.extend_from_slice(field.as_bytes());
    }
    out
}

pub(crate) fn recipient_entry(r: &Recipient) -> Result<LogEntry, VaultError> {
    Ok(LogEntry::RecipientAdded {
        time: UnixMillis(r.created_at),
        recipient: ident(&r.id)?,
        record_sha256: Hash::sha256(&recipient_record(r)),
    })
}

pub(crate) fn recording_entry(r: &Recording) -> Result<LogEntry, VaultError> {
    Ok(LogEntry::RecordingIngested {
        time: UnixMillis(r.ingested_at),
        recording: ident(&r.id)?,
        content_sha256: Hash(r.sha256),
    })
}

pub(crate) fn issuance_entry(i: &db::Issuance) -> Result<LogEntry, VaultError> {
    Ok(LogEntry::CopyIssued {
        time: UnixMillis(i.issued_at),
        recording: ident(&i.recording_id)?,
        recipient: ident(&i.recipient_id)?,
        codeword_commitment: i.codeword_commitment,
        format: ident(&i.format)?,
        copy_sha256: Hash(i.copy_sha256),
    })
}

pub(crate) fn trace_entry(t: &db::TraceRow) -> Result<LogEntry, VaultError> {
    Ok(LogEntry::TraceRecorded {
        time: UnixMillis(t.created_at),
        trace: ident(&t.id)?,
        leak_sha256: Hash(t.leak_sha256),
        verdict: tracemark_ledger::Text::try_new(t.verdict.clone())?,
        report_sha256: Hash(t.report_sha256),
    })
}
