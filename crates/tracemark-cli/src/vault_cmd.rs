//! The vault commands.

use std::path::Path;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use tracemark_backends::Location;
use tracemark_vault::{Delivery, Sha256, Vault};

/// One line describing an encoded log entry.
fn describe(encoded: &[u8]) -> String {
    match tracemark_ledger::LogEntry::decode(encoded) {
        Ok(e) => format!("{e:?}"),
        Err(e) => format!("undecodable entry: {e}"),
    }
}

fn open(at: &Location) -> Result<Vault> {
    at.open()
        .with_context(|| format!("opening the vault ({})", at.describe()))
}

pub fn init(at: &Location) -> Result<i32> {
    let v = at.init()?;
    println!(
        "created vault {} on {} (log key {})",
        at.dir.display(),
        at.describe(),
        v.verifier_key()
    );
    Ok(0)
}

pub fn recipient_add(at: &Location, name: &str, email: Option<&str>) -> Result<i32> {
    let r = open(at)?.add_recipient(name, email)?;
    println!("{}\t{}", r.id, r.name);
    Ok(0)
}

/// Rows a recipient import reads at most (the service's whole audience, with margin).
const MAX_IMPORT_ROWS: usize = 1_000_000;

pub fn recipient_import(at: &Location, file: &Path) -> Result<i32> {
    let rows = read_recipients_csv(file)?;
    let v = open(at)?;
    let started = std::time::Instant::now();
    let added = v
        .add_recipients_with_email(&rows)
        .with_context(|| format!("importing {}", file.display()))?;
    println!(
        "imported {} recipients from {} in one transaction ({:.1} s)",
        added.len(),
        file.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(0)
}

/// Reads `name,email` rows (RFC 4180 CSV with a header row), refusing the file on the
/// first bad row, named by its line.
fn read_recipients_csv(file: &Path) -> Result<Vec<(String, Option<String>)>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(file)
        .with_context(|| format!("reading {}", file.display()))?;
    let header = reader
        .headers()
        .with_context(|| format!("{}: no header row", file.display()))?
        .clone();
    let column = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
    let Some(name_at) = column("name") else {
        bail!(
            "{}: the header row must name the columns `name,email` (found {:?})",
            file.display(),
            header.iter().collect::<Vec<_>>()
        );
    };
    let email_at = column("email");
    let mut rows = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        let record = record.with_context(|| format!("{}: line {line}", file.display()))?;
        if rows.len() >= MAX_IMPORT_ROWS {
            bail!("{}: more than {MAX_IMPORT_ROWS} rows", file.display());
        }
        let name = record.get(name_at).unwrap_or_default().to_string();
        if name.is_empty() {
            bail!("{}: line {line}: the name is empty", file.display());
        }
        if let Some(first) = seen.insert(name.clone(), line) {
            bail!(
                "{}: line {line}: {name:?} is already on line {first}",
                file.display()
            );
        }
        let email = email_at
            .and_then(|i| record.get(i))
            .filter(|e| !e.is_empty())
            .map(str::to_string);
        rows.push((name, email));
    }
    Ok(rows)
}

pub fn recipient_set_email(at: &Location, name: &str, email: Option<&str>) -> Result<i32> {
    open(at)?.set_recipient_email(name, email)?;
    println!("{name}\t{}", email.unwrap_or("(no e-mail)"));
    Ok(0)
}

pub fn recipient_list(at: &Location, json: bool) -> Result<i32> {
    let list = open(at)?.recipients()?;
    if json {
        println!("{}", serde_json::to_string(&list)?);
    } else {
        for r in list {
            println!("{}\t{}\t{}", r.id, r.name, r.email.unwrap_or_default());
        }
    }
    Ok(0)
}

pub fn ingest(
    at: &Location,
    file: &Path,
    title: &str,
    transcript: Option<&Path>,
    json: bool,
) -> Result<i32> {
    let v = open(at)?;
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let text = transcript
        .map(|p| std::fs::read(p).with_context(|| format!("reading {}", p.display())))
        .transpose()?;
    // A file named as media is read from the disk as it is ingested (never held whole);
    // anything else may be a transcript, which is read to tell.
    if tracemark_vault::names_media_format(name) {
        let (r, t) = v
            .ingest_file_with_transcript(file, title, text.as_deref())
            .with_context(|| format!("ingesting {}", file.display()))?;
        return print_ingested(&r, t.as_ref(), json);
    }
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let (r, t) = if tracemark_vault::is_transcript_upload(&bytes, name) {
        if transcript.is_some() {
            bail!(
                "{} is text: a transcript alone is ingested without --transcript",
                file.display()
            );
        }
        let (r, t) = v
            .ingest_text(&bytes, title)
            .with_context(|| format!("ingesting {} as a transcript", file.display()))?;
        (r, Some(t))
    } else {
        v.ingest_with_transcript(bytes, name, title, text.as_deref())
            .with_context(|| format!("ingesting {}", file.display()))?
    };
    print_ingested(&r, t.as_ref(), json)
}

