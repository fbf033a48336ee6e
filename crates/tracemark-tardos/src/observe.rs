//! Soft observations of a leak, one per slot, as the informed detector reports them.

use crate::Error;
use crate::code::MAX_SLOTS;

/// Per-slot soft values `z_i` and cell counts from the watermark detector.
///
/// `z_i` is roughly `N(mu (2x - 1), 1)` where symbol `x` is present and `N(0, 1)`
/// where no symbol is (or where colluders with different symbols averaged their
/// copies). A slot with `cells_i == 0` was not observed and does not count.
#[derive(Clone, Debug, PartialEq)]
pub struct Observations {
    soft: Vec<f32>,
    cells: Vec<u32>,
}

impl Observations {
    /// Pairs soft values with cell counts.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when the two differ in length,
    /// [`Error::LimitExceeded`] beyond [`MAX_SLOTS`], and
    /// [`Error::NonFiniteObservation`] for a NaN or infinite value in an observed slot.
    pub fn try_new(soft: Vec<f32>, cells: Vec<u32>) -> Result<Self, Error> {
        if soft.len() != cells.len() {
            return Err(Error::LengthMismatch {
                what: "cell counts",
                expected: soft.len(),
                found: cells.len(),
            });
        }
        if soft.len() > MAX_SLOTS {
            return Err(Error::LimitExceeded {
                what: "observed slots",
                requested: soft.len(),
                max: MAX_SLOTS,
            });
        }
        let bad = soft
            .iter()
            .zip(&cells)
            .position(|(z, &c)| c > 0 && !z.is_finite());
        if let Some(slot) = bad {
            return Err(Error::NonFiniteObservation {
                slot,
                value: soft[slot],
            });
        }
        Ok(Self { soft, cells })
    }

    /// Every slot observed once.
    ///
    /// # Errors
    /// As [`Observations::try_new`].
    pub fn fully_observed(soft: Vec<f32>) -> Result<Self, Error> {
        let cells = vec![1; soft.len()];
        Self::try_new(soft, cells)
    }

    /// Number of slots, observed or not.
    pub fn len(&self) -> usize {
        self.soft.len()
    }

    /// Whether there are no slots.
    pub fn is_empty(&self) -> bool {
        self.soft.is_empty()
    }

    /// Number of observed slots.
    pub fn observed(&self) -> usize {
        self.cells.iter().filter(|&&c| c > 0).count()
    }

    /// Moment estimate of the symbol amplitude `mu`: `sqrt(mean(z^2) - 1)` over the
    /// observed slots, at least 0.1 (for a single copy `E[z^2] = mu^2 + 1`; averaging
    /// lowers it). A function of the observations alone, so scoring with
    /// [`crate::ScoreFunction::LogLikelihood`] at this `mu` keeps the p-values valid.
    pub fn amplitude_estimate(&self) -> f64 {
        let (n, sum) = self
            .iter_observed()
            .fold((0usize, 0.0f64), |(n, s), (_, z)| {
                (n + 1, s + f64::from(z).powi(2))
            });
        let excess = if n == 0 { 0.0 } else { sum / n as f64 - 1.0 };
        excess.max(0.01).sqrt()
    }

    /// `(slot, z)` for every observed slot, in slot order.
    pub fn iter_observed(&self) -> impl Iterator<Item = (usize, f32)> + '_ {
        self.soft
            .iter()
            .zip(&self.cells)
            .enumerate()
            .filter(|(_, (_, c))| **c > 0)
            .map(|(i, (z, _))| (i, *z))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unobserved_slots_may_hold_anything() {
        let o = Observations::try_new(vec![f32::NAN, 1.0], vec![0, 3]).expect("valid");
        assert_eq!(o.observed(), 1);
        assert_eq!(o.iter_observed().collect::<Vec<_>>(), vec![(1, 1.0)]);
    }

    #[test]
    fn non_finite_observed_values_are_rejected_with_their_slot() {
        let err = Observations::try_new(vec![0.0, f32::INFINITY], vec![1, 1]);
        assert!(matches!(
            err,
            Err(Error::NonFiniteObservation { slot: 1, .. })
        ));
    }

    #[test]
    fn amplitude_estimate_recovers_mu_and_has_a_floor() {
        // z = +-2 exactly: mean(z^2) - 1 = 3.
        let o = Observations::fully_observed(vec![2.0, -2.0, 2.0]).expect("finite");
        assert!((o.amplitude_estimate() - 3f64.sqrt()).abs() < 1e-9);
        let o = Observations::fully_observed(vec![0.0; 4]).expect("finite");
        assert!((o.amplitude_estimate() - 0.1).abs() < 1e-12);
    }

    #[test]
    fn mismatched_lengths_are_rejected() {
        let err = Observations::try_new(vec![0.0], vec![1, 1]);
        assert!(matches!(err, Err(Error::LengthMismatch { .. })));
    }
}
