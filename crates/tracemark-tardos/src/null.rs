//! The distribution of an innocent recipient's score, given what was observed.
//!
//! Given the observations `z` and the biases `p` (both fixed once the leak is
//! observed), an innocent recipient's codeword is independent of `z`: its score is a
//! sum of independent two-valued terms, `hi_i` with probability `p_i` and `lo_i`
//! otherwise. Its cumulant generating function is exact:
//! `K(l) = sum_i ln(p_i e^(l hi_i) + (1 - p_i) e^(l lo_i))`, and for every `l > 0`
//! Markov's inequality applied to `e^(l S)` gives `P(S >= s) <= exp(K(l) - l s)`
//! (Chernoff, Ann. Math. Statist. 23, 1952). Any `l` gives a valid bound, so the
//! numerical search for the best `l` can only make the bound looser, never wrong.
//! This is the "operational mode" of Furon and Desoubeaux (WIFS 2014): the p-value is
//! computed for the observed leak, not from a threshold tuned on simulations.

use crate::code::{Biases, Codeword};
use crate::observe::Observations;
use crate::score::ScoreFunction;
use crate::{Error, math};

/// The innocent-score distribution for one observed leak and one code.
#[derive(Clone, Debug)]
pub struct NullModel {
    function: ScoreFunction,
    len: usize,
    slots: Vec<usize>,
    hi: Vec<f64>,
    lo: Vec<f64>,
    logit_p: Vec<f64>,
    ln_q: Vec<f64>,
    mean: f64,
    variance: f64,
    max_score: f64,
    ln_p_max: f64,
    rounding: f64,
}

/// The tail of an innocent's score at one observed score.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tail {
    /// Natural log of the rigorous Chernoff upper bound on `P(S >= s)`.
    pub ln_bound: f64,
    /// Natural log of the Lugannani-Rice saddle-point estimate of `P(S >= s)`, for
    /// reporting only; `None` where the approximation breaks down.
    pub ln_estimate: Option<f64>,
    /// The Chernoff parameter that achieved the bound (0 when the bound is 1).
    pub lambda: f64,
}

impl Tail {
    /// The Chernoff upper bound on `P(S >= s)`: the p-value used for accusation.
    pub fn bound(&self) -> f64 {
        self.ln_bound.exp()
    }

    /// The saddle-point estimate of `P(S >= s)`, for reporting.
    pub fn estimate(&self) -> Option<f64> {
        self.ln_estimate.map(f64::exp)
    }
}

/// `K(l)`, `K'(l)`, `K''(l)` and a bound on the rounding error of `K`.
struct Cumulants {
    k: f64,
    k1: f64,
    k2: f64,
    rounding: f64,
}

impl NullModel {
    /// Prepares the per-slot terms of the observed slots.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when observations and biases differ in length;
    /// [`Error::InvalidParameter`] for an invalid score function.
    pub fn new(
        observations: &Observations,
        biases: &Biases,
        score: ScoreFunction,
    ) -> Result<Self, Error> {
        let score = score.validate()?;
        if observations.len() != biases.len() {
            return Err(Error::LengthMismatch {
                what: "observations",
                expected: biases.len(),
                found: observations.len(),
            });
        }
        let n = observations.observed();
        let mut model = Self {
            function: score,
            len: biases.len(),
            slots: Vec::with_capacity(n),
            hi: Vec::with_capacity(n),
            lo: Vec::with_capacity(n),
            logit_p: Vec::with_capacity(n),
            ln_q: Vec::with_capacity(n),
            mean: 0.0,
            variance: 0.0,
            max_score: 0.0,
            ln_p_max: 0.0,
            rounding: 0.0,
        };
        let mut abs_sum = 0.0;
        for (i, z) in observations.iter_observed() {
            let p = biases.as_slice()[i];
            let (hi, lo) = score.terms(z, p);
            model.slots.push(i);
            model.hi.push(hi);
            model.lo.push(lo);
            model.logit_p.push(p.ln() - (-p).ln_1p());
            model.ln_q.push((-p).ln_1p());
            model.mean += p * hi + (1.0 - p) * lo;
            model.variance += p * (1.0 - p) * (hi - lo).powi(2);
            model.max_score += hi.max(lo);
            model.ln_p_max += if hi > lo {
                p.ln()
            } else if hi < lo {
                (-p).ln_1p()
            } else {
                0.0
            };
            abs_sum += hi.abs().max(lo.abs());
        }
        // Recursive summation of n terms errs by at most (n-1) eps sum|x_i| (Higham,
        // "Accuracy and Stability of Numerical Algorithms", 2nd ed., §4.2); doubled.
        model.rounding = 2.0 * (n as f64 + 1.0) * f64::EPSILON * abs_sum;
        Ok(model)
    }

