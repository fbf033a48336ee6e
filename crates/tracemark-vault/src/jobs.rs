//! Issuing and tracing as jobs: a request records itself and enqueues its job in one
//! transaction; a worker claims the job under a lease, renews it while it works, and
//! records the outcome with the job's end, in one transaction, only while its lease holds
//! (so a worker killed mid-job loses nothing and an outcome is logged exactly once).

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tracemark_ledger::{Ident, LogEntry};
use tracemark_store::{BlobKey, Draft, JobOutcome, Lease, NewIssuance, NewJob, Stored};
use tracemark_types::{
    Issuance, IssuanceId, Job, JobId, Recipient, RecipientId, RecordingId, Sha256, TraceId, UserId,
};

use crate::VaultError;
use crate::issue::Delivery;
use crate::vault::{Vault, unexpected};

/// The kind of a job that issues copies.
pub const JOB_ISSUE: &str = "issue";
/// The kind of a job that traces a leak.
pub const JOB_TRACE: &str = "trace";
/// Claims a job may take before it is failed for good (a job whose worker dies this often
/// is poison, not bad luck).
pub const MAX_ATTEMPTS: u32 = 3;

/// What an issue job was asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueRequest {
    /// Who asked.
    pub actor: UserId,
    /// The recording.
    pub recording_id: RecordingId,
    /// Recipients, by exact name.
    pub recipients: Vec<String>,
    /// Delivery label, e.g. `flac` or `mp3-64k` ([`Delivery::parse`]).
    pub format: String,
}

/// One copy an issue job made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedCopyRef {
    /// The recipient's name.
    pub recipient: String,
    /// The recipient's id.
    pub recipient_id: RecipientId,
    /// SHA-256 of the copy (its blob key).
    pub copy_sha256: Sha256,
    /// Its delivery label (`flac`, `mp3-64k`, ... or `txt` for a transcript).
    #[serde(default)]
    pub format: String,
}

/// What an issue job produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueResult {
    /// The recording.
    pub recording_id: RecordingId,
    /// The delivery label.
    pub format: String,
    /// One per recipient, in the order asked.
    pub copies: Vec<IssuedCopyRef>,
}

/// What a trace job was asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceRequest {
    /// Who asked.
    pub actor: UserId,
    /// SHA-256 of the uploaded leak (its blob is [`BlobKey`] `leaks/<hex>.sealed`).
    pub leak_sha256: Sha256,
    /// The uploaded file's name as given (a hint only: content decides the format).
    pub file_name: String,
    /// The false-accusation bound.
    pub bound: f64,
}

/// What a trace job produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceResult {
    /// The trace.
    pub trace_id: TraceId,
}

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Its name, in the job's lease (e.g. `host:pid:n`).
    pub name: String,
    /// How long a claim holds without a heartbeat.
    pub lease: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            name: format!("worker:{}", std::process::id()),
            lease: Duration::from_secs(30),
        }
    }
}

/// What one [`Vault::work_one`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Worked {
    /// No job was waiting.
    Idle,
    /// A job ran and its outcome was recorded.
    Finished(JobId, bool),
    /// A job ran but its lease was lost (another worker holds it now): nothing recorded.
    LeaseLost(JobId),
}

impl Vault {
    /// Records a request for copies and enqueues the job that makes them, in one
    /// transaction. Checks the recording, the names and the format first, so a request
    /// that cannot succeed is refused now rather than failing later.
    pub fn request_copies(
        &self,
        actor: &UserId,
        recording_id: &str,
        names: &[String],
        delivery: Delivery,
    ) -> Result<Job, VaultError> {
        let recording = self.recording(recording_id)?;
        if names.is_empty() {
            return Err(VaultError::Invalid {
                what: "recipient list",
                reason: "name at least one recipient".into(),
            });
        }
        for n in names {
            self.recipient(n)?;
        }
        let request = IssueRequest {
            actor: actor.clone(),
            recording_id: recording.id.clone(),
            recipients: names.to_vec(),
            format: delivery.label(),
        };
        let access = self.access_entry(actor, recording.id.as_str(), "request-copies")?;
        self.enqueue(JOB_ISSUE, &request, access)
    }

    /// Stores an uploaded leak (sealed, under its SHA-256) and enqueues its trace, logging
    /// the upload in the same transaction as the job.
    pub fn request_trace(
        &self,
        actor: &UserId,
        upload: &Path,
        file_name: &str,
        bound: f64,
    ) -> Result<Job, VaultError> {
        check_bound(bound)?;
        // Hashed, then sealed a chunk at a time: the upload is never held.
        let sha = crate::vault::file_sha256(upload)?;
        self.put_sealed_file(&BlobKey::leak(&sha), upload, &sha, "uploaded leak")?;
        let request = TraceRequest {
            actor: actor.clone(),
            leak_sha256: sha,
            file_name: file_name.chars().take(200).collect(),
            bound,
        };
        let access = self.access_entry(actor, &format!("leak-{}", sha.to_hex()), "upload-leak")?;
        self.enqueue(JOB_TRACE, &request, access)
    }

