//! What the PostgreSQL backend does beyond the shared stories: migrations under the lock,
//! corrupt values named, the busy timeout, identity ids after an import, reconnecting.
#![allow(clippy::expect_used, clippy::unwrap_used)] // Test code: a failed expectation is the test failing.

use std::time::Duration;

use postgres::NoTls;
use tracemark_store::conformance::{recording_draft, signer};
use tracemark_store::{Draft, NewIssuance, Store, StoreError, Stored};
use tracemark_store_postgres::testing::fresh_database_url;
use tracemark_store_postgres::{PostgresStore, SCHEMA_VERSION, SEQUENCER_LOCK_KEY};
use tracemark_types::{PayloadBytes, Recipient, RecipientId, Recording, Sha256, UnixMillis};

fn raw(url: &str) -> postgres::Client {
    postgres::Client::connect(url, NoTls).expect("raw connection")
}

fn recipient(name: &str) -> Draft {
    Draft::Recipient {
        name: name.into(),
        email: None,
    }
}

fn add_recipient(store: &PostgresStore, name: &str) -> Recipient {
    match store.append(UnixMillis(1), vec![recipient(name)], &signer()) {
        Ok(mut stored) => match stored.pop() {
            Some(Stored::Recipient(r)) => r,
            other => panic!("{other:?}"),
        },
        Err(e) => panic!("{e}"),
    }
}

fn add_recording(store: &PostgresStore, seed: &str) -> Recording {
    match store.append(
        UnixMillis(1),
        vec![recording_draft(seed, "Call")],
        &signer(),
    ) {
        Ok(mut stored) => match stored.pop() {
            Some(Stored::Recording { recording, .. }) => recording,
            other => panic!("{other:?}"),
        },
        Err(e) => panic!("{e}"),
    }
}

fn issuance(rec: &Recording, who: &RecipientId, format: &str, n: u8) -> Draft {
    Draft::Issuance(NewIssuance {
        recording_id: rec.id.clone(),
        recipient_id: who.clone(),
        payload: PayloadBytes([n; 8]),
        codeword_commitment: Sha256([n; 32]),
        format: format.into(),
        copy_sha256: Sha256::digest(&[n]),
    })
}

#[test]
fn processes_starting_at_once_apply_each_migration_once() {
    let Some(url) = fresh_database_url() else {
        return;
    };
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || PostgresStore::connect(&url).map(|_| ()))
        })
        .collect();
    for h in handles {
        h.join().expect("thread").expect("connect and migrate");
    }
    let versions: Vec<i64> = raw(&url)
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            &[],
        )
        .expect("versions")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
}

#[test]
fn a_database_from_a_newer_release_is_refused() {
    let Some(url) = fresh_database_url() else {
        return;
    };
    PostgresStore::connect(&url).expect("create");
    raw(&url)
        .execute("INSERT INTO schema_migrations (version) VALUES (99)", &[])
        .expect("newer version");
    let refused = PostgresStore::connect(&url);
    assert!(
        matches!(refused, Err(StoreError::SchemaTooNew { found: 99, known }) if known == SCHEMA_VERSION),
        "{refused:?}"
    );
}

