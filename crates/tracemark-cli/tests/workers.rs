//! `tracemark worker` processes on PostgreSQL: two workers, twelve jobs, one worker killed
//! with SIGKILL in the middle of a job. Its lease runs out, another worker runs the job,
//! every job succeeds and each outcome is in the log exactly once (issue 12).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tracemark_backends::Location;
use tracemark_vault::{Delivery, JobStatus, Role, Vault};

fn tracemark(dir: &Path, url: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tracemark"));
    c.arg("--vault")
        .arg(dir)
        .arg("--database")
        .arg(url)
        .args(args);
    c
}

fn ok(dir: &Path, url: &str, args: &[&str]) -> String {
    let out = tracemark(dir, url, args).output().expect("run tracemark");
    assert!(
        out.status.success(),
        "tracemark {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn worker(dir: &Path, url: &str) -> Child {
    tracemark(dir, url, &["worker", "--lease-secs", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn worker")
}

fn asset() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets/call-en-8k-excerpt.flac")
        .to_string_lossy()
        .into_owned()
}

/// Counts of log entries by kind tag.
fn entries_of(v: &Vault, tag: u8) -> usize {
    v.log_entries()
        .expect("log")
        .iter()
        .filter(|(_, e)| tracemark_ledger::LogEntry::decode(e).is_ok_and(|e| e.kind_tag() == tag))
        .count()
}

#[test]
fn a_worker_killed_mid_job_loses_nothing_and_each_outcome_is_logged_once() {
    let Some(url) = tracemark_store_postgres::testing::fresh_database_url() else {
        return; // The harness said why on stderr; CI sets TRACEMARK_REQUIRE_POSTGRES=1.
    };
    let work = tempfile::tempdir().expect("tmp");
    let dir = work.path().join("keys");
    ok(&dir, &url, &["init"]);
    for i in 1..=6 {
        ok(&dir, &url, &["recipient", "add", &format!("Office {i}")]);
    }
    ok(
        &dir,
        &url,
        &["user", "add", "dora", "--role", "distributor"],
    );
    ok(
        &dir,
        &url,
        &["user", "add", "ivan", "--role", "investigator"],
    );
    let rec: serde_json::Value = serde_json::from_str(
        ok(
            &dir,
            &url,
            &["ingest", &asset(), "--title", "Call", "--json"],
        )
        .trim(),
    )
    .expect("json");
    let rec = rec["id"].as_str().expect("id").to_string();
    let seed = work.path().join("seed");
    ok(
        &dir,
        &url,
        &[
            "issue",
            &rec,
            "--to",
            "Office 1",
            "--out",
            seed.to_str().expect("utf8"),
        ],
    );
    let leak = seed.join("Office_1.flac");

    let v = Location {
        dir: dir.clone(),
        database: Some(url.clone()),
        blobs: None,
    }
    .open()
    .expect("open");
    let dora = v.user("dora").expect("dora");
    let ivan = v.user("ivan").expect("ivan");
    assert_eq!(dora.role, Role::Distributor);
    let copies_before = entries_of(&v, 4);
    let traces_before = entries_of(&v, 5);
    // 12 jobs: 6 traces of the leak, 6 issues of a copy nobody has yet (so each issue's
    // outcome is a new CopyIssued entry: a repeat would show as a missing or extra one).
    let mut jobs = Vec::new();
    for i in 1..=6 {
        jobs.push(
            v.request_trace(&ivan.id, &leak, "leak.flac", 1e-6)
                .expect("trace job")
                .id,
        );
        let (who, format) = if i == 1 {
            ("Office 1".to_string(), "mp3-64k")
        } else {
            (format!("Office {i}"), "flac")
        };
        jobs.push(
            v.request_copies(
                &dora.id,
                &rec,
                &[who],
                Delivery::parse(format).expect("format"),
            )
            .expect("issue job")
            .id,
        );
    }

    let mut a = worker(&dir, &url);
    let mut b = worker(&dir, &url);
    // Kill A while it holds a running job.
    let a_tag = format!(":{}/", a.id());
    let deadline = Instant::now() + Duration::from_secs(120);
    let victim = loop {
        assert!(Instant::now() < deadline, "worker A never took a job");
        let held = jobs.iter().find_map(|id| {
            let j = v.job(id.as_str()).expect("job");
            (j.status == JobStatus::Running
                && j.lease.as_deref().is_some_and(|l| l.contains(&a_tag)))
            .then_some(j)
        });
        if let Some(j) = held {
            break j;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    a.kill().expect("SIGKILL worker A");
    let _ = a.wait();
    eprintln!(
        "killed worker A during job {} ({}, attempt {})",
        victim.id, victim.kind, victim.attempts
    );
    // Two workers again: B and a new C.
    let mut c = worker(&dir, &url);

    let deadline = Instant::now() + Duration::from_secs(240);
    let finished = loop {
        let all: Vec<_> = jobs
            .iter()
            .map(|id| v.job(id.as_str()).expect("job"))
            .collect();
        if all
            .iter()
            .all(|j| matches!(j.status, JobStatus::Succeeded | JobStatus::Failed))
        {
            break all;
        }
        assert!(
            Instant::now() < deadline,
            "jobs not done: {:?}",
            all.iter()
                .map(|j| (j.id.to_string(), j.status))
                .collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = b.kill();
    let _ = c.kill();
    let _ = b.wait();
    let _ = c.wait();

    for j in &finished {
        assert_eq!(
            j.status,
            JobStatus::Succeeded,
            "{} failed: {:?}",
            j.id,
            j.error
        );
    }
    let redone = finished
        .iter()
        .find(|j| j.id == victim.id)
        .expect("the victim");
    assert!(
        redone.attempts >= 2,
        "the killed job was claimed again ({} attempts)",
        redone.attempts
    );
    assert_eq!(
        entries_of(&v, 5) - traces_before,
        6,
        "six traces, each once"
    );
    assert_eq!(
        entries_of(&v, 4) - copies_before,
        6,
        "six copies, each once"
    );
    assert_eq!(v.traces().expect("traces").len(), 6);
    let out = ok(&dir, &url, &["log", "verify"]);
    assert!(out.contains("log verified"), "{out}");
}