    /// One job.
    pub fn job(&self, id: &str) -> Result<Job, VaultError> {
        let parsed: JobId = id.parse()?;
        self.store
            .job(&parsed)?
            .ok_or_else(|| VaultError::NotFound {
                kind: "job",
                name: id.to_string(),
            })
    }

    /// Logs that `actor` did `action` to `subject` (a download, a report viewed, a
    /// sign-in): the chain of custody.
    pub fn record_access(
        &self,
        actor: &UserId,
        subject: &str,
        action: &str,
    ) -> Result<u64, VaultError> {
        let entry = self.access_entry(actor, subject, action)?;
        match self.append_one(Draft::Event(entry))? {
            Stored::Logged { log_index } => Ok(log_index),
            other => Err(unexpected(&other)),
        }
    }

    fn access_entry(
        &self,
        actor: &UserId,
        subject: &str,
        action: &str,
    ) -> Result<LogEntry, VaultError> {
        Ok(LogEntry::AccessRecorded {
            time: tracemark_ledger::UnixMillis(self.now().0),
            actor: Ident::try_new(actor.to_string())?,
            subject: Ident::try_new(subject)?,
            action: Ident::try_new(action)?,
        })
    }

    fn enqueue<T: Serialize>(
        &self,
        kind: &str,
        request: &T,
        access: LogEntry,
    ) -> Result<Job, VaultError> {
        let mut random = [0u8; 8];
        crate::secret::fill_random(&mut random)?;
        let input = serde_json::to_string(request).map_err(|e| VaultError::Invalid {
            what: "job request",
            reason: e.to_string(),
        })?;
        let stored = self.append(vec![
            Draft::Event(access),
            Draft::EnqueueJob(NewJob {
                id: JobId::from_random(random),
                kind: kind.to_string(),
                input,
            }),
        ])?;
        match stored.into_iter().nth(1) {
            Some(Stored::Job(job)) => Ok(job),
            Some(other) => Err(unexpected(&other)),
            None => Err(VaultError::Invalid {
                what: "store answer",
                reason: "the store returned nothing for the job".into(),
            }),
        }
    }

    /// Claims the next job, runs it while renewing its lease, and records its outcome if
    /// the lease still holds. Errors of the store (the database went away) are returned
    /// and leave the job to be claimed again when its lease runs out; errors of the job's
    /// own input fail the job, recorded.
    pub fn work_one(&self, options: &WorkerOptions) -> Result<Worked, VaultError> {
        let lease_ms = options.lease.as_millis().max(1) as u64;
        let Some(lease) = self.store.claim_job(&options.name, self.now(), lease_ms)? else {
            return Ok(Worked::Idle);
        };
        let id = lease.job.id.clone();
        let progress = AtomicU64::new(0f64.to_bits());
        let lost = AtomicBool::new(false);
        let done = AtomicBool::new(false);
        let outcome = std::thread::scope(|scope| {
            scope.spawn(|| self.keep_lease(&lease, lease_ms, &progress, &lost, &done));
            let run = if lease.job.attempts > MAX_ATTEMPTS {
                Err(VaultError::Invalid {
                    what: "job",
                    reason: format!(
                        "claimed {} times without finishing (its worker died each time)",
                        lease.job.attempts - 1
                    ),
                })
            } else {
                self.run_job(&lease.job, &progress, &lost)
            };
            done.store(true, Ordering::SeqCst);
            run
        });
        if lost.load(Ordering::SeqCst) {
            return Ok(Worked::LeaseLost(id));
        }
        let (outcome, drafts) = match outcome {
            Ok((result, drafts)) => (JobOutcome::Succeeded(result), drafts),
            Err(e) if is_infrastructure(&e) => return Err(e),
            Err(e) => (JobOutcome::Failed(e.to_string()), Vec::new()),
        };
        let ok = matches!(outcome, JobOutcome::Succeeded(_));
        match self
            .store
            .finish_job(&lease, self.now(), &outcome, drafts, &self.signer)?
        {
            Some(_) => Ok(Worked::Finished(id, ok)),
            None => Ok(Worked::LeaseLost(id)),
        }
    }