fn print_ingested(
    r: &tracemark_vault::Recording,
    t: Option<&tracemark_vault::Transcript>,
    json: bool,
) -> Result<i32> {
    if json {
        let mut value = serde_json::to_value(r)?;
        if let (Some(t), Some(o)) = (t, value.as_object_mut()) {
            o.insert("transcript".into(), serde_json::to_value(t)?);
        }
        println!("{value}");
    } else {
        match t {
            Some(t) => println!(
                "{}\ttranscript: {} words, {} variant sites",
                r.id, t.words, t.sites
            ),
            None => println!("{}", r.id),
        }
    }
    Ok(0)
}

pub fn recordings(at: &Location, json: bool) -> Result<i32> {
    let list = open(at)?.recordings()?;
    if json {
        println!("{}", serde_json::to_string(&list)?);
    } else {
        for r in list {
            println!("{}\t{:.1} s\t{}", r.id, r.duration_s, r.title);
        }
    }
    Ok(0)
}

pub fn retitle(at: &Location, recording: &str, title: &str) -> Result<i32> {
    let v = open(at)?;
    let r = v.recording(recording)?;
    v.retitle(&r.id, title)?;
    println!("{}\t{}", r.id, title.trim());
    Ok(0)
}

/// Every recipient's name.
pub fn all_names(at: &Location) -> Result<Vec<String>> {
    Ok(open(at)?
        .recipients()?
        .into_iter()
        .map(|r| r.name)
        .collect())
}

/// Writes each copy as soon as it is recorded (`render`: only for recipients already
/// issued the recording).
pub fn issue(
    at: &Location,
    recording: &str,
    to: &[String],
    out: &Path,
    format: &str,
    bitrate: Option<u32>,
    render: bool,
) -> Result<i32> {
    let mut delivery = Delivery::parse(format)?;
    if bitrate.is_some() && !delivery.format.is_lossless() {
        delivery.bitrate_kbps = bitrate;
    }
    let v = open(at)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let bar = ProgressBar::new(to.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} copies {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut written = Vec::new();
    // Each copy is encoded into a temporary file in `out` and renamed to its name once it
    // is recorded: a copy that fails is removed (when its file is dropped) and never
    // appears under a recipient's name; none is held in memory.
    let create = |r: &tracemark_vault::Recipient, extension: &str| {
        tempfile::Builder::new()
            .prefix(&format!(".{}.", safe_file_name(&r.name)))
            .suffix(&format!(".{extension}.partial"))
            .tempfile_in(out)
            .map_err(|source| tracemark_vault::VaultError::Io {
                path: out.to_path_buf(),
                source,
            })
    };
    let mut write =
        |done: usize, total: usize, c: tracemark_vault::IssuedFile<tempfile::NamedTempFile>| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            let path = out.join(format!(
                "{}.{}",
                safe_file_name(&c.recipient.name),
                c.extension
            ));
            c.file
                .persist(&path)
                .map_err(|e| tracemark_vault::VaultError::Io {
                    path: path.clone(),
                    source: e.error,
                })?;
            written.push(format!(
                "{}\t{}{}",
                c.recipient.name,
                path.display(),
                if c.reissued {
                    "\t(same copy as issued before)"
                } else {
                    ""
                }
            ));
            Ok(())
        };
    if render {
        v.render_into(recording, to, delivery, create, &mut write)?;
    } else {
        v.issue_into(recording, to, delivery, create, &mut write)?;
    }
    bar.finish_and_clear();
    for line in written {
        println!("{line}");
    }
    Ok(0)
}

/// `issue --no-copies` (`--all`, or the recipients `to`).
pub fn assign_codewords(at: &Location, recording: &str, to: Option<&[String]>) -> Result<i32> {
    let v = open(at)?;
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} codewords {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let done = v.assign_codewords(recording, to, |n, total| {
        bar.set_length(total as u64);
        bar.set_position(n as u64);
    })?;
    bar.finish_and_clear();
    println!(
        "{} recipients issued {recording} without copies ({} had been already); `tracemark render` writes their copies",
        done.assigned, done.already
    );
    Ok(0)
}

