//! Spectral peak picking ("constellation map", Wang 2003, section 2.1) on a 64 ms / 16 ms
//! STFT of 8 kHz audio, restricted to the telephone band.

use tracemark_dsp::Stft;

use crate::FingerprintError;

/// Sample rate the fingerprinter expects, Hz: the telephone rate (ITU-T G.711), so that a
/// leak that went through a phone channel and the original look the same.
pub const SAMPLE_RATE_HZ: u32 = 8_000;
/// Analysis frame, samples: 64 ms at 8 kHz, 15.6 Hz bins, fine enough to resolve the
/// harmonics of a voice (pitch >= 80 Hz).
pub const FRAME_LEN: usize = 512;
/// Hop between frames, samples: 16 ms, of the order of Wang's 10 ms time resolution.
pub const HOP: usize = 128;
/// Peak times are stored in ticks of a quarter hop (4 ms), after parabolic interpolation.
pub const TICKS_PER_HOP: u32 = 4;
/// Samples per tick.
pub const TICK_SAMPLES: usize = HOP / TICKS_PER_HOP as usize;
/// Lowest and highest peak frequency, Hz: the telephone band (ITU-T G.712, 300-3400 Hz).
pub const BAND_HZ: (f32, f32) = (300.0, 3400.0);
/// Peak neighbourhood, frames either side: a peak must be the largest within +/-64 ms.
const NEIGHBOUR_FRAMES: usize = 4;
/// Peak neighbourhood, bins either side: +/-78 Hz, about one voice harmonic spacing.
const NEIGHBOUR_BINS: usize = 5;
/// Density cap: at most this many peaks in any one-second window, keeping the strongest
/// (Wang 2003 picks density so that the constellation survives noise; 30/s measured here to
/// give ~150 hashes/s with fan-out 5).
const PEAKS_PER_SECOND: usize = 30;
/// Dynamic range kept, natural log of power: candidates more than 50 dB below the strongest
/// within +/-0.5 s are dropped. Lossy codecs and 20 dB noise bury them (perceptual coders
/// discard what lies far under the local masking threshold, ISO/IEC 11172-3 annex D).
const DYNAMIC_RANGE_LN: f32 = 11.5;
/// Power floor (natural log of |X|^2 for full-scale-normalised input): below it a bin counts
/// as silence. |X|^2 = 1e-6 is a sine of amplitude ~8e-6 under the 512-sample window.
const LOG_POWER_FLOOR: f32 = -13.8;
/// Longest input accepted, samples: 24 h at 8 kHz.
pub const MAX_SAMPLES: usize = 24 * 3600 * SAMPLE_RATE_HZ as usize;

/// One spectral peak: a time in ticks (4 ms) from the start and a frequency in quarter Hz.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Peak {
    /// Time of the peak in ticks ([`TICK_SAMPLES`] samples) from sample 0.
    pub tick: u32,
    /// Frequency in units of 0.25 Hz.
    pub quarter_hz: u16,
}

impl Peak {
    /// Time of the peak in seconds.
    pub fn time_s(self) -> f64 {
        f64::from(self.tick) * TICK_SAMPLES as f64 / f64::from(SAMPLE_RATE_HZ)
    }

    /// Frequency of the peak in Hz.
    pub fn hz(self) -> f32 {
        f32::from(self.quarter_hz) / 4.0
    }
}

/// The landmark fingerprint of one stretch of audio: its spectral peaks in time order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fingerprint {
    pub(crate) peaks: Vec<Peak>,
    pub(crate) ticks: u32,
}

impl Fingerprint {
    /// Builds a fingerprint from peaks (sorted here) and a duration in ticks.
    pub fn from_peaks(mut peaks: Vec<Peak>, ticks: u32) -> Self {
        peaks.sort_unstable();
        peaks.dedup();
        Self { peaks, ticks }
    }

