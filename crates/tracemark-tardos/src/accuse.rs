//! Accusation: scores, p-values corrected for multiple testing, and the verdict.

use crate::Error;
use crate::code::{Biases, Codeword};
use crate::null::{NullModel, Tail};
use crate::observe::Observations;
use crate::score::ScoreFunction;

/// Default bound on the probability of accusing any innocent recipient (DESIGN.md,
/// choice 4: "below one in a million").
pub const DEFAULT_FALSE_ACCUSATION_BOUND: f64 = 1e-6;

/// What the accusation must guarantee, and how many tests the search made.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AccusationConfig {
    bound: f64,
    recordings_tested: u64,
    keys_tried: u64,
}

impl AccusationConfig {
    /// Accuse only where the corrected p-value is below `bound` (`0 < bound < 1`).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a bound outside `(0, 1)`.
    pub fn new(bound: f64) -> Result<Self, Error> {
        if !(bound > 0.0 && bound < 1.0) {
            return Err(Error::InvalidParameter {
                name: "false-accusation bound",
                value: bound,
                reason: "must lie strictly between 0 and 1",
            });
        }
        Ok(Self {
            bound,
            recordings_tested: 1,
            keys_tried: 1,
        })
    }

    /// Number of recordings whose codes this leak was scored against (at least 1).
    pub fn with_recordings_tested(mut self, n: u64) -> Self {
        self.recordings_tested = n.max(1);
        self
    }

    /// Number of keys, score functions or alignments tried for this leak (at least 1).
    pub fn with_keys_tried(mut self, n: u64) -> Self {
        self.keys_tried = n.max(1);
        self
    }

    /// The false-accusation bound.
    pub fn bound(&self) -> f64 {
        self.bound
    }

    /// The configuration [`accuse_any`] tests under with `functions` score functions:
    /// each one is another key tried.
    pub(crate) fn per_function(&self, functions: usize) -> Self {
        self.with_keys_tried(self.keys_tried * functions as u64)
    }

    /// Hypotheses tested when `recipients` codewords are scored: recipients x recordings x
    /// keys, at least 1.
    pub(crate) fn tests(&self, recipients: usize) -> f64 {
        recipients.max(1) as f64 * self.recordings_tested as f64 * self.keys_tried as f64
    }
}

impl Default for AccusationConfig {
    fn default() -> Self {
        Self {
            bound: DEFAULT_FALSE_ACCUSATION_BOUND,
            recordings_tested: 1,
            keys_tried: 1,
        }
    }
}

/// One recipient's figures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RecipientScore {
    /// Position of the recipient's codeword in the slice given to [`accuse`].
    pub index: usize,
    /// The score function that produced these figures.
    pub function: ScoreFunction,
    /// The score `S_j`.
    pub score: f64,
    /// Bound and estimate of the uncorrected p-value `P(S >= S_j | innocent)`.
    pub tail: Tail,
    /// `min(1, bound * tests)`: the Bonferroni-corrected p-value.
    pub corrected: f64,
}

/// The outcome of scoring every recipient.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// Every recipient, in the order given.
    pub scores: Vec<RecipientScore>,
    /// Recipients whose corrected p-value is below the bound, strongest evidence
    /// first (ascending corrected p-value, then index).
    pub accused: Vec<RecipientScore>,
    /// Number of hypotheses tested: recipients x recordings x keys.
    pub tests: f64,
    /// The false-accusation bound applied.
    pub bound: f64,
}

/// Scores every codeword against the observed leak and accuses where the
/// Bonferroni-corrected Chernoff bound is below the configured bound.
///
/// `corrected = min(1, p * recipients * recordings * keys)`: by the union bound the
/// probability that any innocent among all tests is accused is at most the bound
/// (Bonferroni, 1936; Dunn, "Multiple comparisons among means", JASA 56, 1961).
/// Recipients who colluded to make the leak are not covered by the guarantee, and
/// need not be: it only protects innocents, whose codewords are independent of it.
///
/// # Errors
/// [`Error::LengthMismatch`] when a codeword's length differs from the code's.
pub fn accuse(
    model: &NullModel,
    codewords: &[Codeword],
    config: &AccusationConfig,
) -> Result<Verdict, Error> {
    let tests = config.tests(codewords.len());
    let ln_tests = tests.ln();
    let mut scores = Vec::with_capacity(codewords.len());
    for (index, codeword) in codewords.iter().enumerate() {
        scores.push(figures(model, index, model.score(codeword)?, ln_tests));
    }
    Ok(finish(scores, tests, config.bound))
}

