//! The stories every backend must pass. A backend's integration test calls
//! [`crate::conformance_suite!`] with a function that makes a fresh, empty database and
//! returns an [`Opener`] for it (or `None` when the backend is unavailable, which the
//! backend's harness reports); each story then opens as many connections as it needs.
//!
//! The stories check behaviour through the [`Store`] trait only, so the same assertions
//! hold for every backend.
#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)] // Test code: a failed expectation is the test failing.

use std::sync::Arc;

use tracemark_ledger::{Checkpoint, KeyName, LogEntry, MerkleTree, NoteSigner, leaf_hash};
use tracemark_types::{
    JobId, JobStatus, PayloadBytes, RecipientId, RecordingId, Role, Session, Sha256, TokenId,
    TraceId, UnixMillis, UserId,
};

use crate::{
    Draft, JobOutcome, NewIssuance, NewJob, NewRecording, NewTranscript, Store, StoreError, Stored,
};

/// Opens a new connection to one database.
pub type Opener = Arc<dyn Fn() -> Box<dyn Store> + Send + Sync>;

/// The signer every story uses (a fixed test key).
pub fn signer() -> NoteSigner {
    NoteSigner::from_seed(
        KeyName::try_new("tracemark.test/conformance").expect("key name"),
        &[7; 32],
    )
}

fn t(ms: i64) -> UnixMillis {
    UnixMillis(1_764_000_000_000 + ms)
}

/// A new recording draft for content `seed`.
pub fn recording_draft(seed: &str, title: &str) -> Draft {
    let sha = Sha256::digest(seed.as_bytes());
    Draft::Recording {
        recording: NewRecording {
            id: RecordingId::from_content(&sha),
            title: title.into(),
            sha256: sha,
            duration_s: 61.5,
            sample_rate: 16_000,
            channels: 1,
            format: "flac".into(),
        },
        fingerprint: format!("fingerprint of {seed}").into_bytes(),
    }
}

fn recipient_draft(name: &str) -> Draft {
    Draft::Recipient {
        name: name.into(),
        email: Some(format!(
            "{}@example.org",
            name.to_lowercase().replace(' ', ".")
        )),
    }
}

fn one(store: &dyn Store, draft: Draft) -> Stored {
    store
        .append(t(0), vec![draft], &signer())
        .expect("append")
        .pop()
        .expect("one stored value per draft")
}

/// Checks the log as stored: contiguous indices, leaf hashes, decodable entries, one
/// signed checkpoint per size that signs the tree's root, and the stored frontier.
pub fn assert_log_consistent(store: &dyn Store) -> u64 {
    let size = store.log_size().expect("log size");
    let rows = store.log_rows(0, size + 10).expect("log rows");
    assert_eq!(rows.len() as u64, size, "log_rows returns every row");
    let mut tree = MerkleTree::new();
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.index, i as u64, "indices are contiguous from 0");
        LogEntry::decode(&row.entry).expect("entry decodes");
        let leaf = leaf_hash(&row.entry);
        assert_eq!(row.leaf_hash, leaf.0.to_vec(), "leaf hash of entry {i}");
        tree.push_leaf_hash(leaf);
    }
    let key = signer().verifier_key();
    for (cp_size, note) in store.checkpoints().expect("checkpoints") {
        let cp = Checkpoint::open(note.as_bytes(), &key).expect("checkpoint verifies");
        assert_eq!(cp.size(), cp_size);
        assert_eq!(*cp.root(), tree.root_at(cp_size).expect("size within log"));
    }
    if size > 0 {
        let (latest, _) = store
            .latest_checkpoint()
            .expect("latest")
            .expect("a checkpoint exists");
        assert_eq!(latest, size, "the latest checkpoint covers the whole log");
    }
    let frontier = store.frontier().expect("frontier");
    assert_eq!(frontier.size(), size);
    assert_eq!(
        frontier.root(),
        tree.root(),
        "stored frontier is the tree's edge"
    );
    size
}