    /// The score function the model was built for.
    pub fn function(&self) -> ScoreFunction {
        self.function
    }

    /// Number of slots of the code.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the code has no slots.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of observed slots that enter the score.
    pub fn observed(&self) -> usize {
        self.slots.len()
    }

    /// Exact mean of an innocent's score (0 for the symmetric score).
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// Exact standard deviation of an innocent's score.
    pub fn std_dev(&self) -> f64 {
        self.variance.sqrt()
    }

    /// A recipient's score: the sum of its observed slots' terms, in slot order.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when the codeword's length differs from the code's.
    pub fn score(&self, codeword: &Codeword) -> Result<f64, Error> {
        if codeword.len() != self.len {
            return Err(Error::LengthMismatch {
                what: "codeword",
                expected: self.len,
                found: codeword.len(),
            });
        }
        let mut s = 0.0;
        for (k, &i) in self.slots.iter().enumerate() {
            // `i < len == codeword.len()` by construction and the check above.
            s += if codeword.symbol(i) == Some(true) {
                self.hi[k]
            } else {
                self.lo[k]
            };
        }
        Ok(s)
    }

    /// The observed slots, in slot order: term `k` of [`NullModel::score`] is slot
    /// `slots()[k]`'s.
    pub(crate) fn slots(&self) -> &[usize] {
        &self.slots
    }

    /// A bound on the rounding error of a computed score (Higham §4.2, doubled).
    pub(crate) fn rounding(&self) -> f64 {
        self.rounding
    }

    /// Slot `k`'s terms `(hi, lo)`: what it adds for symbol 1 and for symbol 0.
    pub(crate) fn terms(&self, k: usize) -> (f64, f64) {
        (self.hi[k], self.lo[k])
    }

    /// A score `c` such that [`NullModel::tail`]`(s).ln_bound >= ln_target` (less a few
    /// ulps) for every `s <= c`: recipients scoring at most `c` need no tail computed to
    /// know they are not accused at that level. `-inf` unless `ln_target < 0`.
    ///
    /// Why it holds, branch by branch of `tail(s)` (with `s' = s - rounding`):
    /// `s' <= mean` gives 0 > `ln_target`; `c <= max_score` rules out the branch above the
    /// maximum; otherwise `tail` returns `min(0, k(l) - l s' + rounding(l))` at some
    /// `l > 0`, at least `min(0, K(l) - l s')` since `rounding(l)` bounds the error of
    /// `k(l)`, so at least `F(s') = inf_l (K(l) - l s')`. `K` is convex, so for any
    /// `l0 > 0`, `K(l) >= K(l0) + K'(l0) (l - l0)` and for `s' <= K'(l0)`:
    /// `K(l) - l s' >= K(l0) - l0 K'(l0) + l (K'(l0) - s') >= K(l0) - l0 K'(l0)`. So each
    /// `l0` whose `G(l0) = K(l0) - l0 K'(l0)`, bounded below with the rounding of `k` and
    /// `k'`, is at least `ln_target` makes `K'(l0)` (bounded below) a valid `c`; the
    /// search keeps the largest found. Any `l0` is valid, so the search can only make `c`
    /// smaller than it could be (more tails computed), never wrong.
    pub(crate) fn insignificant_up_to(&self, ln_target: f64) -> f64 {
        if ln_target.is_nan() || ln_target >= 0.0 {
            return f64::NEG_INFINITY;
        }
        // The error of the computed K'(l): each of the n terms `lo + d q1` errs by a few
        // ulps of |lo| + |d| <= 3 max(|hi|, |lo|), the sum by (n - 1) eps sum|term|
        // (Higham §4.2): 8 (n + 8) eps 3 sum max(|hi|, |lo|) <= 96 `rounding`, doubled.
        let slack = 192.0 * self.rounding;
        let valid = |l: f64| -> Option<f64> {
            let c = self.cumulants(l);
            let g = c.k - c.rounding - l * (c.k1 + slack);
            (g.is_finite() && g >= ln_target).then_some(c.k1 - slack)
        };
        let mut cut = self.mean;
        if self.variance > 0.0 && self.variance.is_finite() {
            // Double l from about one deviation's worth until G falls below the target,
            // then bisect between the last valid l and the first invalid one.
            let (mut good, mut bad) = (0.0, None);
            let mut l = 1.0 / self.std_dev();
            for _ in 0..80 {
                match valid(l) {
                    Some(c) => {
                        cut = cut.max(c);
                        good = l;
                        l *= 2.0;
                    }
                    None => {
                        bad = Some(l);
                        break;
                    }
                }
            }
            if let Some(mut bad) = bad {
                for _ in 0..60 {
                    let mid = 0.5 * (good + bad);
                    match valid(mid) {
                        Some(c) => {
                            cut = cut.max(c);
                            good = mid;
                        }
                        None => bad = mid,
                    }
                }
            }
        }
        cut.min(self.max_score)
    }

