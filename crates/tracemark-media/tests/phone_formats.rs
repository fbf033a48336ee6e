//! The files phones, call recorders and browsers write, made by the real tools at test time
//! and decoded here against a reference decode by ffmpeg (`ffmpeg -i X -f f32le`).
//!
//! Tools may be missing on a developer's machine: a test then prints why it skipped, and fails
//! only when the `CI` environment variable is set (CI installs them: `.ci/install-tools.sh`).

use std::path::{Path, PathBuf};
use std::process::Command;

use tracemark_media::{AudioBuffer, Limits, decode_bytes, decode_file};

/// Whether `tool` runs; if not, fail under CI and skip (with a note) elsewhere.
fn have(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg(if tool == "sox" {
            "--version"
        } else {
            "-version"
        })
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} is missing under CI; .ci/install-tools.sh installs it"
        );
        eprintln!("note: skipped, {tool} is not installed");
    }
    ok
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("tool runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The committed 8 kHz speech excerpt, first `seconds`, as 16-bit WAV in `dir`.
fn speech_wav(dir: &Path, seconds: usize) -> PathBuf {
    let speech = tracemark_testkit::excerpt();
    let n = (8_000 * seconds).min(speech.frames());
    let cut = AudioBuffer::mono(speech.rate(), speech.channels()[0][..n].to_vec()).expect("cut");
    let path = dir.join("speech.wav");
    let bytes = tracemark_media::encode_wav(&cut, tracemark_media::WavSample::Int16).expect("wav");
    std::fs::write(&path, bytes).expect("write");
    path
}

/// `args` run through ffmpeg with the speech as input, writing `name` in `dir`.
fn ffmpeg_make(dir: &Path, seconds: usize, pre: &[&str], args: &[&str], name: &str) -> PathBuf {
    let src = speech_wav(dir, seconds);
    let out = dir.join(name);
    run(Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(pre)
        .arg("-i")
        .arg(&src)
        .args(args)
        .arg(&out));
    out
}

/// ffmpeg's decode of `path`: interleaved f32 at `rate` with `channels`. Opus goes through
/// libopus (`-c:a libopus`), the reference decoder: ffmpeg's native Opus decoder differs from
/// it by 26 dB SNR on a plain 440 Hz tone.
fn ffmpeg_reference(path: &Path, rate: u32, channels: usize) -> Vec<f32> {
    let is_opus = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "a:0",
            "-show_entries",
            "stream=codec_name",
        ])
        .args(["-of", "csv=p=0"])
        .arg(path)
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"opus"));
    let decoder: &[&str] = if is_opus { &["-c:a", "libopus"] } else { &[] };
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error"])
        .args(decoder)
        .arg("-i")
        .arg(path)
        .args(["-map", "0:a:0", "-f", "f32le", "-ac"])
        .arg(channels.to_string())
        .arg("-ar")
        .arg(rate.to_string())
        .arg("-")
        .output()
        .expect("ffmpeg runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// SNR in dB of our first channel against the reference's first channel, over the common
/// length.
fn snr_db(ours: &AudioBuffer, reference: &[f32], channels: usize) -> f64 {
    let r: Vec<f32> = reference.iter().step_by(channels).copied().collect();
    let a = &ours.channels()[0];
    let n = a.len().min(r.len());
    let (mut sig, mut err) = (0.0f64, 0.0f64);
    for (x, y) in a[..n].iter().zip(&r[..n]) {
        sig += f64::from(*y) * f64::from(*y);
        err += f64::from(x - y) * f64::from(x - y);
    }
    if err == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (sig / err).log10()
    }
}

/// Decodes `path` both ways and checks rate, channels, length within `frame_slack` frames of
/// ffmpeg's, and SNR at least `min_snr`; returns the SNR.
fn check_against_ffmpeg(
    path: &Path,
    rate: u32,
    channels: usize,
    min_snr: f64,
    frame_slack: usize,
) -> f64 {
    let ours = decode_file(path, &Limits::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ours.rate().hz(), rate, "{}: rate", path.display());
    assert_eq!(
        ours.channel_count(),
        channels,
        "{}: channels",
        path.display()
    );
    let reference = ffmpeg_reference(path, rate, channels);
    let ref_frames = reference.len() / channels;
    assert!(
        ours.frames().abs_diff(ref_frames) <= frame_slack,
        "{}: {} frames, ffmpeg {ref_frames}",
        path.display(),
        ours.frames()
    );
    let snr = snr_db(&ours, &reference, channels);
    eprintln!(
        "{}: {} Hz x{channels}, {} frames (ffmpeg {ref_frames}), SNR vs ffmpeg {snr:.1} dB",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("?"),
        rate,
        ours.frames()
    );
    assert!(
        snr >= min_snr,
        "{}: SNR {snr:.1} dB < {min_snr}",
        path.display()
    );
    // By content, not by extension.
    let bytes = std::fs::read(path).expect("read");
    let unhinted = decode_bytes(&bytes, Some("txt"), &Limits::default()).expect("by content");
    assert_eq!(unhinted, ours);
    snr
}

