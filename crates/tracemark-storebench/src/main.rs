//! `tracemark-storebench`: the storage figures of issue 11, on each backend, each beside a
//! baseline measured in the same process on the same database, so the ratios hold on a
//! noisy machine.
//!
//! ```text
//! cargo run --release -p tracemark-storebench -- --out docs/benchmarks/storage.md
//! ```
//!
//! - **Append**: recipients added one per transaction through `Vault::add_recipient`
//!   (id assignment, sequencer lock, entry, frontier, Ed25519 checkpoint, commit),
//!   against a bare `INSERT` of a row of the same size, one per transaction.
//! - **Batched append**: recipients in batches of 1,000 per transaction (what a bulk
//!   import does).
//! - **Trace latency**: `Vault::trace` of a 30 s MP3 64k clip against 100 issued copies;
//!   the baseline is the same trace on SQLite.
//! - **Verify**: `log verify` of a vault with `--verify-entries` log entries (recipients in
//!   batches), against reading the same rows.
//!
//! PostgreSQL runs on a throwaway local cluster (`tracemark_store_postgres::testing`),
//! `fsync=off`; SQLite runs in WAL mode with `synchronous=FULL`, as vaults do. So the
//! absolute append figures favour PostgreSQL; the ratios to each database's own bare
//! insert are the comparable figures.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;
use tracemark_backends::Location;
use tracemark_media::{EncodeOptions, Format, Limits, decode_bytes, encode_bytes};
use tracemark_vault::{Delivery, Vault};

#[derive(Parser, Debug)]
#[command(name = "tracemark-storebench", about = "Storage backend benchmarks")]
struct Cli {
    /// Single-transaction appends to time.
    #[arg(long, default_value_t = 2000)]
    appends: usize,
    /// Log entries for the verify figure.
    #[arg(long, default_value_t = 100_000)]
    verify_entries: usize,
    /// Traces to time per backend (the median is reported).
    #[arg(long, default_value_t = 5)]
    traces: usize,
    /// Skip PostgreSQL (when no server binaries are installed).
    #[arg(long)]
    sqlite_only: bool,
    /// Write the Markdown report here too.
    #[arg(long)]
    out: Option<std::path::PathBuf>,
}

#[derive(Clone)]
enum Db {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl Db {
    fn name(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "SQLite",
            Db::Postgres(_) => "PostgreSQL",
        }
    }

    fn location(&self, dir: &Path) -> Location {
        Location {
            dir: dir.to_path_buf(),
            database: Some(match self {
                Db::Sqlite(p) => format!("sqlite:{}", p.display()),
                Db::Postgres(u) => u.clone(),
            }),
            blobs: None,
        }
    }

