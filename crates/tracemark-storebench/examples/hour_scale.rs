//! Issue 15's long-recording figures: ingesting an hour of 16 kHz mono audio, issuing 5
//! copies of it, and tracing a 30 s MP3 64k clip of one, each step's time and peak memory,
//! against the same steps on a 60 s recording in the same process (the baseline).
//!
//! `cargo run --release -p tracemark-storebench --example hour_scale -- [MINUTES]`
//! (default 60). With `--write DIR` first, it writes the recording as 16-bit WAV and
//! FLAC (`DIR/meeting-MINUTESmin.wav`, `.flac`) and stops: the files for measuring the
//! CLI as a whole process (`/usr/bin/time -v tracemark ingest ...`, docs/benchmarks/scale.md).
//!
//! The recording: the corpus call (240 s of telephone speech, resampled to 16 kHz) and
//! then synthetic melody to the length asked (the corpus holds about six minutes of
//! distinct speech; repeating it would give the fingerprint several equally good places
//! for a clip). The clip is cut from the speech. Memory is the process's resident
//! high-water mark during the step (reset before it), beside what the process held when
//! the step began (the example's own copy of the signal and of the files).

mod common;

use common::{Step, mp3, step, vault, wav};
use tracemark_dsp::{AudioBuffer, SampleRate};
use tracemark_vault::{DEFAULT_BOUND, Delivery};

const RATE: u32 = 16_000;

fn recording(seconds: f64) -> AudioBuffer {
    let call = tracemark_testkit::corpus_or_excerpt("call-en-8k.flac", 240.0, (0.0, 60.0));
    let mut samples =
        tracemark_dsp::resample(&call.downmix(), call.rate().hz(), RATE).expect("resample");
    let want = (seconds * f64::from(RATE)) as usize;
    samples.truncate(want);
    if samples.len() < want {
        let rest = (want - samples.len()) as f64 / f64::from(RATE);
        samples.extend(common::melody(7, rest, RATE).downmix());
    }
    AudioBuffer::mono(SampleRate::try_new(RATE).expect("rate"), samples).expect("audio")
}

fn run(seconds: f64) -> Vec<Step> {
    let dir = tempfile::tempdir().expect("tmp");
    let mut v = vault(dir.path());
    let names: Vec<String> = (0..5).map(|i| format!("Delegate {i}")).collect();
    v.add_recipients(&names).expect("recipients");
    let file = wav(&recording(seconds));
    let mut steps = Vec::new();
    // The file handed over, as the CLI and the service hand theirs.
    let rec = step(&mut steps, "ingest", || {
        v.ingest_owned(file, "meeting.wav", "Meeting")
            .expect("ingest")
    });
    let mut leaked = Vec::new();
    let flac = Delivery::parse("flac").expect("flac");
    v.set_issue_threads(1);
    step(&mut steps, "issue 5 copies (flac), 1 thread", || {
        v.issue_each(rec.id.as_str(), &names, flac, |_, _, c| {
            if c.recipient.name == "Delegate 3" {
                leaked = c.bytes;
            }
            Ok(())
        })
        .expect("issue")
    });
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    v.set_issue_threads(threads);
    // The same copies again (marked and encoded again; nothing new is logged).
    step(&mut steps, "issue 5 copies (flac), every thread", || {
        v.issue_each(rec.id.as_str(), &names, flac, |_, _, c| {
            assert!(c.reissued);
            Ok(())
        })
        .expect("issue")
    });
    let clip = {
        let audio = tracemark_media::decode_bytes(&leaked, Some("flac"), &Default::default())
            .expect("decode");
        let r = RATE as usize;
        mp3(&audio.slice(20 * r, 50 * r), 64)
    };
    drop(leaked);
    let report = step(&mut steps, "trace a 30 s MP3 64k clip", || {
        v.trace(&clip, "clip.mp3", DEFAULT_BOUND).expect("trace")
    });
    let accused: Vec<&str> = report.accused().map(|s| s.name.as_str()).collect();
    assert_eq!(accused, vec!["Delegate 3"], "{}", report.verdict());
    steps
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let write_to = (args.first().map(String::as_str) == Some("--write")).then(|| {
        let dir = args.get(1).cloned().expect("--write DIR");
        args.drain(..2);
        dir
    });
    let minutes: f64 = args
        .first()
        .map(|a| a.parse().expect("MINUTES"))
        .unwrap_or(60.0);
    if let Some(dir) = write_to {
        let int16 = Some(tracemark_dsp::SampleFormat::Int { bits: 16 });
        let audio = recording(minutes * 60.0).with_source_format(int16);
        for format in [tracemark_media::Format::Wav, tracemark_media::Format::Flac] {
            let bytes =
                tracemark_media::encode_bytes(&audio, format, &Default::default()).expect("encode");
            let path = std::path::Path::new(&dir)
                .join(format!("meeting-{minutes}min.{}", format.extension()));
            std::fs::write(&path, bytes).expect("write");
            println!("{}", path.display());
        }
        return;
    }
    common::reset_peak();
    let base = run(60.0);
    let long = run(minutes * 60.0);
    println!(
        "| step | 60 s: time | {minutes} min: time | ratio | {minutes} min: peak RSS (held before the step) |"
    );
    println!("|---|---|---|---|---|");
    for (b, s) in base.iter().zip(&long) {
        println!(
            "| {} | {:.2} s | {:.2} s | {:.1}x | {:.0} MB ({:.0} MB) |",
            s.name,
            b.seconds,
            s.seconds,
            s.seconds / b.seconds,
            s.peak_mb,
            s.before_mb
        );
    }
}