    /// The peaks, sorted by time then frequency.
    pub fn peaks(&self) -> &[Peak] {
        &self.peaks
    }

    /// Duration of the fingerprinted audio in ticks.
    pub fn ticks(&self) -> u32 {
        self.ticks
    }

    /// Duration of the fingerprinted audio in seconds.
    pub fn duration_s(&self) -> f64 {
        f64::from(self.ticks) * TICK_SAMPLES as f64 / f64::from(SAMPLE_RATE_HZ)
    }
}

/// Fingerprints mono audio at [`SAMPLE_RATE_HZ`] (resample first with
/// `tracemark_dsp::resample`).
pub fn fingerprint(samples: &[f32]) -> Result<Fingerprint, FingerprintError> {
    if samples.len() > MAX_SAMPLES {
        return Err(FingerprintError::Limit {
            what: "input length in samples",
            limit: MAX_SAMPLES as u64,
            found: samples.len() as u64,
        });
    }
    if let Some(index) = samples.iter().position(|s| !s.is_finite()) {
        return Err(FingerprintError::NonFiniteSample { index });
    }
    let spec = log_spectrogram(samples);
    let candidates = local_maxima(&spec);
    let kept = limit_density(candidates);
    let peaks = kept.iter().map(|c| refine(&spec, c)).collect();
    let ticks = samples.len().div_ceil(TICK_SAMPLES) as u32;
    Ok(Fingerprint::from_peaks(peaks, ticks))
}

/// Log-power spectrogram over the band's bins: frame k is centred on sample k * HOP.
struct Spectrogram {
    first_bin: usize,
    bins: usize,
    frames: usize,
    data: Vec<f32>,
}

impl Spectrogram {
    fn at(&self, frame: usize, bin: usize) -> f32 {
        self.data[frame * self.bins + bin]
    }
}

const BIN_HZ: f32 = SAMPLE_RATE_HZ as f32 / FRAME_LEN as f32;

fn log_spectrogram(samples: &[f32]) -> Spectrogram {
    let stft = Stft::new(FRAME_LEN);
    let mut scratch = stft.scratch();
    let first_bin = (BAND_HZ.0 / BIN_HZ).ceil() as usize;
    let last_bin = (BAND_HZ.1 / BIN_HZ).floor() as usize;
    let bins = last_bin + 1 - first_bin;
    let frames = samples.len().div_ceil(HOP);
    let mut data = Vec::with_capacity(frames * bins);
    for k in 0..frames {
        let start = (k * HOP) as isize - (FRAME_LEN / 2) as isize;
        let spectrum = stft.analyze(samples, start, &mut scratch);
        data.extend(
            spectrum[first_bin..=last_bin]
                .iter()
                .map(|c| (c.norm_sqr() + 1e-12).ln()),
        );
    }
    Spectrogram {
        first_bin,
        bins,
        frames,
        data,
    }
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    frame: usize,
    bin: usize,
    power: f32,
}

/// Points that are the maximum of their (2 NEIGHBOUR_FRAMES + 1) x (2 NEIGHBOUR_BINS + 1)
/// neighbourhood and above the floor. The rectangle maximum is separable: bins, then frames.
fn local_maxima(spec: &Spectrogram) -> Vec<Candidate> {
    let (frames, bins) = (spec.frames, spec.bins);
    let mut across_bins = vec![f32::NEG_INFINITY; frames * bins];
    for k in 0..frames {
        let row = &spec.data[k * bins..(k + 1) * bins];
        for b in 0..bins {
            let lo = b.saturating_sub(NEIGHBOUR_BINS);
            let hi = (b + NEIGHBOUR_BINS + 1).min(bins);
            across_bins[k * bins + b] = row[lo..hi].iter().copied().fold(f32::MIN, f32::max);
        }
    }
    let mut out = Vec::new();
    for k in 0..frames {
        let lo = k.saturating_sub(NEIGHBOUR_FRAMES);
        let hi = (k + NEIGHBOUR_FRAMES + 1).min(frames);
        for b in 0..bins {
            let v = spec.at(k, b);
            if v < LOG_POWER_FLOOR {
                continue;
            }
            let max = (lo..hi)
                .map(|j| across_bins[j * bins + b])
                .fold(f32::MIN, f32::max);
            if v >= max {
                out.push(Candidate {
                    frame: k,
                    bin: b,
                    power: v,
                });
            }
        }
    }
    out
}

