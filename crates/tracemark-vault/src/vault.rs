//! Opening a vault, recipients, recordings and originals.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tracemark_dsp::AudioBuffer;
use tracemark_ledger::note::{KeyName, NoteSigner, VerifierKey};
use tracemark_media::{Limits, decode_bytes, open_stream_bytes};
use tracemark_store::{BlobKey, BlobStore, Draft, NewRecording, Store, Stored, records};
use tracemark_types::{Recipient, RecipientId, Recording, RecordingId, Sha256, UnixMillis};
use tracemark_watermark::DETECT_RATE;

use crate::VaultError;
use crate::secret::Secret;

const SECRET_FILE: &str = "secret.key";
const SIGNING_FILE: &str = "log-signing.key";

/// Where time comes from: the system clock, or a fixed one in tests.
pub type Clock = fn() -> i64;

/// Milliseconds since the Unix epoch from the system clock.
pub fn system_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// An open vault: its keys, its store and its blobs.
pub struct Vault {
    pub(crate) dir: PathBuf,
    pub(crate) store: Box<dyn Store>,
    pub(crate) blobs: Arc<dyn BlobStore>,
    pub(crate) secret: Secret,
    pub(crate) signer: NoteSigner,
    pub(crate) clock: Clock,
    pub(crate) limits: Limits,
    /// Copies marked side by side when issuing (default: the machine's threads, at most 8).
    pub(crate) issue_threads: usize,
    /// Whether copies are assembled from a recording's renderings when enough of them are
    /// issued at once (`tracemark_watermark::ab`); off, every copy is marked on its own.
    /// The bytes are the same either way.
    pub(crate) assemble_copies: bool,
    /// The search index, built once for as many recordings as the store had, and rebuilt
    /// when that number changes (recordings are never removed): a long-running server
    /// does not rebuild it for every trace.
    index: std::sync::Mutex<Option<(usize, Arc<tracemark_fingerprint::Index>)>>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("dir", &self.dir)
            .field("store", &self.store.backend())
            .field("blobs", &self.blobs.backend())
            .finish()
    }
}

impl Vault {
    /// Writes a new vault's key files into `dir` (created if missing): the master secret
    /// and the log signing seed, mode 0600. Refuses a directory that already has them.
    pub fn create_keys(dir: &Path) -> Result<(), VaultError> {
        if dir.join(SECRET_FILE).exists() || dir.join(SIGNING_FILE).exists() {
            return Err(VaultError::AlreadyExists {
                path: dir.to_path_buf(),
            });
        }
        std::fs::create_dir_all(dir).map_err(VaultError::io(dir))?;
        Secret::generate()?.write_new(&dir.join(SECRET_FILE))?;
        Secret::generate()?.write_new(&dir.join(SIGNING_FILE))?;
        Ok(())
    }

    /// Whether `dir` holds a vault's key files.
    pub fn has_keys(dir: &Path) -> bool {
        dir.join(SECRET_FILE).exists()
    }

    /// Opens the vault whose keys are in `dir`, on `store` and `blobs`.
    pub fn open(
        dir: &Path,
        store: Box<dyn Store>,
        blobs: Box<dyn BlobStore>,
    ) -> Result<Self, VaultError> {
        Self::open_with_clock(dir, store, blobs, system_clock)
    }

