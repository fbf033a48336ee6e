//! Pure signal-processing primitives shared by tracemark's crates: audio buffers with
//! checked invariants, short-time Fourier analysis, resampling, and a look-ahead limiter
//! for a signal added to a host ([`limit`]).
//!
//! Nothing here touches files, clocks or global state.
//!
//! ```
//! use tracemark_dsp::{AudioBuffer, SampleRate};
//! let rate = SampleRate::try_new(8_000)?;
//! let tone: Vec<f32> = (0..8_000).map(|i| (i as f32 * 0.1).sin() * 0.5).collect();
//! let buf = AudioBuffer::mono(rate, tone)?;
//! assert_eq!(buf.duration_s(), 1.0);
//! let narrow = tracemark_dsp::resample(&buf.downmix(), 8_000, 16_000)?;
//! assert_eq!(narrow.len(), 16_000);
//! # Ok::<(), tracemark_dsp::DspError>(())
//! ```

mod audio;
mod error;
pub mod limit;
mod resample;
mod stft;

pub use audio::{AudioBuffer, SampleFormat, SampleRate, downmix_into};
pub use error::DspError;
pub use realfft::num_complex::Complex32;
pub use resample::{ResampleGeometry, StreamResampler, resample, stretch};
pub use stft::{Stft, StftScratch};