/// Keeps a candidate when fewer than PEAKS_PER_SECOND stronger ones lie within +/-0.5 s.
fn limit_density(candidates: Vec<Candidate>) -> Vec<Candidate> {
    let half = (SAMPLE_RATE_HZ as usize / HOP) / 2;
    let mut kept = Vec::with_capacity(candidates.len());
    let mut lo = 0;
    for (i, c) in candidates.iter().enumerate() {
        while candidates[lo].frame + half < c.frame {
            lo += 1;
        }
        let near = candidates[lo..]
            .iter()
            .take_while(|o| o.frame <= c.frame + half)
            .enumerate();
        let (mut stronger, mut loudest) = (0, c.power);
        for (j, o) in near {
            if o.power > c.power || (o.power == c.power && lo + j < i) {
                stronger += 1;
            }
            loudest = loudest.max(o.power);
        }
        if stronger < PEAKS_PER_SECOND && c.power >= loudest - DYNAMIC_RANGE_LN {
            kept.push(*c);
        }
    }
    kept
}

/// Parabolic interpolation of the log power along time and frequency.
fn refine(spec: &Spectrogram, c: &Candidate) -> Peak {
    let offset = |a: f32, b: f32, d: f32| {
        let denom = a - 2.0 * b + d;
        if denom.abs() > 1e-9 {
            (0.5 * (a - d) / denom).clamp(-0.5, 0.5)
        } else {
            0.0
        }
    };
    let df = if c.bin > 0 && c.bin + 1 < spec.bins {
        offset(
            spec.at(c.frame, c.bin - 1),
            c.power,
            spec.at(c.frame, c.bin + 1),
        )
    } else {
        0.0
    };
    let dt = if c.frame > 0 && c.frame + 1 < spec.frames {
        offset(
            spec.at(c.frame - 1, c.bin),
            c.power,
            spec.at(c.frame + 1, c.bin),
        )
    } else {
        0.0
    };
    let hz = ((spec.first_bin + c.bin) as f32 + df) * BIN_HZ;
    let tick = ((c.frame as f32 + dt) * TICKS_PER_HOP as f32)
        .round()
        .max(0.0);
    Peak {
        tick: tick as u32,
        quarter_hz: (hz * 4.0).round() as u16,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_steady_tone_gives_peaks_at_its_frequency() {
        let x: Vec<f32> = (0..16_000)
            .map(|i| (std::f32::consts::TAU * 1_000.0 * i as f32 / 8_000.0).sin() * 0.5)
            .collect();
        let fp = fingerprint(&x).expect("fingerprint");
        assert!(!fp.peaks().is_empty());
        // Away from the abrupt start and end, whose clicks are broadband.
        for p in fp
            .peaks()
            .iter()
            .filter(|p| (0.3..1.7).contains(&p.time_s()))
        {
            assert!(
                (p.hz() - 1_000.0).abs() < 4.0,
                "peak at {} Hz, {} s; all {:?}",
                p.hz(),
                p.time_s(),
                fp.peaks().len()
            );
        }
    }

    #[test]
    fn silence_gives_no_peaks_and_nan_is_rejected() {
        assert!(fingerprint(&[0.0; 8_000]).expect("fp").peaks().is_empty());
        assert_eq!(
            fingerprint(&[0.0, f32::NAN]),
            Err(FingerprintError::NonFiniteSample { index: 1 })
        );
    }
}