    fn cumulants(&self, lambda: f64) -> Cumulants {
        let mut c = Cumulants {
            k: 0.0,
            k1: 0.0,
            k2: 0.0,
            rounding: 0.0,
        };
        for k in 0..self.hi.len() {
            let (hi, lo) = (self.hi[k], self.lo[k]);
            let d = hi - lo;
            // ln(p e^(l hi) + q e^(l lo)) = l lo + ln q + softplus(l d + logit p).
            let t = lambda * d + self.logit_p[k];
            let e = (-t.abs()).exp();
            let softplus = t.max(0.0) + e.ln_1p();
            let (q1, q0) = if t >= 0.0 {
                (1.0 / (1.0 + e), e / (1.0 + e))
            } else {
                (e / (1.0 + e), 1.0 / (1.0 + e))
            };
            let term = lambda * lo + self.ln_q[k] + softplus;
            c.k += term;
            c.k1 += lo + d * q1;
            c.k2 += d * d * q1 * q0;
            c.rounding += (lambda * lo).abs() + self.ln_q[k].abs() + t.abs() + 1.0;
        }
        // Each term carries a few ulps of its operands' magnitudes; the sum adds
        // (n-1) eps sum|term| (Higham §4.2). 8 (n + 8) eps covers both generously.
        c.rounding *= 8.0 * (self.hi.len() as f64 + 8.0) * f64::EPSILON;
        c
    }

    /// The tail of an innocent's score at the observed score `s`: the Chernoff bound
    /// (optimised over `l` by safeguarded Newton iteration on `K'(l) = s`) and the
    /// saddle-point estimate.
    pub fn tail(&self, s: f64) -> Tail {
        // An innocent's computed score may exceed its exact one by the rounding bound.
        let s = s - self.rounding;
        if s.is_nan() || s <= self.mean {
            return Tail {
                ln_bound: 0.0,
                ln_estimate: Some(0.0),
                lambda: 0.0,
            };
        }
        if s > self.max_score {
            // No outcome reaches s: P(S >= s) = 0 <= P(S = S_max), finite in logs.
            return Tail {
                ln_bound: self.ln_p_max.min(0.0),
                ln_estimate: None,
                lambda: f64::INFINITY,
            };
        }
        let (lambda, best) = self.optimise(s);
        let ln_bound = (best.k - lambda * s + best.rounding).min(0.0);
        Tail {
            ln_bound,
            ln_estimate: self.saddle_point(s, lambda, &best),
            lambda,
        }
    }