/// A recipient name as a file name: anything but letters, digits, '-', '_' and '.' becomes '_'.
pub fn safe_file_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.starts_with('.') || s.is_empty() {
        format!("_{s}")
    } else {
        s
    }
}

pub fn trace(
    at: &Location,
    file: &Path,
    text: Option<&Path>,
    json: bool,
    report: Option<&Path>,
    bound: f64,
) -> Result<i32> {
    let v = open(at)?;
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("reading {}", p.display()));
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let quotes = text.map(read).transpose()?;
    let r = match &quotes {
        Some(q) => v
            .trace_clip_and_text(&read(file)?, name, q, bound)
            .with_context(|| format!("tracing {} with its quoted text", file.display()))?,
        // Audio is decoded from the file as it is read, never held.
        None => v
            .trace_file(file, name, bound)
            .with_context(|| format!("tracing {}", file.display()))?,
    };
    // The leaked text, for the report's marked-up reading of it.
    let leaked = match (&quotes, r.medium) {
        (None, tracemark_vault::Medium::Text) => Some(read(file)?),
        _ => None,
    };
    let leak_text = match (&quotes, &leaked) {
        (Some(q), _) => std::str::from_utf8(q).ok(),
        (None, Some(bytes)) => std::str::from_utf8(bytes).ok(),
        _ => None,
    };
    if let Some(path) = report {
        let html =
            tracemark_report::render_html_with_text(&r, &v.verifier_key().to_string(), leak_text);
        std::fs::write(path, html).with_context(|| format!("writing {}", path.display()))?;
    }
    if json {
        println!("{}", v.trace_row(r.id.as_str())?.report_json);
    } else {
        println!("{}: {}", r.id, r.verdict());
        for s in &r.segments {
            match s.original {
                Some((a, b)) => println!(
                    "  leak {:>7.2}-{:>7.2} s  genuine    original {a:.2}-{b:.2} s",
                    s.leak_start_s, s.leak_end_s
                ),
                None => println!(
                    "  leak {:>7.2}-{:>7.2} s  UNMATCHED",
                    s.leak_start_s, s.leak_end_s
                ),
            }
        }
        for (a, b) in &r.missing {
            println!("  original {a:.2}-{b:.2} s  MISSING from the leak");
        }
        if let Some(t) = &r.text {
            println!(
                "  text: {} of {} words in the transcript, {} variant sites read, {} erased",
                t.matched_words, t.leak_words, t.sites_read, t.sites_erased
            );
            for s in &t.segments {
                let quoted = if s.quoted { "quoted" } else { "prose " };
                match s.original {
                    Some((a, b)) => println!(
                        "  words {:>5}-{:<5} {quoted} genuine    transcript words {a}-{b}",
                        s.leak_start_word, s.leak_end_word
                    ),
                    None => println!(
                        "  words {:>5}-{:<5} {quoted} {}",
                        s.leak_start_word,
                        s.leak_end_word,
                        if s.quoted {
                            "UNMATCHED (in quotes, not in the transcript)"
                        } else {
                            "not in the transcript (the writer's own words)"
                        }
                    ),
                }
            }
            for (a, b) in &t.missing {
                println!("  transcript words {a}-{b}  LEFT OUT inside the quote");
            }
        }
    }
    Ok(0)
}

pub fn log_verify(at: &Location) -> Result<i32> {
    match open(at)?.verify_log() {
        Ok(r) => {
            println!(
                "log verified: {} entries, {} signed checkpoints, {} records match their entries",
                r.entries, r.checkpoints, r.records
            );
            Ok(0)
        }
        Err(e) => {
            eprintln!("tracemark: LOG BROKEN: {e}");
            Ok(1)
        }
    }
}

pub fn log_checkpoint(at: &Location) -> Result<i32> {
    let v = open(at)?;
    match v.latest_checkpoint()? {
        Some(note) => {
            print!("{note}");
            eprintln!("verifier key: {}", v.verifier_key());
            Ok(0)
        }
        None => bail!("the log is empty: nothing has been recorded yet"),
    }
}

pub fn log_show(at: &Location, n: Option<usize>) -> Result<i32> {
    let entries = open(at)?.log_entries()?;
    let skip = n.map_or(0, |n| entries.len().saturating_sub(n));
    for (idx, encoded) in entries.iter().skip(skip) {
        println!("{idx}\t{}", describe(encoded));
    }
    Ok(0)
}

