//! The `tracemark` command-line tool.

mod demo;
mod mark;
mod service;
mod vault_cmd;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use tracemark_watermark::{EmbedParams, Message, Payload};

/// The service's default cap on decoded audio: 2 hours (the library's own is 4).
const DEFAULT_MAX_DURATION_S: f64 = 2.0 * 3600.0;

#[derive(Parser)]
#[command(
    name = "tracemark",
    version,
    about = "Forensic audio watermarking and leak attribution"
)]
struct Cli {
    /// The vault directory (default: $TRACEMARK_VAULT, else ./tracemark-vault).
    #[arg(
        long,
        global = true,
        env = "TRACEMARK_VAULT",
        default_value = "tracemark-vault"
    )]
    vault: PathBuf,
    /// The vault's database: `postgres://USER@HOST/DB` for PostgreSQL (default: SQLite
    /// in the vault directory). The key files stay in the vault directory.
    #[arg(long, global = true, env = "TRACEMARK_DATABASE_URL")]
    database: Option<String>,
    /// Where originals are stored: an object store URL such as `file:///srv/blobs` or
    /// `s3://bucket/prefix` (default: the vault directory).
    #[arg(long, global = true, env = "TRACEMARK_BLOBS_URL")]
    blobs: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a vault: database, watermark secret and log signing key.
    Init,
    /// Run the HTTP service: the JSON API under /api/v1 and the web UI at /.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// Largest accepted upload, in bytes (larger answers 413).
        #[arg(long, default_value_t = tracemark_server::DEFAULT_MAX_UPLOAD)]
        max_upload: u64,
        /// In-process workers for issue and trace jobs (0: leave jobs to
        /// `tracemark worker` processes).
        #[arg(long, default_value_t = 1)]
        workers: usize,
        /// Mark cookies Secure (set this when a TLS proxy fronts the service).
        #[arg(long)]
        secure_cookies: bool,
        /// A job's lease, in seconds: a worker that stops renewing it (killed, cut off)
        /// loses the job to another after this long.
        #[arg(long, default_value_t = 30)]
        lease_secs: u64,
        /// Longest audio accepted in an upload or a leak, in seconds (recordings are decoded
        /// block by block, so this bounds work, not memory; a leak's 8 kHz mix is held, 32
        /// KB a second).
        #[arg(long, default_value_t = DEFAULT_MAX_DURATION_S)]
        max_duration: f64,
    },
    /// Run a worker: claim issue and trace jobs from the database and run them, until
    /// interrupted (a job in hand is finished first).
    Worker {
        /// Jobs run at once in this process.
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// A job's lease, in seconds.
        #[arg(long, default_value_t = 30)]
        lease_secs: u64,
        /// Longest audio a job decodes, in seconds (as for `serve`).
        #[arg(long, default_value_t = DEFAULT_MAX_DURATION_S)]
        max_duration: f64,
    },
    /// Manage recipients.
    Recipient {
        #[command(subcommand)]
        action: RecipientCmd,
    },
    /// Store a recording (encrypted) and index its fingerprint; prints its id. A text
    /// file (UTF-8) is a transcript alone, without audio.
    Ingest {
        /// The audio file, or a transcript (UTF-8 plain text or Markdown).
        file: PathBuf,
        /// A title for the recording.
        #[arg(long)]
        title: String,
        /// The recording's transcript (UTF-8 plain text or Markdown), stored sealed beside
        /// it; `issue` then writes a marked DIR/<recipient>.txt beside each audio copy.
        #[arg(long)]
        transcript: Option<PathBuf>,
        /// Print a JSON object.
        #[arg(long)]
        json: bool,
    },
    /// List the stored recordings.
    Recordings {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Change a recording's record (logged as an event).
    Recording {
        #[command(subcommand)]
        action: RecordingCmd,
    },
    /// Users of the service, with their roles (every change is logged).
    User {
        #[command(subcommand)]
        action: UserCmd,
    },
    /// API tokens of the service's users (stored only as a hash).
    Token {
        #[command(subcommand)]
        action: TokenCmd,
    },
    /// Copy the whole vault (rows, log, checkpoints, blobs) to another database, then
    /// verify the log there.
    Migrate {
        /// The target database URL (`postgres://...`, or `sqlite:PATH`); must be empty.
        #[arg(long)]
        to: String,
        /// The target blob store URL (default: the same blobs as now).
        #[arg(long)]
        blobs_to: Option<String>,
    },
    /// Write one marked copy per recipient to DIR/<recipient>.<ext> (and, when the
    /// recording has a transcript, DIR/<recipient>.txt); or, with --no-copies, record each
    /// recipient's codeword and write nothing (`render` writes the copies later).
    Issue {
        /// Recording id (rec-...).
        recording: String,
        /// Recipients, comma-separated names, exactly as registered (never ids).
        #[arg(
            long,
            value_delimiter = ',',
            required_unless_present = "all",
            conflicts_with = "all"
        )]
        to: Vec<String>,
        /// Every recipient in the vault.
        #[arg(long)]
        all: bool,
        /// Record the issuances (codeword commitments, in batched transactions) without
        /// rendering any copy.
        #[arg(long)]
        no_copies: bool,
        /// Output directory.
        #[arg(long, required_unless_present = "no_copies")]
        out: Option<PathBuf>,
        /// wav, flac, mp3 or opus. WAV and FLAC copies keep the original's samples (a
        /// 16-bit original gives 16-bit copies, dithered) unless one is named: wav-s16,
        /// wav-s24, wav-f32, flac-s24...; mp3-64k, opus-16k name a bit rate.
        #[arg(long, default_value = "flac")]
        format: String,
        /// Bit rate for mp3 and opus, kbit/s.
        #[arg(long)]
        bitrate: Option<u32>,
    },
    /// Write the copies of recipients already issued a recording (with or without
    /// copies) to DIR/<recipient>.<ext>: the same bytes `issue` writes.
    Render {
        /// Recording id (rec-...).
        recording: String,
        /// Recipients, comma-separated names, exactly as registered.
        #[arg(long, value_delimiter = ',', required = true)]
        to: Vec<String>,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// wav, flac, mp3 or opus. WAV and FLAC copies keep the original's samples (a
        /// 16-bit original gives 16-bit copies, dithered) unless one is named: wav-s16,
        /// wav-s24, wav-f32, flac-s24...; mp3-64k, opus-16k name a bit rate.
        #[arg(long, default_value = "flac")]
        format: String,
        /// Bit rate for mp3 and opus, kbit/s.
        #[arg(long)]
        bitrate: Option<u32>,
    },
    /// Trace a leaked file: which recording, which parts are genuine, whose copy. A text
    /// file (quotes, an article, a retyped transcript) is traced against the transcripts.
    Trace {
        /// The leaked audio, or text.
        file: PathBuf,
        /// Quoted text of the same recording, traced with the clip and the two bounds
        /// combined (the audio and text codes are independent).
        #[arg(long)]
        text: Option<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Also write the self-contained HTML report here.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Bound on the probability of accusing any innocent recipient.
        #[arg(long, default_value_t = tracemark_vault::DEFAULT_BOUND)]
        bound: f64,
    },
    /// The tamper-evident log.
    Log {
        #[command(subcommand)]
        action: LogCmd,
    },
    /// Evidence bundles a third party can verify offline.
    Evidence {
        #[command(subcommand)]
        action: EvidenceCmd,
    },
    /// Write a new 256-bit watermark key to KEYFILE (refuses to overwrite).
    Keygen {
        /// Where to write the key (hex, mode 0600).
        keyfile: PathBuf,
    },
    /// Mark IN with a 64-bit payload and write OUT (format from OUT's extension).
    Embed {
        /// The key file written by `keygen`.
        #[arg(long)]
        key: PathBuf,
        /// The payload: 16 hexadecimal digits.
        #[arg(long)]
        payload: String,
        /// Embedding strength (log-magnitude change per cell).
        #[arg(long, default_value_t = EmbedParams::default().strength)]
        strength: f32,
        /// Bit rate for lossy outputs (MP3, Opus), kbit/s.
        #[arg(long)]
        bitrate: Option<u32>,
        /// Input audio.
        input: PathBuf,
        /// Output audio (.wav, .flac, .mp3, .opus).
        output: PathBuf,
    },
    /// Look for a mark in IN; with --original, align to it and cancel the host.
    Detect {
        /// The key file written by `keygen`.
        #[arg(long)]
        key: PathBuf,
        /// The unmarked original, for informed detection.
        #[arg(long)]
        original: Option<PathBuf>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        /// Blind: do not search speed and tempo changes of up to +-5 % when the clip as it
        /// is shows no mark (the search costs about 1.3 s per minute of clip).
        #[arg(long)]
        no_speed_search: bool,
        /// The audio to examine.
        input: PathBuf,
    },
    /// In a temporary vault: ingest a real call, issue eight copies, make three leaks,
    /// trace them, write HTML reports.
    Demo {
        /// Where to write the copies, leaks and reports (default: a temporary directory).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum RecipientCmd {
    /// Register a recipient.
    Add {
        /// Unique name.
        name: String,
        /// E-mail address.
        #[arg(long)]
        email: Option<String>,
    },
    /// List recipients.
    List {
        /// Print JSON (ids, names, e-mails, times).
        #[arg(long)]
        json: bool,
    },
    /// Register every recipient of a CSV file with the header row `name,email` (e-mail
    /// may be empty), all in one transaction: a file with any bad row adds nobody.
    Import {
        /// The CSV file.
        file: PathBuf,
    },
    /// Change a recipient's e-mail address (logged as an event).
    SetEmail {
        /// The recipient's name.
        name: String,
        /// The new address.
        #[arg(long, conflicts_with = "clear")]
        email: Option<String>,
        /// Remove the address.
        #[arg(long)]
        clear: bool,
    },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Add a user: distributor, investigator, auditor or admin.
    Add {
        /// Unique name.
        name: String,
        /// distributor, investigator, auditor or admin.
        #[arg(long)]
        role: String,
        /// Read the password from the first line of standard input (else: token only).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Change a user's role.
    SetRole {
        /// The user.
        name: String,
        /// The new role.
        #[arg(long)]
        role: String,
    },
    /// Stop a user from signing in or using tokens.
    Disable {
        /// The user.
        name: String,
    },
}

#[derive(Subcommand)]
enum TokenCmd {
    /// Create an API token; prints it once, as the last line.
    Create {
        /// Whose token.
        #[arg(long)]
        user: String,
        /// Days until it stops working (default: never).
        #[arg(long)]
        expires_days: Option<u32>,
    },
    /// List tokens (ids, owners, expiry; never the secrets).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by its id (tok-...).
    Revoke {
        /// The token id.
        id: String,
    },
}

#[derive(Subcommand)]
enum RecordingCmd {
    /// Give a recording a new title.
    Rename {
        /// Recording id (rec-...).
        recording: String,
        /// The new title.
        #[arg(long)]
        title: String,
    },
}

#[derive(Subcommand)]
enum EvidenceCmd {
    /// Write one file with the trace report, the accused's issuance records, inclusion
    /// proofs against a signed checkpoint, the checkpoint and the public key.
    Export {
        /// The trace id (t-...).
        trace: String,
        /// Where to write the bundle.
        #[arg(long)]
        out: PathBuf,
        /// The HTML report written by `trace --report`, to include.
        #[arg(long)]
        html: Option<PathBuf>,
    },
    /// Check a bundle offline, with no vault; exit 1 naming what failed.
    Verify {
        /// The bundle.
        path: PathBuf,
        /// The public key you trust (C2SP verifier key); default: the one in the bundle.
        #[arg(long)]
        pubkey: Option<String>,
    },
}

#[derive(Subcommand)]
enum LogCmd {
    /// Recompute the log, check every checkpoint and every record; exit 1 if broken.
    Verify,
    /// Print the latest signed checkpoint and the key that verifies it.
    Checkpoint,
    /// List the last N entries (all by default).
    Show {
        /// How many of the latest entries.
        n: Option<usize>,
    },
}

fn main() {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("tracemark: {e:#}");
            std::process::exit(2);
        }
    }
}

