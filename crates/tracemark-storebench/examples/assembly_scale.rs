//! Issue 15 item 5's figure: issuing N copies of one recording, each marked on its own
//! against assembled from the recording's renderings (`tracemark_watermark::ab`), in the
//! same process and the same vault, alternated (alone, assembled, assembled, alone) so that
//! a drift of the machine's speed shows. The second issue of the same recipients renders
//! every copy again and the vault refuses any whose hash is not the one logged, so the two
//! ways are checked byte for byte as they run; the hashes are compared too.
//!
//! `cargo run --release -p tracemark-storebench --example assembly_scale -- [N] [FILE] [FORMAT]`
//! (default 64 copies of the corpus call, 60 s at 8 kHz, as `flac`), on the embedded default.

mod common;

use common::{Step, step, vault};
use tracemark_vault::{Delivery, VaultError};

/// Issues `names` their copies of `rec` in `format`, each into a temporary file; returns
/// each copy's hash by recipient name.
fn issue(
    v: &tracemark_vault::Vault,
    rec: &str,
    names: &[String],
    format: &str,
) -> Vec<(String, String)> {
    let mut hashes = Vec::new();
    v.issue_into(
        rec,
        names,
        Delivery::parse(format).expect("format"),
        |_, _| {
            tempfile::tempfile().map_err(|source| VaultError::Io {
                path: std::env::temp_dir(),
                source,
            })
        },
        |_, _, c| {
            hashes.push((c.recipient.name, c.issuance.copy_sha256.to_string()));
            Ok(())
        },
    )
    .expect("issue");
    hashes.sort();
    hashes
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).map_or(64, |a| a.parse().expect("N, a count"));
    let path = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| tracemark_testkit::excerpt_path().display().to_string());
    let format = args.get(3).map_or("flac", String::as_str);
    let bytes = std::fs::read(&path).expect("the recording");
    let dir = tempfile::tempdir().expect("tmp");
    let mut v = vault(dir.path());
    let names: Vec<String> = (0..n).map(|i| format!("Desk {i:05}")).collect();
    v.add_recipients(&names).expect("recipients");
    let file_name = std::path::Path::new(&path)
        .file_name()
        .map_or("recording.flac".into(), |f| {
            f.to_string_lossy().into_owned()
        });
    let rec = v.ingest(&bytes, &file_name, "Recording").expect("ingest");
    let mut steps: Vec<Step> = Vec::new();
    let mut seen: Option<Vec<(String, String)>> = None;
    for (assemble, label) in [
        (false, "each copy marked alone"),
        (true, "assembled from the renderings"),
        (true, "assembled from the renderings"),
        (false, "each copy marked alone"),
    ] {
        v.set_copy_assembly(assemble);
        let hashes = step(&mut steps, label, || {
            issue(&v, rec.id.as_str(), &names, format)
        });
        if let Some(first) = &seen {
            assert!(*first == hashes, "copies differ between the two ways");
        }
        seen = Some(hashes);
    }
    let alone = (steps[0].seconds + steps[3].seconds) / 2.0;
    let together = (steps[1].seconds + steps[2].seconds) / 2.0;
    println!(
        "{n} copies of {file_name} ({:.0} s at {} Hz), {format}, {} threads",
        rec.duration_s,
        rec.sample_rate,
        std::thread::available_parallelism().map_or(1, |t| t.get().min(8))
    );
    println!("| way | run 1 | run 2 | per copy | peak RSS |");
    println!("|---|---|---|---|---|");
    for (name, a, b) in [
        ("each copy marked alone", &steps[0], &steps[3]),
        ("assembled from the renderings", &steps[1], &steps[2]),
    ] {
        println!(
            "| {name} | {:.2} s | {:.2} s | {:.3} s | {:.0} MB |",
            a.seconds,
            b.seconds,
            (a.seconds + b.seconds) / 2.0 / n as f64,
            a.peak_mb.max(b.peak_mb)
        );
    }
    println!("speed-up: {:.2}x (same files, checked)", alone / together);
}
