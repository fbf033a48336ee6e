//! Landmark fingerprints for tracemark: given a leaked clip, find which ingested recording
//! it comes from, at what offset and speed, and map which parts of it are genuine.
//!
//! This is the identification step of a trace (DESIGN.md, choice 5). It works on the sound
//! itself, so it still works when the watermark was destroyed, after MP3/Opus re-encoding,
//! in the 8 kHz telephone band, and under noise.
//!
//! * [`fingerprint`] turns 8 kHz mono samples into spectral peaks (a "constellation map",
//!   Wang, "An industrial-strength audio search algorithm", ISMIR 2003); [`Fingerprinter`]
//!   does the same for audio that arrives piece by piece, bit for bit, in memory that does
//!   not grow with its length.
//! * [`Index`] stores recordings' fingerprints, hashes peak pairs (anchor frequency,
//!   frequency difference, time difference) and answers [`Index::query`] with ranked
//!   [`Candidate`]s: recording, offset, speed factor, and the probability that unrelated
//!   audio would score as well ([`Candidate::is_match`]). [`Index::to_bytes`] and
//!   [`Index::from_bytes`] give a versioned, strictly parsed blob for the database.
//! * [`authenticity_map`] matches a leak against one original window by window and returns
//!   genuine and unmatched [`Segment`]s plus the [`Missing`] (cut) stretches.
//!
//! # Speed, tempo and pitch changes
//! A leak may be resampled (speed: time and pitch scale together), time-stretched with
//! pitch kept (tempo), by up to +/-15 %, or pitch-shifted with time kept, by up to +/-2
//! semitones (issue 14). Rather than speed-invariant hashes (frequency and time ratios over
//! peak triplets, as in Six & Leman's Panako, ISMIR 2014), the query is hashed under a grid
//! of hypotheses: the identity, speed factors 0.4 % apart and tempo factors 1 % apart over
//! 0.85-1.18, and pitch ratios 0.4 % apart over +/-2.2 semitones, each mapping the clip's
//! peak times and frequencies to where they would sit in the original. Why: the stored
//! hashes stay plain Wang pairs with full frequency resolution (a ratio hash over the
//! 300-3400 Hz band keeps fewer bits, and triplets fail more often because all three peaks
//! must survive); the index is built once and never pays for the grid; the winning
//! hypothesis is itself the estimate of the change (refined by a least-squares fit of
//! matched times), and it tells speed from tempo from pitch. The price is one lookup per
//! hypothesis and clip hash at query time, unless the identity alone already matches
//! (`EARLY_MATCH_P`).
//!
//! # Example
//! ```
//! use tracemark_fingerprint::{Index, fingerprint, SAMPLE_RATE_HZ};
//!
//! // A stand-in for speech: a tone that jumps to a new pitch every 80 ms.
//! let mut state = 12345u32;
//! let mut hz = 500.0f32;
//! let mut phase = 0.0f32;
//! let audio: Vec<f32> = (0..SAMPLE_RATE_HZ as usize * 30)
//!     .map(|i| {
//!         if i % 640 == 0 {
//!             state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
//!             hz = 400.0 + (state >> 8) as f32 % 2_800.0;
//!         }
//!         phase += std::f32::consts::TAU * hz / SAMPLE_RATE_HZ as f32;
//!         0.3 * phase.sin()
//!     })
//!     .collect();
//!
//! let mut index = Index::new();
//! index.add(7, fingerprint(&audio)?)?;
//! let stored = index.to_bytes();
//! let index = Index::from_bytes(&stored)?;
//!
//! // Ten seconds from 12 s in.
//! let clip = &audio[12 * 8_000..22 * 8_000];
//! let best = &index.query(&fingerprint(clip)?)[0];
//! assert!(best.is_match());
//! assert_eq!(best.recording_id, 7);
//! assert!((best.offset_s - 12.0).abs() < 0.05);
//! # Ok::<(), tracemark_fingerprint::FingerprintError>(())
//! ```

mod authenticity;
mod error;
mod hash;
mod index;
mod peaks;
mod stats;
mod wire;

pub use authenticity::{
    AuthenticityMap, MapOptions, Missing, Segment, SegmentStatus, authenticity_map,
};
pub use error::FingerprintError;
pub use index::{Candidate, Change, EARLY_MATCH_P, Index, MATCH_MAX_FALSE_P, MATCH_MIN_HASHES};
pub use peaks::{
    BAND_HZ, FRAME_LEN, Fingerprint, Fingerprinter, HOP, MAX_SAMPLES, Peak, SAMPLE_RATE_HZ,
    TICK_SAMPLES, TICKS_PER_HOP, fingerprint,
};
pub use wire::{FORMAT_VERSION, MAX_PEAKS, MAX_RECORDINGS};
