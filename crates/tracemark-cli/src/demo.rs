//! `tracemark demo`: the whole product on a real recorded call, in a temporary vault.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use tracemark_dsp::{AudioBuffer, resample};
use tracemark_media::{EncodeOptions, Format, Limits, decode_bytes, decode_file, encode_bytes};
use tracemark_vault::{Delivery, TraceReport};

const RECIPIENTS: [&str; 8] = [
    "Envoy office",
    "Aide office",
    "Interpreter",
    "Note-taker",
    "Security officer",
    "Legal counsel",
    "Press office",
    "Archive",
];

/// The committed demo recording, found from the build-time workspace or the current
/// directory.
fn demo_audio() -> Result<PathBuf> {
    [
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../assets/call-en-8k-excerpt.flac"),
        PathBuf::from("assets/call-en-8k-excerpt.flac"),
    ]
    .into_iter()
    .find(|p| p.exists())
    .context(
        "the demo recording assets/call-en-8k-excerpt.flac is missing; run from the repository",
    )
}

/// Six seconds of foreign speech: LibriVox from the shared corpus when present, else a
/// synthetic voiced signal (a 120 Hz glottal pulse train through moving formants).
fn foreign_speech(rate: u32) -> Result<Vec<f32>> {
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/librivox-en-16k.flac");
    if let Ok(audio) = decode_file(&corpus, &Limits::default()) {
        let start = audio.rate().hz() as usize * 2;
        let end = start + audio.rate().hz() as usize * 6;
        return Ok(resample(
            &audio.downmix()[start..end.min(audio.frames())],
            audio.rate().hz(),
            rate,
        )?);
    }
    let n = rate as usize * 6;
    let mut y = [0.0f32; 2];
    Ok((0..n)
        .map(|i| {
            let t = i as f32 / rate as f32;
            let pulse = if i % (rate as usize / 120) == 0 {
                1.0
            } else {
                0.0
            };
            let f = 500.0 + 300.0 * (t * 3.0).sin();
            let r = 0.97f32;
            let w = 2.0 * std::f32::consts::PI * f / rate as f32;
            let out = pulse + 2.0 * r * w.cos() * y[0] - r * r * y[1];
            y = [out, y[0]];
            out * 0.02 * (0.6 + 0.4 * (t * 4.0).sin())
        })
        .collect())
}

fn decode(bytes: &[u8], ext: &str) -> Result<AudioBuffer> {
    Ok(decode_bytes(bytes, Some(ext), &Limits::default())?)
}

fn encode(audio: &AudioBuffer, format: Format, kbps: Option<u32>) -> Result<Vec<u8>> {
    Ok(encode_bytes(
        audio,
        format,
        &EncodeOptions { bitrate_kbps: kbps },
    )?)
}

fn mono(rate: &AudioBuffer, samples: Vec<f32>) -> Result<AudioBuffer> {
    Ok(AudioBuffer::mono(rate.rate(), samples)?)
}

