//! Lab probe for issue 14 item 1: does a slow, keyed modulation of band energies (the
//! spectral envelope, which speech codecs keep) survive the low-rate speech codecs that
//! remove today's mark, and at what cost in quality?
//!
//! Not the product: a measurement. It marks a stretch of speech at 8 kHz by scaling the
//! STFT magnitudes of 6 bands across 300-3400 Hz by `10^(+-depth/20)` per slot (keyed
//! signs), sends marked and unmarked copies through real codec tools (sox, ffmpeg), and
//! reads the mark with the original: per (band, slot) cell the log energy ratio of clip to
//! original, minus its band's mean and its slot's mean, correlated with the signs
//! (`z = sum s r / sqrt(sum r^2)`). Alongside: the current mark's informed z through the
//! same codec, and the envelope mark's SNR and PESQ (P.862, narrow band).
//!
//! `cargo run --release -p tracemark-watermark --example envelope_probe -- FILE START_S LEN_S DEPTH_DB SLOT_MS`

use std::path::Path;
use std::process::Command;

use tracemark_dsp::{AudioBuffer, SampleRate, Stft, resample};
use tracemark_media::{EncodeOptions, Format, Limits, decode_file, encode_bytes};
use tracemark_watermark::{EmbedParams, Message, Payload, WatermarkKey, detect_informed, embed};

/// Band edges in Hz: six bands over the telephone band (ITU-T G.712).
const EDGES: [f64; 7] = [300.0, 700.0, 1_100.0, 1_600.0, 2_200.0, 2_800.0, 3_400.0];
const RATE: u32 = 8_000;
const FRAME: usize = 320;

fn signs(bands: usize, slots: usize) -> Vec<f32> {
    let mut s = 0x2545_f491u32;
    (0..bands * slots)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            if s & 1 == 1 { 1.0 } else { -1.0 }
        })
        .collect()
}

fn band_of(bin: usize) -> Option<usize> {
    let hz = bin as f64 * f64::from(RATE) / FRAME as f64;
    EDGES.windows(2).position(|w| hz >= w[0] && hz < w[1])
}

fn mark_envelope(x: &[f32], depth_db: f32, slot: usize, signs: &[f32]) -> Vec<f32> {
    let stft = Stft::new(FRAME);
    let hop = stft.hop();
    let mut scratch = stft.scratch();
    let mut out = vec![0.0f32; x.len()];
    let bands = EDGES.len() - 1;
    let mut start = -(hop as isize);
    while start < x.len() as isize {
        let centre = (start + FRAME as isize / 2).max(0) as usize;
        let s = centre / slot;
        let spec = stft.analyze(x, start, &mut scratch);
        for (bin, c) in spec.iter_mut().enumerate() {
            if let Some(b) = band_of(bin) {
                let sign = signs.get(s * bands + b).copied().unwrap_or(0.0);
                *c *= 10f32.powf(sign * depth_db / 20.0);
            }
        }
        let mut spec = spec.to_vec();
        stft.synthesize_add(&mut spec, start, &mut out, &mut scratch);
        start += hop as isize;
    }
    out
}

/// Per (slot, band) energies of `x`.
fn cell_energies(x: &[f32], slot: usize, slots: usize) -> Vec<f64> {
    let stft = Stft::new(FRAME);
    let hop = stft.hop();
    let mut scratch = stft.scratch();
    let bands = EDGES.len() - 1;
    let mut e = vec![0.0f64; slots * bands];
    let mut start = 0usize;
    while start + FRAME <= x.len() {
        let s = (start + FRAME / 2) / slot;
        if s >= slots {
            break;
        }
        let spec = stft.analyze(x, start as isize, &mut scratch);
        for (bin, c) in spec.iter().enumerate() {
            if let Some(b) = band_of(bin) {
                e[s * bands + b] += f64::from(c.norm_sqr());
            }
        }
        start += hop;
    }
    e
}

