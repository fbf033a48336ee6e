//! Attack transforms for tracemark's robustness benchmark (issue 3): what a leaker might do to
//! a marked file before it is found, each a named, parameterised, deterministic function.
//!
//! The crate is pure: it takes an [`AudioBuffer`](tracemark_dsp::AudioBuffer) and returns a new
//! one, with no files, clocks, threads or global state. Randomness (noise, crop positions,
//! jitter, room responses) comes from the seed in the [`AttackContext`], split into one named
//! stream per purpose. Lossy codecs are named here ([`Codec`]) but run by a
//! [`CodecBackend`] the caller supplies (`tracemark-codec-attacks` runs the standard tools);
//! without one, codec attacks return [`AttackError::NoCodecBackend`], which
//! [`AttackError::is_skippable`] reports as a cell to skip.
//!
//! Families: signal (gain, limiter, noise, babble, filters, echo, reverb), time (crop, speed,
//! tempo, pitch, jitter, cut), telephone (resampling to 8 kHz, band-pass, G.711 mu-law),
//! re-recording, and editing (splice, average, insert). [`standard_suite`] lists the issue's
//! matrix; [`quick_suite`] a ten-attack subset.
//!
//! ```
//! use tracemark_attacks::{Attack, AttackContext};
//! use tracemark_dsp::{AudioBuffer, SampleRate};
//!
//! let rate = SampleRate::try_new(16_000)?;
//! let tone: Vec<f32> = (0..32_000).map(|i| (i as f32 * 0.2).sin() * 0.5).collect();
//! let input = AudioBuffer::mono(rate, tone)?;
//!
//! let faster = Attack::Speed { percent: 10.0 }.apply(&input, &AttackContext::new(7))?;
//! assert!((faster.frames() as f64 - 32_000.0 / 1.1).abs() <= 2.0);
//!
//! let cut = Attack::Cut { seconds: 0.5 };
//! assert_eq!(cut.name(), "cut-0.5s");
//! assert_eq!(cut.apply(&input, &AttackContext::new(7))?.frames(), 24_000);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod attack;
mod codec;
mod edit;
mod error;
pub mod filter;
pub mod g711;
mod level;
mod noise;
pub mod resample;
pub mod rng;
mod room;
mod suite;
mod wsola;

pub use attack::{
    Attack, AttackContext, RERECORD_BAND_HZ, RERECORD_DRIVE, RERECORD_DRR_DB, RERECORD_RT60_S,
    RERECORD_SNR_DB, TELEPHONE_BAND_HZ, TELEPHONE_RATE_HZ, telephone_band, telephone_mulaw_8k,
};
pub use codec::{AmrNbMode, Codec, CodecBackend};
pub use error::AttackError;
pub use level::{LIMITER_CEILING, LIMITER_LOOKAHEAD_S, LIMITER_RELEASE_S};
pub use suite::{quick_suite, standard_suite};
pub use wsola::{FRAME_S as WSOLA_FRAME_S, TOLERANCE_S as WSOLA_TOLERANCE_S};