    /// Finds `l > 0` minimising `K(l) - l s`, for `mean < s < max_score`; returns the
    /// best `l` evaluated and its cumulants.
    fn optimise(&self, s: f64) -> (f64, Cumulants) {
        let objective = |l: f64, c: &Cumulants| c.k - l * s + c.rounding;
        let mut lo = 0.0;
        let mut hi = f64::INFINITY;
        // Gaussian guess: K'(l) ~ mean + l var.
        let mut lambda = ((s - self.mean) / self.variance.max(f64::MIN_POSITIVE)).max(1e-300);
        let mut best: Option<(f64, Cumulants)> = None;
        for _ in 0..200 {
            let c = self.cumulants(lambda);
            let f = objective(lambda, &c);
            let gap = c.k1 - s;
            let step = gap / c.k2;
            let improved = best.as_ref().is_none_or(|(l, b)| f < objective(*l, b));
            let converged = gap.abs() <= 1e-10 * (s.abs() + self.std_dev())
                || (hi.is_finite() && hi - lo <= 1e-12 * hi);
            if gap < 0.0 {
                lo = lambda;
            } else {
                hi = lambda;
            }
            if improved {
                best = Some((lambda, c));
            }
            if converged {
                break;
            }
            let newton = lambda - step;
            lambda = if step.is_finite() && newton > lo && newton < hi {
                newton
            } else if hi.is_finite() {
                0.5 * (lo + hi)
            } else {
                lambda * 4.0
            };
        }
        // The loop runs at least once, so `best` is set.
        best.unwrap_or_else(|| (0.0, self.cumulants(0.0)))
    }