pub fn empty_store_has_no_log(open: &Opener) {
    let s = open();
    assert_eq!(s.log_size().expect("size"), 0);
    assert!(s.latest_checkpoint().expect("cp").is_none());
    assert!(s.recordings().expect("recordings").is_empty());
    assert!(s.recipients().expect("recipients").is_empty());
    assert_log_consistent(&*s);
}

pub fn recipients_get_ids_and_unique_names(open: &Opener) {
    let s = open();
    let Stored::Recipient(a) = one(&*s, recipient_draft("Envoy office")) else {
        panic!("a recipient")
    };
    let Stored::Recipient(b) = one(&*s, recipient_draft("Aide office")) else {
        panic!("a recipient")
    };
    assert_eq!(a.id.as_str(), "r-1");
    assert_eq!(b.id.as_str(), "r-2");
    assert_eq!(
        s.recipient_by_name("Aide office").expect("by name"),
        Some(b.clone())
    );
    assert_eq!(s.recipient(&a.id).expect("by id"), Some(a.clone()));
    assert!(s.recipient_by_name("aide office").expect("exact").is_none());
    let size = s.log_size().expect("size");
    let dup = s.append(t(1), vec![recipient_draft("Envoy office")], &signer());
    assert!(matches!(dup, Err(StoreError::Duplicate { .. })), "{dup:?}");
    let id_like = s.append(t(1), vec![recipient_draft("r-3")], &signer());
    assert!(
        matches!(id_like, Err(StoreError::Invalid { .. })),
        "{id_like:?}"
    );
    assert_eq!(
        s.log_size().expect("size"),
        size,
        "refused drafts log nothing"
    );
    one(
        &*s,
        Draft::SetRecipientEmail {
            id: a.id.clone(),
            email: Some("new@example.org".into()),
        },
    );
    let a2 = s.recipient(&a.id).expect("get").expect("exists");
    assert_eq!(a2.email.as_deref(), Some("new@example.org"));
    assert_eq!(
        a2.log_index, a.log_index,
        "the creation entry stays the row's"
    );
    assert_eq!(s.recipients().expect("list").len(), 2);
    assert_log_consistent(&*s);
}

pub fn recordings_are_stored_once_with_their_fingerprints(open: &Opener) {
    let s = open();
    let Stored::Recording {
        recording,
        existing,
    } = one(&*s, recording_draft("call", "Call"))
    else {
        panic!("a recording")
    };
    assert!(!existing);
    let Stored::Recording {
        recording: again,
        existing,
    } = one(&*s, recording_draft("call", "Other title"))
    else {
        panic!("a recording")
    };
    assert!(existing, "same content returns the stored recording");
    assert_eq!(again, recording);
    assert_eq!(
        s.recording_by_content(&recording.sha256)
            .expect("by content"),
        Some(recording.clone())
    );
    assert_eq!(
        s.fingerprint(&recording.id).expect("fp"),
        Some(b"fingerprint of call".to_vec())
    );
    one(&*s, recording_draft("second", "Second call"));
    assert_eq!(s.fingerprints().expect("fps").len(), 2);
    one(
        &*s,
        Draft::RetitleRecording {
            id: recording.id.clone(),
            title: "Call of 14 October".into(),
        },
    );
    let r = s.recording(&recording.id).expect("get").expect("exists");
    assert_eq!(r.title, "Call of 14 October");
    assert_eq!(r.duration_s, 61.5);
    let names: Vec<String> = s
        .recordings()
        .expect("list")
        .into_iter()
        .map(|r| r.title)
        .collect();
    assert_eq!(names, vec!["Call of 14 October", "Second call"]);
    assert_log_consistent(&*s);
}

fn transcript_draft(rec: &RecordingId, text: &str) -> Draft {
    Draft::Transcript(NewTranscript {
        recording_id: rec.clone(),
        sha256: Sha256::digest(text.as_bytes()),
        words: text.split_whitespace().count() as u32,
        sites: 3,
        rules_version: 1,
    })
}

