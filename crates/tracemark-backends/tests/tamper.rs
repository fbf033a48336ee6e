//! On either backend, a direct SQL edit of any column of any fact table is caught by
//! `log verify`, which names the table, the row and the column; and an edit of the log
//! itself (entries, checkpoints, the stored tree edge) is caught at its entry.

mod common;

use common::{Backends, Db};
use tracemark_media::{EncodeOptions, Format, Limits, decode_bytes, encode_bytes};
use tracemark_vault::Delivery;

/// One edit: the table and column `log verify` must name (`None` for the log's own
/// tables), the SQL for SQLite and for PostgreSQL.
struct Case {
    name: &'static str,
    names: Option<(&'static str, &'static str)>,
    sqlite: &'static str,
    postgres: &'static str,
}

const fn same(
    name: &'static str,
    table: &'static str,
    column: &'static str,
    sql: &'static str,
) -> Case {
    Case {
        name,
        names: Some((table, column)),
        sqlite: sql,
        postgres: sql,
    }
}

const fn blob(
    name: &'static str,
    table: &'static str,
    column: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
) -> Case {
    Case {
        name,
        names: Some((table, column)),
        sqlite,
        postgres,
    }
}

const CASES: &[Case] = &[
    same(
        "recording title",
        "recordings",
        "title",
        "UPDATE recordings SET title = 'Another call'",
    ),
    blob(
        "recording hash",
        "recordings",
        "sha256",
        "UPDATE recordings SET sha256 = zeroblob(32)",
        "UPDATE recordings SET sha256 = decode(repeat('00', 32), 'hex')",
    ),
    same(
        "recording duration",
        "recordings",
        "duration_s",
        "UPDATE recordings SET duration_s = duration_s + 1",
    ),
    same(
        "recording rate",
        "recordings",
        "sample_rate",
        "UPDATE recordings SET sample_rate = sample_rate * 2",
    ),
    same(
        "recording channels",
        "recordings",
        "channels",
        "UPDATE recordings SET channels = 2",
    ),
    same(
        "recording format",
        "recordings",
        "format",
        "UPDATE recordings SET format = 'wav'",
    ),
    same(
        "recording time",
        "recordings",
        "ingested_at",
        "UPDATE recordings SET ingested_at = ingested_at - 1000",
    ),
    same(
        "recording log index",
        "recordings",
        "log_index",
        "UPDATE recordings SET log_index = (SELECT log_index FROM recipients WHERE id = 'r-1')",
    ),
    blob(
        "fingerprint",
        "recordings",
        "fingerprint",
        "UPDATE fingerprints SET bytes = CAST(bytes || X'00' AS BLOB)",
        "UPDATE fingerprints SET bytes = bytes || '\\x00'::bytea",
    ),
    same(
        "recipient name",
        "recipients",
        "name",
        "UPDATE recipients SET name = 'Mallory' WHERE id = 'r-2'",
    ),
    same(
        "recipient email",
        "recipients",
        "email",
        "UPDATE recipients SET email = 'x@y.z' WHERE id = 'r-1'",
    ),
    same(
        "recipient email removed",
        "recipients",
        "email",
        "UPDATE recipients SET email = NULL WHERE id = 'r-1'",
    ),
    same(
        "recipient time",
        "recipients",
        "created_at",
        "UPDATE recipients SET created_at = created_at + 1 WHERE id = 'r-3'",
    ),
    same(
        "recipient log index",
        "recipients",
        "log_index",
        "UPDATE recipients SET log_index = (SELECT log_index FROM recordings) WHERE id = 'r-3'",
    ),
    same(
        "issuance recipient",
        "issuances",
        "recipient_id",
        "UPDATE issuances SET recipient_id = 'r-3' WHERE recipient_id = 'r-2'",
    ),
    blob(
        "issuance payload",
        "issuances",
        "payload",
        "UPDATE issuances SET payload = zeroblob(8)",
        "UPDATE issuances SET payload = decode(repeat('00', 8), 'hex')",
    ),
    blob(
        "issuance codeword",
        "issuances",
        "codeword_commitment",
        "UPDATE issuances SET codeword_commitment = zeroblob(32)",
        "UPDATE issuances SET codeword_commitment = decode(repeat('00', 32), 'hex')",
    ),
    same(
        "issuance format",
        "issuances",
        "format",
        "UPDATE issuances SET format = 'wav'",
    ),
    blob(
        "issuance copy hash",
        "issuances",
        "copy_sha256",
        "UPDATE issuances SET copy_sha256 = zeroblob(32)",
        "UPDATE issuances SET copy_sha256 = decode(repeat('00', 32), 'hex')",
    ),
    same(
        "issuance backdated",
        "issuances",
        "issued_at",
        "UPDATE issuances SET issued_at = issued_at - 86400000",
    ),
    same(
        "trace verdict",
        "traces",
        "verdict",
        "UPDATE traces SET verdict = 'nobody is accused'",
    ),
    same(
        "trace report",
        "traces",
        "report_json",
        "UPDATE traces SET report_json = '{}'",
    ),
    blob(
        "trace report hash",
        "traces",
        "report_sha256",
        "UPDATE traces SET report_sha256 = zeroblob(32)",
        "UPDATE traces SET report_sha256 = decode(repeat('00', 32), 'hex')",
    ),
    blob(
        "trace leak hash",
        "traces",
        "leak_sha256",
        "UPDATE traces SET leak_sha256 = zeroblob(32)",
        "UPDATE traces SET leak_sha256 = decode(repeat('00', 32), 'hex')",
    ),
    same(
        "trace time",
        "traces",
        "created_at",
        "UPDATE traces SET created_at = created_at + 1",
    ),
    same("trace id", "traces", "id", "UPDATE traces SET id = 't-0'"),
    same(
        "user role",
        "users",
        "role",
        "UPDATE users SET role = 'admin' WHERE name = 'Investigator'",
    ),
    same(
        "user name",
        "users",
        "name",
        "UPDATE users SET name = 'Someone else' WHERE name = 'Investigator'",
    ),
    same(
        "user password",
        "users",
        "password_hash",
        "UPDATE users SET password_hash = '$argon2id$forged' WHERE name = 'Investigator'",
    ),
    blob(
        "user enabled again",
        "users",
        "disabled",
        "UPDATE users SET disabled = 0 WHERE name = 'Former officer'",
        "UPDATE users SET disabled = FALSE WHERE name = 'Former officer'",
    ),
    blob(
        "token unrevoked",
        "tokens",
        "revoked",
        "UPDATE tokens SET revoked = 0 WHERE revoked = 1",
        "UPDATE tokens SET revoked = FALSE WHERE revoked",
    ),
    same(
        "token expiry",
        "tokens",
        "expires_at",
        "UPDATE tokens SET expires_at = NULL WHERE expires_at IS NOT NULL",
    ),
    blob(
        "token secret",
        "tokens",
        "secret_sha256",
        "UPDATE tokens SET secret_sha256 = zeroblob(32) WHERE revoked = 1",
        "UPDATE tokens SET secret_sha256 = decode(repeat('00', 32), 'hex') WHERE revoked",
    ),
    blob(
        "token owner",
        "tokens",
        "user_id",
        "UPDATE tokens SET user_id = 'u-1' WHERE revoked = 0",
        "UPDATE tokens SET user_id = 'u-1' WHERE NOT revoked",
    ),
    Case {
        name: "log entry replaced",
        names: None,
        sqlite: "UPDATE log SET entry = (SELECT entry FROM log WHERE idx = 0), leaf_hash = (SELECT leaf_hash FROM log WHERE idx = 0) WHERE idx = 1",
        postgres: "UPDATE log SET entry = (SELECT entry FROM log WHERE idx = 0), leaf_hash = (SELECT leaf_hash FROM log WHERE idx = 0) WHERE idx = 1",
    },
    Case {
        name: "log entry deleted",
        names: None,
        sqlite: "DELETE FROM log WHERE idx = 2",
        postgres: "DELETE FROM log WHERE idx = 2",
    },
    Case {
        name: "checkpoints deleted",
        names: None,
        sqlite: "DELETE FROM checkpoints",
        postgres: "DELETE FROM checkpoints",
    },
    Case {
        name: "tree edge deleted",
        names: None,
        sqlite: "DELETE FROM log_state",
        postgres: "DELETE FROM log_state",
    },
];