    /// [`Vault::open`] with a given clock. Finishes the upgrade of a vault made by an
    /// older release, if one is pending (once, under the store's sequencer lock).
    pub fn open_with_clock(
        dir: &Path,
        store: Box<dyn Store>,
        blobs: Box<dyn BlobStore>,
        clock: Clock,
    ) -> Result<Self, VaultError> {
        if !Self::has_keys(dir) {
            return Err(VaultError::NotAVault {
                path: dir.to_path_buf(),
            });
        }
        let secret = Secret::read(&dir.join(SECRET_FILE))?;
        let signing = Secret::read(&dir.join(SIGNING_FILE))?;
        let name = KeyName::try_new(format!(
            "tracemark.vault/{}",
            &hex::encode(secret.derive("tracemark/v1/vault/id"))[..16]
        ))?;
        let signer = NoteSigner::from_seed(name, signing.bytes());
        // A process with other key files must never sign this database's log: its
        // checkpoints would break verification for everyone sharing the database.
        if let Some((size, note)) = store.latest_checkpoint()? {
            let key = signer.verifier_key();
            if tracemark_ledger::Checkpoint::open(note.as_bytes(), &key).is_err() {
                return Err(VaultError::WrongKeys {
                    dir: dir.to_path_buf(),
                    size,
                    key: key.to_string(),
                });
            }
        }
        let vault = Self {
            dir: dir.to_path_buf(),
            store,
            blobs: Arc::from(blobs),
            secret,
            signer,
            clock,
            limits: Limits::default(),
            assemble_copies: true,
            issue_threads: std::thread::available_parallelism()
                .map_or(1, std::num::NonZeroUsize::get)
                .clamp(1, 8),
            index: std::sync::Mutex::new(None),
        };
        vault.finish_legacy_upgrade()?;
        Ok(vault)
    }

    fn finish_legacy_upgrade(&self) -> Result<(), VaultError> {
        let Some(legacy) = self.store.legacy_upgrade()? else {
            return Ok(());
        };
        let mut fingerprints = Vec::new();
        if let Some(bytes) = legacy.fingerprint_index {
            let mut stored = tracemark_fingerprint::Index::recordings_from_bytes(&bytes)?;
            for r in self.store.recordings()? {
                if let Some(at) = stored.iter().position(|(n, _)| *n == r.id.number()) {
                    let (_, fp) = stored.swap_remove(at);
                    fingerprints.push((r.id.clone(), single_fingerprint(&r.id, fp)?));
                }
            }
        }
        self.append(vec![Draft::FinishLegacyUpgrade { fingerprints }])?;
        Ok(())
    }

    /// Caps what this vault decodes from untrusted files (uploads, leaks): a server sets
    /// them below the library's defaults so one upload cannot take the machine's memory.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// The decoding caps.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// How many copies `issue` marks side by side (at least 1): each holds a marked copy
    /// of the whole recording while it is made, so a long recording on a small machine
    /// may want 1. The default is the machine's threads, at most 8.
    pub fn set_issue_threads(&mut self, threads: usize) {
        self.issue_threads = threads.max(1);
    }

    /// Whether `issue` and `render` may assemble copies from a recording's renderings
    /// (default: yes, when at least as many copies as renderings are made at once): the
    /// files are byte for byte those each copy marked on its own gives, so this only
    /// changes the work (for comparisons and benchmarks).
    pub fn set_copy_assembly(&mut self, on: bool) {
        self.assemble_copies = on;
    }