fn envelope_z(clip: &[f32], orig: &[f32], slot: usize, signs: &[f32]) -> (f64, usize) {
    let bands = EDGES.len() - 1;
    let slots = orig.len().min(clip.len()) / slot;
    let (ec, eo) = (
        cell_energies(clip, slot, slots),
        cell_energies(orig, slot, slots),
    );
    // Silence gate: slots whose band energy is 40 dB under the 95th percentile slot.
    let mut totals: Vec<f64> = (0..slots)
        .map(|s| eo[s * bands..(s + 1) * bands].iter().sum())
        .collect();
    let mut sorted = totals.clone();
    sorted.sort_by(f64::total_cmp);
    let loud = sorted
        .get((sorted.len() as f64 * 0.95) as usize)
        .copied()
        .unwrap_or(0.0);
    for t in &mut totals {
        *t = if *t > loud * 1e-4 { 1.0 } else { 0.0 };
    }
    let mut r: Vec<f64> = (0..slots * bands)
        .map(|i| {
            if totals[i / bands] > 0.0 && ec[i] > 0.0 && eo[i] > 0.0 {
                0.5 * (ec[i] / eo[i]).ln()
            } else {
                f64::NAN
            }
        })
        .collect();
    // Remove each band's mean (the codec's tilt), then each slot's mean (gain changes).
    for b in 0..bands {
        let v: Vec<f64> = (0..slots)
            .map(|s| r[s * bands + b])
            .filter(|v| v.is_finite())
            .collect();
        let m = v.iter().sum::<f64>() / v.len().max(1) as f64;
        for s in 0..slots {
            r[s * bands + b] -= m;
        }
    }
    for s in 0..slots {
        let row = &mut r[s * bands..(s + 1) * bands];
        let v: Vec<f64> = row.iter().copied().filter(|v| v.is_finite()).collect();
        let m = v.iter().sum::<f64>() / v.len().max(1) as f64;
        for x in row.iter_mut() {
            *x -= m;
        }
    }
    let (mut t, mut e, mut n) = (0.0, 0.0, 0);
    for (i, v) in r.iter().enumerate() {
        if v.is_finite() {
            t += f64::from(signs[i]) * v;
            e += v * v;
            n += 1;
        }
    }
    (if e > 0.0 { t / e.sqrt() } else { 0.0 }, n)
}

fn through(codec: &str, x: &[f32]) -> Vec<f32> {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = |n: &str| dir.path().join(n);
    let audio =
        AudioBuffer::mono(SampleRate::try_new(RATE).expect("rate"), x.to_vec()).expect("audio");
    let wav = encode_bytes(&audio, Format::Wav, &EncodeOptions::default()).expect("wav");
    std::fs::write(p("in.wav"), wav).expect("write");
    let run = |prog: &str, args: &[&str]| {
        let ok = Command::new(prog)
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect(prog)
            .status
            .success();
        assert!(ok, "{prog} {args:?}");
    };
    let ff = |args: &[&str]| {
        let mut a = vec!["-hide_banner", "-loglevel", "error", "-y"];
        a.extend_from_slice(args);
        run("ffmpeg", &a);
    };
    match codec {
        "none" => ff(&["-i", "in.wav", "out.wav"]),
        "opus6" | "opus8" | "opus12" => {
            // Opus in its SILK layer, as the attack suite runs it (20 ms frames).
            let rate = &codec[4..];
            run(
                "opusenc",
                &[
                    "--quiet",
                    "--bitrate",
                    rate,
                    "--framesize",
                    "20",
                    "in.wav",
                    "o.opus",
                ],
            );
            run(
                "opusdec",
                &["--quiet", "--rate", "8000", "o.opus", "out.wav"],
            );
        }
        "amr475" => {
            run("sox", &["in.wav", "-C", "0", "o.amr-nb"]);
            run(
                "sox",
                &["o.amr-nb", "-e", "signed-integer", "-b", "16", "out.wav"],
            );
        }
        "codec2" => {
            run(
                "sox",
                &["in.wav", "-t", "raw", "-e", "signed", "-b", "16", "in.raw"],
            );
            run("c2enc", &["3200", "in.raw", "o.c2"]);
            run("c2dec", &["3200", "o.c2", "o.raw"]);
            run(
                "sox",
                &[
                    "-t", "raw", "-r", "8000", "-e", "signed", "-b", "16", "-c", "1", "o.raw",
                    "out.wav",
                ],
            );
        }
        "gsm" => {
            ff(&["-i", "in.wav", "-c:a", "libgsm", "o.gsm"]);
            ff(&["-i", "o.gsm", "-ar", "8000", "out.wav"]);
        }
        other => panic!("unknown codec {other}"),
    }
    let out = decode_file(&p("out.wav"), &Limits::default()).expect("decode");
    resample(&out.downmix(), out.rate().hz(), RATE).expect("resample")
}