/// A transcript is stored once per recording, stated in the log, returned again for the
/// same text and never replaced by another.
pub fn transcripts_belong_to_recordings_and_are_never_replaced(open: &Opener) {
    let s = open();
    let Stored::Recording { recording, .. } = one(&*s, recording_draft("call", "Call")) else {
        panic!("a recording")
    };
    let size = s.log_size().expect("size");
    let Stored::Transcript {
        transcript,
        existing,
    } = one(
        &*s,
        transcript_draft(&recording.id, "K: Well, hello there."),
    )
    else {
        panic!("a transcript")
    };
    assert!(!existing);
    assert_eq!(transcript.recording_id, recording.id);
    assert_eq!(transcript.words, 4);
    assert_eq!(
        transcript.log_index, size,
        "its statement is the next entry"
    );
    assert_eq!(s.log_size().expect("size"), size + 1);
    let Stored::Transcript {
        transcript: again,
        existing,
    } = one(
        &*s,
        transcript_draft(&recording.id, "K: Well, hello there."),
    )
    else {
        panic!("a transcript")
    };
    assert!(existing, "the same text returns the stored transcript");
    assert_eq!(again, transcript);
    assert_eq!(s.log_size().expect("size"), size + 1, "and logs nothing");
    let other = s.append(
        t(0),
        vec![transcript_draft(&recording.id, "K: Oh well, hello.")],
        &signer(),
    );
    assert!(
        matches!(
            other,
            Err(StoreError::Invalid {
                what: "transcript",
                ..
            })
        ),
        "{other:?}"
    );
    let missing = s.append(
        t(0),
        vec![transcript_draft(
            &RecordingId::from_content(&Sha256::digest(b"nothing")),
            "text",
        )],
        &signer(),
    );
    assert!(
        matches!(
            missing,
            Err(StoreError::NotFound {
                kind: "recording",
                ..
            })
        ),
        "{missing:?}"
    );
    assert_eq!(
        s.transcript(&recording.id).expect("get"),
        Some(transcript.clone())
    );
    let Stored::Recording {
        recording: second, ..
    } = one(&*s, recording_draft("second", "Two"))
    else {
        panic!("a recording")
    };
    assert_eq!(s.transcript(&second.id).expect("get"), None);
    assert_eq!(s.transcripts().expect("list"), vec![transcript]);
    assert_log_consistent(&*s);
}

fn issuance_draft(rec: &RecordingId, who: &RecipientId, format: &str, n: u8) -> Draft {
    Draft::Issuance(NewIssuance {
        recording_id: rec.clone(),
        recipient_id: who.clone(),
        payload: PayloadBytes([n; 8]),
        codeword_commitment: Sha256([n; 32]),
        format: format.into(),
        copy_sha256: Sha256::digest(&[n]),
    })
}

pub fn issuances_are_recorded_once(open: &Opener) {
    let s = open();
    let Stored::Recording { recording, .. } = one(&*s, recording_draft("call", "Call")) else {
        panic!()
    };
    let Stored::Recipient(a) = one(&*s, recipient_draft("Alice")) else {
        panic!()
    };
    let Stored::Recipient(b) = one(&*s, recipient_draft("Bob")) else {
        panic!()
    };
    let Stored::Issuance {
        issuance: ia,
        existing,
    } = one(&*s, issuance_draft(&recording.id, &a.id, "flac", 1))
    else {
        panic!()
    };
    assert!(!existing);
    let Stored::Issuance {
        issuance: again,
        existing,
    } = one(&*s, issuance_draft(&recording.id, &a.id, "flac", 1))
    else {
        panic!()
    };
    assert!(existing);
    assert_eq!(again, ia);
    one(&*s, issuance_draft(&recording.id, &b.id, "flac", 2));
    one(&*s, issuance_draft(&recording.id, &a.id, "mp3-64k", 3));
    assert_eq!(s.issuances_of(&recording.id).expect("of").len(), 3);
    assert_eq!(s.issuances().expect("all").len(), 3);
    assert_eq!(
        s.issuance(&recording.id, &b.id, "flac")
            .expect("one")
            .map(|i| i.payload),
        Some(PayloadBytes([2; 8]))
    );
    assert_eq!(
        s.issuances_by_payload(&PayloadBytes([3; 8]))
            .expect("by payload")
            .len(),
        1
    );
    let nobody = RecipientId::from_number(99);
    let missing = s.append(
        t(2),
        vec![issuance_draft(&recording.id, &nobody, "flac", 4)],
        &signer(),
    );
    assert!(
        matches!(missing, Err(StoreError::NotFound { .. })),
        "{missing:?}"
    );
    assert_log_consistent(&*s);
}

