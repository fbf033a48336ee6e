//! Per-slot accusation terms: what a slot adds to a recipient's score.
//!
//! Every score here is a sum over observed slots of `g(x_i, z_i, p_i)`, where `x_i` is
//! the recipient's symbol. Once the leak is observed, `z_i` and `p_i` are fixed, so each
//! slot's term takes one of two values: `hi_i` when `x_i = 1` and `lo_i` when `x_i = 0`.
//! That is all the p-value machinery ([`crate::NullModel`]) needs, whatever `g` is.

use crate::Error;

/// Soft values are clipped to `[-SOFT_CLIP, SOFT_CLIP]` before scoring. A detector
/// output `N(mu (2x - 1), 1)` with `mu <= 4` exceeds 8 with probability below 1e-4; the
/// clip only limits how much one corrupted slot can weigh. It never affects the error
/// bound, which holds for any function of the observations.
pub const SOFT_CLIP: f64 = 8.0;

/// How a slot's soft value and a recipient's symbol become a score term.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum ScoreFunction {
    /// The symmetric Tardos score (Škorić, Katzenbeisser, Celik, Des. Codes Cryptogr.
    /// 2008, eq. 3) with the hard output `2y - 1` replaced by the soft value:
    /// `g = z (x - p) / sqrt(p (1 - p))`, i.e. `+z sqrt((1-p)/p)` for `x = 1` and
    /// `-z sqrt(p/(1-p))` for `x = 0`. Soft weighting in the manner of Furon and
    /// Desoubeaux, "Tardos codes for real", WIFS 2014. Makes no assumption about the
    /// attack; the design's default.
    SoftSymmetric,
    /// The single-leaker log-likelihood ratio for `z ~ N(mu (2x - 1), 1)`:
    /// `g = ln f(z | x) - ln(p f(z | 1) + (1 - p) f(z | 0))`: by the Neyman-Pearson
    /// lemma the most powerful single-recipient test of "this copy leaked alone, at
    /// symbol SNR `mu`" against "innocent" (the "single decoder" of Meerwald and
    /// Furon, "Toward practical joint decoding of binary Tardos fingerprinting codes",
    /// IEEE TIFS 2012). Mismatched `mu` or collusion cost power, never validity.
    LogLikelihood {
        /// Assumed symbol amplitude `mu > 0` in units of the noise deviation.
        mu: f64,
    },
}

impl ScoreFunction {
    /// Checks the parameters.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a non-finite or non-positive `mu`.
    pub fn validate(self) -> Result<Self, Error> {
        match self {
            Self::LogLikelihood { mu } if !(mu.is_finite() && mu > 0.0) => {
                Err(Error::InvalidParameter {
                    name: "mu",
                    value: mu,
                    reason: "the assumed symbol amplitude must be positive and finite",
                })
            }
            _ => Ok(self),
        }
    }

    /// The two values of the slot's term: `(hi, lo)` for `x = 1` and `x = 0`.
    pub(crate) fn terms(self, z: f32, p: f64) -> (f64, f64) {
        let z = f64::from(z).clamp(-SOFT_CLIP, SOFT_CLIP);
        match self {
            Self::SoftSymmetric => (z * ((1.0 - p) / p).sqrt(), -z * (p / (1.0 - p)).sqrt()),
            Self::LogLikelihood { mu } => {
                // ln f(z|1) - ln f(z|0) = 2 mu z for unit-variance Gaussians.
                let llr = 2.0 * mu * z;
                let (ln_p, ln_q) = (p.ln(), (-p).ln_1p());
                (
                    -log_add_exp(ln_p, ln_q - llr),
                    -log_add_exp(ln_p + llr, ln_q),
                )
            }
        }
    }
}

impl std::fmt::Display for ScoreFunction {
    /// `symmetric`, or `log-likelihood mu=0.830`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::SoftSymmetric => f.write_str("symmetric"),
            Self::LogLikelihood { mu } => write!(f, "log-likelihood mu={mu:.3}"),
        }
    }
}

/// `ln(e^a + e^b)` without overflow.
pub(crate) fn log_add_exp(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
    hi + (lo - hi).exp().ln_1p()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hard_input_gives_the_symmetric_tardos_score() {
        let p: f64 = 0.2;
        let (hi, lo) = ScoreFunction::SoftSymmetric.terms(1.0, p);
        assert!((hi - ((1.0 - p) / p).sqrt()).abs() < 1e-12);
        assert!((lo + (p / (1.0 - p)).sqrt()).abs() < 1e-12);
        let (hi, lo) = ScoreFunction::SoftSymmetric.terms(-1.0, p);
        assert!((hi + ((1.0 - p) / p).sqrt()).abs() < 1e-12);
        assert!((lo - (p / (1.0 - p)).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn innocent_terms_have_zero_mean_under_the_symmetric_score() {
        for (z, p) in [(0.3f32, 0.01), (-2.0, 0.5), (5.0, 0.9)] {
            let (hi, lo) = ScoreFunction::SoftSymmetric.terms(z, p);
            assert!((p * hi + (1.0 - p) * lo).abs() < 1e-12);
        }
    }

    #[test]
    fn likelihood_terms_are_a_likelihood_ratio() {
        // E_innocent[exp(g)] = p e^hi + (1-p) e^lo = 1 for a likelihood ratio.
        let score = ScoreFunction::LogLikelihood { mu: 1.5 };
        for (z, p) in [(0.3f32, 0.01), (-2.0, 0.5), (7.0, 0.9), (-8.0, 0.001)] {
            let (hi, lo) = score.terms(z, p);
            assert!(
                (p * hi.exp() + (1.0 - p) * lo.exp() - 1.0).abs() < 1e-9,
                "{z} {p}"
            );
        }
    }

    #[test]
    fn invalid_mu_is_rejected() {
        for mu in [0.0, -1.0, f64::NAN] {
            assert!(ScoreFunction::LogLikelihood { mu }.validate().is_err());
        }
    }
}