    /// The directory holding the key files (and, by default, the database and blobs).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The store's backend name.
    pub fn backend(&self) -> &'static str {
        self.store.backend()
    }

    /// The store.
    pub fn store(&self) -> &dyn Store {
        &*self.store
    }

    /// The blob store.
    pub fn blobs(&self) -> &dyn BlobStore {
        &*self.blobs
    }

    /// The public key that verifies this vault's checkpoints (C2SP signed-note format).
    pub fn verifier_key(&self) -> VerifierKey {
        self.signer.verifier_key()
    }

    pub(crate) fn now(&self) -> UnixMillis {
        UnixMillis((self.clock)())
    }

    /// Appends drafts at the clock's time.
    pub(crate) fn append(&self, drafts: Vec<Draft>) -> Result<Vec<Stored>, VaultError> {
        Ok(self.store.append(self.now(), drafts, &self.signer)?)
    }

    pub(crate) fn append_one(&self, draft: Draft) -> Result<Stored, VaultError> {
        self.append(vec![draft])?
            .pop()
            .ok_or_else(|| VaultError::Invalid {
                what: "store answer",
                reason: "the store returned nothing for a draft".into(),
            })
    }

    /// Every log entry, encoded, with its index.
    pub fn log_entries(&self) -> Result<Vec<(u64, Vec<u8>)>, VaultError> {
        let size = self.store.log_size()?;
        Ok(self
            .store
            .log_rows(0, size)?
            .into_iter()
            .map(|r| (r.index, r.entry))
            .collect())
    }

    /// The latest signed checkpoint, if anything was logged.
    pub fn latest_checkpoint(&self) -> Result<Option<String>, VaultError> {
        Ok(self.store.latest_checkpoint()?.map(|(_, note)| note))
    }

    /// Registers a recipient. Names are unique, exact, and never in the syntax of an id.
    pub fn add_recipient(&self, name: &str, email: Option<&str>) -> Result<Recipient, VaultError> {
        match self.append_one(Draft::Recipient {
            name: name.to_string(),
            email: email.map(str::to_string),
        })? {
            Stored::Recipient(r) => Ok(r),
            other => Err(unexpected(&other)),
        }
    }

    /// Registers many recipients (no e-mail) in one transaction: all or none.
    pub fn add_recipients(&self, names: &[String]) -> Result<Vec<Recipient>, VaultError> {
        let rows: Vec<(String, Option<String>)> = names.iter().map(|n| (n.clone(), None)).collect();
        self.add_recipients_with_email(&rows)
    }

    /// Registers many recipients with their e-mail addresses in one transaction: all or
    /// none (a bad or duplicate name refuses the whole batch, naming it).
    pub fn add_recipients_with_email(
        &self,
        rows: &[(String, Option<String>)],
    ) -> Result<Vec<Recipient>, VaultError> {
        let drafts = rows
            .iter()
            .map(|(name, email)| Draft::Recipient {
                name: name.clone(),
                email: email.clone(),
            })
            .collect();
        self.append(drafts)?
            .into_iter()
            .map(|s| match s {
                Stored::Recipient(r) => Ok(r),
                other => Err(unexpected(&other)),
            })
            .collect()
    }

    /// Adds a user of the service (the password already hashed, as an Argon2id PHC
    /// string, by the caller). Logged with every column.
    pub fn add_user(
        &self,
        name: &str,
        role: tracemark_types::Role,
        password_hash: Option<String>,
    ) -> Result<tracemark_types::User, VaultError> {
        match self.append_one(Draft::User {
            name: name.to_string(),
            role,
            password_hash,
        })? {
            Stored::User(u) => Ok(u),
            other => Err(unexpected(&other)),
        }
    }

    /// The user called exactly `name`.
    pub fn user(&self, name: &str) -> Result<tracemark_types::User, VaultError> {
        self.store
            .user_by_name(name)?
            .ok_or_else(|| VaultError::NotFound {
                kind: "user",
                name: name.to_string(),
            })
    }

    /// Changes a user's role, password or disabled flag; a logged event.
    pub fn change_user(
        &self,
        name: &str,
        role: Option<tracemark_types::Role>,
        password_hash: Option<Option<String>>,
        disabled: Option<bool>,
    ) -> Result<(), VaultError> {
        let u = self.user(name)?;
        self.append_one(Draft::ChangeUser {
            id: u.id,
            role,
            password_hash,
            disabled,
        })?;
        Ok(())
    }

    /// Creates an API token for the user `name`: returns the stored token and its secret,
    /// which is shown once and stored only as its SHA-256.
    pub fn create_token(
        &self,
        name: &str,
        expires_at: Option<UnixMillis>,
    ) -> Result<(tracemark_types::ApiToken, String), VaultError> {
        let u = self.user(name)?;
        let mut secret = [0u8; 32];
        let mut id = [0u8; 8];
        for buf in [&mut secret[..], &mut id[..]] {
            crate::secret::fill_random(buf)?;
        }
        let secret = format!("tmk_{}", hex::encode(secret));
        let stored = self.append_one(Draft::Token {
            id: tracemark_types::TokenId::from_random(id),
            user_id: u.id,
            secret_sha256: Sha256::digest(secret.as_bytes()),
            expires_at,
        })?;
        match stored {
            Stored::Token(t) => Ok((t, secret)),
            other => Err(unexpected(&other)),
        }
    }

    /// [`Vault::create_token`] valid for `days` from the vault's clock (`None`: no expiry).
    pub fn create_token_for_days(
        &self,
        name: &str,
        days: Option<u32>,
    ) -> Result<(tracemark_types::ApiToken, String), VaultError> {
        const DAY_MS: i64 = 86_400_000;
        let expires = days.map(|d| UnixMillis(self.now().0.saturating_add(i64::from(d) * DAY_MS)));
        self.create_token(name, expires)
    }

    /// Revokes an API token; a logged event.
    pub fn revoke_token(&self, id: &tracemark_types::TokenId) -> Result<(), VaultError> {
        self.append_one(Draft::RevokeToken { id: id.clone() })?;
        Ok(())
    }

    /// Sets (or with `None` clears) a recipient's e-mail address; logged as an event.
    pub fn set_recipient_email(&self, name: &str, email: Option<&str>) -> Result<(), VaultError> {
        let r = self.recipient(name)?;
        self.append_one(Draft::SetRecipientEmail {
            id: r.id,
            email: email.map(str::to_string),
        })?;
        Ok(())
    }

    /// Every recipient.
    pub fn recipients(&self) -> Result<Vec<Recipient>, VaultError> {
        Ok(self.store.recipients()?)
    }

    /// The recipient called exactly `name` (never matched against ids).
    pub fn recipient(&self, name: &str) -> Result<Recipient, VaultError> {
        self.store
            .recipient_by_name(name)?
            .ok_or_else(|| VaultError::NotFound {
                kind: "recipient",
                name: name.to_string(),
            })
    }

    /// The recipient with this id.
    pub fn recipient_by_id(&self, id: &RecipientId) -> Result<Recipient, VaultError> {
        self.store
            .recipient(id)?
            .ok_or_else(|| VaultError::NotFound {
                kind: "recipient",
                name: id.to_string(),
            })
    }

    /// Ingests the audio file `bytes` (named `file_name`, for its extension): checks that
    /// it decodes, stores it encrypted and logs it. Ingesting the same bytes again returns
    /// the existing recording.
    pub fn ingest(
        &self,
        bytes: &[u8],
        file_name: &str,
        title: &str,
    ) -> Result<Recording, VaultError> {
        if let Some(existing) = self.store.recording_by_content(&Sha256::digest(bytes))? {
            return Ok(existing);
        }
        self.ingest_owned(bytes.to_vec(), file_name, title)
    }

    /// [`Vault::ingest`] of bytes the vault may keep: the decoder reads them in place and
    /// they are sealed in place, so the file is held once (`ingest` copies it first).
    pub fn ingest_owned(
        &self,
        bytes: Vec<u8>,
        file_name: &str,
        title: &str,
    ) -> Result<Recording, VaultError> {
        if let Some(existing) = self.store.recording_by_content(&Sha256::digest(&bytes))? {
            return Ok(existing);
        }
        self.ingest_upload(Upload::Bytes(Arc::new(bytes)), file_name, title)
    }

    /// [`Vault::ingest`] of the file at `path`, read from the disk as it is hashed, decoded
    /// and sealed (three passes), never held whole: memory does not grow with the file. A
    /// file that changes while it is ingested is refused (its hash when sealed is not the
    /// one it was decoded under).
    pub fn ingest_file(&self, path: &Path, title: &str) -> Result<Recording, VaultError> {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        self.ingest_file_as(path, name, title)
    }

    /// [`Vault::ingest_file`] of a file known by another name than its path's (an upload
    /// spooled under a temporary name): `file_name` is the one recorded and the one a
    /// decoding error names. The format is recognised from the content and the *path's*
    /// extension, so a spool file should keep the upload's.
    pub fn ingest_file_as(
        &self,
        path: &Path,
        file_name: &str,
        title: &str,
    ) -> Result<Recording, VaultError> {
        self.ingest_upload(Upload::File(path), file_name, title)
    }

    fn ingest_upload(
        &self,
        upload: Upload<'_>,
        file_name: &str,
        title: &str,
    ) -> Result<Recording, VaultError> {
        let (draft, _) = self.recording_draft(upload, file_name, title)?;
        match self.append_one(draft)? {
            Stored::Recording { recording, .. } => Ok(recording),
            other => Err(unexpected(&other)),
        }
    }

    /// Decodes and fingerprints a media file, seals it (before its row: a crash leaves at
    /// most an orphan blob, never a recording without its original) and returns the draft
    /// that records it, with the recording's id. Stored content is not decoded again: the
    /// store answers it with the existing row.
    pub(crate) fn recording_draft(
        &self,
        upload: Upload<'_>,
        file_name: &str,
        title: &str,
    ) -> Result<(Draft, RecordingId), VaultError> {
        let title = records::check_title(title)?;
        let sha = upload.sha256()?;
        let id = RecordingId::from_content(&sha);
        if let Some(existing) = self.store.recording_by_content(&sha)? {
            let draft = Draft::Recording {
                recording: NewRecording {
                    id: existing.id.clone(),
                    title,
                    sha256: sha,
                    duration_s: existing.duration_s,
                    sample_rate: existing.sample_rate,
                    channels: existing.channels,
                    format: existing.format,
                },
                fingerprint: Vec::new(),
            };
            return Ok((draft, id));
        }
        let ext = Path::new(file_name)
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        // The fingerprint's 8 kHz mix is also the detector's (`to_detect_rate`: the same
        // downmix and resampler): stored as the recording's detection reference as it is
        // made.
        const _: () = assert!(tracemark_fingerprint::SAMPLE_RATE_HZ == DETECT_RATE);
        let mut reference = crate::reference::ReferenceWriter::new(self, &id, &sha);
        let mut fingerprinter = tracemark_fingerprint::Fingerprinter::new();
        // The decoder reads bytes in place (they are sealed from there once it is done),
        // or the file from the disk.
        let stream = match &upload {
            Upload::Bytes(bytes) => open_stream_bytes(Arc::clone(bytes), Some(&ext), &self.limits),
            Upload::File(path) => tracemark_media::open_stream(path, &self.limits),
        };
        let mixed = stream.map_err(VaultError::from).and_then(|stream| {
            self.stream_mix(stream, |piece| {
                fingerprinter.push(piece)?;
                reference.push(piece)
            })
        });
        let (frames, sample_rate, channels) = match (&upload, mixed) {
            // A decoding error names the file as the caller knows it, not the path read.
            (Upload::File(_), Err(VaultError::Media(m))) => {
                return Err(VaultError::Media(m.renamed(Path::new(file_name))));
            }
            (_, mixed) => mixed?,
        };
        let fingerprint = single_fingerprint(&id, fingerprinter.finish()?)?;
        reference.finish()?;
        let duration_s = frames as f64 / f64::from(sample_rate);
        let key = BlobKey::original(&id);
        match upload {
            Upload::Bytes(bytes) => self.put_sealed(&key, &bytes, &sha)?,
            Upload::File(path) => self.put_sealed_file(&key, path, &sha, "recording")?,
        }
        let draft = Draft::Recording {
            recording: NewRecording {
                id: id.clone(),
                title,
                sha256: sha,
                duration_s,
                sample_rate,
                channels,
                format: if ext.is_empty() {
                    "unknown".into()
                } else {
                    ext
                },
            },
            fingerprint,
        };
        Ok((draft, id))
    }

    /// Decodes `stream` block by block into its 8 kHz mono mix, handing each piece to
    /// `sink` as it is made: each block downmixed as [`AudioBuffer::downmix`] does, then
    /// resampled by a stream resampler, so the pieces join bit for bit into
    /// `resample(downmix(decoded))`. The file is never held decoded. Returns the file's
    /// frames, rate and channels.
    pub(crate) fn stream_mix(
        &self,
        mut stream: tracemark_media::AudioStream,
        mut sink: impl FnMut(&[f32]) -> Result<(), VaultError>,
    ) -> Result<(u64, u32, u32), VaultError> {
        let (rate, channels) = (stream.rate().hz(), stream.channel_count());
        let mut resampler = tracemark_dsp::StreamResampler::new(rate, DETECT_RATE)?;
        let (mut mixed, mut narrow) = (Vec::new(), Vec::new());
        while let Some(block) = stream.next_block()? {
            narrow.clear();
            let mono = match block {
                [only] => only,
                _ => {
                    mixed.clear();
                    tracemark_dsp::downmix_into(block, &mut mixed);
                    &mixed
                }
            };
            resampler.push(mono, &mut narrow)?;
            sink(&narrow)?;
        }
        narrow.clear();
        resampler.finish(&mut narrow)?;
        sink(&narrow)?;
        Ok((stream.frames(), rate, channels as u32))
    }

    /// Gives a recording a new title; logged as an event.
    pub fn retitle(&self, id: &RecordingId, title: &str) -> Result<(), VaultError> {
        self.append_one(Draft::RetitleRecording {
            id: id.clone(),
            title: title.to_string(),
        })?;
        Ok(())
    }

    /// The fingerprint index of every ingested recording.
    pub fn fingerprint_index(&self) -> Result<Arc<tracemark_fingerprint::Index>, VaultError> {
        let count = self.store.recordings()?.len();
        self.fingerprint_index_of(count)
    }

    /// The index for a store known to hold `count` recordings: the cached one if it was
    /// built for as many, else built now.
    pub(crate) fn fingerprint_index_of(
        &self,
        count: usize,
    ) -> Result<Arc<tracemark_fingerprint::Index>, VaultError> {
        if let Ok(cache) = self.index.lock()
            && let Some((n, index)) = cache.as_ref()
            && *n == count
        {
            return Ok(Arc::clone(index));
        }
        let mut index = tracemark_fingerprint::Index::new();
        // Each row holds its recording's fingerprint alone; parse the peaks and hash them
        // once, into the one index (parsing each row into an index of its own would hash
        // every pair twice).
        let rows = self.store.fingerprints()?;
        for (id, bytes) in &rows {
            for (n, fp) in tracemark_fingerprint::Index::recordings_from_bytes(bytes)? {
                if n == id.number() {
                    index.add(n, fp)?;
                }
            }
        }
        let index = Arc::new(index);
        if let Ok(mut cache) = self.index.lock() {
            *cache = Some((rows.len(), Arc::clone(&index)));
        }
        Ok(index)
    }

    /// Every recording.
    pub fn recordings(&self) -> Result<Vec<Recording>, VaultError> {
        Ok(self.store.recordings()?)
    }

    /// The recording with id `id` (in its syntax, `rec-` and 12 hex digits).
    pub fn recording(&self, id: &str) -> Result<Recording, VaultError> {
        let parsed: RecordingId = id.parse()?;
        self.store
            .recording(&parsed)?
            .ok_or_else(|| VaultError::NotFound {
                kind: "recording",
                name: id.to_string(),
            })
    }

    /// The original's file bytes, decrypted and checked against the stored hash.
    pub fn original_bytes(&self, r: &Recording) -> Result<Vec<u8>, VaultError> {
        self.sealed_blob(
            &BlobKey::original(&r.id),
            &r.sha256,
            "stored original",
            r.id.as_str(),
        )
    }

    /// A blob sealed under its content's SHA-256 (`sha`, also its associated data):
    /// read, decrypted and checked against `sha`. `kind` names it when it is missing,
    /// `what` when it fails authentication.
    pub(crate) fn sealed_blob(
        &self,
        key: &BlobKey,
        sha: &Sha256,
        kind: &'static str,
        what: &str,
    ) -> Result<Vec<u8>, VaultError> {
        let sealed = self.blobs.get(key)?.ok_or_else(|| VaultError::NotFound {
            kind,
            name: key.as_str().to_string(),
        })?;
        let plain = self.secret.open(sealed, &sha.0, what)?;
        if Sha256::digest(&plain) != *sha {
            return Err(VaultError::Tampered {
                what: what.to_string(),
            });
        }
        Ok(plain)
    }

    /// Seals the file at `path`, whose SHA-256 was `sha` when it was read before, at
    /// `key`, reading it a chunk at a time; a file that changed since (hashed again on the
    /// way) is refused, naming it as `what`.
    pub(crate) fn put_sealed_file(
        &self,
        key: &BlobKey,
        path: &Path,
        sha: &Sha256,
        what: &'static str,
    ) -> Result<(), VaultError> {
        let file = std::fs::File::open(path).map_err(VaultError::io(path))?;
        let mut file = HashingReader::new(file);
        self.put_sealed_from(key, &mut file, sha)?;
        if file.finish() != *sha {
            return Err(VaultError::Invalid {
                what,
                reason: format!(
                    "{} changed while it was being stored; send it again once it is complete",
                    path.display()
                ),
            });
        }
        Ok(())
    }

    /// Seals `plain` under its SHA-256 `sha` (also the associated data) at `key`, in
    /// chunks (`crate::sealed`), written to the store as they are sealed.
    pub(crate) fn put_sealed(
        &self,
        key: &BlobKey,
        plain: &[u8],
        sha: &Sha256,
    ) -> Result<(), VaultError> {
        self.put_sealed_from(key, &mut { plain }, sha)
    }

    /// [`Vault::put_sealed`] of what `plain` reads (whose SHA-256 the caller has checked
    /// is `sha`), a chunk at a time.
    pub(crate) fn put_sealed_from(
        &self,
        key: &BlobKey,
        plain: &mut dyn std::io::Read,
        sha: &Sha256,
    ) -> Result<(), VaultError> {
        let mut sealing = self.secret.sealing(plain, &sha.0)?;
        self.blobs.put_from(key, &mut sealing)?;
        Ok(())
    }

    /// The original opened for marking copies, without decoding it whole, and, when it is
    /// sealed in chunks, without opening it whole: its SHA-256 is checked in one pass a
    /// chunk at a time, and every copy reads it a chunk at a time. Originals sealed whole
    /// (vaults from before chunked sealing) are opened whole.
    pub(crate) fn marking(&self, r: &Recording) -> Result<crate::issue::Marking, VaultError> {
        let source = self.original_source(r)?;
        crate::issue::Marking::open(r.id.as_str(), source, &r.format, &self.limits)
    }

    /// The original, to be read as a stream: a chunked one checked against its hash in
    /// one pass and then read a chunk at a time, one sealed whole opened whole.
    pub(crate) fn original_source(
        &self,
        r: &Recording,
    ) -> Result<crate::issue::Original, VaultError> {
        let key = BlobKey::original(&r.id);
        let source = match crate::sealed::SealedBlob::open(
            &self.secret,
            Arc::clone(&self.blobs),
            &key,
            &r.sha256.0,
            "stored original",
            r.id.as_str(),
        )? {
            Some(sealed) => {
                sealed.verify(&r.sha256)?;
                crate::issue::Original::Sealed(sealed)
            }
            None => crate::issue::Original::Bytes(self.original_bytes(r)?.into()),
        };
        Ok(source)
    }

    /// The original, decoded.
    pub fn original(&self, r: &Recording) -> Result<AudioBuffer, VaultError> {
        decode_bytes(&self.original_bytes(r)?, Some(&r.format), &self.limits).map_err(|source| {
            VaultError::StoredMedia {
                recording: r.id.to_string(),
                source,
            }
        })
    }
}

