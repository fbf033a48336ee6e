//! Accusation at scale: every issued copy scored by table look-ups, and the tail bound
//! computed only where it can change what is reported.
//!
//! [`accuse_any`](crate::accuse_any) computes every recipient's Chernoff bound, a
//! numerical optimisation over the observed slots, under every score function: at 10^6
//! issued copies that is most of a trace's time, spent on innocents whose bounds are
//! nowhere near an accusation. A [`Screen`] computes first, once per leak and function,
//! the score at or below which the bound is provably too large to accuse
//! ([`NullModel`]'s `insignificant_up_to`, with a margin of one nat over the accusation
//! threshold); then it scores every codeword (the same sum, in the same order, as
//! [`NullModel::score`]) and keeps only the recipients above that score under some
//! function and the `top` highest scorers under each. Their figures are then computed
//! exactly as [`accuse_any`](crate::accuse_any) computes them, so the [`Shortlist`]'s
//! accused are the verdict's accused, figure for figure; nothing about the bound changes.
//!
//! The work splits: [`Screen::scan`] opens an empty [`Scan`], any number of scans
//! can score disjoint sets of recipients (on the caller's threads), and
//! [`Scan::merge`] joins them before [`Scan::finish`]. [`Scan::push_seed`] draws a
//! recipient's symbols on the observed slots straight into the sums, so a caller need
//! not hold the codewords at all, and stops drawing (early rejection) once even the
//! largest terms of the slots left could not lift the score above the cut or into the
//! leaders: an exact bound, the sum of `max(hi, lo)` over those slots plus a margin of
//! four times the score's rounding bound. The stream blocks are drawn in the order that
//! lowers that bound fastest on average, so an innocent is usually rejected after about
//! half of them (`examples/scoring_scale.rs`).
//!
//! ```
//! use tracemark_tardos::{accuse_any, default_score_functions, sim, AccusationConfig,
//!     Biases, Codeword, Cutoff, Observations, Screen};
//!
//! # fn main() -> Result<(), tracemark_tardos::Error> {
//! let biases = Biases::draw(&sim::seed("recording", 1), 750, Cutoff::default())?;
//! let seeds: Vec<[u8; 32]> = (0..1000).map(|j| sim::seed("recipient", j)).collect();
//! let leaker = Codeword::draw(&seeds[321], &biases);
//! let z = sim::averaged(&[&leaker], 1.0, &mut sim::Noise::new(&sim::seed("noise", 0)));
//! let observations = Observations::fully_observed(z)?;
//! let functions = default_score_functions(&observations);
//! let config = AccusationConfig::default();
//!
//! // Two halves, as two threads would score them, merged.
//! let screen = Screen::new(&observations, &biases, &functions, seeds.len(), &config, 5)?;
//! let (mut a, mut b) = (screen.scan(), screen.scan());
//! for (j, seed) in seeds.iter().enumerate() {
//!     if j < 500 { a.push_seed(j, seed)? } else { b.push_seed(j, seed)? }
//! }
//! let shortlist = a.merge(b).finish()?;
//! assert_eq!(shortlist.accused.first().map(|r| r.index), Some(321));
//!
//! // The same accused, figure for figure, as scoring everyone's bound.
//! let codewords: Vec<Codeword> = seeds.iter().map(|s| Codeword::draw(s, &biases)).collect();
//! let verdict = accuse_any(&observations, &biases, &functions, &codewords, &config)?;
//! assert_eq!(shortlist.accused, verdict.accused);
//! # Ok(())
//! # }
//! ```

mod scan;

pub use scan::Scan;

use crate::Error;
use crate::accuse::{AccusationConfig, RecipientScore};
use crate::code::{Biases, Codeword};
use crate::null::NullModel;
use crate::observe::Observations;
use crate::score::ScoreFunction;

/// Margin, in nats of the bound, between the screen's cut and the accusation threshold:
/// a recipient is screened out only if every bound it could have is `e` times above the
/// threshold, far more than any rounding.
const MARGIN: f64 = 1.0;

/// One leak's score tables and cuts, for screening all of a recording's issued copies.
#[derive(Clone, Debug)]
pub struct Screen {
    models: Vec<NullModel>,
    /// The observed slots, in slot order.
    slots: Vec<usize>,
    /// Their biases.
    p: Vec<f64>,
    /// Slot `k`'s term under function `f` for symbol `x` at `(k * F + f) * 2 + x`.
    terms: Vec<f64>,
    /// Per function: scores at or below it cannot be accused.
    cuts: Vec<f64>,
    /// [`Scan::push_seed`]'s drawing order: the stream blocks holding observed slots,
    /// heaviest first, each with its range of observed slots.
    order: Vec<(u64, std::ops::Range<usize>)>,
    /// At `j * F + f`: the most the blocks after `order[j]` can add under function `f`.
    rest: Vec<f64>,
    /// Per function: more than the rounding error of a score and of a bound on it.
    margins: Vec<f64>,
    len: usize,
    recipients: usize,
    top: usize,
    tests: f64,
    bound: f64,
}

