//! Crash safety (issue 5 item 5): a worker process adds recipients, ingests, issues and
//! traces in a loop and is killed with SIGKILL at a random moment; after every kill the
//! vault must open, `verify_log` must pass, every operation is recorded whole or not at
//! all, and every operation the worker reported as committed before it died is there.
//!
//! The worker is this test binary itself, re-executed with [`WORKER_ENV`] set to the
//! vault directory and filtered to the `crash_worker` test: nothing else to build, so it
//! works the same from a fresh clone, under `cargo test` or alone.
//!
//! Kill moments: the worker resumes the cycle recipient, ingest, issue, trace where the
//! vault's counts say the last worker stopped, prepares the operation's inputs, prints
//! `begin <op>`, runs it and prints `commit <op> <ids>`. The parent kills it a random
//! delay after the first `begin`: for half the kills uniform over `[0, 1.2 T)`, for the
//! other half uniform over `[0.85 T, 1.15 T)`, where `T` is that operation's duration
//! measured in a calibration run; the second half concentrates kills around the commit,
//! which comes at the end of each operation.
//!
#![cfg(unix)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tracemark_backends::Location;
use tracemark_dsp::AudioBuffer;
use tracemark_ledger::LogEntry;
use tracemark_media::{EncodeOptions, Format, Limits, decode_bytes, encode_bytes};
use tracemark_vault::{Delivery, Vault};

/// Set to the vault directory in the re-executed worker.
const WORKER_ENV: &str = "TRACEMARK_CRASH_WORKER_DIR";
/// Set to the database URL in the re-executed worker (empty: SQLite in the directory).
const DATABASE_ENV: &str = "TRACEMARK_CRASH_WORKER_DATABASE";
/// Seed override for the kill delays (printed by every run, to replay a failure).
const SEED_ENV: &str = "TRACEMARK_CRASH_SEED";
/// Clip length the worker ingests: long enough for a Tardos code, short enough that one
/// iteration takes well under a second in a debug build.
const CLIP_S: usize = 8;

fn asset() -> AudioBuffer {
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/call-en-8k-excerpt.flac"),
    )
    .expect("asset");
    decode_bytes(&bytes, Some("flac"), &Limits::default()).expect("decode asset")
}

/// The `k`-th clip: a distinct stretch and gain of the demo call, so each ingest is new.
fn clip(source: &AudioBuffer, k: usize) -> Vec<u8> {
    let rate = source.rate().hz() as usize;
    let positions = source.frames() / rate - CLIP_S;
    let start = (k * 7 % positions) * rate;
    let gain = 0.9 - 0.001 * (k / positions) as f32;
    let samples: Vec<f32> = source.channels()[0][start..start + CLIP_S * rate]
        .iter()
        .map(|s| s * gain)
        .collect();
    let audio = AudioBuffer::mono(source.rate(), samples).expect("clip");
    encode_bytes(&audio, Format::Flac, &EncodeOptions::default()).expect("flac")
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "@@ {line}").expect("stdout");
    out.flush().expect("flush");
}

/// The next operation of the cycle recipient, ingest, issue, trace, read from the vault's
/// counts so that a restarted worker resumes where the killed one stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    Recipient,
    Ingest,
    Issue,
    Trace,
}

impl Op {
    fn next(vault: &Vault) -> Op {
        let recipients = vault.recipients().expect("recipients").len();
        let recordings = vault.recordings().expect("recordings");
        let issued: usize = recordings
            .iter()
            .map(|r| vault.issuances_of(r.id.as_str()).expect("issuances").len())
            .sum();
        let traces = vault.traces().expect("traces").len();
        if recordings.len() < recipients {
            Op::Ingest
        } else if issued < recordings.len() {
            Op::Issue
        } else if traces < issued {
            Op::Trace
        } else {
            Op::Recipient
        }
    }
}

