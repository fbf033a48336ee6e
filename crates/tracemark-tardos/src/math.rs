//! Normal-distribution helpers for the saddle-point estimate (reporting only).

use std::f64::consts::{PI, SQRT_2};

/// `ln erfc(x)` for `x >= 0` by the Chebyshev fit of Press et al., "Numerical
/// Recipes", 2nd ed., §6.2 (`erfcc`), fractional error below 1.2e-7, with the
/// `-x^2` factor kept in log space so that large arguments do not underflow.
fn ln_erfc_nonneg(x: f64) -> (f64, f64) {
    let t = 1.0 / (1.0 + 0.5 * x);
    let poly = -1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    // erfc(x) = t exp(-x^2 + poly): return (ln t + poly, -x^2) separately.
    (t.ln() + poly, -x * x)
}

/// `ln Q(x)`, the log upper tail of the standard normal.
pub(crate) fn ln_normal_tail(x: f64) -> f64 {
    let y = x / SQRT_2;
    if y >= 0.0 {
        let (a, b) = ln_erfc_nonneg(y);
        (0.5f64).ln() + a + b
    } else {
        let (a, b) = ln_erfc_nonneg(-y);
        (1.0 - 0.5 * (a + b).exp()).ln()
    }
}

/// `ln phi(w)`, the log standard normal density.
pub(crate) fn ln_normal_density(w: f64) -> f64 {
    -0.5 * w * w - 0.5 * (2.0 * PI).ln()
}

/// Mills ratio `Q(w) / phi(w)` for `w >= 0`.
pub(crate) fn mills_ratio(w: f64) -> f64 {
    let (a, _) = ln_erfc_nonneg(w / SQRT_2);
    0.5 * a.exp() * (2.0 * PI).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_tail_matches_known_values() {
        // Q(0) = 0.5, Q(1.96) = 0.0249979, Q(5) = 2.8665157e-7, Q(-1) = 0.8413447.
        for (x, q) in [
            (0.0, 0.5),
            (1.96, 0.024_997_9),
            (5.0, 2.866_515_7e-7),
            (-1.0, 0.841_344_7),
        ] {
            let got = ln_normal_tail(x).exp();
            assert!((got / q - 1.0).abs() < 1e-5, "Q({x}) = {got}, want {q}");
        }
        assert!((ln_normal_tail(40.0) - (-804.608_442)).abs() < 1e-3);
    }

    #[test]
    fn mills_ratio_approaches_one_over_w() {
        let w = 30.0;
        assert!((mills_ratio(w) * w - 1.0).abs() < 2e-3);
        assert!((mills_ratio(0.0) - 0.5 * (2.0 * PI).sqrt()).abs() < 1e-6);
    }
}
