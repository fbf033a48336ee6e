//! `tracemark user` and `tracemark token`: accounts and roles for the service, every change
//! in the log, token secrets shown once and never stored.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn run(vault: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tracemark"))
        .arg("--vault")
        .arg(vault)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tracemark");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("wait")
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn users_roles_and_tokens_are_logged_and_tokens_never_stored() {
    let dir = tempfile::tempdir().expect("tmp");
    let v = dir.path().join("vault");
    ok(run(&v, &["init"], None));
    let added = ok(run(
        &v,
        &[
            "user",
            "add",
            "Security officer",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some("correct horse battery\n"),
    ));
    assert!(added.starts_with("u-1\tSecurity officer\tadmin"), "{added}");
    ok(run(
        &v,
        &["user", "add", "Counsel", "--role", "auditor"],
        None,
    ));
    let bad = run(&v, &["user", "add", "X", "--role", "root"], None);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr)
            .contains("distributor, investigator, auditor or admin")
    );
    let dup = run(&v, &["user", "add", "Counsel", "--role", "admin"], None);
    assert_eq!(dup.status.code(), Some(2));
    let short = run(
        &v,
        &["user", "add", "Y", "--role", "admin", "--password-stdin"],
        Some("abc\n"),
    );
    assert_eq!(
        short.status.code(),
        Some(2),
        "a too-short password is refused"
    );

    let token = ok(run(
        &v,
        &[
            "token",
            "create",
            "--user",
            "Counsel",
            "--expires-days",
            "30",
        ],
        None,
    ));
    let secret = token
        .lines()
        .last()
        .expect("the token is the last line")
        .to_string();
    assert!(
        secret.starts_with("tmk_") && secret.len() == 4 + 64,
        "{secret}"
    );
    let listed = ok(run(&v, &["token", "list", "--json"], None));
    assert!(!listed.contains(&secret[4..]), "the secret is never listed");
    let tokens: serde_json::Value = serde_json::from_str(listed.trim()).expect("json");
    let id = tokens[0]["id"].as_str().expect("id").to_string();
    assert_eq!(tokens[0]["user_id"], "u-2");
    ok(run(&v, &["token", "revoke", &id], None));
    ok(run(
        &v,
        &["user", "set-role", "Counsel", "--role", "investigator"],
        None,
    ));
    ok(run(&v, &["user", "disable", "Security officer"], None));
    let users: serde_json::Value =
        serde_json::from_str(ok(run(&v, &["user", "list", "--json"], None)).trim()).expect("json");
    assert_eq!(users[1]["role"], "investigator");
    assert_eq!(users[0]["disabled"], true);
    assert!(
        users[0].get("password_hash").is_none(),
        "hashes stay out of listings"
    );

    assert!(ok(run(&v, &["log", "verify"], None)).contains("log verified"));
    let log = ok(run(&v, &["log", "show"], None));
    // 2 users, 1 token, revocation, role change, disabling: each an entry.
    assert_eq!(
        log.lines().filter(|l| l.contains("RecordStated")).count(),
        6,
        "{log}"
    );
    // Nothing in the database holds the token secret or the password.
    // (The main file and its write-ahead log, where recent commits may still be.)
    let mut db = std::fs::read(v.join("vault.db")).expect("db");
    db.extend(std::fs::read(v.join("vault.db-wal")).unwrap_or_default());
    assert!(
        db.windows(7).any(|w| w == b"Counsel"),
        "the check reads the stored rows"
    );
    let find = |needle: &[u8]| db.windows(needle.len()).any(|w| w == needle);
    assert!(!find(secret.as_bytes()) && !find(b"correct horse battery"));
}
