//! Lossy-codec attacks for tracemark's robustness benchmark (issue 3): each
//! [`Codec`] named by `tracemark-attacks` is run through the standard
//! command-line tool (lame, ffmpeg, oggenc, opusenc, sox, speexenc, c2enc) in a temporary
//! directory, decoded by the same tool, resampled back to the input's rate, compensated for the
//! codec's delay and trimmed to the input's length, so the output lines up sample for sample
//! with the input.
//!
//! This is the I/O layer on top of the pure attack crate: [`ToolBackend`] implements its
//! [`CodecBackend`] seam. A missing tool is a typed, skippable error
//! ([`CodecError::ToolMissing`], or [`AttackError::ToolMissing`] through the seam); a failing
//! tool is [`CodecError::ToolFailed`] with the tail of its stderr. Nothing panics on tool
//! failure, and every tool runs under a time budget.
//!
//! Speech codecs (GSM, AMR-NB, Speex NB, codec2) take the downmix at 8 kHz, Opus SILK the
//! downmix at 16 kHz; their mono output is copied back to every input channel.
//!
//! ```
//! use tracemark_attacks::{Attack, AttackContext, Codec};
//! use tracemark_codec_attacks::{ToolBackend, tool_available};
//! use tracemark_dsp::{AudioBuffer, SampleRate};
//!
//! let rate = SampleRate::try_new(16_000)?;
//! let tone: Vec<f32> = (0..16_000).map(|i| (i as f32 * 0.3).sin() * 0.3).collect();
//! let input = AudioBuffer::mono(rate, tone)?;
//!
//! let backend = ToolBackend::new();
//! let ctx = AttackContext::new(1).with_codec_backend(&backend);
//! let mp3 = Attack::Codec(Codec::Mp3 { kbps: 64 });
//! match mp3.apply(&input, &ctx) {
//!     Ok(out) => assert_eq!(out.frames(), input.frames()),
//!     Err(e) if e.is_skippable() => eprintln!("skipped: {e}"),
//!     Err(e) => return Err(e.into()),
//! }
//! # let _ = tool_available(Codec::Gsm);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod recipe;
mod tool;
mod wav;

use std::time::Duration;

use tracemark_attacks::resample::resample_channels;
use tracemark_attacks::{AttackError, Codec, CodecBackend};
use tracemark_dsp::{AudioBuffer, SampleRate};

pub use error::CodecError;
pub use recipe::{
    AMR_NB_DELAY, CODEC2_DELAY, LAME_ENCODER_DELAY, Working, delay_frames, tools, working,
};
pub use tool::find_on_path;

/// Longest input handed to a tool: an hour, far beyond any benchmark file (a resource cap).
pub const MAX_INPUT_SECONDS: u64 = 3_600;

/// Time budget per tool run: a fixed allowance plus this many seconds per second of audio
/// (the slowest tool here, lame at high quality, runs above 20x real time on one core).
const BUDGET_BASE_S: u64 = 60;
const BUDGET_PER_AUDIO_SECOND: f64 = 2.0;

/// True when every program `codec` needs is on `PATH`.
pub fn tool_available(codec: Codec) -> bool {
    let needed = tools(codec);
    !needed.is_empty() && needed.iter().all(|t| find_on_path(t).is_some())
}

/// The result of a round trip, with what the benchmark and tests want to know about it.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundTrip {
    /// The decoded audio: input rate, channel count and length, time-aligned.
    pub audio: AudioBuffer,
    /// Size of the encoded file, container included.
    pub encoded_bytes: u64,
    /// Rate of the audio the tool decoded, before resampling back.
    pub decoded_rate: SampleRate,
}

impl RoundTrip {
    /// The encoded bit rate in kbit/s over the input's duration.
    pub fn bitrate_kbps(&self) -> f64 {
        self.encoded_bytes as f64 * 8.0 / self.audio.duration_s().max(1e-9) / 1_000.0
    }
}

/// Runs codecs through their command-line tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToolBackend {
    compensate_delay: bool,
}

impl Default for ToolBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl ToolBackend {
    /// A backend whose output is time-aligned with its input.
    pub fn new() -> Self {
        Self {
            compensate_delay: true,
        }
    }

    /// A backend that leaves the codec's delay in place, for measuring it.
    pub fn without_delay_compensation() -> Self {
        Self {
            compensate_delay: false,
        }
    }

    /// Encodes and decodes `input` with `codec`.
    pub fn round_trip(&self, codec: Codec, input: &AudioBuffer) -> Result<RoundTrip, CodecError> {
        recipe::validate(codec)?;
        if input.duration_s() > MAX_INPUT_SECONDS as f64 {
            return Err(CodecError::InputTooLong {
                seconds: input.duration_s(),
                max_seconds: MAX_INPUT_SECONDS,
            });
        }
        if let Some(tool) = tools(codec).iter().find(|t| find_on_path(t).is_none()) {
            return Err(CodecError::ToolMissing { tool });
        }
        let fed = match working(codec) {
            Working::AsIs => input.clone(),
            Working::Mono(hz) => {
                let mono = resample_channels(&[input.downmix()], input.rate().hz(), hz)?;
                AudioBuffer::try_new(SampleRate::try_new(hz).map_err(AttackError::from)?, mono)
                    .map_err(AttackError::from)?
            }
        };
        let dir = tempfile::Builder::new()
            .prefix("tracemark-codec-")
            .tempdir()
            .map_err(|source| CodecError::Io {
                context: "creating a temporary directory".into(),
                source,
            })?;
        let budget = Duration::from_secs(
            BUDGET_BASE_S + (input.duration_s() * BUDGET_PER_AUDIO_SECOND).ceil() as u64,
        );
        let decoded = recipe::encode_decode(codec, &fed, dir.path(), budget)?;
        let decoded_rate = decoded.audio.rate();
        let expected = (fed.frames() as f64 * f64::from(decoded_rate.hz())
            / f64::from(fed.rate().hz()))
        .round() as usize;
        let delay = if self.compensate_delay {
            delay_frames(codec, expected, decoded.audio.frames())
        } else {
            0
        };
        let trimmed: Vec<Vec<f32>> = decoded
            .audio
            .channels()
            .iter()
            .map(|c| c.get(delay..).unwrap_or_default().to_vec())
            .collect();
        let mut back = resample_channels(&trimmed, decoded_rate.hz(), input.rate().hz())?;
        if back.len() != input.channel_count() {
            // Mono from a speech codec (or a tool that downmixed): copy to every channel.
            let mono = mono_of(&back);
            back = vec![mono; input.channel_count()];
        }
        for c in &mut back {
            c.resize(input.frames(), 0.0);
        }
        let audio = AudioBuffer::try_new(input.rate(), back).map_err(AttackError::from)?;
        Ok(RoundTrip {
            audio,
            encoded_bytes: decoded.encoded_bytes,
            decoded_rate,
        })
    }
}

fn mono_of(channels: &[Vec<f32>]) -> Vec<f32> {
    let n = channels.len().max(1) as f32;
    let frames = channels.first().map_or(0, Vec::len);
    (0..frames)
        .map(|i| channels.iter().map(|c| c[i]).sum::<f32>() / n)
        .collect()
}

impl CodecBackend for ToolBackend {
    fn round_trip(&self, codec: Codec, input: &AudioBuffer) -> Result<AudioBuffer, AttackError> {
        ToolBackend::round_trip(self, codec, input)
            .map(|r| r.audio)
            .map_err(|e| e.into_attack_error(codec))
    }
}