/// The worker: runs the cycle until killed, printing `begin <op>` when an operation
/// starts (its inputs are prepared before) and `commit <op> <ids>` when it returned.
/// Not a test on its own: returns at once unless re-executed by [`run`].
#[test]
#[ignore = "worker half of the crash tests; runs only when they re-execute this binary"]
fn crash_worker() {
    let Some(dir) = std::env::var_os(WORKER_ENV) else {
        return;
    };
    let source = asset();
    let place = Location {
        dir: dir.into(),
        database: std::env::var(DATABASE_ENV).ok().filter(|s| !s.is_empty()),
        blobs: None,
    };
    let vault = place.open().expect("worker open");
    let flac = Delivery::of(Format::Flac);
    let latest_recording = |v: &Vault| {
        v.recordings()
            .expect("recordings")
            .into_iter()
            .max_by_key(|r| r.log_index)
            .expect("a recording")
    };
    let latest_recipient = |v: &Vault| {
        v.recipients()
            .expect("recipients")
            .into_iter()
            .max_by_key(|r| r.log_index)
            .expect("a recipient")
    };
    loop {
        let op = Op::next(&vault);
        match op {
            Op::Recipient => {
                let name = format!("R{}", vault.recipients().expect("recipients").len() + 1);
                say("begin recipient");
                vault.add_recipient(&name, None).expect("add recipient");
                say(&format!("commit recipient {name}"));
            }
            Op::Ingest => {
                let bytes = clip(&source, vault.recordings().expect("recordings").len());
                say("begin ingest");
                let rec = vault.ingest(&bytes, "clip.flac", "Clip").expect("ingest");
                say(&format!("commit ingest {}", rec.id));
            }
            Op::Issue => {
                let (rec, who) = (latest_recording(&vault), latest_recipient(&vault));
                say("begin issue");
                vault
                    .issue(
                        rec.id.as_str(),
                        std::slice::from_ref(&who.name),
                        flac,
                        |_, _| {},
                    )
                    .expect("issue");
                say(&format!("commit issue {} {}", rec.id, who.id));
            }
            Op::Trace => {
                // Issuing again returns the same copy and logs nothing: the leak.
                let (rec, who) = (latest_recording(&vault), latest_recipient(&vault));
                let copy = vault
                    .issue(
                        rec.id.as_str(),
                        std::slice::from_ref(&who.name),
                        flac,
                        |_, _| {},
                    )
                    .expect("reissue")
                    .remove(0);
                assert!(copy.reissued);
                say("begin trace");
                let report = vault.trace(&copy.bytes, "leak.flac", 1e-6).expect("trace");
                say(&format!("commit trace {}", report.id));
            }
        }
    }
}

/// A worker process and the lines it printed.
struct Worker {
    child: std::process::Child,
    lines: mpsc::Receiver<String>,
}

fn spawn(place: &Location) -> Worker {
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "crash_worker", "--ignored", "--nocapture"])
        .args(["--test-threads=1", "-q"])
        .env(WORKER_ENV, &place.dir)
        .env(DATABASE_ENV, place.database.clone().unwrap_or_default())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn worker");
    let out = child.stdout.take().expect("piped stdout");
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if let Some(l) = line.strip_prefix("@@ ")
                && tx.send(l.to_string()).is_err()
            {
                break;
            }
        }
    });
    Worker { child, lines }
}

impl Worker {
    fn wait_for(&self, prefix: &str, count: usize) -> Vec<String> {
        let mut seen = Vec::new();
        let mut hits = 0;
        while hits < count {
            let l = self
                .lines
                .recv_timeout(Duration::from_secs(120))
                .expect("worker stalled or died");
            hits += usize::from(l.starts_with(prefix));
            seen.push(l);
        }
        seen
    }

    /// SIGKILL, then every line it managed to print.
    fn kill(mut self, mut seen: Vec<String>) -> Vec<String> {
        use std::os::unix::process::ExitStatusExt;
        self.child.kill().expect("kill");
        let status = self.child.wait().expect("reap");
        // SIGKILL is signal 9 (POSIX); any other end means the worker failed by itself.
        assert_eq!(
            status.signal(),
            Some(9),
            "the worker ended by itself: {status}"
        );
        seen.extend(self.lines.iter());
        seen
    }
}

/// What the vault must hold: everything reported committed, across all kills so far.
#[derive(Default)]
struct Committed {
    recipients: Vec<String>,
    recordings: Vec<String>,
    issuances: Vec<(String, String)>,
    traces: Vec<String>,
}

impl Committed {
    fn absorb(&mut self, lines: &[String]) {
        for l in lines {
            let w: Vec<&str> = l.split(' ').collect();
            match w.as_slice() {
                ["commit", "recipient", n] => self.recipients.push(n.to_string()),
                ["commit", "ingest", r] => self.recordings.push(r.to_string()),
                ["commit", "issue", r, p] => self.issuances.push((r.to_string(), p.to_string())),
                ["commit", "trace", t] => self.traces.push(t.to_string()),
                _ => {}
            }
        }
    }
}