/// A vault with three recipients, one recording, Bob's copy and a trace of it; returns
/// the dump to copy into a fresh database per case.
fn populated(db: &Db, keys: &std::path::Path) -> tracemark_store::Dump {
    let vault = db.location(keys).init().expect("init");
    for (name, email) in [
        ("Alice", Some("alice@example.org")),
        ("Bob", None),
        ("Carol", None),
    ] {
        vault.add_recipient(name, email).expect("recipient");
    }
    let rec = vault
        .ingest(&common::asset(), "call.flac", "Call")
        .expect("ingest");
    let copies = vault
        .issue(
            rec.id.as_str(),
            &["Bob".to_string()],
            Delivery::of(Format::Flac),
            |_, _| {},
        )
        .expect("issue");
    let bob = decode_bytes(&copies[0].bytes, Some("flac"), &Limits::default()).expect("decode");
    let rate = bob.rate().hz() as usize;
    let leak = encode_bytes(
        &bob.slice(5 * rate, 35 * rate),
        Format::Flac,
        &EncodeOptions::default(),
    )
    .expect("flac");
    let report = vault.trace(&leak, "leak.flac", 1e-6).expect("trace");
    assert_eq!(
        report
            .accused()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>(),
        vec!["Bob"]
    );
    use tracemark_types::Role;
    vault
        .add_user("Security officer", Role::Admin, None)
        .expect("admin");
    vault
        .add_user(
            "Investigator",
            Role::Investigator,
            Some("$argon2id$v=19$test".into()),
        )
        .expect("investigator");
    vault
        .add_user("Former officer", Role::Distributor, None)
        .expect("user");
    vault
        .change_user("Former officer", None, None, Some(true))
        .expect("disable");
    vault
        .create_token(
            "Investigator",
            Some(tracemark_types::UnixMillis(4_000_000_000_000)),
        )
        .expect("token");
    let (token, _) = vault.create_token("Investigator", None).expect("token");
    vault.revoke_token(&token.id).expect("revoke");
    vault.verify_log().expect("the untouched vault verifies");
    vault.store().export().expect("export")
}