/// One recording's fingerprint in the stored (one-recording index) form.
fn single_fingerprint(
    id: &RecordingId,
    fp: tracemark_fingerprint::Fingerprint,
) -> Result<Vec<u8>, VaultError> {
    let mut one = tracemark_fingerprint::Index::new();
    one.add(id.number(), fp)?;
    Ok(one.to_bytes())
}

pub(crate) fn unexpected(stored: &Stored) -> VaultError {
    VaultError::Invalid {
        what: "store answer",
        reason: format!("unexpected {stored:?}"),
    }
}

/// Where an ingested file's bytes are: in memory (the vault's to keep, shared with the
/// decoder that reads them in place), or on the disk.
pub(crate) enum Upload<'a> {
    Bytes(Arc<Vec<u8>>),
    File(&'a Path),
}

impl Upload<'_> {
    /// The file's SHA-256 (read once, a block at a time, for a file on the disk).
    fn sha256(&self) -> Result<Sha256, VaultError> {
        match self {
            Self::Bytes(bytes) => Ok(Sha256::digest(bytes)),
            Self::File(path) => file_sha256(path),
        }
    }
}

/// The SHA-256 of the file at `path`, read a buffer at a time.
pub(crate) fn file_sha256(path: &Path) -> Result<Sha256, VaultError> {
    std::fs::File::open(path)
        .and_then(sha256_of)
        .map_err(VaultError::io(path))
}