#[test]
fn a_stored_value_that_does_not_parse_is_corrupt_naming_table_row_and_column() {
    let Some(url) = fresh_database_url() else {
        return;
    };
    let store = PostgresStore::connect(&url).expect("create");
    add_recipient(&store, "Alice");
    let rec = add_recording(&store, "call");
    let mut db = raw(&url);
    db.batch_execute(
        "UPDATE recipients SET id = 'x-1';
         UPDATE recordings SET sha256 = '\\x0102';",
    )
    .expect("tamper");
    match store.recipients() {
        Err(StoreError::Corrupt {
            table, row, column, ..
        }) => assert_eq!((table, row.as_str(), column), ("recipients", "x-1", "id")),
        other => panic!("{other:?}"),
    }
    match store.recording(&rec.id) {
        Err(StoreError::Corrupt {
            table,
            row,
            column,
            reason,
        }) => {
            assert_eq!(
                (table, row.as_str(), column),
                ("recordings", rec.id.as_str(), "sha256")
            );
            assert!(reason.contains("2 bytes"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    db.batch_execute(
        "UPDATE recordings SET sha256 = decode(repeat('00', 32), 'hex'), log_index = -4;
         UPDATE log_state SET frontier = '\\xff';",
    )
    .expect("tamper");
    assert!(matches!(
        store.recordings(),
        Err(StoreError::Corrupt {
            column: "log_index",
            ..
        })
    ));
    assert!(matches!(
        store.frontier(),
        Err(StoreError::Corrupt {
            table: "log_state",
            column: "frontier",
            ..
        })
    ));
}

#[test]
fn a_writer_waiting_past_the_busy_timeout_is_told_the_vault_is_busy() {
    let Some(url) = fresh_database_url() else {
        return;
    };
    let store = PostgresStore::connect(&url)
        .and_then(|s| s.with_busy_timeout(Duration::from_millis(300)))
        .expect("create");
    let mut holder = raw(&url);
    let mut tx = holder.transaction().expect("begin");
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SEQUENCER_LOCK_KEY])
        .expect("take the sequencer lock");
    let busy = store.append(UnixMillis(1), vec![recipient("Alice")], &signer());
    assert!(
        matches!(busy, Err(StoreError::Busy { backend: "postgres", waited_ms }) if waited_ms >= 250),
        "{busy:?}"
    );
    tx.rollback().expect("release");
    assert_eq!(add_recipient(&store, "Alice").id.as_str(), "r-1");
}

#[test]
fn recipient_numbers_are_compared_as_numbers() {
    let Some(url) = fresh_database_url() else {
        return;
    };
    let store = PostgresStore::connect(&url).expect("create");
    let drafts = (1..=11)
        .map(|i| recipient(&format!("Recipient {i}")))
        .collect();
    store
        .append(UnixMillis(1), drafts, &signer())
        .expect("batch");
    // Text order would put r-9 last and hand out r-10 again.
    assert_eq!(add_recipient(&store, "Twelfth").id.as_str(), "r-12");
}

#[test]
fn issuances_added_after_an_import_continue_after_the_largest_imported_id() {
    let (Some(source_url), Some(target_url)) = (fresh_database_url(), fresh_database_url()) else {
        return;
    };
    let source = PostgresStore::connect(&source_url).expect("source");
    let rec = add_recording(&source, "call");
    let a = add_recipient(&source, "Alice");
    let b = add_recipient(&source, "Bob");
    source
        .append(
            UnixMillis(2),
            vec![
                issuance(&rec, &a.id, "flac", 1),
                issuance(&rec, &b.id, "flac", 2),
            ],
            &signer(),
        )
        .expect("issue");
    let mut dump = source.export().expect("export");
    // Ids with a gap, as a vault that lost a transaction's id has: the next is max + 1.
    dump.issuances[1].id.0 = 9;
    let target = PostgresStore::connect(&target_url).expect("target");
    target.import(&dump).expect("import");
    let stored = target
        .append(
            UnixMillis(3),
            vec![issuance(&rec, &a.id, "mp3-64k", 3)],
            &signer(),
        )
        .expect("issue after import");
    match stored.as_slice() {
        [
            Stored::Issuance {
                issuance,
                existing: false,
            },
        ] => assert_eq!(issuance.id.0, 10),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_database_not_in_utf8_is_refused() {
    let Some(url) = fresh_database_url() else {
        return;
    };
    let mut db = raw(&url);
    let name: String = db
        .query_one("SELECT current_database() || '_ascii'", &[])
        .expect("name")
        .get(0);
    db.batch_execute(&format!(
        "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C'"
    ))
    .expect("create");
    let config: postgres::Config = url.parse().expect("url");
    let ascii_url = url.replace(config.get_dbname().expect("dbname"), &name);
    let refused = PostgresStore::connect(&ascii_url);
    assert!(
        matches!(
            refused,
            Err(StoreError::Invalid {
                what: "database encoding",
                ..
            })
        ),
        "{refused:?}"
    );
}

#[test]
fn a_store_reconnects_after_the_server_closed_its_connection() {
    let Some(url) = fresh_database_url() else {
        return;
    };
    let store = PostgresStore::connect(&url).expect("create");
    add_recipient(&store, "Alice");
    let mut db = raw(&url);
    db.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
        &[],
    )
    .expect("terminate");
    // pg_terminate_backend only signals: wait until the store's backend has gone.
    for _ in 0..100 {
        let others: i64 = db
            .query_one(
                "SELECT COUNT(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
                &[],
            )
            .expect("count")
            .get(0);
        if others == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // The first call may be the one that finds the connection gone; the next reconnects.
    let _ = store.log_size();
    assert_eq!(store.log_size().expect("after reconnecting"), 1);
    assert_eq!(add_recipient(&store, "Bob").id.as_str(), "r-2");
}

#[test]
fn text_with_a_nul_character_is_refused_and_nothing_is_stored() {
    let Some(url) = fresh_database_url() else {
        return;
    };
    let store = PostgresStore::connect(&url).expect("create");
    add_recipient(&store, "Alice");
    let refused = store.append(
        UnixMillis(2),
        vec![Draft::Trace {
            id: tracemark_types::TraceId::from_random([3; 8]),
            leak_sha256: Sha256::digest(b"leak"),
            verdict: "none".into(),
            report_json: "{\"a\":\"\0\"}".into(),
        }],
        &signer(),
    );
    assert!(
        matches!(
            refused,
            Err(StoreError::Invalid {
                what: "trace report",
                ..
            })
        ),
        "{refused:?}"
    );
    assert_eq!(store.log_size().expect("size"), 1);
    assert!(store.traces().expect("traces").is_empty());
}