/// The outcome of a [`Screen`]: the accused, and the recipients with the strongest
/// evidence, without every innocent's figures.
#[derive(Clone, Debug, PartialEq)]
pub struct Shortlist {
    /// Exactly [`Verdict::accused`](crate::Verdict::accused) of
    /// [`accuse_any`](crate::accuse_any) on the same input: strongest evidence first.
    pub accused: Vec<RecipientScore>,
    /// The `top` highest scorers under each function and every recipient above a cut,
    /// those with a bound below 1 (the others carry no evidence), ranked as `accused` is
    /// and cut to `top`: the first `top` of the verdict's scores with a bound below 1 in
    /// that order, since the bound falls as the score rises. Each equals
    /// [`Verdict::scores`](crate::Verdict::scores)`[index]`.
    pub leading: Vec<RecipientScore>,
    /// Number of recipients scored.
    pub recipients: usize,
    /// Number of hypotheses tested: recipients x recordings x keys x functions.
    pub tests: f64,
    /// The false-accusation bound applied.
    pub bound: f64,
}

impl Screen {
    /// Prepares the screen of a leak scored under `functions` against `recipients`
    /// issued codewords (the number the Bonferroni correction counts, as
    /// [`accuse_any`](crate::accuse_any) counts its codewords), keeping the `top`
    /// strongest besides the accused.
    ///
    /// # Errors
    /// As [`NullModel::new`]; [`Error::InvalidParameter`] for an empty list of functions.
    pub fn new(
        observations: &Observations,
        biases: &Biases,
        functions: &[ScoreFunction],
        recipients: usize,
        config: &AccusationConfig,
        top: usize,
    ) -> Result<Self, Error> {
        if functions.is_empty() {
            return Err(Error::InvalidParameter {
                name: "score functions",
                value: 0.0,
                reason: "at least one score function is needed",
            });
        }
        let config = config.per_function(functions.len());
        let tests = config.tests(recipients);
        let models = functions
            .iter()
            .map(|&f| NullModel::new(observations, biases, f))
            .collect::<Result<Vec<_>, _>>()?;
        let ln_target = config.bound().ln() - tests.ln() + MARGIN;
        let cuts = models
            .iter()
            .map(|m| m.insignificant_up_to(ln_target))
            .collect();
        let slots = models[0].slots().to_vec();
        let p: Vec<f64> = slots.iter().map(|&i| biases.as_slice()[i]).collect();
        let mut terms = Vec::with_capacity(slots.len() * models.len() * 2);
        for k in 0..slots.len() {
            for m in &models {
                let (hi, lo) = m.terms(k);
                terms.extend([lo, hi]);
            }
        }
        let (order, rest) = drawing_order(&models, &slots, &p, &terms);
        let margins = models.iter().map(|m| 4.0 * m.rounding()).collect();
        Ok(Self {
            models,
            slots,
            p,
            terms,
            cuts,
            order,
            rest,
            margins,
            len: biases.len(),
            recipients,
            top,
            tests,
            bound: config.bound(),
        })
    }

