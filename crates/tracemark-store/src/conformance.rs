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
use tracemark_types::{PayloadBytes, RecipientId, RecordingId, Sha256, TraceId, UnixMillis};

use crate::{Draft, NewIssuance, NewRecording, Store, StoreError, Stored};

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
    one(
        &*s,
        Draft::Trace {
            id: TraceId::from_random([1; 8]),
            leak_sha256: Sha256::digest(b"leak"),
            verdict: "none".into(),
            report_json: "{}".into(),
        },
    );
    let dump = s.export().expect("export");
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
        story!(issuances_are_recorded_once);
        story!(traces_keep_their_report_bytes);
        story!(a_failing_batch_stores_nothing);
        story!(events_and_batches_share_one_checkpoint);
        story!(log_rows_page);
        story!(concurrent_writers_lose_nothing);
        #[test]
        fn export_import_round_trips() {
            let (Some(a), Some(b)) = (($fresh)(), ($fresh)()) else {
                return;
            };
            $crate::conformance::export_import_round_trips(&a, &b);
        }
    };
}
