#![allow(missing_docs, clippy::unwrap_used)]
#[path = "../tests/common/mod.rs"]
mod common;
use tracemark_fingerprint::*;
fn main() {
    let call = common::load_8k("call-en-8k.flac").unwrap();
    let libri = common::load_8k("librivox-en-16k.flac").unwrap();
    let music = common::load_8k("music-8k-morning-coffee.flac").unwrap();
    let t = std::time::Instant::now();
    let fp = fingerprint(&call).unwrap();
    println!(
        "call fp {} peaks in {:?}, {:.1}/s",
        fp.peaks().len(),
        t.elapsed(),
        fp.peaks().len() as f64 / fp.duration_s()
    );
    let mut idx = Index::new();
    idx.add(1, fp).unwrap();
    idx.add(2, fingerprint(&libri).unwrap()).unwrap();
    idx.add(3, fingerprint(&music[..music.len() / 2]).unwrap())
        .unwrap();
    println!("hashes {}", idx.hash_count());
    let clip = common::cut(&call, 100.3, 110.3);
    for (name, x) in [
        ("plain", clip.clone()),
        ("noise20", common::add_noise(&clip, 20.0, 3)),
        (
            "speed+5",
            tracemark_dsp::stretch(&clip, 1.0 / 1.05).unwrap(),
        ),
        (
            "speed-10",
            tracemark_dsp::stretch(&clip, 1.0 / 0.9).unwrap(),
        ),
        (
            "speed+10",
            tracemark_dsp::stretch(&clip, 1.0 / 1.1).unwrap(),
        ),
        (
            "music2",
            music[music.len() / 2..music.len() / 2 + 80000].to_vec(),
        ),
        ("libri", libri[..80000].to_vec()),
    ] {
        let t = std::time::Instant::now();
        let c = idx.query(&fingerprint(&x).unwrap());
        println!("{name}: {:?}", t.elapsed());
        for c in c.iter().take(2) {
            println!("  {c:?} match={}", c.is_match());
        }
    }
}