/// The checks after a kill. Returns the number of log entries.
fn check(place: &Location, committed: &Committed) -> u64 {
    let vault = place.open().expect("vault opens after a kill");
    let report = vault.verify_log().expect("log verifies after a kill");

    // Whole or nothing: each kind of row and its log entries agree one to one (on top
    // of verify_log's row-by-row match), and the recording rows have their originals
    // and their fingerprints.
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for (_, e) in vault.log_entries().expect("entries") {
        let kind = match LogEntry::decode(&e).expect("entry") {
            LogEntry::RecordStated { table, .. } => format!("stated {table}"),
            other => other.kind_tag().to_string(),
        };
        *kinds.entry(kind).or_default() += 1;
    }
    let count = |kind: &str| kinds.get(kind).copied().unwrap_or(0);
    let recordings = vault.recordings().expect("recordings");
    let recipients = vault.recipients().expect("recipients");
    let mut issuances = Vec::new();
    for r in &recordings {
        vault
            .original_bytes(r)
            .expect("every recording's original decrypts");
        issuances.extend(vault.issuances_of(r.id.as_str()).expect("issuances"));
    }
    let traces = vault.traces().expect("traces");
    assert_eq!(count("1"), recordings.len(), "ingest entries vs rows");
    assert_eq!(
        count("stated recordings"),
        recordings.len(),
        "recording statements vs rows"
    );
    assert_eq!(
        count("stated recipients"),
        recipients.len(),
        "recipient statements vs rows"
    );
    assert_eq!(count("4"), issuances.len(), "issuance entries vs rows");
    assert_eq!(count("5"), traces.len(), "trace entries vs rows");
    assert_eq!(
        vault.fingerprint_index().expect("index").len(),
        recordings.len(),
        "fingerprint index vs recordings"
    );

    // Nothing reported as committed was lost.
    for n in &committed.recipients {
        assert!(
            recipients.iter().any(|r| &r.name == n),
            "lost recipient {n}"
        );
    }
    for id in &committed.recordings {
        assert!(
            recordings.iter().any(|r| r.id.as_str() == id),
            "lost recording {id}"
        );
    }
    for (rec, who) in &committed.issuances {
        assert!(
            issuances
                .iter()
                .any(|i| i.recording_id.as_str() == rec && i.recipient_id.as_str() == who),
            "lost issuance of {rec} to {who}"
        );
    }
    for t in &committed.traces {
        assert!(traces.iter().any(|r| r.id.as_str() == t), "lost trace {t}");
    }
    report.entries
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Runs `kills` kill points against one vault.
fn run(kills: usize, database: Option<String>) {
    let seed = std::env::var(SEED_ENV)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
                | 1
        });
    eprintln!("crash test: {kills} kill points, {SEED_ENV}={seed}");
    let mut rng = seed;
    let dir = tempfile::tempdir().expect("tmp");
    let place = Location {
        dir: dir.path().to_path_buf(),
        database,
        blobs: None,
    };
    drop(place.init().expect("init"));
    let mut committed = Committed::default();

    // Calibrate: let one worker run two full cycles and time each operation.
    let mut estimate: BTreeMap<String, Duration> = BTreeMap::new();
    let w = spawn(&place);
    let mut seen = w.wait_for("begin", 1);
    let mut began = Instant::now();
    while committed_traces(&seen) < 2 {
        let l = w
            .lines
            .recv_timeout(Duration::from_secs(120))
            .expect("worker stalled");
        if l.starts_with("commit") {
            let op = l.split(' ').nth(1).unwrap_or_default().to_string();
            let took = began.elapsed();
            let e = estimate.entry(op).or_default();
            *e = (*e).max(took);
        } else if l.starts_with("begin") {
            began = Instant::now();
        }
        seen.push(l);
    }
    committed.absorb(&w.kill(seen));
    let mut entries = check(&place, &committed);
    eprintln!("operation times (calibration): {estimate:?}");

    let started = Instant::now();
    let mut landed: BTreeMap<String, usize> = BTreeMap::new();
    let mut in_flight_committed = 0;
    let (mut startup, mut checking) = (Duration::ZERO, Duration::ZERO);
    for k in 0..kills {
        let t = Instant::now();
        let w = spawn(&place);
        let seen = w.wait_for("begin", 1);
        let begun = Instant::now();
        startup += begun - t;
        let op = seen
            .last()
            .and_then(|l| l.split(' ').nth(1))
            .unwrap_or_default()
            .to_string();
        // Half the kills anywhere in the operation (and a little after), half around its
        // end, where the transaction commits.
        let est = estimate
            .get(&op)
            .copied()
            .unwrap_or(Duration::from_millis(200));
        let u = (xorshift(&mut rng) % 10_000) as f64 / 10_000.0;
        let delay = if k % 2 == 0 {
            est.mul_f64(1.2 * u)
        } else {
            est.mul_f64(0.85 + 0.3 * u)
        };
        // Collect lines until the kill; the first operation's own completion, if it
        // comes before, refines `T`.
        let (mut seen, mut finished) = (seen, None);
        let deadline = begun + delay;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match w.lines.recv_timeout(left) {
                Ok(l) => {
                    if finished.is_none() && l.starts_with("commit") {
                        finished = Some(begun.elapsed());
                    }
                    seen.push(l);
                }
                Err(_) => break,
            }
        }
        let seen = w.kill(seen);
        let last = seen.last().cloned().unwrap_or_default();
        let e = estimate.entry(op.clone()).or_insert(est);
        match finished {
            Some(took) => *e = took,
            // Killed before it finished: the operation takes longer than the delay, so
            // the estimate grows when the kill came after it (operations slow down as
            // the vault grows and when the cache is cold after a restart).
            None if delay >= est => *e = est.mul_f64(1.25),
            None => {}
        }
        let phase = if last.starts_with("begin") {
            format!("during {op}")
        } else {
            format!("after {op}")
        };
        *landed.entry(phase).or_default() += 1;
        committed.absorb(&seen);
        let t = Instant::now();
        let after = check(&place, &committed);
        checking += t.elapsed();
        assert!(after >= entries, "the log shrank from {entries} to {after}");
        // An operation begun but not reported may have committed (killed between its
        // commit and the print): allowed, and counted.
        if last.starts_with("begin") && after > entries + log_entries_reported(&seen) {
            in_flight_committed += 1;
        }
        entries = after;
    }
    eprintln!(
        "{kills} kills in {:?}; where they landed: {landed:?}; \
         killed operations found committed: {in_flight_committed}; \
         final log: {entries} entries, {} recordings, {} traces reported committed; \
         time in worker start-up {startup:?}, in checks {checking:?}; estimates {estimate:?}",
        started.elapsed(),
        committed.recordings.len(),
        committed.traces.len()
    );
}

