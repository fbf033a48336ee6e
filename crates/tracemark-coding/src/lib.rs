//! Pure channel coding for tracemark's watermark payload: a CRC to reject wrong decodes
//! and a rate-1/3 convolutional code decoded by a soft-decision Viterbi decoder.
//!
//! ```
//! use tracemark_coding::{ConvCode, crc24};
//! let code = ConvCode::lte();
//! let bits: Vec<bool> = (0..40).map(|i| i % 3 == 0).collect();
//! let coded = code.encode(&bits);
//! // Soft values: positive means "probably 1". Flip a few and weaken the rest.
//! let mut soft: Vec<f32> = coded.iter().map(|&b| if b { 0.6 } else { -0.6 }).collect();
//! soft[3] = -soft[3];
//! soft[50] = -soft[50];
//! assert_eq!(code.decode(&soft, bits.len()), bits);
//! assert_ne!(crc24(&[1, 2, 3]), crc24(&[1, 2, 4]));
//! ```

mod conv;
mod crc;

pub use conv::ConvCode;
pub use crc::crc24;
