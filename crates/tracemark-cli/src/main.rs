//! The `tracemark` command-line tool: key generation, marking, detection and the demo.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use serde_json::json;
use tracemark_dsp::AudioBuffer;
use tracemark_media::{
    EncodeOptions, Format, Limits, decode_bytes, decode_file, encode_bytes, encode_file,
};
use tracemark_watermark::{
    EmbedParams, Message, Payload, WatermarkKey, detect_blind, detect_informed, embed,
};

#[derive(Parser)]
#[command(
    name = "tracemark",
    version,
    about = "Forensic audio watermarking and leak attribution"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
        /// The audio to examine.
        input: PathBuf,
    },
    /// Mark a real call recording, attack it and detect the mark, all in a temporary
    /// directory.
    Demo,
}

fn main() {
    if let Err(e) = run(Cli::parse()) {
        eprintln!("tracemark: {e:#}");
        std::process::exit(2);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Keygen { keyfile } => keygen(&keyfile),
        Command::Embed {
            key,
            payload,
            strength,
            bitrate,
            input,
            output,
        } => {
            let key = read_key(&key)?;
            let payload = Payload::from_hex(&payload).context("--payload")?;
            let audio = decode(&input)?;
            let marked = embed(
                &audio,
                &key,
                &Message {
                    payload,
                    symbols: None,
                },
                &EmbedParams { strength },
            )
            .with_context(|| format!("marking {}", input.display()))?;
            write(&marked, &output, bitrate)
        }
        Command::Detect {
            key,
            original,
            json,
            input,
        } => {
            let key = read_key(&key)?;
            let clip = decode(&input)?;
            let report = match original {
                Some(path) => informed_report(&clip, &decode(&path)?, &key)?,
                None => blind_report(&clip, &key)?,
            };
            print_report(&report, json);
            Ok(())
        }
        Command::Demo => demo(),
    }
}

fn keygen(path: &Path) -> Result<()> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
    let key = WatermarkKey::from_bytes(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).with_context(|| {
        format!(
            "creating key file {} (it must not exist yet)",
            path.display()
        )
    })?;
    use std::io::Write;
    writeln!(file, "{}", key.to_hex()).with_context(|| format!("writing {}", path.display()))?;
    println!("wrote key {} to {}", key.id_hex(), path.display());
    Ok(())
}

fn read_key(path: &Path) -> Result<WatermarkKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading key file {}", path.display()))?;
    WatermarkKey::from_hex(&text).with_context(|| format!("key file {}", path.display()))
}

fn decode(path: &Path) -> Result<AudioBuffer> {
    Ok(decode_file(path, &Limits::default())?)
}

fn write(audio: &AudioBuffer, path: &Path, bitrate: Option<u32>) -> Result<()> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let Some(format) = Format::from_extension(ext) else {
        bail!(
            "cannot tell the output format of {}: use .wav, .flac, .mp3 or .opus",
            path.display()
        );
    };
    encode_file(
        audio,
        path,
        format,
        &EncodeOptions {
            bitrate_kbps: bitrate,
        },
    )?;
    Ok(())
}

fn blind_report(clip: &AudioBuffer, key: &WatermarkKey) -> Result<serde_json::Value> {
    let d = detect_blind(clip, key)?;
    Ok(json!({
        "mode": "blind",
        "detected": d.detected,
        "payload": d.payload.map(|p| p.to_hex()),
        "p_value": d.p_value,
        "z": d.z,
        "hypotheses": d.hypotheses,
        "block_offset_s": d.block_offset_s,
        "key_id": key.id_hex(),
    }))
}

fn informed_report(
    clip: &AudioBuffer,
    original: &AudioBuffer,
    key: &WatermarkKey,
) -> Result<serde_json::Value> {
    let d = detect_informed(clip, original, key)?;
    let covered = d.symbols.iter().filter(|s| s.cells > 0).count();
    Ok(json!({
        "mode": "informed",
        "detected": d.detected,
        "payload": d.payload.map(|p| p.to_hex()),
        "p_value": d.p_value,
        "z": d.z,
        "alignment": {
            "offset_s": d.alignment.offset_s,
            "scale": d.alignment.scale,
            "kind": format!("{:?}", d.alignment.kind).to_lowercase(),
            "score": d.alignment.score,
        },
        "slots_observed": covered,
        "key_id": key.id_hex(),
    }))
}

fn print_report(report: &serde_json::Value, json: bool) {
    if json {
        println!("{report}");
        return;
    }
    let detected = report["detected"].as_bool().unwrap_or(false);
    let p = report["p_value"].as_f64().unwrap_or(1.0);
    let mode = report["mode"].as_str().unwrap_or("");
    if detected {
        match report["payload"].as_str() {
            Some(payload) => {
                println!("{mode}: mark found, payload {payload} (false-alarm probability {p:.2e})")
            }
            None => println!(
                "{mode}: mark found but the payload did not decode (false-alarm probability {p:.2e})"
            ),
        }
    } else {
        println!(
            "{mode}: no mark of this key found (best false-alarm probability {p:.2e}, threshold 1e-9)"
        );
    }
}

/// Where the demo finds its recording: the committed excerpt, found from the binary's
/// build-time workspace location or the current directory.
fn demo_audio() -> Result<PathBuf> {
    let candidates = [
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../assets/call-en-8k-excerpt.flac"),
        PathBuf::from("assets/call-en-8k-excerpt.flac"),
    ];
    candidates.into_iter().find(|p| p.exists()).context(
        "the demo recording assets/call-en-8k-excerpt.flac is missing; run from the repository",
    )
}

fn demo() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("tracemark-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let source = demo_audio()?;
    let original = decode(&source)?;
    println!(
        "recording: {} ({:.0} s, {} Hz)",
        source.display(),
        original.duration_s(),
        original.rate().hz()
    );
    let key_path = dir.join("demo.key");
    keygen(&key_path)?;
    let key = read_key(&key_path)?;
    let payload = Payload::from_hex("7472616365000001")?;
    let marked = embed(
        &original,
        &key,
        &Message {
            payload,
            symbols: None,
        },
        &EmbedParams::default(),
    )?;
    let marked_path = dir.join("marked.flac");
    encode_file(
        &marked,
        &marked_path,
        Format::Flac,
        &EncodeOptions::default(),
    )?;
    println!(
        "marked copy: {} carrying payload {}",
        marked_path.display(),
        payload.to_hex()
    );

    let mp3 = decode_bytes(
        &encode_bytes(
            &marked,
            Format::Mp3,
            &EncodeOptions {
                bitrate_kbps: Some(64),
            },
        )?,
        Some("mp3"),
        &Limits::default(),
    )?;
    let rate = f64::from(mp3.rate().hz());
    let crop = mp3.slice((17.3 * rate) as usize, (27.3 * rate) as usize);
    let cases: [(&str, &AudioBuffer); 3] = [
        ("marked copy, whole", &marked),
        ("MP3 64 kbit/s, whole", &mp3),
        ("MP3 64 kbit/s, 10 s clip", &crop),
    ];
    for (name, clip) in cases {
        println!("\n== {name}");
        print_report(&blind_report(clip, &key)?, false);
        print_report(&informed_report(clip, &original, &key)?, false);
    }
    println!("\n== the unmarked original (must find nothing)");
    print_report(&blind_report(&original, &key)?, false);
    print_report(&informed_report(&original, &original, &key)?, false);
    println!("\nfiles are in {}", dir.display());
    Ok(())
}
