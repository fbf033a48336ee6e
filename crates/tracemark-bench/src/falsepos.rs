//! False positives: unmarked clips, and marked clips read with the wrong key.

use rand::{Rng as _, RngExt};
use rayon::prelude::*;
use serde::Serialize;
use tracemark_attacks::rng::stream;
use tracemark_dsp::AudioBuffer;
use tracemark_watermark::{WatermarkKey, detect_blind_searching_speed, detect_informed};

use crate::corpus::Recording;

/// Length of each false-positive clip.
pub const CLIP_S: f64 = 10.0;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub clips: usize,
    pub blind_detections: usize,
    pub informed_detections: usize,
    /// Detections that also decoded a payload.
    pub payloads_decoded: usize,
    pub errors: usize,
    pub min_p_blind: Option<f64>,
    pub min_p_informed: Option<f64>,
}

impl Counts {
    fn merge(mut self, o: Counts) -> Counts {
        self.clips += o.clips;
        self.blind_detections += o.blind_detections;
        self.informed_detections += o.informed_detections;
        self.payloads_decoded += o.payloads_decoded;
        self.errors += o.errors;
        self.min_p_blind = min_opt(self.min_p_blind, o.min_p_blind);
        self.min_p_informed = min_opt(self.min_p_informed, o.min_p_informed);
        self
    }
}

fn min_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FalsePositives {
    pub trials: usize,
    pub clip_s: f64,
    pub unmarked: Counts,
    pub wrong_key: Counts,
    pub method: String,
}

/// A recording, and the same recording marked with `key` (for the wrong-key trials).
pub struct FpSource<'a> {
    pub recording: &'a Recording,
    pub marked: &'a AudioBuffer,
}

fn detect(clip: &AudioBuffer, original: &AudioBuffer, key: &WatermarkKey) -> Counts {
    let mut c = Counts {
        clips: 1,
        ..Counts::default()
    };
    match detect_blind_searching_speed(clip, key) {
        Ok(d) => {
            c.blind_detections += usize::from(d.detected);
            c.payloads_decoded += usize::from(d.payload.is_some());
            c.min_p_blind = Some(d.p_value);
        }
        Err(_) => c.errors += 1,
    }
    match detect_informed(clip, original, key) {
        Ok(d) => {
            c.informed_detections += usize::from(d.detected);
            c.payloads_decoded += usize::from(d.payload.is_some());
            c.min_p_informed = Some(d.p_value);
        }
        Err(_) => c.errors += 1,
    }
    c
}

/// Runs `trials` trials: even ones an unmarked clip with a random key, odd ones a clip of
/// the marked copy with another random key. Each clip is `CLIP_S` long at a random offset
/// of a random recording, detected blind and informed (against the unmarked recording).
pub fn run(sources: &[FpSource<'_>], trials: usize) -> FalsePositives {
    let usable: Vec<&FpSource<'_>> = sources
        .iter()
        .filter(|s| s.recording.audio.duration_s() >= CLIP_S + 1.0)
        .collect();
    let (unmarked, wrong_key) = (0..trials)
        .into_par_iter()
        .map(|t| {
            let mut rng = stream(t as u64, "tracemark-bench/false-positives");
            if usable.is_empty() {
                return (Counts::default(), Counts::default());
            }
            let src = usable[rng.random_range(0..usable.len())];
            let audio = &src.recording.audio;
            let len = (CLIP_S * f64::from(audio.rate().hz())) as usize;
            let start = rng.random_range(0..=audio.frames() - len);
            let mut key = [0u8; 32];
            rng.fill_bytes(&mut key);
            let key = WatermarkKey::from_bytes(key);
            if t.is_multiple_of(2) {
                let clip = audio.slice(start, start + len);
                (detect(&clip, audio, &key), Counts::default())
            } else {
                let clip = src.marked.slice(start, start + len);
                (Counts::default(), detect(&clip, audio, &key))
            }
        })
        .reduce(
            || (Counts::default(), Counts::default()),
            |a, b| (a.0.merge(b.0), a.1.merge(b.1)),
        );
    FalsePositives {
        trials,
        clip_s: CLIP_S,
        unmarked,
        wrong_key,
        method: format!(
            "{CLIP_S} s clips at random offsets of the benchmark recordings; even trials unmarked \
             with a random key, odd trials cut from the seed-0 marked copy and read with a \
             different random key; each clip detected blind and informed (against the unmarked \
             recording)"
        ),
    }
}
