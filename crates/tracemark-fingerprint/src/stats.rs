//! Chance-match arithmetic: how many consistent hashes an unrelated clip would produce.

/// Natural log of k! (exact sum below 256, Stirling's series above).
fn ln_factorial(k: u64) -> f64 {
    if k < 256 {
        (2..=k).map(|i| (i as f64).ln()).sum()
    } else {
        let n = k as f64;
        n * n.ln() - n + 0.5 * (std::f64::consts::TAU * n).ln() + 1.0 / (12.0 * n)
    }
}

/// P(X >= n) for X ~ Poisson(lambda), summed in log space so tiny tails stay accurate.
pub(crate) fn poisson_tail(n: u64, lambda: f64) -> f64 {
    if n == 0 || lambda.is_nan() || lambda <= 0.0 {
        return if n == 0 { 1.0 } else { 0.0 };
    }
    if (n as f64) <= lambda + 1.0 {
        // The upper series converges slowly here: take one minus the lower sum instead.
        let lower: f64 = (0..n)
            .map(|k| (-lambda + k as f64 * lambda.ln() - ln_factorial(k)).exp())
            .sum();
        return (1.0 - lower).clamp(0.0, 1.0);
    }
    let ln_first = -lambda + n as f64 * lambda.ln() - ln_factorial(n);
    // Terms fall by lambda / (k + 1) < 1 from here on: sum the ratio series.
    let (mut sum, mut term, mut k) = (1.0f64, 1.0f64, n);
    while term > 1e-17 * sum && k < n + 10_000 {
        k += 1;
        term *= lambda / k as f64;
        sum += term;
    }
    (ln_first + sum.ln()).exp().min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_tail_matches_hand_computed_values() {
        // P(X >= 1) = 1 - e^-1 for lambda = 1.
        assert!((poisson_tail(1, 1.0) - (1.0 - (-1.0f64).exp())).abs() < 1e-12);
        // P(X >= 3) for lambda = 0.5: 1 - e^-0.5 (1 + 0.5 + 0.125).
        let want = 1.0 - (-0.5f64).exp() * 1.625;
        assert!((poisson_tail(3, 0.5) - want).abs() < 1e-12);
        assert!(poisson_tail(400, 1.0) < 1e-300 || poisson_tail(400, 1.0) == 0.0);
        assert!((poisson_tail(2, 5.0) - (1.0 - 6.0 * (-5.0f64).exp())).abs() < 1e-12);
    }
}
