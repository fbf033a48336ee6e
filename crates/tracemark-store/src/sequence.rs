//! The one log-sequencing step every backend runs inside its write transaction.

use tracemark_ledger::{Checkpoint, Frontier, LogEntry, NoteSigner, leaf_hash};
use tracemark_types::{
    Issuance, IssuanceId, Recipient, RecipientId, Recording, RecordingId, Sha256, TraceRow,
    Transcript, UnixMillis,
};

use crate::records::{
    self, check_email, check_recipient_name, check_title, cut_verdict, recipient_statement,
    recording_statement, transcript_statement,
};
use crate::{Draft, Dump, JobOutcome, Lease, NewIssuance, NewJob, StoreError, Stored};

/// What [`sequence`] needs from a backend's open write transaction. The backend has taken
/// its sequencer lock before handing this out and commits after `sequence` returns `Ok`
/// (and rolls back on `Err`).
pub trait AppendTx {
    /// The stored right edge of the tree.
    fn frontier(&mut self) -> Result<Frontier, StoreError>;
    /// Replaces the stored right edge.
    fn set_frontier(&mut self, frontier: &Frontier) -> Result<(), StoreError>;
    /// Inserts a log row (`leaf` as it is to be stored: the entry's leaf hash, or for an
    /// import the bytes the source held, so that a damaged source stays visibly damaged).
    fn insert_log(&mut self, index: u64, entry: &[u8], leaf: &[u8]) -> Result<(), StoreError>;
    /// Inserts a signed checkpoint.
    fn insert_checkpoint(&mut self, size: u64, note: &str) -> Result<(), StoreError>;

    /// The largest recipient number in use (0 when none).
    fn max_recipient_number(&mut self) -> Result<u64, StoreError>;
    /// A recipient by exact name.
    fn recipient_by_name(&mut self, name: &str) -> Result<Option<Recipient>, StoreError>;
    /// A recipient by id.
    fn recipient(&mut self, id: &RecipientId) -> Result<Option<Recipient>, StoreError>;
    /// Inserts a recipient.
    fn insert_recipient(&mut self, r: &Recipient) -> Result<(), StoreError>;
    /// Sets a recipient's e-mail.
    fn set_recipient_email(
        &mut self,
        id: &RecipientId,
        email: Option<&str>,
    ) -> Result<(), StoreError>;

    /// A recording by content hash.
    fn recording_by_content(&mut self, sha: &Sha256) -> Result<Option<Recording>, StoreError>;
    /// A recording by id.
    fn recording(&mut self, id: &RecordingId) -> Result<Option<Recording>, StoreError>;
    /// A recording's fingerprint.
    fn fingerprint(&mut self, id: &RecordingId) -> Result<Option<Vec<u8>>, StoreError>;
    /// Inserts a recording and its fingerprint.
    fn insert_recording(&mut self, r: &Recording, fingerprint: &[u8]) -> Result<(), StoreError>;
    /// A recording's transcript.
    fn transcript(&mut self, recording: &RecordingId) -> Result<Option<Transcript>, StoreError>;
    /// Inserts a transcript.
    fn insert_transcript(&mut self, t: &Transcript) -> Result<(), StoreError>;
    /// Sets a recording's title.
    fn set_recording_title(&mut self, id: &RecordingId, title: &str) -> Result<(), StoreError>;

