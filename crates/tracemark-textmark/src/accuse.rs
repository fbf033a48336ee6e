//! Accusing from a leak's readings with tardos, and how many more quoted words an
//! accusation would need.

use tracemark_tardos::{
    AccusationConfig, Biases, Codeword, Verdict, accuse_any, default_score_functions,
};

use crate::{Error, LeakReading};

/// Scores every issued codeword against the sites read from a leak and accuses where the
/// corrected p-value is below `config`'s bound.
///
/// Calls [`tracemark_tardos::accuse_any`] with both default score functions (the soft
/// symmetric Tardos score and the single-leaker log-likelihood ratio), so the verdict's
/// test count is recipients x recordings x keys x 2 and each p-value is the Chernoff
/// bound of the exact innocent-score distribution given the sites observed. An innocent's
/// codeword is independent of the leak, so the bound holds whatever the leak was, however
/// it was edited and whichever sites were erased.
///
/// # Errors
/// [`Error::Tardos`] when the codewords or biases do not have one slot per site.
pub fn accuse(
    reading: &LeakReading,
    biases: &Biases,
    codewords: &[Codeword],
    config: &AccusationConfig,
) -> Result<Verdict, Error> {
    let observations = reading.observations()?;
    let functions = default_score_functions(&observations);
    Ok(accuse_any(
        &observations,
        biases,
        &functions,
        codewords,
        config,
    )?)
}

/// How far a leak is from an accusation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WordsNeeded {
    /// Sites read in the leak.
    pub sites_read: usize,
    /// Read sites an accusation at the bound would need, estimated.
    pub sites_needed: usize,
    /// Sites read per quoted word: from the leak when it read any, else the
    /// transcript's site density.
    pub sites_per_word: f64,
    /// More quoted words needed, estimated (0 when `sites_read >= sites_needed`).
    pub more_words: usize,
}

/// Estimates how many more quoted words an accusation would need.
///
/// The evidence an accusation needs is `ln(tests / bound)` nats (the corrected bound of
/// the verdict). A site read from a lone leaker's copy brings on average the entropy
/// `H(p)` of its bias in nats (the expected log-probability that an innocent shares the
/// leaker's symbol there; about 0.40 nats for Tardos' arcsine biases), so at least
/// `ln(tests / bound) / mean H(p)` read sites are needed: the figure is a lower bound
/// (soft reads, misreads and collusion need more). Sites per word come from the leak, or
/// from `site_density` (sites per transcript word) when it read none. An estimate for the
/// report, never a threshold: the accusation itself is [`accuse`]'s.
pub fn words_needed(
    reading: &LeakReading,
    biases: &Biases,
    verdict: &Verdict,
    site_density: f64,
) -> WordsNeeded {
    let sites_read = reading.read_sites();
    let needed_nats = (verdict.tests / verdict.bound).ln().max(0.0);
    let p = biases.as_slice();
    let per_site = if p.is_empty() {
        std::f64::consts::LN_2
    } else {
        p.iter()
            .map(|&p| -(p * p.ln() + (1.0 - p) * (-p).ln_1p()))
            .sum::<f64>()
            / p.len() as f64
    };
    let sites_needed = (needed_nats / per_site).ceil() as usize;
    let sites_per_word = if sites_read > 0 && reading.matched_words() > 0 {
        sites_read as f64 / reading.matched_words() as f64
    } else {
        site_density
    };
    let missing = sites_needed.saturating_sub(sites_read) as f64;
    let more_words = if missing == 0.0 {
        0
    } else if sites_per_word > 0.0 {
        (missing / sites_per_word).ceil() as usize
    } else {
        usize::MAX
    };
    WordsNeeded {
        sites_read,
        sites_needed,
        sites_per_word,
        more_words,
    }
}