fn committed_traces(seen: &[String]) -> usize {
    seen.iter()
        .filter(|l| l.starts_with("commit trace"))
        .count()
}

fn log_entries_reported(seen: &[String]) -> u64 {
    seen.iter().filter(|l| l.starts_with("commit")).count() as u64
}

/// The default run: 30 kill points (`TRACEMARK_CRASH_KILLS` overrides). 200 take about
/// 25 s on an idle 2-core machine in a debug build but several minutes when the cores
/// are shared, so the full count is the ignored test below.
#[test]
fn killed_worker_leaves_a_verifying_vault_with_whole_operations() {
    run(kills_from_env(30), None);
}

/// The same on PostgreSQL (a worker killed mid-transaction: the server rolls it back and
/// releases the sequencer lock).
#[test]
fn killed_worker_leaves_a_verifying_postgres_vault_with_whole_operations() {
    let Some(url) = tracemark_store_postgres::testing::fresh_database_url() else {
        return; // The harness said why on stderr; CI requires PostgreSQL.
    };
    run(kills_from_env(30), Some(url));
}

/// Issue 5's figure: 200 kill points. `cargo test -p tracemark-backends --test crash -- --ignored`.
#[test]
#[ignore = "200 kill points: about 25 s idle, minutes on a loaded machine"]
fn two_hundred_kills_leave_a_verifying_vault_with_whole_operations() {
    run(kills_from_env(200), None);
}

fn kills_from_env(default: usize) -> usize {
    std::env::var("TRACEMARK_CRASH_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}