/// The SHA-256 of everything `reader` gives, read a buffer at a time.
pub(crate) fn sha256_of(reader: impl std::io::Read) -> std::io::Result<Sha256> {
    let mut hashing = HashingReader::new(reader);
    std::io::copy(&mut hashing, &mut std::io::sink())?;
    Ok(hashing.finish())
}

/// A reader that hashes what it reads.
struct HashingReader<R> {
    inner: R,
    hasher: sha2::Sha256,
}

impl<R> HashingReader<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: <sha2::Sha256 as sha2::Digest>::new(),
        }
    }

    /// The SHA-256 of everything read.
    fn finish(self) -> Sha256 {
        Sha256(sha2::Digest::finalize(self.hasher).into())
    }
}

impl<R: std::io::Read> std::io::Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        sha2::Digest::update(&mut self.hasher, &buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_ingested_from_the_disk_is_the_file_ingested_from_memory() {
        let demo = tracemark_testkit::excerpt_path();
        let bytes = std::fs::read(&demo).expect("the committed demo recording");
        let (a, b) = (
            tempfile::tempdir().expect("dir"),
            tempfile::tempdir().expect("dir"),
        );
        let (from_disk, from_memory) = (
            crate::testing::vault(a.path()),
            crate::testing::vault(b.path()),
        );
        let r = from_disk
            .ingest_file(&demo, "Call")
            .expect("ingest from the disk");
        let m = from_memory
            .ingest(&bytes, "call-en-8k-excerpt.flac", "Call")
            .expect("ingest");
        assert_eq!(
            (&r.id, &r.sha256, r.duration_s, r.sample_rate),
            (&m.id, &m.sha256, m.duration_s, m.sample_rate)
        );
        assert_eq!(r.format, "flac");
        assert!(
            from_disk.original_bytes(&r).expect("original") == bytes,
            "sealed as read"
        );
        let fingerprint =
            |v: &Vault, r: &Recording| v.store.fingerprint(&r.id).expect("fingerprint");
        assert_eq!(fingerprint(&from_disk, &r), fingerprint(&from_memory, &m));
        let again = from_disk.ingest_file(&demo, "Call again").expect("again");
        assert_eq!(again.id, r.id, "the same file is the same recording");
        let missing = a.path().join("nothing-here.flac");
        match from_disk.ingest_file(&missing, "Missing") {
            Err(VaultError::Io { path, .. }) => assert_eq!(path, missing),
            other => panic!("a missing file: {other:?}"),
        }
    }
}
