//! Quality of the marked file against the original: SNR, segmental SNR, PESQ (ITU-T P.862
//! narrowband and P.862.2 wideband) and ViSQOL v3.

use std::num::NonZeroU32;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use audio_samples::AudioSamples;
use audio_samples_qoe::{VisqolOptions, visqol};
use non_empty_slice::NonEmptyVec;
use serde::Serialize;
use tracemark_dsp::{AudioBuffer, resample};

use crate::corpus::Kind;

/// Segmental SNR frame: 20 ms, the usual speech-analysis frame.
const SEG_FRAME_S: f64 = 0.020;
/// Per-frame SNR clamp of the segmental SNR (Hansen and Pellom, "An effective quality
/// evaluation protocol for speech enhancement algorithms", ICSLP 1998: -10 to 35 dB).
const SEG_CLAMP_DB: (f64, f64) = (-10.0, 35.0);
/// Frames more than this far below the loudest frame are silence and left out.
const SEG_SILENCE_DB: f64 = 40.0;

#[derive(Debug, Clone, Serialize)]
pub struct Quality {
    pub file: String,
    pub kind: Kind,
    pub seed: u64,
    pub snr_db: f64,
    pub seg_snr_db: f64,
    /// P.862 raw score at 8 kHz and its P.862.1 MOS-LQO (speech only).
    pub pesq_nb_raw: Option<f64>,
    pub pesq_nb_mos_lqo: Option<f64>,
    /// P.862.2 MOS-LQO at 16 kHz (speech only).
    pub pesq_wb: Option<f64>,
    /// ViSQOL v3 MOS-LQO (speech mode at 16 kHz for speech, audio mode at 48 kHz for music).
    pub visqol: Option<f64>,
    pub visqol_mode: &'static str,
    pub visqol_s: Option<f64>,
    pub notes: Vec<String>,
}

pub fn snr_db(original: &AudioBuffer, marked: &AudioBuffer) -> f64 {
    let (mut s, mut e) = (0.0f64, 0.0f64);
    for (x, y) in original.channels().iter().zip(marked.channels()) {
        for (p, q) in x.iter().zip(y) {
            s += f64::from(*p).powi(2);
            e += f64::from(p - q).powi(2);
        }
    }
    10.0 * (s / e.max(1e-30)).log10()
}

pub fn seg_snr_db(original: &AudioBuffer, marked: &AudioBuffer) -> f64 {
    let frame = ((SEG_FRAME_S * f64::from(original.rate().hz())) as usize).max(1);
    let frames = original.frames().min(marked.frames()) / frame;
    let energies: Vec<(f64, f64)> = (0..frames)
        .map(|f| {
            let (mut s, mut e) = (0.0f64, 0.0f64);
            for (x, y) in original.channels().iter().zip(marked.channels()) {
                for i in f * frame..(f + 1) * frame {
                    s += f64::from(x[i]).powi(2);
                    e += f64::from(x[i] - y[i]).powi(2);
                }
            }
            (s, e)
        })
        .collect();
    let loudest = energies.iter().map(|&(s, _)| s).fold(0.0f64, f64::max);
    let floor = loudest * 10f64.powf(-SEG_SILENCE_DB / 10.0);
    let kept: Vec<f64> = energies
        .iter()
        .filter(|&&(s, _)| s > floor && s > 0.0)
        .map(|&(s, e)| (10.0 * (s / e.max(1e-30)).log10()).clamp(SEG_CLAMP_DB.0, SEG_CLAMP_DB.1))
        .collect();
    kept.iter().sum::<f64>() / kept.len().max(1) as f64
}

fn pcm16(samples: &[f32]) -> Vec<i16> {
    samples
        .iter()
        .map(|&s| (s * 32_767.0).round().clamp(-32_768.0, 32_767.0) as i16)
        .collect()
}

fn mono_at(audio: &AudioBuffer, hz: u32) -> Result<Vec<f32>> {
    Ok(resample(&audio.downmix(), audio.rate().hz(), hz)?)
}

/// (raw P.862, P.862.1 MOS-LQO) at 8 kHz.
fn pesq_nb(original: &AudioBuffer, marked: &AudioBuffer) -> Result<(f64, f64)> {
    let r = pcm16(&mono_at(original, 8_000)?);
    let d = pcm16(&mono_at(marked, 8_000)?);
    let raw = pesq::pesq_8k(&r, &d).map_err(|e| anyhow!("PESQ NB: {e:?}"))?;
    Ok((
        f64::from(raw),
        f64::from(pesq::score::mos_lqo(f64::from(raw))),
    ))
}

fn pesq_wb(original: &AudioBuffer, marked: &AudioBuffer) -> Result<f64> {
    let r = pcm16(&mono_at(original, 16_000)?);
    let d = pcm16(&mono_at(marked, 16_000)?);
    let mos = pesq::pesq_wb(&r, &d).map_err(|e| anyhow!("PESQ WB: {e:?}"))?;
    Ok(f64::from(mos))
}

fn samples(audio: &AudioBuffer) -> Result<AudioSamples<'static, f32>> {
    let rate = NonZeroU32::new(audio.rate().hz()).context("zero sample rate")?;
    let vec = NonEmptyVec::new(audio.downmix()).map_err(|_| anyhow!("empty audio"))?;
    Ok(AudioSamples::from_mono_vec(vec, rate))
}

fn visqol_score(original: &AudioBuffer, marked: &AudioBuffer, kind: Kind) -> Result<f64> {
    let opts = match kind {
        Kind::Speech => VisqolOptions::speech(),
        Kind::Music => VisqolOptions::audio(),
    };
    let r = samples(original)?;
    let d = samples(marked)?;
    visqol(&r, d, &opts).map_err(|e| anyhow!("ViSQOL: {e}"))
}

/// Measures `marked` against `original`.
pub fn measure(
    file: &str,
    kind: Kind,
    seed: u64,
    original: &AudioBuffer,
    marked: &AudioBuffer,
    with_visqol: bool,
) -> Quality {
    let mut notes = Vec::new();
    let mut q = Quality {
        file: file.into(),
        kind,
        seed,
        snr_db: snr_db(original, marked),
        seg_snr_db: seg_snr_db(original, marked),
        pesq_nb_raw: None,
        pesq_nb_mos_lqo: None,
        pesq_wb: None,
        visqol: None,
        visqol_mode: match kind {
            Kind::Speech => "speech",
            Kind::Music => "audio",
        },
        visqol_s: None,
        notes: Vec::new(),
    };
    if kind == Kind::Speech {
        match pesq_nb(original, marked) {
            Ok((raw, mos)) => {
                q.pesq_nb_raw = Some(raw);
                q.pesq_nb_mos_lqo = Some(mos);
            }
            Err(e) => notes.push(e.to_string()),
        }
        match pesq_wb(original, marked) {
            Ok(v) => q.pesq_wb = Some(v),
            Err(e) => notes.push(e.to_string()),
        }
    } else {
        notes.push("PESQ is a speech metric: not computed for music".into());
    }
    if with_visqol {
        let t = Instant::now();
        match visqol_score(original, marked, kind) {
            Ok(v) => q.visqol = Some(v),
            Err(e) => notes.push(e.to_string()),
        }
        q.visqol_s = Some(t.elapsed().as_secs_f64());
    }
    q.notes = notes;
    q
}