    /// An issuance by (recording, recipient, format).
    fn issuance(
        &mut self,
        recording: &RecordingId,
        recipient: &RecipientId,
        format: &str,
    ) -> Result<Option<Issuance>, StoreError>;
    /// Inserts an issuance and returns its new id.
    fn insert_issuance(
        &mut self,
        i: &NewIssuance,
        issued_at: UnixMillis,
        log_index: u64,
    ) -> Result<IssuanceId, StoreError>;
    /// Inserts a trace.
    fn insert_trace(&mut self, t: &TraceRow) -> Result<(), StoreError>;
    /// The largest user number in use (0 when none).
    fn max_user_number(&mut self) -> Result<u64, StoreError>;
    /// A user by exact name.
    fn user_by_name(&mut self, name: &str) -> Result<Option<tracemark_types::User>, StoreError>;
    /// A user by id.
    fn user(
        &mut self,
        id: &tracemark_types::UserId,
    ) -> Result<Option<tracemark_types::User>, StoreError>;
    /// Inserts a user.
    fn insert_user(&mut self, u: &tracemark_types::User) -> Result<(), StoreError>;
    /// Writes a user's role, password hash and disabled flag.
    fn update_user(&mut self, u: &tracemark_types::User) -> Result<(), StoreError>;
    /// A token by id.
    fn token(
        &mut self,
        id: &tracemark_types::TokenId,
    ) -> Result<Option<tracemark_types::ApiToken>, StoreError>;
    /// Inserts a token.
    fn insert_token(&mut self, t: &tracemark_types::ApiToken) -> Result<(), StoreError>;
    /// Marks a token revoked.
    fn revoke_token(&mut self, id: &tracemark_types::TokenId) -> Result<(), StoreError>;
    /// Inserts a queued job.
    fn insert_job(&mut self, job: &tracemark_types::Job) -> Result<(), StoreError>;
    /// A job, locked for this transaction where the backend locks rows.
    fn job_for_update(
        &mut self,
        id: &tracemark_types::JobId,
    ) -> Result<Option<tracemark_types::Job>, StoreError>;
    /// Marks a job finished.
    fn set_job_outcome(
        &mut self,
        id: &tracemark_types::JobId,
        outcome: &JobOutcome,
        time: UnixMillis,
    ) -> Result<(), StoreError>;
    /// Inserts an issuance with the id it had in another store (`migrate`).
    fn import_issuance(&mut self, i: &Issuance) -> Result<(), StoreError>;

    /// Whether an upgrade from an older release is still pending (see
    /// [`crate::Store::legacy_upgrade`]). Backends with no older releases keep the default.
    fn legacy_pending(&mut self) -> Result<bool, StoreError> {
        Ok(false)
    }
    /// Every recording and recipient, for the legacy upgrade's statements.
    fn all_records(&mut self) -> Result<(Vec<Recording>, Vec<Recipient>), StoreError> {
        Ok((Vec::new(), Vec::new()))
    }
    /// Stores a recording's own fingerprint (legacy upgrade).
    fn set_fingerprint(&mut self, _id: &RecordingId, _bytes: &[u8]) -> Result<(), StoreError> {
        Ok(())
    }
    /// Drops the legacy index and clears the pending flag.
    fn finish_legacy_upgrade(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
}

struct Log<'a> {
    frontier: Frontier,
    tx: &'a mut dyn AppendTx,
    /// The last recipient number assigned in this transaction (read once per append).
    last_recipient: Option<u64>,
}

impl Log<'_> {
    fn push(&mut self, entry: &LogEntry) -> Result<u64, StoreError> {
        let encoded = entry.encode();
        // Decoding what we encode refuses, before anything is stored, what a reader
        // would refuse later (oversize fields, too many columns).
        LogEntry::decode(&encoded)?;
        let leaf = leaf_hash(&encoded);
        let index = self.frontier.push_leaf_hash(leaf);
        self.tx.insert_log(index, &encoded, leaf.as_bytes())?;
        Ok(index)
    }
}

/// The shared half of [`crate::Store::finish_job`], inside the backend's write transaction
/// under the sequencer lock: if `lease` still holds the job, sequence the drafts and mark
/// the job finished; otherwise store nothing and return `None`.
pub fn finish(
    tx: &mut dyn AppendTx,
    lease: &Lease,
    time: UnixMillis,
    outcome: &JobOutcome,
    drafts: Vec<Draft>,
    signer: &NoteSigner,
) -> Result<Option<Vec<Stored>>, StoreError> {
    let Some(job) = tx.job_for_update(&lease.job.id)? else {
        return Err(StoreError::NotFound {
            kind: "job",
            id: lease.job.id.to_string(),
        });
    };
    if job.status != tracemark_types::JobStatus::Running
        || job.lease.as_deref() != Some(lease.token.as_str())
    {
        return Ok(None);
    }
    let stored = sequence(tx, time, drafts, signer)?;
    tx.set_job_outcome(&job.id, outcome, time)?;
    Ok(Some(stored))
}