/// Truncations and bit flips of `bytes` give typed errors or audio, never a panic (a panic
/// inside a dependency would surface as a Corrupt error naming it; that counts as a failure).
fn assert_hostile_variants_do_not_panic(bytes: &[u8]) {
    let check = |b: &[u8], what: &str| {
        if let Err(e) = decode_bytes(b, None, &Limits::default()) {
            let msg = e.to_string();
            assert!(!msg.contains("panicked"), "{what}: {msg}");
        }
    };
    for cut in [1, 7, 12, 40, 100, 333, bytes.len() / 2, bytes.len() - 1] {
        if cut < bytes.len() {
            check(&bytes[..cut], &format!("cut at {cut}"));
        }
    }
    let mut flipped = bytes.to_vec();
    for i in (0..bytes.len()).step_by(bytes.len() / 97 + 1) {
        flipped[i] ^= 1 << (i % 8);
        check(&flipped, &format!("flip at {i}"));
        flipped[i] ^= 1 << (i % 8);
    }
}

#[test]
fn wav_alaw_and_mulaw_decode_sample_exact_against_ffmpeg() {
    if !have("ffmpeg") {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    for codec in ["pcm_alaw", "pcm_mulaw"] {
        let p = ffmpeg_make(
            dir.path(),
            10,
            &[],
            &["-c:a", codec],
            &format!("{codec}.wav"),
        );
        let snr = check_against_ffmpeg(&p, 8_000, 1, 200.0, 0);
        assert!(snr.is_infinite(), "{codec}: not sample-exact ({snr} dB)");
        assert_hostile_variants_do_not_panic(&std::fs::read(&p).expect("read"));
    }
}

#[test]
fn wav_ima_adpcm_decodes_sample_exact_against_ffmpeg() {
    if !have("ffmpeg") {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let p = ffmpeg_make(dir.path(), 10, &[], &["-c:a", "adpcm_ima_wav"], "ima.wav");
    // ffmpeg pads the last block; both decoders emit whole blocks.
    check_against_ffmpeg(&p, 8_000, 1, 90.0, 0);
    assert_hostile_variants_do_not_panic(&std::fs::read(&p).expect("read"));
}

#[test]
fn vorbis_in_webm_decodes_like_ffmpeg() {
    if !have("ffmpeg") {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let p = ffmpeg_make(
        dir.path(),
        10,
        &[],
        &["-ar", "16000", "-c:a", "libvorbis", "-q:a", "4"],
        "v.webm",
    );
    check_against_ffmpeg(&p, 16_000, 1, 60.0, 0);
    assert_hostile_variants_do_not_panic(&std::fs::read(&p).expect("read"));
    // Written live (unknown-size segment and clusters): the end of input is the end.
    let live = [
        "-ar",
        "16000",
        "-c:a",
        "libvorbis",
        "-f",
        "webm",
        "-live",
        "1",
    ];
    let p = ffmpeg_make(dir.path(), 10, &[], &live, "live.webm");
    check_against_ffmpeg(&p, 16_000, 1, 60.0, 0);
}

/// The lag (our frames dropped from the front) in `0..=max_lag` that best aligns our first
/// channel with the reference's, and the SNR there.
fn best_lag_snr(
    ours: &AudioBuffer,
    reference: &[f32],
    channels: usize,
    max_lag: usize,
) -> (usize, f64) {
    (0..=max_lag)
        .map(|lag| {
            let a = &ours.channels()[0][lag.min(ours.frames())..];
            let cut = AudioBuffer::mono(ours.rate(), a.to_vec()).expect("cut");
            (lag, snr_db(&cut, reference, channels))
        })
        .fold((0, f64::MIN), |best, x| if x.1 > best.1 { x } else { best })
}

#[test]
fn aac_audio_track_of_mp4_mov_and_mkv_video_decodes_like_ffmpeg() {
    if !have("ffmpeg") {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let video = [
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=64x48:rate=10:duration=10",
    ];
    for name in ["clip.mp4", "clip.mov", "clip.mkv"] {
        // The video is stream 0: the audio track is not the first track.
        let args = [
            "-map", "0:v", "-map", "1:a", "-c:v", "mpeg4", "-ar", "16000", "-c:a", "aac",
        ];
        let p = ffmpeg_make(dir.path(), 10, &video, &args, name);
        // MP4/MOV: the edit list's 1024 priming samples are skipped as ffmpeg does, and its
        // duration cuts the encoder's tail padding, which ffmpeg keeps (768 frames here), so
        // the source's 10 s come back exactly. ffmpeg's Matroska muxer writes no CodecDelay
        // for AAC, and neither decoder trims there.
        check_against_ffmpeg(&p, 16_000, 1, 30.0, 1024);
        // The same through the streaming file path and the in-memory one.
        let ours = decode_file(&p, &Limits::default()).expect("file");
        let reference = ffmpeg_reference(&p, 16_000, 1);
        let (lag, _) = best_lag_snr(&ours, &reference, 1, 2048);
        assert_eq!(lag, 0, "{name}: misaligned by {lag} frames");
        if !name.ends_with("mkv") {
            assert_eq!(ours.frames(), 160_000, "{name}: the source's length");
        }
        assert_hostile_variants_do_not_panic(&std::fs::read(&p).expect("read"));
    }
}

#[test]
fn opus_in_webm_and_in_mkv_video_decodes_like_libopus() {
    if !have("ffmpeg") {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    // What MediaRecorder writes: 48 kHz Opus in WebM; and Opus beside a video track in MKV.
    let opus = ["-ar", "48000", "-c:a", "libopus", "-b:a", "32k"];
    let p = ffmpeg_make(dir.path(), 10, &[], &opus, "rec.webm");
    // DiscardPadding is not applied (see src/opus_demuxed.rs): up to one 20 ms packet more.
    check_against_ffmpeg(&p, 48_000, 1, 30.0, 960);
    assert_hostile_variants_do_not_panic(&std::fs::read(&p).expect("read"));
    // A live recording's WebM: unknown-size segment and clusters, no cues, no duration.
    let mut live = opus.to_vec();
    live.extend_from_slice(&["-f", "webm", "-live", "1"]);
    let p = ffmpeg_make(dir.path(), 10, &[], &live, "live.webm");
    check_against_ffmpeg(&p, 48_000, 1, 30.0, 960);
    let video = [
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=64x48:rate=10:duration=10",
    ];
    let mut args = vec!["-map", "0:v", "-map", "1:a", "-c:v", "libvpx", "-ac", "2"];
    args.extend_from_slice(&opus);
    let p = ffmpeg_make(dir.path(), 10, &video, &args, "clip.mkv");
    check_against_ffmpeg(&p, 48_000, 2, 30.0, 960);
}

#[test]
fn gsm_610_wav_decodes_sample_exact_against_ffmpeg() {
    if !have("ffmpeg") {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let p = ffmpeg_make(dir.path(), 10, &[], &["-c:a", "libgsm_ms"], "gsm.wav");
    let snr = check_against_ffmpeg(&p, 8_000, 1, 30.0, 320);
    assert!(snr.is_infinite(), "not sample-exact: {snr:.1} dB");
    assert_hostile_variants_do_not_panic(&std::fs::read(&p).expect("read"));
}

/// sox's decode of `path` (through libopencore-amr, the 3GPP reference decoders' port) as f32.
fn sox_reference(path: &Path) -> Vec<f32> {
    let out = Command::new("sox")
        .arg(path)
        .args(["-t", "f32", "-"])
        .output()
        .expect("sox runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

#[test]
fn amr_nb_files_decode_like_the_reference_decoder() {
    if !have("sox") {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let src = speech_wav(dir.path(), 10);
    // sox -C picks the mode by index: 0 = 4.75 and 7 = 12.2 kbit/s. AMR-WB is not covered:
    // neither sox nor ffmpeg here can encode it (no libvo-amrwbenc).
    for (kind, rate, mode) in [("amr-nb", 8_000, "0"), ("amr-nb", 8_000, "7")] {
        let out = dir.path().join(format!("{kind}-{mode}.amr"));
        run(Command::new("sox")
            .arg(&src)
            .args(["-r", &rate.to_string(), "-t", kind, "-C", mode])
            .arg(&out));
        let bytes = std::fs::read(&out).expect("read");
        // ffmpeg's native AMR decoders skip DTX frames (SID, NO_DATA), so sox, which decodes
        // through libopencore-amr, is the reference here.
        let ours = decode_bytes(&bytes, None, &Limits::default()).unwrap_or_else(|e| panic!("{e}"));
        let reference = sox_reference(&out);
        assert_eq!(ours.rate().hz(), rate, "{kind} {mode}");
        assert_eq!(ours.frames(), reference.len(), "{kind} {mode}: frames");
        let snr = snr_db(&ours, &reference, 1);
        eprintln!(
            "{kind} mode {mode}: {} frames (sox {}), SNR vs sox {snr:.1} dB",
            ours.frames(),
            reference.len()
        );
        assert!(snr >= 30.0, "{kind} {mode}: SNR {snr:.1} dB");
        assert_hostile_variants_do_not_panic(&bytes);
    }
}

#[test]
fn amr_in_3gp_decodes_like_the_same_frames_in_an_amr_file() {
    if !have("sox") || !have("ffmpeg") {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let src = speech_wav(dir.path(), 10);
    let amr = dir.path().join("a.amr");
    run(Command::new("sox")
        .arg(&src)
        .args(["-t", "amr-nb", "-C", "7"])
        .arg(&amr));
    let gp = dir.path().join("a.3gp");
    run(Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-i"])
        .arg(&amr)
        .args(["-c:a", "copy"])
        .arg(&gp));
    let from_amr = decode_file(&amr, &Limits::default()).expect("amr");
    let from_3gp = decode_file(&gp, &Limits::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(from_3gp, from_amr);
    assert_eq!(from_3gp.frames(), 80_000);
    assert_hostile_variants_do_not_panic(&std::fs::read(&gp).expect("read"));
}
