//! The `tracemark` binary as a user runs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tracemark(vault: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tracemark"))
        .arg("--vault")
        .arg(vault)
        .args(args)
        .output()
        .expect("run tracemark")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn asset() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/call-en-8k-excerpt.flac")
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text.trim()).expect("valid JSON")
}

#[test]
fn keygen_embed_detect_round_trip_with_json() {
    let dir = tempfile::tempdir().expect("tmp");
    let v = dir.path().join("unused-vault");
    let key = dir.path().join("k.key");
    let key_s = key.to_str().expect("utf8");
    ok(&tracemark(&v, &["keygen", key_s]));
    // Never overwrites a key.
    assert!(!tracemark(&v, &["keygen", key_s]).status.success());
    let marked = dir.path().join("marked.flac");
    let (m, a) = (marked.to_str().expect("utf8"), asset());
    ok(&tracemark(
        &v,
        &[
            "embed",
            "--key",
            key_s,
            "--payload",
            "0011223344556677",
            a.to_str().expect("utf8"),
            m,
        ],
    ));
    let out = json(&ok(&tracemark(
        &v,
        &[
            "detect",
            "--key",
            key_s,
            "--original",
            a.to_str().expect("utf8"),
            "--json",
            m,
        ],
    )));
    assert_eq!(out["detected"], true);
    assert_eq!(out["payload"], "0011223344556677");
    assert!(out["p_value"].as_f64().expect("number") < 1e-9);
    // The unmarked original: nothing found, still exit 0.
    let out = json(&ok(&tracemark(
        &v,
        &[
            "detect",
            "--key",
            key_s,
            "--json",
            a.to_str().expect("utf8"),
        ],
    )));
    assert_eq!(out["detected"], false);
    assert!(out["payload"].is_null());
}

