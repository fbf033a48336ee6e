#![allow(missing_docs, clippy::unwrap_used)]
#[path = "../tests/common/mod.rs"]
mod common;
use tracemark_fingerprint::*;
fn main() {
    let call = common::load_8k("call-en-8k.flac").unwrap();
    let libri = common::load_8k("librivox-en-16k.flac").unwrap();
    let music = common::load_8k("music-8k-morning-coffee.flac").unwrap();
    auth(&call, &libri);
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
fn auth(call: &[f32], libri: &[f32]) {
    let orig = fingerprint(call).unwrap();
    let mut ins = common::cut(call, 50.0, 58.0);
    ins.extend(common::cut(libri, 3.0, 8.0));
    ins.extend(common::cut(call, 58.0, 65.0));
    let mut cutc = common::cut(call, 120.0, 130.0);
    cutc.extend(common::cut(call, 134.0, 144.0));
    for (name, x) in [
        ("insert 8..13", ins.clone()),
        ("cut at 10 (orig 130..134)", cutc.clone()),
        (
            "insert noisy speed1.07 8/1.07..13/1.07",
            tracemark_dsp::stretch(&common::add_noise(&ins, 20.0, 5), 1.0 / 1.07).unwrap(),
        ),
        (
            "cut speed 0.92",
            tracemark_dsp::stretch(&cutc, 1.0 / 0.92).unwrap(),
        ),
    ] {
        let t = std::time::Instant::now();
        let m = authenticity_map(&orig, &fingerprint(&x).unwrap(), &MapOptions::default());
        println!("{name}: {:?} speed {:?}", t.elapsed(), m.speed);
        for s in &m.segments {
            println!(
                "  {:?} {:.2}-{:.2} {:?} {}",
                s.status, s.leak_start_s, s.leak_end_s, s.original, s.hashes
            );
        }
        println!("  missing {:?}", m.missing);
    }
}