    /// An empty scan of this screen.
    pub fn scan(&self) -> Scan<'_> {
        Scan::new(self)
    }

    /// Per score function, the score at or below which nobody is accused: scores above
    /// it get their tail computed.
    pub fn cuts(&self) -> &[f64] {
        &self.cuts
    }

    /// The stream blocks (four slots each) that hold the observed slots: what
    /// [`Scan::push_seed`] draws for a recipient it cannot reject early.
    pub fn blocks(&self) -> usize {
        self.order.len()
    }

    /// The score under each function into `out` of the codeword whose symbol at observed
    /// slot `k` is bit `k % 64` of `bits[k / 64]`: for each function, the sum over the
    /// observed slots, in slot order, of that slot's term, as [`NullModel::score`] sums.
    fn score_into(&self, bits: &[u64], out: &mut [f64]) {
        for (group, out) in out.chunks_mut(4).enumerate() {
            let first = group * 4;
            match out.len() {
                1 => out.copy_from_slice(&self.sum::<1>(first, bits)),
                2 => out.copy_from_slice(&self.sum::<2>(first, bits)),
                3 => out.copy_from_slice(&self.sum::<3>(first, bits)),
                _ => out.copy_from_slice(&self.sum::<4>(first, bits)),
            }
        }
    }

    /// The scores under functions `first..first + W`, summed side by side (independent
    /// chains, so their additions overlap), each in slot order.
    fn sum<const W: usize>(&self, first: usize, bits: &[u64]) -> [f64; W] {
        let mut acc = [0.0f64; W];
        let stride = 2 * self.models.len();
        for (k, row) in self.terms.chunks_exact(stride).enumerate() {
            let bit = (bits[k / 64] >> (k % 64) & 1) as usize;
            let row = &row[2 * first..2 * (first + W)];
            for (f, a) in acc.iter_mut().enumerate() {
                *a += row[2 * f + bit];
            }
        }
        acc
    }

    /// `codeword`'s symbols on the observed slots into `bits` (bit `k` for slot `k`).
    fn gather(&self, codeword: &Codeword, bits: &mut [u64]) {
        let words = codeword.words();
        bits.fill(0);
        for (k, &i) in self.slots.iter().enumerate() {
            bits[k / 64] |= (words[i / 64] >> (i % 64) & 1) << (k % 64);
        }
    }
}

/// The stream blocks that hold observed slots (four slots a block), heaviest first, and
/// at `j * F + f` the sum of `max(hi, lo)` under function `f` over the blocks after the
/// `j`-th: the most they can add to a score. A block's weight is how much drawing it
/// lowers that bound on average, `max(hi, lo) - (p hi + (1 - p) lo)` summed over its
/// slots, in units of each function's deviation, summed over the functions: greedy on
/// the expected bound, so that most innocents are rejected after few blocks.
fn drawing_order(
    models: &[NullModel],
    slots: &[usize],
    p: &[f64],
    terms: &[f64],
) -> (Vec<(u64, std::ops::Range<usize>)>, Vec<f64>) {
    let n = models.len();
    let mut groups: Vec<(u64, std::ops::Range<usize>)> = Vec::new();
    for (k, &i) in slots.iter().enumerate() {
        let block = (i / 4) as u64;
        match groups.last_mut() {
            Some((b, ks)) if *b == block => ks.end = k + 1,
            _ => groups.push((block, k..k + 1)),
        }
    }
    let scale: Vec<f64> = models
        .iter()
        .map(|m| {
            let sd = m.std_dev();
            if sd > 0.0 && sd.is_finite() {
                1.0 / sd
            } else {
                1.0
            }
        })
        .collect();
    let row = |k: usize, f: usize| (terms[(k * n + f) * 2], terms[(k * n + f) * 2 + 1]);
    let weight = |ks: &std::ops::Range<usize>| -> f64 {
        ks.clone()
            .flat_map(|k| (0..n).map(move |f| (k, f)))
            .map(|(k, f)| {
                let (lo, hi) = row(k, f);
                (hi.max(lo) - (p[k] * hi + (1.0 - p[k]) * lo)) * scale[f]
            })
            .sum()
    };
    groups.sort_by(|a, b| weight(&b.1).total_cmp(&weight(&a.1)).then(a.0.cmp(&b.0)));
    let mut rest = vec![0.0; groups.len() * n];
    let mut after = vec![0.0f64; n];
    for (j, (_, ks)) in groups.iter().enumerate().rev() {
        rest[j * n..(j + 1) * n].copy_from_slice(&after);
        for k in ks.clone() {
            for (f, a) in after.iter_mut().enumerate() {
                let (lo, hi) = row(k, f);
                *a += hi.max(lo);
            }
        }
    }
    (groups, rest)
}

/// [`accuse_any`](crate::accuse_any)'s accused, and the `top` strongest, at the cost of
/// scoring every codeword and computing a handful of bounds: one [`Screen`] and one
/// [`Scan`] over `codewords`. For work split across threads, use those directly.
///
/// # Errors
/// As [`Screen::new`] and [`Scan::push`].
pub fn accuse_top(
    observations: &Observations,
    biases: &Biases,
    functions: &[ScoreFunction],
    codewords: &[Codeword],
    config: &AccusationConfig,
    top: usize,
) -> Result<Shortlist, Error> {
    let screen = Screen::new(
        observations,
        biases,
        functions,
        codewords.len(),
        config,
        top,
    )?;
    let mut scan = screen.scan();
    for (index, codeword) in codewords.iter().enumerate() {
        scan.push(index, codeword)?;
    }
    scan.finish()
}