fn run(cli: Cli) -> Result<i32> {
    let at = tracemark_backends::Location {
        dir: cli.vault.clone(),
        database: cli.database.clone(),
        blobs: cli.blobs.clone(),
    };
    let v = &at;
    match cli.command {
        Command::Init => vault_cmd::init(v),
        Command::Serve {
            listen,
            max_upload,
            workers,
            secure_cookies,
            lease_secs,
            max_duration,
        } => service::serve(
            v,
            max_duration,
            tracemark_server::ServeConfig {
                listen,
                max_upload,
                workers,
                secure_cookies,
                spool_dir: std::env::temp_dir(),
                worker: service::worker_options(lease_secs),
            },
        ),
        Command::Worker {
            threads,
            lease_secs,
            max_duration,
        } => service::worker(
            v,
            threads,
            max_duration,
            service::worker_options(lease_secs),
        ),
        Command::Recipient {
            action: RecipientCmd::SetEmail { name, email, clear },
        } => {
            if email.is_none() && !clear {
                anyhow::bail!("give --email ADDRESS or --clear");
            }
            vault_cmd::recipient_set_email(v, &name, email.as_deref())
        }
        Command::Recording {
            action: RecordingCmd::Rename { recording, title },
        } => vault_cmd::retitle(v, &recording, &title),
        Command::User { action } => match action {
            UserCmd::Add {
                name,
                role,
                password_stdin,
            } => vault_cmd::user_add(v, &name, &role, password_stdin),
            UserCmd::List { json } => vault_cmd::user_list(v, json),
            UserCmd::SetRole { name, role } => vault_cmd::user_set_role(v, &name, &role),
            UserCmd::Disable { name } => vault_cmd::user_disable(v, &name),
        },
        Command::Token { action } => match action {
            TokenCmd::Create { user, expires_days } => {
                vault_cmd::token_create(v, &user, expires_days)
            }
            TokenCmd::List { json } => vault_cmd::token_list(v, json),
            TokenCmd::Revoke { id } => vault_cmd::token_revoke(v, &id),
        },
        Command::Migrate { to, blobs_to } => {
            let target = tracemark_backends::Location {
                dir: at.dir.clone(),
                database: Some(to),
                blobs: blobs_to.or_else(|| at.blobs.clone()),
            };
            vault_cmd::migrate(&at, &target)
        }
        Command::Recipient {
            action: RecipientCmd::Add { name, email },
        } => vault_cmd::recipient_add(v, &name, email.as_deref()),
        Command::Recipient {
            action: RecipientCmd::List { json },
        } => vault_cmd::recipient_list(v, json),
        Command::Recipient {
            action: RecipientCmd::Import { file },
        } => vault_cmd::recipient_import(v, &file),
        Command::Ingest {
            file,
            title,
            transcript,
            json,
        } => vault_cmd::ingest(v, &file, &title, transcript.as_deref(), json),
        Command::Recordings { json } => vault_cmd::recordings(v, json),
        Command::Issue {
            recording,
            to,
            all,
            no_copies,
            out,
            format,
            bitrate,
        } => match (no_copies, out) {
            (true, _) => vault_cmd::assign_codewords(v, &recording, (!all).then_some(&to[..])),
            (false, Some(out)) => {
                let to = if all { vault_cmd::all_names(v)? } else { to };
                vault_cmd::issue(v, &recording, &to, &out, &format, bitrate, false)
            }
            (false, None) => anyhow::bail!("give --out DIR, or --no-copies"),
        },
        Command::Render {
            recording,
            to,
            out,
            format,
            bitrate,
        } => vault_cmd::issue(v, &recording, &to, &out, &format, bitrate, true),
        Command::Trace {
            file,
            text,
            json,
            report,
            bound,
        } => vault_cmd::trace(v, &file, text.as_deref(), json, report.as_deref(), bound),
        Command::Log {
            action: LogCmd::Verify,
        } => vault_cmd::log_verify(v),
        Command::Log {
            action: LogCmd::Checkpoint,
        } => vault_cmd::log_checkpoint(v),
        Command::Log {
            action: LogCmd::Show { n },
        } => vault_cmd::log_show(v, n),
        Command::Evidence {
            action: EvidenceCmd::Export { trace, out, html },
        } => vault_cmd::evidence_export(v, &trace, &out, html.as_deref()),
        Command::Evidence {
            action: EvidenceCmd::Verify { path, pubkey },
        } => vault_cmd::evidence_verify(&path, pubkey.as_deref()),
        Command::Keygen { keyfile } => mark::keygen(&keyfile).map(|()| 0),
        Command::Embed {
            key,
            payload,
            strength,
            bitrate,
            input,
            output,
        } => {
            let key = mark::read_key(&key)?;
            let payload = Payload::from_hex(&payload).context("--payload")?;
            let message = Message {
                payload,
                symbols: None,
            };
            let params = EmbedParams { strength };
            mark::embed(&key, &message, &params, bitrate, &input, &output).map(|()| 0)
        }
        Command::Detect {
            key,
            original,
            json,
            no_speed_search,
            input,
        } => {
            let key = mark::read_key(&key)?;
            let clip = mark::decode(&input)?;
            let report = match original {
                Some(path) => mark::informed_report(&clip, &mark::decode(&path)?, &key)?,
                None => mark::blind_report(&clip, &key, !no_speed_search)?,
            };
            mark::print_report(&report, json);
            Ok(0)
        }
        Command::Demo { out } => demo::run(out).map(|()| 0),
    }
}
