//! Pure signal-processing primitives shared by tracemark's crates: audio buffers with
//! checked invariants, short-time Fourier analysis and resampling.
//!
//! Nothing here touches files, clocks or global state.
//!
//! ```
//! use tracemark_dsp::{AudioBuffer, SampleRate};
//! let rate = SampleRate::try_new(8_000)?;
//! let tone: Vec<f32> = (0..8_000).map(|i| (i as f32 * 0.1).sin() * 0.5).collect();
//! let buf = AudioBuffer::mono(rate, tone)?;
//! assert_eq!(buf.duration_s(), 1.0);
//! # Ok::<(), tracemark_dsp::DspError>(())
//! ```

mod audio;
mod error;

pub use audio::{AudioBuffer, SampleRate};
pub use error::DspError;