pub fn run(out: Option<PathBuf>) -> Result<()> {
    let started = std::time::Instant::now();
    let out = out.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("tracemark-demo-{}", std::process::id()))
    });
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let vault_dir = out.join("vault");
    if vault_dir.exists() {
        anyhow::bail!(
            "{} already holds a demo vault; pass another --out",
            vault_dir.display()
        );
    }
    let vault = tracemark_backends::Location::embedded(&vault_dir).init()?;
    let source = demo_audio()?;
    let bytes = std::fs::read(&source).with_context(|| format!("reading {}", source.display()))?;
    let rec = vault.ingest(
        &bytes,
        "call.flac",
        "Call between envoy and aide (demo excerpt)",
    )?;
    println!(
        "ingested {} \"{}\" ({:.0} s, {} Hz)",
        rec.id, rec.title, rec.duration_s, rec.sample_rate
    );
    for name in RECIPIENTS {
        vault.add_recipient(name, None)?;
    }
    let names: Vec<String> = RECIPIENTS.iter().map(|s| s.to_string()).collect();
    let copies = vault.issue(
        rec.id.as_str(),
        &names,
        Delivery::of(Format::Flac),
        |_, _| {},
    )?;
    let copy_dir = out.join("copies");
    std::fs::create_dir_all(&copy_dir)?;
    for c in &copies {
        std::fs::write(
            copy_dir.join(format!(
                "{}.flac",
                crate::vault_cmd::safe_file_name(&c.recipient.name)
            )),
            &c.bytes,
        )?;
    }
    println!(
        "issued {} marked copies to {}",
        copies.len(),
        copy_dir.display()
    );

    let copy = |i: usize| decode(&copies[i].bytes, "flac");
    let rate = copy(0)?.rate().hz() as usize;
    let leaks_dir = out.join("leaks");
    std::fs::create_dir_all(&leaks_dir)?;

    // 1. The interpreter's copy, re-encoded as MP3 64 kbit/s and cut to 20 s.
    let interp = copy(2)?;
    let leak1 = encode(&interp.slice(15 * rate, 35 * rate), Format::Mp3, Some(64))?;
    // 2. The note-taker's and the press office's copies averaged, then Opus 16 kbit/s.
    let (a, b) = (copy(3)?, copy(6)?);
    let avg: Vec<f32> = a.channels()[0]
        .iter()
        .zip(&b.channels()[0])
        .map(|(x, y)| 0.5 * (x + y))
        .collect();
    let leak2 = encode(&mono(&a, avg)?, Format::Opus, Some(16))?;
    // 3. The legal counsel's copy with 6 s of foreign speech spliced in at 25 s.
    let counsel = copy(5)?;
    let mut spliced = counsel.channels()[0][..25 * rate].to_vec();
    spliced.extend(foreign_speech(rate as u32)?);
    spliced.extend_from_slice(&counsel.channels()[0][25 * rate..]);
    let leak3 = encode(&mono(&counsel, spliced)?, Format::Flac, None)?;

    let cases = [
        (
            "leak1-mp3-64k-20s.mp3",
            leak1,
            "one copy, MP3 64 kbit/s, cut to 20 s (source: Interpreter)",
        ),
        (
            "leak2-averaged-opus-16k.opus",
            leak2,
            "two copies averaged, Opus 16 kbit/s (sources: Note-taker, Press office)",
        ),
        (
            "leak3-spliced.flac",
            leak3,
            "one copy with 6 s of foreign speech at 25-31 s (source: Legal counsel)",
        ),
    ];
    for (file, leak, what) in cases {
        let path = leaks_dir.join(file);
        std::fs::write(&path, &leak)?;
        let report = vault.trace(&leak, file, tracemark_vault::DEFAULT_BOUND)?;
        let html_path = out.join(format!("{}.html", report.id));
        std::fs::write(
            &html_path,
            tracemark_report::render_html(&report, &vault.verifier_key().to_string()),
        )?;
        print_trace(&report, what, &path, &html_path);
    }
    let check = vault.verify_log()?;
    println!(
        "\nlog verified: {} entries, {} signed checkpoints; everything is in {} ({:.1} s)",
        check.entries,
        check.checkpoints,
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn print_trace(r: &TraceReport, what: &str, leak: &Path, html: &Path) {
    println!("\n== {what}\n   {}\n   {}", leak.display(), r.verdict());
    for s in &r.segments {
        match s.original {
            Some((a, b)) => println!(
                "   leak {:>6.2}-{:>6.2} s genuine, original {a:.2}-{b:.2} s",
                s.leak_start_s, s.leak_end_s
            ),
            None => println!(
                "   leak {:>6.2}-{:>6.2} s UNMATCHED",
                s.leak_start_s, s.leak_end_s
            ),
        }
    }
    for (a, b) in &r.missing {
        println!("   original {a:.2}-{b:.2} s missing from the leak");
    }
    println!("   report: {}", html.display());
}