/// Loads a whole [`Dump`] through `tx`, a backend's write transaction on a database the
/// backend has checked is empty: rows, log rows and checkpoints exactly as they were (ids,
/// log indices, report bytes), the stored frontier recomputed from the entries. `log
/// verify` on the target then checks the result like any other vault.
pub fn load_dump(tx: &mut dyn AppendTx, dump: &Dump) -> Result<(), StoreError> {
    let mut frontier = Frontier::new();
    for row in &dump.log {
        tx.insert_log(row.index, &row.entry, &row.leaf_hash)?;
        frontier.push_leaf_hash(leaf_hash(&row.entry));
    }
    for (size, note) in &dump.checkpoints {
        tx.insert_checkpoint(*size, note)?;
    }
    tx.set_frontier(&frontier)?;
    for (r, fp) in &dump.recordings {
        tx.insert_recording(r, fp)?;
    }
    for r in &dump.recipients {
        tx.insert_recipient(r)?;
    }
    for t in &dump.transcripts {
        tx.insert_transcript(t)?;
    }
    for i in &dump.issuances {
        tx.import_issuance(i)?;
    }
    for t in &dump.traces {
        tx.insert_trace(t)?;
    }
    for u in &dump.users {
        tx.insert_user(u)?;
    }
    for t in &dump.tokens {
        tx.insert_token(t)?;
    }
    Ok(())
}

/// Stores the drafts through `tx`, appends their entries to the stored tree and signs
/// one checkpoint of the new size (none when nothing new was logged). Backends call this
/// between taking their sequencer lock and committing.
pub fn sequence(
    tx: &mut dyn AppendTx,
    time: UnixMillis,
    drafts: Vec<Draft>,
    signer: &NoteSigner,
) -> Result<Vec<Stored>, StoreError> {
    let frontier = tx.frontier()?;
    let start = frontier.size();
    let mut log = Log {
        frontier,
        tx,
        last_recipient: None,
    };
    let mut out = Vec::with_capacity(drafts.len());
    for draft in drafts {
        out.push(store_one(&mut log, time, draft)?);
    }
    let Log { frontier, tx, .. } = log;
    if frontier.size() != start {
        let note = Checkpoint::new(
            signer.verifier_key().name().clone(),
            frontier.size(),
            frontier.root(),
        )
        .sign(signer)?;
        tx.set_frontier(&frontier)?;
        tx.insert_checkpoint(frontier.size(), &note)?;
    }
    Ok(out)
}

/// Text every backend can store: no NUL (PostgreSQL's text cannot hold one) and, for
/// labels, no control characters at all.
fn check_text(what: &'static str, s: &str, label: bool) -> Result<(), StoreError> {
    let bad = if label {
        s.chars().any(char::is_control) || s.is_empty() || s.len() > 128
    } else {
        s.contains('\0')
    };
    if bad {
        return Err(StoreError::Invalid {
            what,
            reason: if label {
                "must be 1 to 128 characters without control characters".into()
            } else {
                "must not contain a NUL character".into()
            },
        });
    }
    Ok(())
}