fn snr_db(x: &[f32], y: &[f32]) -> f64 {
    let s: f64 = x.iter().map(|v| f64::from(v * v)).sum();
    let n: f64 = x
        .iter()
        .zip(y)
        .map(|(a, b)| f64::from((a - b) * (a - b)))
        .sum();
    10.0 * (s / n.max(1e-30)).log10()
}

fn pcm16(x: &[f32]) -> Vec<i16> {
    x.iter()
        .map(|&s| (s * 32_767.0).round().clamp(-32_768.0, 32_767.0) as i16)
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let audio = decode_file(Path::new(&args[1]), &Limits::default()).expect("decode");
    let start: f64 = args[2].parse().expect("start");
    let len: f64 = args[3].parse().expect("len");
    let depth: f32 = args[4].parse().expect("depth dB");
    let slot_ms: f64 = args[5].parse().expect("slot ms");
    let codecs: Vec<&str> = args[6..].iter().map(String::as_str).collect();
    let mono = resample(&audio.downmix(), audio.rate().hz(), RATE).expect("resample");
    let a = (start * f64::from(RATE)) as usize;
    let b = (((start + len) * f64::from(RATE)) as usize).min(mono.len());
    let orig = &mono[a..b];
    let slot = (slot_ms / 1000.0 * f64::from(RATE)) as usize;
    let bands = EDGES.len() - 1;
    let s = signs(bands, orig.len() / slot + 2);
    let marked = mark_envelope(orig, depth, slot, &s);
    let pesq = pesq::pesq_8k(&pcm16(orig), &pcm16(&marked))
        .map(|raw| pesq::score::mos_lqo(f64::from(raw)))
        .unwrap_or(f32::NAN);
    // Today's mark on the same stretch, for comparison.
    let rate = SampleRate::try_new(RATE).expect("rate");
    let original = AudioBuffer::mono(rate, orig.to_vec()).expect("audio");
    let key = WatermarkKey::from_bytes([9; 32]);
    let message = Message {
        payload: Payload::from_hex("0123456789abcdef").expect("hex"),
        symbols: None,
    };
    let today = embed(&original, &key, &message, &EmbedParams::default()).expect("embed");
    let today_samples = today.channels()[0].clone();
    println!(
        "envelope mark {depth} dB, {slot_ms} ms slots: SNR {:.1} dB, PESQ-NB MOS-LQO {pesq:.2}; today's mark SNR {:.1} dB",
        snr_db(orig, &marked),
        snr_db(orig, &today_samples)
    );
    for codec in codecs {
        let clip = through(codec, &marked);
        let innocent = through(codec, orig);
        let (z, n) = envelope_z(&clip, orig, slot, &s);
        let (zi, _) = envelope_z(&innocent, orig, slot, &s);
        let today_clip = through(codec, &today_samples);
        let clip_buf = AudioBuffer::mono(rate, today_clip).expect("audio");
        let d = detect_informed(&clip_buf, &original, &key).expect("informed");
        println!(
            "{codec:>7}: envelope z {z:6.2} over {n} cells (unmarked {zi:5.2}); today's mark informed z {:6.2} payload {}",
            d.z,
            d.payload.is_some()
        );
    }
}