    /// Lugannani-Rice tail approximation (J. Appl. Probab. 12, 1980; Daniels, Int.
    /// Statist. Rev. 55, 1987, eq. 3.3): `P ~ Q(w) + phi(w) (1/u - 1/w)` with
    /// `w = sqrt(2 (l s - K(l)))`, `u = l sqrt(K''(l))`.
    fn saddle_point(&self, s: f64, lambda: f64, c: &Cumulants) -> Option<f64> {
        let w2 = 2.0 * (lambda * s - c.k);
        let u = lambda * c.k2.sqrt();
        if !(w2 > 0.0 && u > 0.0) {
            return None;
        }
        let w = w2.sqrt();
        if w < 1e-2 {
            // Too close to the mean for the expansion: use the normal tail.
            return Some(math::ln_normal_tail((s - self.mean) / self.std_dev()));
        }
        let bracket = math::mills_ratio(w) + 1.0 / u - 1.0 / w;
        (bracket > 0.0).then(|| math::ln_normal_density(w) + bracket.ln())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::Cutoff;

    fn model(z: &[f32], seed: u8, score: ScoreFunction) -> (NullModel, Biases) {
        let biases = Biases::draw(&[seed; 32], z.len(), Cutoff::default()).expect("short");
        let obs = Observations::fully_observed(z.to_vec()).expect("finite");
        (NullModel::new(&obs, &biases, score).expect("valid"), biases)
    }

    /// Exact `P(S >= s)` by enumerating all 2^n codewords.
    fn exact_tail(m: &NullModel, biases: &Biases, s: f64) -> f64 {
        let n = m.observed();
        let p = biases.as_slice();
        (0u32..1 << n)
            .filter_map(|bits| {
                let (mut score, mut prob) = (0.0, 1.0);
                for (k, &pk) in p.iter().enumerate().take(n) {
                    if bits >> k & 1 == 1 {
                        score += m.hi[k];
                        prob *= pk;
                    } else {
                        score += m.lo[k];
                        prob *= 1.0 - pk;
                    }
                }
                (score >= s - 1e-12).then_some(prob)
            })
            .sum()
    }

    #[test]
    fn chernoff_bound_dominates_the_exact_tail_and_the_estimate_is_close() {
        let z: Vec<f32> = (0..16).map(|i| ((i * 7 % 11) as f32 - 5.0) / 2.5).collect();
        for score in [
            ScoreFunction::SoftSymmetric,
            ScoreFunction::LogLikelihood { mu: 1.0 },
        ] {
            let (m, b) = model(&z, 9, score);
            for k in 1..12 {
                let s = m.mean() + f64::from(k) * 0.4 * m.std_dev();
                let exact = exact_tail(&m, &b, s);
                let tail = m.tail(s);
                assert!(
                    tail.bound() >= exact,
                    "{score:?} s={s}: {} < {exact}",
                    tail.bound()
                );
                if exact > 1e-3
                    && let Some(est) = tail.estimate()
                {
                    assert!(est / exact < 3.0 && exact / est < 3.0, "{est} vs {exact}");
                }
            }
        }
    }

    #[test]
    fn scores_at_or_below_the_mean_have_bound_one() {
        let (m, _) = model(&[1.0, -0.5, 2.0], 1, ScoreFunction::SoftSymmetric);
        assert_eq!(m.tail(m.mean()).bound(), 1.0);
        assert_eq!(m.tail(-5.0).bound(), 1.0);
        assert_eq!(m.tail(f64::NAN).bound(), 1.0);
    }

    #[test]
    fn the_maximal_score_is_bounded_by_its_own_probability() {
        let (m, b) = model(&[1.0, -0.5, 2.0, 0.7], 4, ScoreFunction::SoftSymmetric);
        let tail = m.tail(m.max_score);
        let exact = exact_tail(&m, &b, m.max_score);
        assert!(tail.bound() >= exact && tail.bound() <= 1.0001 * exact);
        assert!(m.tail(m.max_score + 1.0).bound() <= tail.bound());
    }

    #[test]
    fn bound_decreases_with_the_score() {
        let z: Vec<f32> = (0..300)
            .map(|i| ((i * 13 % 17) as f32 - 8.0) / 4.0)
            .collect();
        let (m, _) = model(&z, 5, ScoreFunction::SoftSymmetric);
        let mut last = 1.0;
        for k in 0..60 {
            let b = m.tail(f64::from(k) * 0.25 * m.std_dev()).ln_bound;
            assert!(b <= last + 1e-9, "k={k}: {b} > {last}");
            last = b;
        }
        assert!(last < -40.0, "{last}");
    }

    #[test]
    fn below_the_cut_no_bound_reaches_the_target_and_the_cut_is_tight() {
        for (seed, n) in [(1u8, 3usize), (2, 40), (3, 250), (4, 1000)] {
            let z: Vec<f32> = (0..n)
                .map(|i| ((i * 37 % 23) as f32 - 11.0) / 5.0)
                .collect();
            for score in [
                ScoreFunction::SoftSymmetric,
                ScoreFunction::LogLikelihood { mu: 0.7 },
            ] {
                let (m, _) = model(&z, seed, score);
                for ln_target in [-0.01, -1.0, -13.8, -30.0, -60.0, -500.0] {
                    let cut = m.insignificant_up_to(ln_target);
                    assert!(cut >= m.mean() && cut <= m.max_score, "{cut}");
                    for k in 0..=200 {
                        let s = cut - f64::from(k) / 200.0 * (cut - m.mean() + 1.0);
                        let b = m.tail(s).ln_bound;
                        assert!(
                            b >= ln_target - 1e-9,
                            "n={n} {score:?} s={s}: {b} < {ln_target}"
                        );
                    }
                    // Where the target is reachable, the bound at the cut is at it.
                    if m.ln_p_max < ln_target - 1.0 && n > 3 {
                        let b = m.tail(cut).ln_bound;
                        assert!(
                            b <= ln_target + 1e-3 * ln_target.abs() + 1e-6,
                            "{b} vs {ln_target}"
                        );
                    }
                }
                assert_eq!(m.insignificant_up_to(0.0), f64::NEG_INFINITY);
            }
        }
    }

    #[test]
    fn unobserved_slots_do_not_count() {
        let biases = Biases::draw(&[3; 32], 4, Cutoff::default()).expect("short");
        let obs = Observations::try_new(vec![3.0, 3.0, 3.0, 3.0], vec![1, 0, 0, 1]).expect("ok");
        let m = NullModel::new(&obs, &biases, ScoreFunction::SoftSymmetric).expect("ok");
        assert_eq!(m.observed(), 2);
        let w = Codeword::from_symbols(&[true, true, true, true]).expect("short");
        let p = biases.as_slice();
        let expected = 3.0 * (((1.0 - p[0]) / p[0]).sqrt() + ((1.0 - p[3]) / p[3]).sqrt());
        assert!((m.score(&w).expect("same length") - expected).abs() < 1e-9);
    }

    #[test]
    fn length_mismatches_are_errors() {
        let (m, _) = model(&[1.0, 2.0], 1, ScoreFunction::SoftSymmetric);
        let w = Codeword::from_symbols(&[true]).expect("short");
        assert!(matches!(m.score(&w), Err(Error::LengthMismatch { .. })));
        let biases = Biases::draw(&[3; 32], 4, Cutoff::default()).expect("short");
        let obs = Observations::fully_observed(vec![0.0; 3]).expect("ok");
        assert!(NullModel::new(&obs, &biases, ScoreFunction::SoftSymmetric).is_err());
    }
}
