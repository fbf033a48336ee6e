//! Times `Vault::trace` of a 60 s MP3 64k clip against many issued copies, for profiling.
//!
//! `cargo run --release -p tracemark-backends --example trace_speed -- VAULT_DIR CALL.flac [N] [REPS]`
//! creates the vault in VAULT_DIR on first use (N copies of the first 120 s, WAV), then
//! traces the same clip REPS times and prints the wall time of each trace.

use std::path::PathBuf;
use std::time::Instant;

use tracemark_backends::Location;
use tracemark_media::{EncodeOptions, Format, Limits, decode_bytes, decode_file, encode_bytes};
use tracemark_vault::Delivery;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        return Err("usage: trace_speed VAULT_DIR CALL.flac [N] [REPS]".into());
    }
    let dir = PathBuf::from(&args[1]);
    let n: usize = args.get(3).map_or(Ok(1000), |s| s.parse())?;
    let reps: usize = args.get(4).map_or(Ok(5), |s| s.parse())?;
    let wav = Delivery::of(Format::Wav);
    let fresh = !dir.join("vault.db").exists();
    let here = Location::embedded(&dir);
    let vault = if fresh {
        std::fs::create_dir_all(&dir)?;
        let v = here.init()?;
        let call = decode_file(args[2].as_ref(), &Limits::default())?;
        let rate = call.rate().hz() as usize;
        let original = call.slice(0, 120 * rate);
        let flac = encode_bytes(&original, Format::Flac, &EncodeOptions::default())?;
        let rec = v.ingest(&flac, "call.flac", "call, first 120 s")?;
        let names: Vec<String> = (0..n).map(|i| format!("r{i:04}")).collect();
        for name in &names {
            v.add_recipient(name, None)?;
        }
        let t = Instant::now();
        for batch in names.chunks(50) {
            v.issue(rec.id.as_str(), batch, wav, |_, _| {})?;
        }
        eprintln!("issued {n} copies in {:.1} s", t.elapsed().as_secs_f64());
        v
    } else {
        here.open()?
    };
    let rec = vault.recordings()?.remove(0);
    let copy = vault.issue(rec.id.as_str(), &["r0007".to_string()], wav, |_, _| {})?;
    let audio = decode_bytes(&copy[0].bytes, Some("wav"), &Limits::default())?;
    let rate = audio.rate().hz() as usize;
    let clip = audio.slice(30 * rate, 90 * rate);
    let opts = EncodeOptions {
        bitrate_kbps: Some(64),
    };
    let mp3 = encode_bytes(&clip, Format::Mp3, &opts)?;
    for _ in 0..reps {
        let t = Instant::now();
        let report = vault.trace(&mp3, "leak.mp3", 1e-6)?;
        println!(
            "trace {:.3} s: {}",
            t.elapsed().as_secs_f64(),
            report.verdict()
        );
    }
    Ok(())
}