    /// Renews `lease` every third of its length until `done`; sets `lost` when the store
    /// says the claim is no longer ours.
    fn keep_lease(
        &self,
        lease: &Lease,
        lease_ms: u64,
        progress: &AtomicU64,
        lost: &AtomicBool,
        done: &AtomicBool,
    ) {
        let beat = Duration::from_millis((lease_ms / 3).max(10));
        let tick = Duration::from_millis(10).min(beat);
        let mut waited = Duration::ZERO;
        while !done.load(Ordering::SeqCst) {
            std::thread::sleep(tick);
            waited += tick;
            if waited < beat {
                continue;
            }
            waited = Duration::ZERO;
            let p = f64::from_bits(progress.load(Ordering::SeqCst));
            match self.store.heartbeat_job(lease, self.now(), lease_ms, p) {
                Ok(true) => {}
                // Lost, or the database is unreachable: either way the claim cannot be
                // trusted any more; stop rather than risk two workers recording.
                Ok(false) | Err(_) => {
                    lost.store(true, Ordering::SeqCst);
                    return;
                }
            }
        }
    }

    fn run_job(
        &self,
        job: &Job,
        progress: &AtomicU64,
        lost: &AtomicBool,
    ) -> Result<(String, Vec<Draft>), VaultError> {
        let bad_input = |e: serde_json::Error| VaultError::Invalid {
            what: "job request",
            reason: e.to_string(),
        };
        match job.kind.as_str() {
            JOB_ISSUE => {
                let request: IssueRequest = serde_json::from_str(&job.input).map_err(bad_input)?;
                let (result, drafts) = self.run_issue(&request, progress, lost)?;
                Ok((result_json(&result)?, drafts))
            }
            JOB_TRACE => {
                let request: TraceRequest = serde_json::from_str(&job.input).map_err(bad_input)?;
                let (result, drafts) = self.run_trace(&request)?;
                Ok((result_json(&result)?, drafts))
            }
            other => Err(VaultError::Invalid {
                what: "job kind",
                reason: format!("{other:?} is not a job this release runs"),
            }),
        }
    }

    fn run_issue(
        &self,
        request: &IssueRequest,
        progress: &AtomicU64,
        lost: &AtomicBool,
    ) -> Result<(IssueResult, Vec<Draft>), VaultError> {
        let delivery = Delivery::parse(&request.format)?;
        let recording = self.recording(request.recording_id.as_str())?;
        let recipients: Vec<Recipient> = request
            .recipients
            .iter()
            .map(|n| self.recipient(n))
            .collect::<Result<_, _>>()?;
        let transcript = self.store.transcript(&recording.id)?;
        let total = recipients.len().max(1);
        let mut copies = Vec::new();
        let mut drafts = Vec::new();
        // Stored before the job's end is recorded: a crash leaves at most an orphan blob
        // (the same bytes again next time: marking is deterministic).
        let mut keep = |recipient: &Recipient,
                        plain: &mut dyn std::io::Read,
                        issuance: NewIssuance|
         -> Result<(), VaultError> {
            let sha = issuance.copy_sha256;
            if let Some(issued) = self.store.issuance(
                &issuance.recording_id,
                &issuance.recipient_id,
                &issuance.format,
            )? {
                crate::issue::check_reissued(&issued, &sha, recipient)?;
            }
            self.put_sealed_from(&BlobKey::copy(&sha), plain, &sha)?;
            copies.push(IssuedCopyRef {
                recipient: recipient.name.clone(),
                recipient_id: recipient.id.clone(),
                copy_sha256: sha,
                format: issuance.format.clone(),
            });
            drafts.push(Draft::Issuance(issuance));
            Ok(())
        };
        if !crate::is_text_only(&recording) {
            let original = self.marking(&recording)?;
            let biases = self.biases(&recording)?;
            let key = self.secret.watermark_key();
            // Copies assembled from the renderings where enough are issued at once (the
            // same files as marked alone), each encoded into an unnamed temporary file and
            // sealed from it, so none is held in memory.
            let plan = self.copy_plan(&original, &recording, &recipients, 1)?;
            let spool = || {
                tempfile::tempfile().map_err(|source| VaultError::Io {
                    path: std::env::temp_dir(),
                    source,
                })
            };
            let check_lease = || {
                if lost.load(Ordering::SeqCst) {
                    return Err(VaultError::Invalid {
                        what: "job",
                        reason: "the lease was lost".into(),
                    });
                }
                Ok(())
            };
            let mut made = 0;
            let report = |made: usize| {
                progress.store((made as f64 / total as f64).to_bits(), Ordering::SeqCst);
            };
            for group in plan.together.chunks(plan.group.max(1)) {
                check_lease()?;
                let files = group
                    .iter()
                    .map(|_| spool())
                    .collect::<Result<Vec<_>, _>>()?;
                let copies = self.render_assembled(
                    &original,
                    &recording,
                    &biases,
                    &key,
                    group,
                    plan.shared,
                    delivery,
                    files,
                )?;
                for (recipient, (mut file, issuance)) in group.iter().zip(copies) {
                    keep(recipient, &mut file, issuance)?;
                    made += 1;
                    report(made);
                }
            }
            for &(recipient, payload) in &plan.alone {
                check_lease()?;
                let (mut file, issuance) = self.render_copy(
                    &original,
                    &recording,
                    &biases,
                    &key,
                    recipient,
                    payload,
                    delivery,
                    spool()?,
                )?;
                keep(recipient, &mut file, issuance)?;
                made += 1;
                report(made);
            }
        }
        if let Some(t) = &transcript {
            for (recipient, bytes, issuance) in self.text_copies(&recording, t, &recipients)? {
                keep(&recipient, &mut bytes.as_slice(), issuance)?;
            }
        }
        Ok((
            IssueResult {
                recording_id: recording.id.clone(),
                format: request.format.clone(),
                copies,
            },
            drafts,
        ))
    }