#[test]
fn every_fact_column_edit_is_caught_and_named_on_every_backend() {
    let backends = Backends::new();
    for db in backends.all() {
        let keys = tempfile::tempdir().expect("keys");
        let dump = populated(&db, keys.path());
        for case in CASES {
            let target = backends.fresh_like(&db);
            target
                .location(keys.path())
                .store(true)
                .expect("create")
                .import(&dump)
                .expect("import");
            target
                .location(keys.path())
                .open()
                .expect("open")
                .verify_log()
                .expect("the copy verifies before the edit");
            target.exec(case.sqlite, case.postgres);
            let err = match target
                .location(keys.path())
                .open()
                .and_then(|v| v.verify_log())
            {
                Ok(report) => panic!("{} on {}: not caught ({report:?})", case.name, db.name()),
                Err(e) => e.to_string(),
            };
            match case.names {
                Some((table, column)) => assert!(
                    err.contains(&format!("{table} row"))
                        && err.contains(&format!("column {column}")),
                    "{} on {}: caught but not named as {table}.{column}: {err}",
                    case.name,
                    db.name()
                ),
                None => assert!(
                    err.contains("at entry"),
                    "{} on {}: {err}",
                    case.name,
                    db.name()
                ),
            }
            eprintln!("{} on {}: {err}", case.name, db.name());
        }
    }
}
