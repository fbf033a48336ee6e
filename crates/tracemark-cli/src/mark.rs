//! The engine-level commands: keygen, embed, detect.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::json;
use tracemark_dsp::AudioBuffer;
use tracemark_media::{EncodeOptions, Format, Limits, decode_file, encode_file};
use tracemark_watermark::{WatermarkKey, detect_blind, detect_informed};

pub(crate) fn keygen(path: &Path) -> Result<()> {
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

pub(crate) fn read_key(path: &Path) -> Result<WatermarkKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading key file {}", path.display()))?;
    WatermarkKey::from_hex(&text).with_context(|| format!("key file {}", path.display()))
}

pub(crate) fn decode(path: &Path) -> Result<AudioBuffer> {
    Ok(decode_file(path, &Limits::default())?)
}

pub(crate) fn write(audio: &AudioBuffer, path: &Path, bitrate: Option<u32>) -> Result<()> {
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

pub(crate) fn blind_report(clip: &AudioBuffer, key: &WatermarkKey) -> Result<serde_json::Value> {
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

pub(crate) fn informed_report(
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

pub(crate) fn print_report(report: &serde_json::Value, json: bool) {
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