pub fn traces_keep_their_report_bytes(open: &Opener) {
    let s = open();
    let id = TraceId::from_random([9; 8]);
    let report = "{\"trace_id\":\"t-0909090909090909\",\"verdict\":\"é\"}".to_string();
    let Stored::Trace(row) = one(
        &*s,
        Draft::Trace {
            id: id.clone(),
            leak_sha256: Sha256::digest(b"leak"),
            verdict: "v".repeat(5000),
            report_json: report.clone(),
        },
    ) else {
        panic!()
    };
    assert_eq!(row.verdict.len(), 4000, "verdicts are cut to the log's cap");
    let stored = s.trace(&id).expect("get").expect("exists");
    assert_eq!(stored, row);
    assert_eq!(stored.report_json, report);
    assert_eq!(stored.report_sha256, Sha256::digest(report.as_bytes()));
    assert_eq!(s.traces().expect("list"), vec![row]);
    assert_log_consistent(&*s);
}

pub fn a_failing_batch_stores_nothing(open: &Opener) {
    let s = open();
    one(&*s, recipient_draft("Alice"));
    let before = s.export().expect("export");
    let result = s.append(
        t(3),
        vec![
            recipient_draft("Carol"),
            recording_draft("call", "Call"),
            recipient_draft("Alice"),
        ],
        &signer(),
    );
    assert!(result.is_err());
    assert_eq!(
        s.export().expect("export"),
        before,
        "nothing of the batch remains"
    );
    let again = open();
    assert!(again.recipient_by_name("Carol").expect("lookup").is_none());
    assert_log_consistent(&*s);
}

pub fn events_and_batches_share_one_checkpoint(open: &Opener) {
    let s = open();
    let stored = s
        .append(
            t(4),
            vec![
                recipient_draft("A"),
                recipient_draft("B"),
                Draft::Event(LogEntry::AccessRecorded {
                    time: tracemark_ledger::UnixMillis(t(4).0),
                    actor: tracemark_ledger::Ident::try_new("u-1").expect("ident"),
                    subject: tracemark_ledger::Ident::try_new("r-1").expect("ident"),
                    action: tracemark_ledger::Ident::try_new("view").expect("ident"),
                }),
            ],
            &signer(),
        )
        .expect("append");
    assert_eq!(stored.len(), 3);
    assert!(matches!(stored[2], Stored::Logged { log_index: 2 }));
    assert_eq!(s.checkpoints().expect("cps").len(), 1);
    // A batch that logs nothing new signs nothing new.
    s.append(t(5), vec![], &signer()).expect("empty batch");
    assert_eq!(s.checkpoints().expect("cps").len(), 1);
    assert_log_consistent(&*s);
}

pub fn log_rows_page(open: &Opener) {
    let s = open();
    for i in 0..25 {
        one(&*s, recipient_draft(&format!("Recipient {i}")));
    }
    let page = s.log_rows(10, 5).expect("page");
    assert_eq!(
        page.iter().map(|r| r.index).collect::<Vec<_>>(),
        vec![10, 11, 12, 13, 14]
    );
    assert!(s.log_rows(25, 5).expect("past the end").is_empty());
    assert_log_consistent(&*s);
}