pub fn evidence_export(at: &Location, trace: &str, out: &Path, html: Option<&Path>) -> Result<i32> {
    let v = open(at)?;
    let html = match html {
        Some(p) => Some(std::fs::read(p).with_context(|| format!("reading {}", p.display()))?),
        None => None,
    };
    let bundle = v.export_evidence(trace, html.as_deref())?;
    std::fs::write(out, &bundle).with_context(|| format!("writing {}", out.display()))?;
    println!(
        "wrote evidence bundle for {trace} to {} (sha256 {})",
        out.display(),
        Sha256::digest(&bundle)
    );
    Ok(0)
}

pub fn evidence_verify(path: &Path, pubkey: Option<&str>) -> Result<i32> {
    let bundle = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    match tracemark_evidence::verify_evidence(&bundle, pubkey) {
        Ok(s) => {
            println!(
                "evidence verified: trace {}, recording {}, accused [{}], {} log entries proven against the signed checkpoint of size {}, key {}",
                s.trace_id,
                s.recording.as_deref().unwrap_or("none"),
                s.accused.join(", "),
                s.entries_verified,
                s.checkpoint_size,
                s.verifier_key
            );
            Ok(0)
        }
        Err(e) => {
            eprintln!("tracemark: EVIDENCE REJECTED: {}: {e}", path.display());
            Ok(1)
        }
    }
}

pub fn migrate(from: &Location, to: &Location) -> Result<i32> {
    let m = tracemark_backends::migrate(from, to).with_context(|| {
        format!(
            "migrating the vault from {} to {}",
            from.describe(),
            to.describe()
        )
    })?;
    println!(
        "migrated {} log entries and {} blobs from {} to {}; log verified there: {} entries, {} signed checkpoints, {} records",
        m.entries,
        m.blobs,
        from.describe(),
        to.describe(),
        m.verified.entries,
        m.verified.checkpoints,
        m.verified.records
    );
    Ok(0)
}

fn role(text: &str) -> Result<tracemark_vault::Role> {
    text.parse().with_context(|| format!("--role {text:?}"))
}

pub fn user_add(at: &Location, name: &str, role_name: &str, password_stdin: bool) -> Result<i32> {
    let role = role(role_name)?;
    let v = open(at)?;
    let user = if password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        let password = line.trim_end_matches(['\r', '\n']);
        v.add_user_with_password(name, role, password)?
    } else {
        v.add_user(name, role, None)?
    };
    println!("{}\t{}\t{}", user.id, user.name, user.role.as_str());
    Ok(0)
}

pub fn user_list(at: &Location, json: bool) -> Result<i32> {
    let users = open(at)?.store().users()?;
    if json {
        println!("{}", serde_json::to_string(&users)?);
    } else {
        for u in users {
            println!(
                "{}\t{}\t{}{}",
                u.id,
                u.name,
                u.role.as_str(),
                if u.disabled { "\tdisabled" } else { "" }
            );
        }
    }
    Ok(0)
}

pub fn user_set_role(at: &Location, name: &str, role_name: &str) -> Result<i32> {
    let role = role(role_name)?;
    open(at)?.change_user(name, Some(role), None, None)?;
    println!("{name}\t{}", role.as_str());
    Ok(0)
}

pub fn user_disable(at: &Location, name: &str) -> Result<i32> {
    open(at)?.change_user(name, None, None, Some(true))?;
    println!("{name}\tdisabled");
    Ok(0)
}

pub fn token_create(at: &Location, user: &str, expires_days: Option<u32>) -> Result<i32> {
    let v = open(at)?;
    let (token, secret) = v.create_token_for_days(user, expires_days)?;
    eprintln!(
        "token {} for {user}{}: shown once, stored only as its SHA-256",
        token.id,
        expires_days.map_or(String::new(), |d| format!(", valid {d} days"))
    );
    println!("{secret}");
    Ok(0)
}

pub fn token_list(at: &Location, json: bool) -> Result<i32> {
    let tokens = open(at)?.store().tokens()?;
    if json {
        println!("{}", serde_json::to_string(&tokens)?);
    } else {
        for t in tokens {
            println!(
                "{}\t{}\t{}{}",
                t.id,
                t.user_id,
                t.expires_at
                    .map_or("no expiry".to_string(), |e| format!("expires {}", e.0)),
                if t.revoked { "\trevoked" } else { "" }
            );
        }
    }
    Ok(0)
}

pub fn token_revoke(at: &Location, id: &str) -> Result<i32> {
    let id: tracemark_vault::TokenId = id.parse()?;
    open(at)?.revoke_token(&id)?;
    println!("{id}\trevoked");
    Ok(0)
}
