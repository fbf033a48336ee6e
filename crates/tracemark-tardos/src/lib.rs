//! Collusion-resistant codes for tracemark: which recipient's copy leaked, and how
//! sure we are.
//!
//! Every recipient's copy of a recording carries a binary codeword, one symbol per
//! 80 ms time slot. This crate draws those codewords as a **symmetric Tardos code**
//! (Tardos, JACM 2008; Škorić, Katzenbeisser, Celik, Des. Codes Cryptogr. 2008), scores
//! every issued codeword against the soft symbols the informed detector reads from a
//! leak, and accuses with a **proven bound** on the chance of accusing an innocent:
//!
//! 1. [`Biases::draw`] draws the recording's secret per-slot biases `p_i` from the
//!    arcsine density cut to `[t, 1 - t]`; [`Codeword::draw`] draws each recipient's
//!    symbols `x_i ~ Bernoulli(p_i)`. Both are deterministic in a caller-provided
//!    32-byte seed, expanded by SHA-256 in counter mode (see `prf.rs`), so the vault
//!    stores seeds, not codes. [`Codeword::commitment`] goes into the audit log.
//! 2. [`NullModel::score`] sums one term per observed slot ([`ScoreFunction`]).
//! 3. Given the leak, an innocent's codeword is independent of it, so its score is a
//!    sum of independent two-valued terms whose distribution is known exactly.
//!    [`NullModel::tail`] returns a Chernoff upper bound on `P(S >= s)` (the p-value
//!    used to accuse) and a saddle-point estimate (for reports).
//! 4. [`accuse`] corrects for the number of recipients, recordings and keys tested
//!    (Bonferroni) and names those below the bound, by default 1e-6.
//! 5. At 10^5 or 10^6 issued copies, [`Screen`] (or [`accuse_top`]) gives the same
//!    accused, figure for figure, and the strongest few, computing the bound only for
//!    the recipients whose score could be accused: below a cut derived from the bound
//!    itself, nobody can be. The work splits into [`Scan`]s for the caller's threads.
//!
//! The crate is pure: no I/O, clock, threads or global state.
//!
//! ```
//! use tracemark_tardos::{accuse, sim, AccusationConfig, Biases, Codeword, Cutoff,
//!     NullModel, Observations, ScoreFunction};
//!
//! # fn main() -> Result<(), tracemark_tardos::Error> {
//! // One recording, 60 s of 80 ms slots, 100 recipients.
//! let biases = Biases::draw(&sim::seed("recording", 1), 750, Cutoff::default())?;
//! let copies: Vec<Codeword> = (0..100)
//!     .map(|j| Codeword::draw(&sim::seed("recipient", j), &biases))
//!     .collect();
//!
//! // Recipients 7 and 42 average their copies; the detector reads soft symbols.
//! let mut noise = sim::Noise::new(&sim::seed("noise", 0));
//! let z = sim::averaged(&[&copies[7], &copies[42]], 1.5, &mut noise);
//!
//! let observed = Observations::fully_observed(z)?;
//! let model = NullModel::new(&observed, &biases, ScoreFunction::SoftSymmetric)?;
//! let verdict = accuse(&model, &copies, &AccusationConfig::default())?;
//! assert!(!verdict.accused.is_empty());
//! assert!(verdict.accused.iter().all(|r| r.index == 7 || r.index == 42));
//!
//! // Without a mark, nobody is accused.
//! let unmarked = Observations::fully_observed(noise.unmarked(750))?;
//! let model = NullModel::new(&unmarked, &biases, ScoreFunction::SoftSymmetric)?;
//! assert!(accuse(&model, &copies, &AccusationConfig::default())?.accused.is_empty());
//! # Ok(())
//! # }
//! ```

mod accuse;
mod code;
mod math;
mod null;
mod observe;
mod prf;
mod score;
mod screen;
pub mod sim;

pub use accuse::{
    AccusationConfig, DEFAULT_FALSE_ACCUSATION_BOUND, RecipientScore, Verdict, accuse, accuse_any,
    default_score_functions,
};
pub use code::{Biases, Codeword, Cutoff, DEFAULT_COALITION, MAX_SLOTS};
pub use null::{NullModel, Tail};
pub use observe::Observations;
pub use score::{SOFT_CLIP, ScoreFunction};
pub use screen::{Scan, Screen, Shortlist, accuse_top};

/// Everything that can go wrong when drawing codes or accusing.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A parameter is outside its valid range.
    #[error("invalid {name} = {value}: {reason}")]
    InvalidParameter {
        /// Which parameter.
        name: &'static str,
        /// The value given.
        value: f64,
        /// What it must satisfy.
        reason: &'static str,
    },
    /// A resource cap was hit.
    #[error(
        "{what}: {requested} exceeds the limit of {max}; split the recording or trace a shorter clip"
    )]
    LimitExceeded {
        /// What was capped.
        what: &'static str,
        /// The size asked for.
        requested: usize,
        /// The cap.
        max: usize,
    },
    /// Two inputs that must have one slot each per code slot differ in length.
    #[error(
        "{what} has {found} slots but the code has {expected}; align the leak to the code first"
    )]
    LengthMismatch {
        /// Which input.
        what: &'static str,
        /// The code's length.
        expected: usize,
        /// The input's length.
        found: usize,
    },
    /// A recipient's index is outside the number of recipients a [`Screen`] was made for.
    #[error(
        "recipient {index} is outside the {recipients} recipients screened; count them all when making the screen"
    )]
    RecipientOutOfRange {
        /// The index given.
        index: usize,
        /// The number of recipients the screen counts.
        recipients: usize,
    },
    /// An observed slot's soft value is NaN or infinite.
    #[error("soft value at slot {slot} is {value}; mark the slot unobserved (cells = 0) instead")]
    NonFiniteObservation {
        /// The slot.
        slot: usize,
        /// The value.
        value: f32,
    },
}