/// Concurrent writers through separate connections: nothing lost, duplicated or signed
/// twice.
pub fn concurrent_writers_lose_nothing(open: &Opener) {
    let threads = 4;
    let per = 10;
    let handles: Vec<_> = (0..threads)
        .map(|k| {
            let open = open.clone();
            std::thread::spawn(move || {
                let s = open();
                for i in 0..per {
                    s.append(
                        t(6),
                        vec![recipient_draft(&format!("Writer {k} n{i}"))],
                        &signer(),
                    )
                    .expect("concurrent append");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("writer thread");
    }
    let s = open();
    let people = s.recipients().expect("list");
    assert_eq!(people.len(), threads * per);
    let mut ids: Vec<u64> = people.iter().map(|r| r.id.number()).collect();
    ids.sort_unstable();
    assert_eq!(ids, (1..=(threads * per) as u64).collect::<Vec<_>>());
    assert_eq!(assert_log_consistent(&*s), (threads * per) as u64);
    assert_eq!(s.checkpoints().expect("cps").len(), threads * per);
}

/// Export from one store and import into another (a fresh database from `fresh`): the
/// dumps are equal and the log still checks.
pub fn export_import_round_trips(open: &Opener, other: &Opener) {
    let s = open();
    let Stored::Recording { recording, .. } = one(&*s, recording_draft("call", "Call")) else {
        panic!()
    };
    let Stored::Recipient(a) = one(&*s, recipient_draft("Alice")) else {
        panic!()
    };
    one(&*s, issuance_draft(&recording.id, &a.id, "flac", 1));
    one(&*s, transcript_draft(&recording.id, "K: Yes."));
    one(
        &*s,
        Draft::Trace {
            id: TraceId::from_random([1; 8]),
            leak_sha256: Sha256::digest(b"leak"),
            verdict: "none".into(),
            report_json: "{}".into(),
        },
    );
    s.append(
        t(0),
        vec![Draft::User {
            name: "Officer".into(),
            role: Role::Admin,
            password_hash: None,
        }],
        &signer(),
    )
    .expect("user");
    s.append(
        t(0),
        vec![Draft::Token {
            id: TokenId::from_random([2; 8]),
            user_id: UserId::from_number(1),
            secret_sha256: Sha256::digest(b"secret"),
            expires_at: None,
        }],
        &signer(),
    )
    .expect("token");
    let dump = s.export().expect("export");
    assert_eq!(
        (dump.users.len(), dump.tokens.len(), dump.transcripts.len()),
        (1, 1, 1)
    );
    let target = other();
    target.import(&dump).expect("import");
    assert_eq!(target.export().expect("export"), dump);
    assert_log_consistent(&*target);
    assert!(matches!(
        target.import(&dump),
        Err(StoreError::NotEmpty { .. })
    ));
    // The imported store goes on appending where the source stopped: recipient numbers,
    // issuance ids and log indices continue after the imported ones.
    let Stored::Recipient(bob) = one(&*target, recipient_draft("Bob")) else {
        panic!()
    };
    assert_eq!(bob.id.number(), 2);
    assert_eq!(bob.log_index, dump.log.len() as u64);
    let Stored::Issuance { issuance, .. } =
        one(&*target, issuance_draft(&recording.id, &bob.id, "flac", 2))
    else {
        panic!()
    };
    let imported_max = dump.issuances.iter().map(|i| i.id).max().expect("one");
    assert!(
        issuance.id > imported_max,
        "{:?} after {imported_max:?}",
        issuance.id
    );
    assert_log_consistent(&*target);
}

fn job_draft(n: u8) -> Draft {
    Draft::EnqueueJob(NewJob {
        id: JobId::from_random([n; 8]),
        kind: "trace".into(),
        input: format!("{{\"upload\":{n}}}"),
    })
}

fn access(ms: i64) -> Draft {
    Draft::Event(LogEntry::AccessRecorded {
        time: tracemark_ledger::UnixMillis(t(ms).0),
        actor: tracemark_ledger::Ident::try_new("u-1").expect("ident"),
        subject: tracemark_ledger::Ident::try_new("upload-1").expect("ident"),
        action: tracemark_ledger::Ident::try_new("trace-requested").expect("ident"),
    })
}

/// A job enqueued with its request's entry, claimed, renewed and finished once.
pub fn jobs_are_claimed_and_finished_once(open: &Opener) {
    let s = open();
    let stored = s
        .append(t(0), vec![access(0), job_draft(1)], &signer())
        .expect("enqueue");
    let Stored::Job(job) = &stored[1] else {
        panic!("a job: {stored:?}")
    };
    assert_eq!(job.status, JobStatus::Queued);
    assert_eq!(
        s.log_size().expect("size"),
        1,
        "enqueueing logs only the request"
    );
    let lease = s
        .claim_job("worker-a", t(10), 1000)
        .expect("claim")
        .expect("a job");
    assert_eq!(lease.job.id, job.id);
    assert_eq!(lease.job.status, JobStatus::Running);
    assert_eq!(lease.job.attempts, 1);
    assert!(
        s.claim_job("worker-b", t(20), 1000)
            .expect("claim")
            .is_none(),
        "one claim at a time"
    );
    assert!(
        s.heartbeat_job(&lease, t(500), 1000, 0.5)
            .expect("heartbeat")
    );
    assert_eq!(s.job(&job.id).expect("job").expect("exists").progress, 0.5);
    let done = s
        .finish_job(
            &lease,
            t(900),
            &JobOutcome::Succeeded("{\"ok\":true}".into()),
            vec![access(900)],
            &signer(),
        )
        .expect("finish");
    assert!(
        matches!(done.as_deref(), Some([Stored::Logged { log_index: 1 }])),
        "{done:?}"
    );
    let finished = s.job(&job.id).expect("job").expect("exists");
    assert_eq!(finished.status, JobStatus::Succeeded);
    assert_eq!(finished.result.as_deref(), Some("{\"ok\":true}"));
    assert_eq!(finished.progress, 1.0);
    // Finishing again, or renewing a finished job, does nothing.
    let again = s
        .finish_job(
            &lease,
            t(950),
            &JobOutcome::Succeeded("{}".into()),
            vec![access(950)],
            &signer(),
        )
        .expect("finish again");
    assert!(again.is_none());
    assert!(
        !s.heartbeat_job(&lease, t(960), 1000, 0.9)
            .expect("heartbeat")
    );
    assert_eq!(s.log_size().expect("size"), 2, "the outcome is logged once");
    assert!(
        s.claim_job("worker-b", t(5000), 1000)
            .expect("claim")
            .is_none(),
        "finished jobs are not claimed"
    );
    let failed_stored = s
        .append(t(0), vec![job_draft(2)], &signer())
        .expect("enqueue");
    assert_eq!(failed_stored.len(), 1);
    let lease = s
        .claim_job("worker-a", t(6000), 1000)
        .expect("claim")
        .expect("job 2");
    s.finish_job(
        &lease,
        t(6100),
        &JobOutcome::Failed("the upload is not audio".into()),
        vec![],
        &signer(),
    )
    .expect("fail")
    .expect("held");
    let failed = s.job(&lease.job.id).expect("job").expect("exists");
    assert_eq!(failed.status, JobStatus::Failed);
    assert_eq!(failed.error.as_deref(), Some("the upload is not audio"));
    assert_log_consistent(&*s);
}

/// A worker that stops renewing loses its job to another once the lease runs out; the
/// first worker can then neither renew nor finish it, and the outcome is logged once.
pub fn an_expired_lease_passes_the_job_on(open: &Opener) {
    let s = open();
    s.append(t(0), vec![job_draft(3)], &signer())
        .expect("enqueue");
    let a = s
        .claim_job("worker-a", t(0), 1000)
        .expect("claim")
        .expect("job");
    assert!(
        s.claim_job("worker-b", t(999), 1000)
            .expect("claim")
            .is_none(),
        "lease still valid"
    );
    let b = s
        .claim_job("worker-b", t(1001), 1000)
        .expect("claim")
        .expect("taken over");
    assert_eq!(b.job.id, a.job.id);
    assert_eq!(b.job.attempts, 2);
    assert_ne!(a.token, b.token);
    assert!(
        !s.heartbeat_job(&a, t(1002), 1000, 0.7).expect("heartbeat"),
        "a lost its lease"
    );
    let late = s
        .finish_job(
            &a,
            t(1003),
            &JobOutcome::Succeeded("{}".into()),
            vec![access(1003)],
            &signer(),
        )
        .expect("finish");
    assert!(
        late.is_none(),
        "the first worker's late result is not recorded"
    );
    assert_eq!(s.log_size().expect("size"), 0);
    s.finish_job(
        &b,
        t(1500),
        &JobOutcome::Succeeded("{}".into()),
        vec![access(1500)],
        &signer(),
    )
    .expect("finish")
    .expect("b holds the lease");
    assert_eq!(s.log_size().expect("size"), 1);
    assert_log_consistent(&*s);
}

/// Workers claiming through separate connections at once: every job goes to exactly one.
pub fn concurrent_claimers_take_each_job_once(open: &Opener) {
    let s = open();
    let jobs = 24u8;
    s.append(
        t(0),
        (0..jobs).map(|n| job_draft(100 + n)).collect(),
        &signer(),
    )
    .expect("enqueue");
    let handles: Vec<_> = (0..4)
        .map(|w| {
            let open = open.clone();
            std::thread::spawn(move || {
                let s = open();
                let mut mine = Vec::new();
                while let Some(lease) = s
                    .claim_job(&format!("worker-{w}"), t(10), 60_000)
                    .expect("claim")
                {
                    mine.push(lease.job.id);
                }
                mine
            })
        })
        .collect();
    let mut all: Vec<JobId> = handles
        .into_iter()
        .flat_map(|h| h.join().expect("claimer"))
        .collect();
    assert_eq!(all.len(), usize::from(jobs), "every job claimed");
    all.sort();
    all.dedup();
    assert_eq!(all.len(), usize::from(jobs), "no job claimed twice");
}

/// Users, role changes, tokens and sessions.
pub fn users_tokens_and_sessions(open: &Opener) {
    let s = open();
    let add = |name: &str, role: Role| {
        s.append(
            t(0),
            vec![Draft::User {
                name: name.into(),
                role,
                password_hash: Some(format!("$argon2id$v=19$m=19456,t=2,p=1$test${name}")),
            }],
            &signer(),
        )
    };
    let Some(Stored::User(admin)) = add("Security officer", Role::Admin).expect("admin").pop()
    else {
        panic!("a user")
    };
    assert_eq!(admin.id.as_str(), "u-1");
    let Some(Stored::User(inv)) = add("Investigator 1", Role::Investigator)
        .expect("inv")
        .pop()
    else {
        panic!("a user")
    };
    assert_eq!(inv.id.number(), 2);
    assert!(matches!(
        add("Investigator 1", Role::Auditor),
        Err(StoreError::Duplicate { .. })
    ));
    assert!(matches!(
        add("u-3", Role::Auditor),
        Err(StoreError::Invalid { .. })
    ));
    assert_eq!(
        s.user_by_name("Investigator 1").expect("by name"),
        Some(inv.clone())
    );
    s.append(
        t(1),
        vec![Draft::ChangeUser {
            id: inv.id.clone(),
            role: Some(Role::Auditor),
            password_hash: None,
            disabled: None,
        }],
        &signer(),
    )
    .expect("role change");
    let changed = s.user(&inv.id).expect("user").expect("exists");
    assert_eq!(changed.role, Role::Auditor);
    assert_eq!(
        changed.password_hash, inv.password_hash,
        "None keeps the password"
    );
    let missing = s.append(
        t(1),
        vec![Draft::ChangeUser {
            id: UserId::from_number(99),
            role: Some(Role::Admin),
            password_hash: None,
            disabled: None,
        }],
        &signer(),
    );
    assert!(matches!(missing, Err(StoreError::NotFound { .. })));

    let secret = Sha256::digest(b"token secret");
    let Some(Stored::Token(token)) = s
        .append(
            t(2),
            vec![Draft::Token {
                id: TokenId::from_random([4; 8]),
                user_id: admin.id.clone(),
                secret_sha256: secret,
                expires_at: Some(t(86_400_000)),
            }],
            &signer(),
        )
        .expect("token")
        .pop()
    else {
        panic!("a token")
    };
    assert_eq!(
        s.token_by_secret(&secret).expect("lookup"),
        Some(token.clone())
    );
    assert!(
        s.token_by_secret(&Sha256::digest(b"other"))
            .expect("lookup")
            .is_none()
    );
    s.append(
        t(3),
        vec![Draft::RevokeToken {
            id: token.id.clone(),
        }],
        &signer(),
    )
    .expect("revoke");
    assert!(
        s.token_by_secret(&secret)
            .expect("lookup")
            .expect("still listed")
            .revoked
    );
    assert_eq!(s.users().expect("users").len(), 2);
    assert_eq!(s.tokens().expect("tokens").len(), 1);

    let session = Session {
        secret_sha256: Sha256::digest(b"cookie"),
        user_id: admin.id.clone(),
        csrf_token: "csrf-1".into(),
        created_at: t(0),
        expires_at: t(1000),
    };
    s.create_session(&session).expect("session");
    assert_eq!(
        s.session(&session.secret_sha256, t(999)).expect("get"),
        Some(session.clone())
    );
    assert!(
        s.session(&session.secret_sha256, t(1000))
            .expect("get")
            .is_none(),
        "expired"
    );
    assert_eq!(s.delete_expired_sessions(t(2000)).expect("prune"), 1);
    s.create_session(&session).expect("again");
    s.delete_session(&session.secret_sha256).expect("sign out");
    assert!(
        s.session(&session.secret_sha256, t(1))
            .expect("get")
            .is_none()
    );
    assert_log_consistent(&*s);
}

/// Generates one `#[test]` per story. `$fresh` is an expression of type
/// `fn() -> Option<Opener>` that makes a new empty database.
#[macro_export]
macro_rules! conformance_suite {
    ($fresh:expr) => {
        macro_rules! story {
            ($name:ident) => {
                #[test]
                fn $name() {
                    let Some(open) = ($fresh)() else { return };
                    $crate::conformance::$name(&open);
                }
            };
        }
        story!(empty_store_has_no_log);
        story!(recipients_get_ids_and_unique_names);
        story!(recordings_are_stored_once_with_their_fingerprints);
        story!(transcripts_belong_to_recordings_and_are_never_replaced);
        story!(issuances_are_recorded_once);
        story!(traces_keep_their_report_bytes);
        story!(a_failing_batch_stores_nothing);
        story!(events_and_batches_share_one_checkpoint);
        story!(log_rows_page);
        story!(concurrent_writers_lose_nothing);
        story!(jobs_are_claimed_and_finished_once);
        story!(an_expired_lease_passes_the_job_on);
        story!(concurrent_claimers_take_each_job_once);
        story!(users_tokens_and_sessions);
        #[test]
        fn export_import_round_trips() {
            let (Some(a), Some(b)) = (($fresh)(), ($fresh)()) else {
                return;
            };
            $crate::conformance::export_import_round_trips(&a, &b);
        }
    };
}
