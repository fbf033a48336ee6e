//! Landmark fingerprints for tracemark (work in progress).

mod error;
mod hash;
mod index;
mod peaks;
mod stats;
mod wire;

pub use error::FingerprintError;
pub use index::{Candidate, Change, Index, MATCH_MAX_FALSE_P, MATCH_MIN_HASHES};
pub use peaks::{
    BAND_HZ, FRAME_LEN, Fingerprint, HOP, MAX_SAMPLES, Peak, SAMPLE_RATE_HZ, TICK_SAMPLES,
    TICKS_PER_HOP, fingerprint,
};
pub use wire::{FORMAT_VERSION, MAX_PEAKS, MAX_RECORDINGS};
