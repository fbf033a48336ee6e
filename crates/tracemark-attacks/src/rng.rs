//! Seeded, non-cryptographic randomness, split into named streams per purpose.
//!
//! The generator is `rand_xoshiro`'s xoshiro256++ (Blackman & Vigna, "Scrambled linear
//! pseudorandom number generators", ACM TOMS 47(4), 2021), seeded through SplitMix64
//! (Steele, Lea & Flood, OOPSLA 2014) by `seed_from_u64`, as its authors recommend; draws go
//! through `rand` (uniform integers and floats) and `rand_distr` (Gaussian). Not
//! cryptographic: attacks and benchmarks need reproducibility, not secrecy. Randomness that
//! follows from a secret key lives in `tracemark-keystream`.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// The seeded generator of attacks and benchmarks.
pub type Rng = Xoshiro256PlusPlus;

/// The generator for the purpose `name` ("noise", "crop", ...) under the run's `seed`:
/// different names under one seed are independent streams, so adding a random draw to one
/// purpose never shifts the draws of another. The state is SplitMix64's expansion of
/// `seed xor rotl(FNV-1a(name), 17)` (FNV-1a: Fowler, Noll, Vo, 64-bit).
pub fn stream(seed: u64, name: &str) -> Rng {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    Rng::seed_from_u64(seed ^ h.rotate_left(17))
}

#[cfg(test)]
mod tests {
    use rand::{Rng as _, RngExt};
    use rand_distr::StandardNormal;

    use super::*;

    #[test]
    fn same_seed_and_name_repeat_and_names_differ() {
        let first = |seed, name| -> Vec<u64> {
            let mut r = stream(seed, name);
            (0..4).map(|_| r.next_u64()).collect()
        };
        assert_eq!(first(1, "x"), first(1, "x"));
        assert_ne!(first(1, "x"), first(1, "y"));
        assert_ne!(first(1, "x"), first(2, "x"));
    }

    #[test]
    fn the_state_is_the_hand_written_seeding_of_before() {
        // The generator this replaced expanded the same seed with SplitMix64 by hand and ran
        // xoshiro256++ itself; its first word for seed 1, stream "x", was this one.
        let mut r = stream(1, "x");
        let mut sm = 1 ^ {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            h ^= u64::from(b'x');
            h.wrapping_mul(0x0000_0100_0000_01b3).rotate_left(17)
        };
        let mut next = || {
            sm = sm.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = sm;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let s: [u64; 4] = [next(), next(), next(), next()];
        let expect = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        assert_eq!(r.next_u64(), expect);
    }

    #[test]
    fn gaussian_has_unit_variance() {
        let mut r = stream(9, "g");
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| r.sample(StandardNormal)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "var {var}");
    }
}
