//! tracemark's audio watermark engine, pure: no files, no clock, no global state.
//!
//! A keyed, multiplicative mark in the telephone band (300-3400 Hz) on a 40 ms / 25 Hz
//! grid that is the same at every sample rate. It carries a 64-bit payload (blind layer,
//! repeated every 8 s, found without the original) and, optionally, one symbol per 80 ms
//! slot of a caller's codeword (read with the original, for collusion-resistant tracing).
//!
//! [`Survey`] and [`Embedder`] compute the same marked copy, bit for bit, in two streaming
//! passes with bounded memory (see their module's example).
//!
//! ```
//! use tracemark_dsp::{AudioBuffer, SampleRate};
//! use tracemark_watermark::{embed, detect_blind, EmbedParams, Message, Payload, WatermarkKey};
//! // Sixty seconds of noise-like "audio" (blind detection needs long clips; see
//! // `detect_informed` for short ones).
//! let mut s = 1u32;
//! let noise: Vec<f32> = (0..480_000).map(|_| { s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223); (s >> 8) as f32 / 16_777_216.0 - 0.5 }).collect();
//! let audio = AudioBuffer::mono(SampleRate::try_new(8_000)?, noise)?;
//! let key = WatermarkKey::from_bytes([42; 32]);
//! let payload = Payload::from_hex("00000000deadbeef")?;
//! let marked = embed(&audio, &key, &Message { payload, symbols: None }, &EmbedParams::default())?;
//! let found = detect_blind(&marked, &key)?;
//! assert!(found.detected);
//! assert_eq!(found.payload, Some(payload));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod ab;
mod align;
mod analysis;
mod blind;
mod coherent;
mod embed;
mod error;
mod evidence;
mod informed;
mod key;
pub mod layout;
mod linalg;
mod payload;
mod room;
mod stream;
mod sync;
mod whiten;

pub use ab::{AbEmbedder, AbLayout};
pub use align::{Alignment, Anchor, ScaleKind};
pub use analysis::ReferenceLevels;
pub use blind::{
    DETECT_RATE, DETECTION_THRESHOLD, Detection, SPEED_SEARCH_S, SPEED_SPAN, detect_blind,
    detect_blind_searching_speed,
};
pub use embed::{
    EmbedParams, EmbedReport, LIMITER_HALF_WINDOW_S, Message, embed, embed_reporting, frame_len,
    symbol_count,
};
pub use error::WatermarkError;
pub use evidence::SymbolSoft;
pub use informed::{
    InformedDetection, OriginalExcerpt, detect_informed, detect_informed_excerpt,
    detect_informed_segments,
};
pub use key::{KeyStream, WatermarkKey};
pub use payload::Payload;
pub use stream::{Embedder, LevelMeter, Survey, SurveyResult};
pub use tracemark_dsp::limit::LimitReport;