#[test]
fn bad_input_gets_a_clear_error_and_no_panic() {
    let dir = tempfile::tempdir().expect("tmp");
    let v = dir.path().join("vault");
    let junk = dir.path().join("junk.wav");
    std::fs::write(&junk, b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk").expect("write");
    let key = dir.path().join("k.key");
    ok(&tracemark(&v, &["keygen", key.to_str().expect("utf8")]));
    for args in [
        vec![
            "detect",
            "--key",
            key.to_str().expect("utf8"),
            junk.to_str().expect("utf8"),
        ],
        vec![
            "embed",
            "--key",
            key.to_str().expect("utf8"),
            "--payload",
            "xyz",
            junk.to_str().expect("utf8"),
            "o.wav",
        ],
        vec![
            "detect",
            "--key",
            junk.to_str().expect("utf8"),
            junk.to_str().expect("utf8"),
        ],
        vec!["recipient", "list"],
    ] {
        let out = tracemark(&v, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.starts_with("tracemark: ") && !err.contains("panicked"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn vault_flow_issue_trace_and_log_verify() {
    let dir = tempfile::tempdir().expect("tmp");
    let v = dir.path().join("vault");
    ok(&tracemark(&v, &["init"]));
    for n in ["Alice", "Bob", "Carol"] {
        ok(&tracemark(&v, &["recipient", "add", n]));
    }
    let rec = json(&ok(&tracemark(
        &v,
        &[
            "ingest",
            asset().to_str().expect("utf8"),
            "--title",
            "Call",
            "--json",
        ],
    )));
    let id = rec["id"].as_str().expect("id").to_string();
    let copies = dir.path().join("copies");
    ok(&tracemark(
        &v,
        &[
            "issue",
            &id,
            "--to",
            "Alice,Bob,Carol",
            "--out",
            copies.to_str().expect("utf8"),
            "--format",
            "mp3",
            "--bitrate",
            "64",
        ],
    ));
    let bob = copies.join("Bob.mp3");
    assert!(bob.exists());
    let report = dir.path().join("report.html");
    let out = json(&ok(&tracemark(
        &v,
        &[
            "trace",
            bob.to_str().expect("utf8"),
            "--json",
            "--report",
            report.to_str().expect("utf8"),
        ],
    )));
    assert_eq!(out["recording"]["id"], id.as_str());
    assert_eq!(out["accused"].as_array().expect("list").len(), 1);
    assert_eq!(out["accused"][0]["recipient"], "Bob");
    assert!(out["accused"][0]["p_value"].as_f64().expect("p") < 1e-6);
    assert_eq!(out["segments"][0]["status"], "genuine");
    assert!(out["false_accusation_bound"].as_f64().is_some() && out["trace_id"].is_string());
    let html = std::fs::read_to_string(&report).expect("report");
    assert!(html.contains("id=\"timeline\"") && html.contains("Bob") && !html.contains("<script"));

    // An evidence bundle verifies offline, and a changed byte is rejected.
    let trace_id = out["trace_id"].as_str().expect("id").to_string();
    let bundle = dir.path().join("evidence.json");
    let b = bundle.to_str().expect("utf8");
    ok(&tracemark(
        &v,
        &[
            "evidence",
            "export",
            &trace_id,
            "--out",
            b,
            "--html",
            report.to_str().expect("utf8"),
        ],
    ));
    let nowhere = dir.path().join("no-vault-here");
    assert!(ok(&tracemark(&nowhere, &["evidence", "verify", b])).contains("evidence verified"));
    let mut bytes = std::fs::read(&bundle).expect("bundle");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&bundle, bytes).expect("write");
    let out = tracemark(&nowhere, &["evidence", "verify", b]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("EVIDENCE REJECTED"));

    assert!(ok(&tracemark(&v, &["log", "verify"])).contains("log verified"));
    assert!(ok(&tracemark(&v, &["log", "checkpoint"])).contains("tracemark.vault/"));
    assert!(ok(&tracemark(&v, &["log", "show", "2"])).lines().count() == 2);

    // Backdating an issuance is caught.
    let conn = rusqlite::Connection::open(v.join("vault.db")).expect("db");
    conn.execute(
        "UPDATE issuances SET issued_at = issued_at - 86400000 WHERE recipient_id = 'r-2'",
        [],
    )
    .expect("tamper");
    drop(conn);
    let out = tracemark(&v, &["log", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("LOG BROKEN"));
}

#[test]
fn a_transcript_is_ingested_issued_as_txt_and_traced_from_quoted_text() {
    let dir = tempfile::tempdir().expect("tmp");
    let v = dir.path().join("vault");
    ok(&tracemark(&v, &["init"]));
    for n in ["Alice", "Bob", "Carol", "Dan"] {
        ok(&tracemark(&v, &["recipient", "add", n]));
    }
    let transcript = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/transcripts/nixon-kissinger-telcons.txt");
    let rec = json(&ok(&tracemark(
        &v,
        &[
            "ingest",
            asset().to_str().expect("utf8"),
            "--title",
            "Call",
            "--transcript",
            transcript.to_str().expect("utf8"),
            "--json",
        ],
    )));
    let id = rec["id"].as_str().expect("id").to_string();
    assert!(rec["transcript"]["sites"].as_u64().expect("sites") > 50);
    let copies = dir.path().join("copies");
    let out = ok(&tracemark(
        &v,
        &[
            "issue",
            &id,
            "--to",
            "Alice,Bob,Carol,Dan",
            "--out",
            copies.to_str().expect("utf8"),
        ],
    ));
    assert!(out.contains("Carol.txt"), "{out}");
    assert!(copies.join("Carol.flac").exists());
    let carol = std::fs::read_to_string(copies.join("Carol.txt")).expect("Carol's transcript");
    // Carol's copy, retyped (straight quotes, -- for dashes, one line) into an article.
    let retyped: String = carol
        .replace(['\u{2019}', '\u{2018}'], "'")
        .replace('\u{2014}', "--")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let leak = dir.path().join("article.txt");
    std::fs::write(
        &leak,
        format!("According to a record seen by this newspaper, \"{retyped}\" Officials declined to comment."),
    )
    .expect("write");
    let report = dir.path().join("report.html");
    let out = json(&ok(&tracemark(
        &v,
        &[
            "trace",
            leak.to_str().expect("utf8"),
            "--json",
            "--report",
            report.to_str().expect("utf8"),
        ],
    )));
    assert_eq!(out["medium"], "text");
    assert_eq!(out["recording"]["id"], id.as_str());
    assert_eq!(out["accused"][0]["recipient"], "Carol", "{out}");
    assert_eq!(out["accused"].as_array().expect("list").len(), 1);
    assert_eq!(out["segments"][0]["status"], "unmatched");
    assert_eq!(out["segments"][0]["quoted"], false);
    let html = std::fs::read_to_string(&report).expect("report");
    assert!(
        html.contains("id=\"leak-text\"") && html.contains("Carol") && !html.contains("<script")
    );
    let human = ok(&tracemark(&v, &["trace", leak.to_str().expect("utf8")]));
    assert!(
        human.contains("Carol") && human.contains("quoted genuine"),
        "{human}"
    );
    ok(&tracemark(&v, &["log", "verify"]));
}

#[test]
fn issue_all_without_copies_then_render_on_demand() {
    let dir = tempfile::tempdir().expect("tmp");
    let v = dir.path().join("vault");
    ok(&tracemark(&v, &["init"]));
    let csv = dir.path().join("posts.csv");
    let mut rows = String::from("name,email\n");
    for i in 0..30 {
        rows.push_str(&format!("Post {i},post{i}@example.org\n"));
    }
    std::fs::write(&csv, rows).expect("csv");
    ok(&tracemark(
        &v,
        &["recipient", "import", csv.to_str().expect("utf8")],
    ));
    let rec = json(&ok(&tracemark(
        &v,
        &[
            "ingest",
            asset().to_str().expect("utf8"),
            "--title",
            "Call",
            "--json",
        ],
    )));
    let id = rec["id"].as_str().expect("id").to_string();
    let out = ok(&tracemark(
        &v,
        &["issue", &id, "--to", "Post 1", "--no-copies"],
    ));
    assert!(out.contains("1 recipients issued"), "{out}");
    let out = ok(&tracemark(&v, &["issue", &id, "--all", "--no-copies"]));
    assert!(
        out.contains("29 recipients issued") && out.contains("(1 had been"),
        "{out}"
    );
    // --all with --to is refused by the parser, and copies need somewhere to go.
    assert!(
        !tracemark(
            &v,
            &["issue", &id, "--all", "--to", "Post 1", "--no-copies"]
        )
        .status
        .success()
    );
    assert!(!tracemark(&v, &["issue", &id, "--all"]).status.success());
    let copies = dir.path().join("copies");
    let c = copies.to_str().expect("utf8");
    ok(&tracemark(
        &v,
        &[
            "render", &id, "--to", "Post 7", "--out", c, "--format", "wav",
        ],
    ));
    let post7 = copies.join("Post_7.wav");
    assert!(
        post7.exists(),
        "{:?}",
        std::fs::read_dir(&copies).map(|d| d.count())
    );
    let out = json(&ok(&tracemark(
        &v,
        &["trace", post7.to_str().expect("utf8"), "--json"],
    )));
    assert_eq!(out["accused"][0]["recipient"], "Post 7", "{out}");
    assert_eq!(out["recipients_scored"], 30);
    ok(&tracemark(&v, &["log", "verify"]));
}