    /// Seconds per bare one-row transaction on this database (same row size as a
    /// recipient with its log entry and checkpoint: ~600 bytes), with the statement
    /// prepared once: the cheapest durable write the database offers.
    fn bare_insert_s(&self, n: usize) -> Result<f64> {
        let payload = vec![7u8; 600];
        match self {
            Db::Sqlite(p) => {
                let bare = p.with_extension("bare.sqlite");
                let c = rusqlite::Connection::open(&bare)?;
                c.pragma_update(None, "journal_mode", "WAL")?;
                c.pragma_update(None, "synchronous", "FULL")?;
                c.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)")?;
                let t = Instant::now();
                for _ in 0..n {
                    c.execute_batch("BEGIN IMMEDIATE")?;
                    c.prepare_cached("INSERT INTO t (v) VALUES (?1)")?
                        .execute([&payload])?;
                    c.execute_batch("COMMIT")?;
                }
                Ok(t.elapsed().as_secs_f64() / n as f64)
            }
            Db::Postgres(u) => {
                let mut c = postgres::Client::connect(u, postgres::NoTls)?;
                c.batch_execute("CREATE TABLE bare (id BIGSERIAL PRIMARY KEY, v BYTEA NOT NULL)")?;
                let insert = c.prepare("INSERT INTO bare (v) VALUES ($1)")?;
                let t = Instant::now();
                for _ in 0..n {
                    let mut tx = c.transaction()?;
                    tx.execute(&insert, &[&payload])?;
                    tx.commit()?;
                }
                Ok(t.elapsed().as_secs_f64() / n as f64)
            }
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

struct Row {
    backend: &'static str,
    append_ms: f64,
    bare_ms: f64,
    batched_per_s: f64,
    trace_s: f64,
    verify_s: f64,
    read_s: f64,
    verify_entries: u64,
}

fn add_recipients_batched(vault: &Vault, prefix: &str, n: usize) -> Result<f64> {
    let t = Instant::now();
    let mut i = 0;
    while i < n {
        let batch: Vec<String> = (i..(i + 1000).min(n))
            .map(|k| format!("{prefix} {k:07}"))
            .collect();
        i += batch.len();
        vault.add_recipients(&batch)?;
    }
    Ok(t.elapsed().as_secs_f64())
}

fn measure(db: &Db, cli: &Cli, clip: &[u8]) -> Result<Row> {
    let keys = tempfile::tempdir()?;
    let here = db.location(keys.path());
    let vault = here.init()?;
    // Append, one per transaction.
    let t = Instant::now();
    for i in 0..cli.appends {
        vault.add_recipient(&format!("Single {i:06}"), None)?;
    }
    let append_ms = 1e3 * t.elapsed().as_secs_f64() / cli.appends as f64;
    let bare_ms = 1e3 * db.bare_insert_s(cli.appends)?;
    // Trace: 100 copies issued (WAV); recipient 7's copy, 30 s of it as MP3 64k, traced.
    let rec = vault.ingest(clip, "call.flac", "Bench call")?;
    let names: Vec<String> = (0..100).map(|i| format!("Single {i:06}")).collect();
    let wav = Delivery::of(Format::Wav);
    let copies = vault.issue(rec.id.as_str(), &names, wav, |_, _| {})?;
    let audio = decode_bytes(&copies[7].bytes, Some("wav"), &Limits::default())?;
    let rate = audio.rate().hz() as usize;
    let leak = encode_bytes(
        &audio.slice(10 * rate, 40 * rate),
        Format::Mp3,
        &EncodeOptions {
            bitrate_kbps: Some(64),
        },
    )?;
    let mut times = Vec::new();
    for _ in 0..cli.traces {
        let t = Instant::now();
        let report = vault.trace(&leak, "leak.mp3", 1e-6)?;
        times.push(t.elapsed().as_secs_f64());
        let accused: Vec<&str> = report.accused().map(|s| s.name.as_str()).collect();
        if accused != ["Single 000007"] {
            bail!("{}: the bench leak traced to {accused:?}", db.name());
        }
    }
    // Verify at N entries: fill with batched recipients.
    let have = vault.store().log_size()? as usize;
    let fill = cli.verify_entries.saturating_sub(have);
    let batched_s = add_recipients_batched(&vault, "Batch", fill)?;
    let t = Instant::now();
    let report = vault.verify_log()?;
    let verify_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut read = 0;
    let size = vault.store().log_size()?;
    while read < size {
        let page = vault.store().log_rows(read, 10_000)?;
        if page.is_empty() {
            break;
        }
        read += page.len() as u64;
    }
    let read_s = t.elapsed().as_secs_f64();
    Ok(Row {
        backend: db.name(),
        append_ms,
        bare_ms,
        batched_per_s: fill as f64 / batched_s.max(1e-9),
        trace_s: median(times),
        verify_s,
        read_s,
        verify_entries: report.entries,
    })
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let asset = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/call-en-8k-excerpt.flac");
    let clip = std::fs::read(&asset).with_context(|| format!("reading {}", asset.display()))?;
    let work = tempfile::tempdir()?;
    let mut dbs = vec![Db::Sqlite(work.path().join("bench.sqlite"))];
    if !cli.sqlite_only {
        let url = tracemark_store_postgres::testing::fresh_database_url()
            .context("no PostgreSQL for the bench (install the server or pass --sqlite-only)")?;
        dbs.push(Db::Postgres(url));
    }
    let mut rows = Vec::new();
    for db in &dbs {
        eprintln!("measuring {} ...", db.name());
        rows.push(measure(db, &cli, &clip)?);
    }
    let mut md = String::new();
    md.push_str("# Storage backends\n\n");
    md.push_str(&format!(
        "`cargo run --release -p tracemark-storebench -- --appends {} --verify-entries {} --traces {}`\n\n",
        cli.appends, cli.verify_entries, cli.traces
    ));
    md.push_str("SQLite: WAL, `synchronous=FULL` (as vaults run). PostgreSQL 15: a throwaway local cluster with `fsync=off` (the test harness's), over TCP on loopback. Baselines run in the same process on the same database.\n\n");
    md.push_str("| backend | append, ms per transaction | bare insert, ms | ratio | batched append, recipients/s | trace 30 s MP3 vs 100 copies, s (median) | log verify, s | entries | reading the log, s | verify / read |\n|---|---|---|---|---|---|---|---|---|---|\n");
    for r in &rows {
        md.push_str(&format!(
            "| {} | {:.2} | {:.2} | {:.1} | {:.0} | {:.3} | {:.2} | {} | {:.2} | {:.1} |\n",
            r.backend,
            r.append_ms,
            r.bare_ms,
            r.append_ms / r.bare_ms,
            r.batched_per_s,
            r.trace_s,
            r.verify_s,
            r.verify_entries,
            r.read_s,
            r.verify_s / r.read_s
        ));
    }
    if rows.len() == 2 {
        md.push_str(&format!(
            "\nPostgreSQL / SQLite: append {:.2}, trace {:.2}, verify {:.2}.\n",
            rows[1].append_ms / rows[0].append_ms,
            rows[1].trace_s / rows[0].trace_s,
            rows[1].verify_s / rows[0].verify_s
        ));
    }
    print!("{md}");
    if let Some(out) = &cli.out {
        std::fs::write(out, &md).with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(())
}