    fn run_trace(&self, request: &TraceRequest) -> Result<(TraceResult, Vec<Draft>), VaultError> {
        let sha = &request.leak_sha256;
        // An upload sealed in chunks is decoded a chunk at a time (only its 8 kHz mix is
        // held); one sealed whole is opened whole.
        let report = match self.sealed_leak(sha)? {
            Some(sealed) => {
                self.trace_report_sealed(sealed, sha, &request.file_name, request.bound)?
            }
            None => self.trace_report(self.leak_bytes(sha)?, &request.file_name, request.bound)?,
        };
        let access = self.access_entry(&request.actor, report.id.as_str(), "trace")?;
        let drafts = vec![self.trace_draft(&report), Draft::Event(access)];
        Ok((
            TraceResult {
                trace_id: report.id.clone(),
            },
            drafts,
        ))
    }

    /// An uploaded leak sealed in chunks, checked against its hash, to be read a chunk at
    /// a time; `None` for one sealed whole (read it with [`Vault::leak_bytes`]).
    pub(crate) fn sealed_leak(
        &self,
        sha: &Sha256,
    ) -> Result<Option<crate::sealed::SealedBlob>, VaultError> {
        let key = BlobKey::leak(sha);
        let sealed = crate::sealed::SealedBlob::open(
            &self.secret,
            std::sync::Arc::clone(&self.blobs),
            &key,
            &sha.0,
            "uploaded leak",
            key.as_str(),
        )?;
        if let Some(sealed) = &sealed {
            sealed.verify(sha)?;
        }
        Ok(sealed)
    }

    /// An uploaded leak's bytes, decrypted and checked against its hash.
    pub fn leak_bytes(&self, sha: &Sha256) -> Result<Vec<u8>, VaultError> {
        let key = BlobKey::leak(sha);
        self.sealed_blob(&key, sha, "uploaded leak", key.as_str())
    }

    /// The issuance with this id.
    pub fn issuance(&self, id: &IssuanceId) -> Result<Issuance, VaultError> {
        self.store
            .issuances()?
            .into_iter()
            .find(|i| &i.id == id)
            .ok_or_else(|| VaultError::NotFound {
                kind: "issuance",
                name: id.to_string(),
            })
    }

    /// The file of an issued copy made by a job, decrypted and checked against the hash
    /// the log holds.
    pub fn copy_bytes(&self, issuance: &Issuance) -> Result<Vec<u8>, VaultError> {
        let sha = &issuance.copy_sha256;
        let key = BlobKey::copy(sha);
        self.sealed_blob(&key, sha, "stored copy", key.as_str())
    }
}

/// Errors that say the machinery failed (database, disk), not the job's input: the job is
/// left to be retried rather than failed.
pub fn is_infrastructure(e: &VaultError) -> bool {
    matches!(e, VaultError::Store(_) | VaultError::Io { .. })
}

pub(crate) fn check_bound(bound: f64) -> Result<(), VaultError> {
    if bound > 0.0 && bound < 1.0 {
        Ok(())
    } else {
        Err(VaultError::Invalid {
            what: "false-accusation bound",
            reason: format!("{bound} is not in (0, 1)"),
        })
    }
}

fn result_json<T: Serialize>(value: &T) -> Result<String, VaultError> {
    serde_json::to_string(value).map_err(|e| VaultError::Invalid {
        what: "job result",
        reason: e.to_string(),
    })
}
