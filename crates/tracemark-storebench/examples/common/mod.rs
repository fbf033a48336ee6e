//! What the storage examples share: a vault on the embedded default, synthetic recordings,
//! and per-step time and peak memory.
#![allow(dead_code)] // Each example uses some of these.

use std::time::Instant;

use tracemark_dsp::{AudioBuffer, SampleRate};
use tracemark_media::{EncodeOptions, Format, encode_bytes};
use tracemark_vault::Vault;

/// A random melody of harmonic notes and pauses (seeded), at `rate`: distinct content
/// for recordings the corpus has no distinct speech for.
pub fn melody(seed: u64, seconds: f64, rate: u32) -> AudioBuffer {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
    let n = (seconds * f64::from(rate)) as usize;
    let mut out = vec![0f32; n];
    let mut at = 0usize;
    while at < n {
        let len = ((0.08 + 0.32 * next()) * f64::from(rate)) as usize;
        let gap = ((0.1 * next()) * f64::from(rate)) as usize;
        let f = 150.0 * (20.0f64).powf(next());
        let amp = 0.05 + 0.25 * next();
        for i in 0..len.min(n - at) {
            let t = i as f64 / f64::from(rate);
            let env = (std::f64::consts::PI * i as f64 / len as f64).sin();
            let s: f64 = (1..=3)
                .map(|h| (2.0 * std::f64::consts::PI * f * h as f64 * t).sin() / h as f64)
                .sum();
            out[at + i] += (amp * env * s) as f32;
        }
        at += len + gap;
    }
    for s in &mut out {
        *s += ((next() - 0.5) * 0.002) as f32;
    }
    AudioBuffer::mono(SampleRate::try_new(rate).expect("rate"), out).expect("audio")
}

pub fn wav(a: &AudioBuffer) -> Vec<u8> {
    encode_bytes(a, Format::Wav, &EncodeOptions::default()).expect("wav")
}

pub fn vault(dir: &std::path::Path) -> Vault {
    tracemark_backends::Location::embedded(dir)
        .init()
        .expect("init")
}

/// Resets the resident high-water mark (writing 5 to `/proc/self/clear_refs`, Linux 4.0+);
/// false where the kernel does not allow it.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The resident high-water mark (`VmHWM`), MB.
pub fn peak_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// The resident set now (`VmRSS`), MB.
pub fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// One measured step.
pub struct Step {
    pub name: &'static str,
    pub seconds: f64,
    /// The process's peak during the step.
    pub peak_mb: f64,
    /// What the process held when the step began (the example's own buffers).
    pub before_mb: f64,
}

/// Runs `f` as a step: its wall time and its own peak memory.
pub fn step<T>(steps: &mut Vec<Step>, name: &'static str, f: impl FnOnce() -> T) -> T {
    reset_peak();
    let before_mb = rss_mb();
    let t = Instant::now();
    let out = f();
    steps.push(Step {
        name,
        seconds: t.elapsed().as_secs_f64(),
        peak_mb: peak_mb(),
        before_mb,
    });
    out
}

/// `a` as MP3 at `kbps`.
pub fn mp3(a: &AudioBuffer, kbps: u32) -> Vec<u8> {
    encode_bytes(
        a,
        Format::Mp3,
        &EncodeOptions {
            bitrate_kbps: Some(kbps),
        },
    )
    .expect("mp3")
}