/// Recipient `index`'s figures at `score` under `model`, `ln_tests` hypotheses tested.
pub(crate) fn figures(
    model: &NullModel,
    index: usize,
    score: f64,
    ln_tests: f64,
) -> RecipientScore {
    let tail = model.tail(score);
    RecipientScore {
        index,
        function: model.function(),
        score,
        tail,
        corrected: (tail.ln_bound + ln_tests).min(0.0).exp(),
    }
}

/// Whether a recipient's uncorrected `ln_bound` is accused: `ln_bound + ln(tests) <
/// ln(bound)`.
pub(crate) fn is_accused(ln_bound: f64, tests: f64, bound: f64) -> bool {
    ln_bound + tests.ln() < bound.ln()
}

/// Strongest evidence first: ascending bound, then index.
pub(crate) fn by_strength(a: &RecipientScore, b: &RecipientScore) -> std::cmp::Ordering {
    a.tail
        .ln_bound
        .total_cmp(&b.tail.ln_bound)
        .then(a.index.cmp(&b.index))
}

/// Keeps in `kept` whichever of it and `new` (the same recipient under a later score
/// function) has the smaller bound; the earlier function on a tie.
pub(crate) fn keep_stronger(kept: &mut RecipientScore, new: RecipientScore) {
    if new.tail.ln_bound < kept.tail.ln_bound {
        *kept = new;
    }
}

/// The verdict over `scores`: those whose corrected bound is below `bound` are accused,
/// strongest evidence first.
fn finish(scores: Vec<RecipientScore>, tests: f64, bound: f64) -> Verdict {
    let mut accused: Vec<RecipientScore> = scores
        .iter()
        .filter(|r| is_accused(r.tail.ln_bound, tests, bound))
        .copied()
        .collect();
    accused.sort_by(by_strength);
    Verdict {
        scores,
        accused,
        tests,
        bound,
    }
}

/// The score functions a trace tests by default: the soft symmetric score (no attack
/// model; best against collusion) and the single-leaker log-likelihood ratio at the
/// amplitude estimated from the leak alone (most powerful for one leaker: in
/// docs/benchmarks/tardos.md it gives 10 to 100 times smaller p-values at symbol SNRs
/// below 1).
pub fn default_score_functions(observations: &Observations) -> [ScoreFunction; 2] {
    [
        ScoreFunction::SoftSymmetric,
        ScoreFunction::LogLikelihood {
            mu: observations.amplitude_estimate(),
        },
    ]
}

/// [`accuse`] under each of `functions`, counted as that many more tests
/// (`keys_tried` is multiplied by their number, so the union bound still covers every
/// score tried), keeping for each recipient the function that gave the smallest bound.
///
/// # Errors
/// As [`NullModel::new`] and [`accuse`]; [`Error::InvalidParameter`] for an empty list.
pub fn accuse_any(
    observations: &Observations,
    biases: &Biases,
    functions: &[ScoreFunction],
    codewords: &[Codeword],
    config: &AccusationConfig,
) -> Result<Verdict, Error> {
    let config = config.per_function(functions.len());
    let mut best: Option<Verdict> = None;
    for &function in functions {
        let model = NullModel::new(observations, biases, function)?;
        let verdict = accuse(&model, codewords, &config)?;
        best = Some(match best {
            None => verdict,
            Some(mut b) => {
                for (kept, new) in b.scores.iter_mut().zip(verdict.scores) {
                    keep_stronger(kept, new);
                }
                b
            }
        });
    }
    let best = best.ok_or(Error::InvalidParameter {
        name: "score functions",
        value: 0.0,
        reason: "at least one score function is needed",
    })?;
    Ok(finish(best.scores, best.tests, best.bound))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_outside_the_unit_interval_are_rejected() {
        for b in [0.0, 1.0, -1.0, f64::NAN] {
            assert!(AccusationConfig::new(b).is_err(), "{b}");
        }
        assert_eq!(AccusationConfig::default().bound(), 1e-6);
    }

    #[test]
    fn zero_counts_are_treated_as_one_test() {
        let c = AccusationConfig::default()
            .with_recordings_tested(0)
            .with_keys_tried(0);
        assert_eq!(c, AccusationConfig::default());
    }
}