fn store_one(log: &mut Log<'_>, time: UnixMillis, draft: Draft) -> Result<Stored, StoreError> {
    Ok(match draft {
        Draft::Recipient { name, email } => {
            let name = check_recipient_name(&name)?;
            let email = email.as_deref().map(check_email).transpose()?;
            if log.tx.recipient_by_name(&name)?.is_some() {
                return Err(StoreError::Duplicate {
                    kind: "recipient",
                    name,
                });
            }
            let number = match log.last_recipient {
                Some(n) => n + 1,
                None => log.tx.max_recipient_number()? + 1,
            };
            log.last_recipient = Some(number);
            let mut r = Recipient {
                id: RecipientId::from_number(number),
                name,
                email,
                created_at: time,
                log_index: 0,
            };
            r.log_index = log.push(&recipient_statement(&r, time)?)?;
            log.tx.insert_recipient(&r)?;
            Stored::Recipient(r)
        }
        Draft::Recording {
            recording,
            fingerprint,
        } => {
            check_text("recording format", &recording.format, true)?;
            if let Some(existing) = log.tx.recording_by_content(&recording.sha256)? {
                return Ok(Stored::Recording {
                    recording: existing,
                    existing: true,
                });
            }
            if recording.id != RecordingId::from_content(&recording.sha256) {
                return Err(StoreError::Invalid {
                    what: "recording id",
                    reason: format!("{} does not derive from its content hash", recording.id),
                });
            }
            let mut r = Recording {
                id: recording.id,
                title: check_title(&recording.title)?,
                sha256: recording.sha256,
                duration_s: recording.duration_s,
                sample_rate: recording.sample_rate,
                channels: recording.channels,
                format: recording.format,
                ingested_at: time,
                log_index: 0,
            };
            r.log_index = log.push(&records::recording_entry(&r)?)?;
            log.push(&recording_statement(&r, &fingerprint, time)?)?;
            log.tx.insert_recording(&r, &fingerprint)?;
            Stored::Recording {
                recording: r,
                existing: false,
            }
        }
        Draft::Transcript(new) => {
            if let Some(existing) = log.tx.transcript(&new.recording_id)? {
                if existing.sha256 != new.sha256 {
                    return Err(StoreError::Invalid {
                        what: "transcript",
                        reason: format!(
                            "{} already has a transcript (SHA-256 {}); a transcript is never replaced, ingest the new text as a recording of its own",
                            new.recording_id,
                            existing.sha256.to_hex()
                        ),
                    });
                }
                return Ok(Stored::Transcript {
                    transcript: existing,
                    existing: true,
                });
            }
            if log.tx.recording(&new.recording_id)?.is_none() {
                return Err(StoreError::NotFound {
                    kind: "recording",
                    id: new.recording_id.to_string(),
                });
            }
            let mut t = Transcript {
                recording_id: new.recording_id,
                sha256: new.sha256,
                words: new.words,
                sites: new.sites,
                rules_version: new.rules_version,
                attached_at: time,
                log_index: 0,
            };
            t.log_index = log.push(&transcript_statement(&t, time)?)?;
            log.tx.insert_transcript(&t)?;
            Stored::Transcript {
                transcript: t,
                existing: false,
            }
        }
        Draft::Issuance(new) => {
            check_text("delivery format", &new.format, true)?;
            if let Some(existing) =
                log.tx
                    .issuance(&new.recording_id, &new.recipient_id, &new.format)?
            {
                return Ok(Stored::Issuance {
                    issuance: existing,
                    existing: true,
                });
            }
            if log.tx.recording(&new.recording_id)?.is_none() {
                return Err(StoreError::NotFound {
                    kind: "recording",
                    id: new.recording_id.to_string(),
                });
            }
            if log.tx.recipient(&new.recipient_id)?.is_none() {
                return Err(StoreError::NotFound {
                    kind: "recipient",
                    id: new.recipient_id.to_string(),
                });
            }
            let mut i = Issuance {
                id: IssuanceId(0),
                recording_id: new.recording_id.clone(),
                recipient_id: new.recipient_id.clone(),
                payload: new.payload,
                codeword_commitment: new.codeword_commitment,
                format: new.format.clone(),
                copy_sha256: new.copy_sha256,
                issued_at: time,
                log_index: 0,
            };
            i.log_index = log.push(&records::issuance_entry(&i)?)?;
            i.id = log.tx.insert_issuance(&new, time, i.log_index)?;
            Stored::Issuance {
                issuance: i,
                existing: false,
            }
        }
        Draft::Trace {
            id,
            leak_sha256,
            verdict,
            report_json,
        } => {
            check_text("trace report", &report_json, false)?;
            check_text("verdict", &verdict, false)?;
            let mut t = TraceRow {
                id,
                leak_sha256,
                verdict: cut_verdict(&verdict),
                report_sha256: Sha256::digest(report_json.as_bytes()),
                report_json,
                created_at: time,
                log_index: 0,
            };
            t.log_index = log.push(&records::trace_entry(&t)?)?;
            log.tx.insert_trace(&t)?;
            Stored::Trace(t)
        }
        Draft::RetitleRecording { id, title } => {
            let title = check_title(&title)?;
            let mut r = log.tx.recording(&id)?.ok_or_else(|| StoreError::NotFound {
                kind: "recording",
                id: id.to_string(),
            })?;
            let fingerprint = log.tx.fingerprint(&id)?.unwrap_or_default();
            r.title = title;
            let log_index = log.push(&recording_statement(&r, &fingerprint, time)?)?;
            log.tx.set_recording_title(&id, &r.title)?;
            Stored::Logged { log_index }
        }
        Draft::SetRecipientEmail { id, email } => {
            let email = email.as_deref().map(check_email).transpose()?;
            let mut r = log.tx.recipient(&id)?.ok_or_else(|| StoreError::NotFound {
                kind: "recipient",
                id: id.to_string(),
            })?;
            r.email = email;
            let log_index = log.push(&recipient_statement(&r, time)?)?;
            log.tx.set_recipient_email(&id, r.email.as_deref())?;
            Stored::Logged { log_index }
        }
        Draft::FinishLegacyUpgrade { fingerprints } => {
            if !log.tx.legacy_pending()? {
                return Ok(Stored::Logged {
                    log_index: log.frontier.size(),
                });
            }
            let (recordings, recipients) = log.tx.all_records()?;
            let first = log.frontier.size();
            for r in &recordings {
                let fp = fingerprints
                    .iter()
                    .find(|(id, _)| *id == r.id)
                    .map(|(_, fp)| fp.clone())
                    .or(log.tx.fingerprint(&r.id)?)
                    .unwrap_or_default();
                log.tx.set_fingerprint(&r.id, &fp)?;
                log.push(&recording_statement(r, &fp, time)?)?;
            }
            for r in &recipients {
                log.push(&recipient_statement(r, time)?)?;
            }
            log.tx.finish_legacy_upgrade()?;
            Stored::Logged { log_index: first }
        }
        Draft::User {
            name,
            role,
            password_hash,
        } => {
            let name = check_recipient_name(&name)?;
            if let Some(h) = &password_hash {
                check_text("password hash", h, true)?;
            }
            if log.tx.user_by_name(&name)?.is_some() {
                return Err(StoreError::Duplicate { kind: "user", name });
            }
            let mut u = tracemark_types::User {
                id: tracemark_types::UserId::from_number(log.tx.max_user_number()? + 1),
                name,
                role,
                password_hash,
                disabled: false,
                created_at: time,
                log_index: 0,
            };
            u.log_index = log.push(&records::user_statement(&u, time)?)?;
            log.tx.insert_user(&u)?;
            Stored::User(u)
        }
        Draft::ChangeUser {
            id,
            role,
            password_hash,
            disabled,
        } => {
            let mut u = log.tx.user(&id)?.ok_or_else(|| StoreError::NotFound {
                kind: "user",
                id: id.to_string(),
            })?;
            if let Some(Some(h)) = &password_hash {
                check_text("password hash", h, true)?;
            }
            if let Some(r) = role {
                u.role = r;
            }
            if let Some(h) = password_hash {
                u.password_hash = h;
            }
            if let Some(d) = disabled {
                u.disabled = d;
            }
            let log_index = log.push(&records::user_statement(&u, time)?)?;
            log.tx.update_user(&u)?;
            Stored::Logged { log_index }
        }
        Draft::Token {
            id,
            user_id,
            secret_sha256,
            expires_at,
        } => {
            if log.tx.user(&user_id)?.is_none() {
                return Err(StoreError::NotFound {
                    kind: "user",
                    id: user_id.to_string(),
                });
            }
            let mut t = tracemark_types::ApiToken {
                id,
                user_id,
                secret_sha256,
                created_at: time,
                expires_at,
                revoked: false,
                log_index: 0,
            };
            t.log_index = log.push(&records::token_statement(&t, time)?)?;
            log.tx.insert_token(&t)?;
            Stored::Token(t)
        }
        Draft::RevokeToken { id } => {
            let mut t = log.tx.token(&id)?.ok_or_else(|| StoreError::NotFound {
                kind: "token",
                id: id.to_string(),
            })?;
            t.revoked = true;
            let log_index = log.push(&records::token_statement(&t, time)?)?;
            log.tx.revoke_token(&id)?;
            Stored::Logged { log_index }
        }
        Draft::EnqueueJob(NewJob { id, kind, input }) => {
            check_text("job kind", &kind, true)?;
            check_text("job input", &input, false)?;
            let job = tracemark_types::Job {
                id,
                kind,
                input,
                status: tracemark_types::JobStatus::Queued,
                progress: 0.0,
                result: None,
                error: None,
                attempts: 0,
                lease: None,
                lease_expires: None,
                created_at: time,
                updated_at: time,
            };
            log.tx.insert_job(&job)?;
            Stored::Job(job)
        }
        Draft::Event(entry) => Stored::Logged {
            log_index: log.push(&entry)?,
        },
    })
}
