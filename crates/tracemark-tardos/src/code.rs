//! Drawing a symmetric Tardos code: per-slot biases and per-recipient codewords.

use sha2::{Digest, Sha256};

use crate::Error;
use crate::prf::{DOMAIN, KeyedStream, StreamBlocks, unit};

/// Largest code length accepted: 2^26 slots, 62 days at 12.5 symbols/s.
pub const MAX_SLOTS: usize = 1 << 26;

/// Coalition size the default cutoff is tuned for.
pub const DEFAULT_COALITION: u32 = 3;

/// The cutoff `t` of the bias distribution: biases lie in `[t, 1 - t]`.
///
/// Tardos ("Optimal probabilistic fingerprint codes", JACM 55(2), 2008, §2.1) takes
/// `t = 1/(300 c0)` for coalitions of up to `c0` members; Škorić, Katzenbeisser and
/// Celik ("Symmetric Tardos fingerprinting codes for arbitrary alphabet sizes",
/// Des. Codes Cryptogr. 46, 2008) keep the same density for the symmetric score.
/// A smaller cutoff resists larger coalitions; a larger one helps a single leaker.
/// The accusation's error bound holds for any cutoff: it is computed, not assumed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cutoff(f64);

impl Cutoff {
    /// A cutoff `t` with `0 < t < 0.5`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when `t` is outside that interval or not finite.
    pub fn try_new(t: f64) -> Result<Self, Error> {
        if t.is_finite() && t > 0.0 && t < 0.5 {
            Ok(Self(t))
        } else {
            Err(Error::InvalidParameter {
                name: "cutoff",
                value: t,
                reason: "must lie strictly between 0 and 0.5",
            })
        }
    }

    /// Tardos' cutoff `t = 1/(300 c0)` for coalitions of up to `c0 >= 1` members.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when `c0` is zero.
    pub fn for_coalition(c0: u32) -> Result<Self, Error> {
        if c0 == 0 {
            return Err(Error::InvalidParameter {
                name: "c0",
                value: 0.0,
                reason: "a coalition has at least one member",
            });
        }
        Self::try_new(1.0 / (300.0 * f64::from(c0)))
    }

    /// The value of `t`.
    pub fn value(self) -> f64 {
        self.0
    }
}

impl Default for Cutoff {
    /// `t = 1/900`, Tardos' cutoff for `c0 = 3`.
    fn default() -> Self {
        Self(1.0 / (300.0 * f64::from(DEFAULT_COALITION)))
    }
}

/// The secret per-slot biases `p_i` of one recording's code.
#[derive(Clone, Debug, PartialEq)]
pub struct Biases {
    cutoff: Cutoff,
    p: Vec<f64>,
}

impl Biases {
    /// Draws `len` biases from the arcsine density `1/(pi sqrt(p(1-p)))` cut to
    /// `[t, 1 - t]` (Tardos 2008, §2.1): `p = sin^2(r)` with `r` uniform in
    /// `[t', pi/2 - t']`, `t' = asin(sqrt(t))`. Deterministic in `seed` (stream
    /// `bias`).
    ///
    /// # Errors
    /// [`Error::LimitExceeded`] when `len` exceeds [`MAX_SLOTS`].
    pub fn draw(seed: &[u8; 32], len: usize, cutoff: Cutoff) -> Result<Self, Error> {
        check_len(len)?;
        let t = cutoff.value();
        let r_min = t.sqrt().asin();
        let width = std::f64::consts::FRAC_PI_2 - 2.0 * r_min;
        let mut stream = KeyedStream::new(b"bias", seed);
        let p = (0..len)
            .map(|_| {
                let r = r_min + width * stream.next_unit();
                // Rounding in sin() may step a hair outside [t, 1 - t].
                r.sin().powi(2).clamp(t, 1.0 - t)
            })
            .collect();
        Ok(Self { cutoff, p })
    }

    /// Number of slots.
    pub fn len(&self) -> usize {
        self.p.len()
    }

    /// Whether the code has no slots.
    pub fn is_empty(&self) -> bool {
        self.p.is_empty()
    }

    /// The biases, one per slot.
    pub fn as_slice(&self) -> &[f64] {
        &self.p
    }

    /// The cutoff they were drawn with.
    pub fn cutoff(&self) -> Cutoff {
        self.cutoff
    }
}

fn check_len(len: usize) -> Result<(), Error> {
    if len > MAX_SLOTS {
        return Err(Error::LimitExceeded {
            what: "code length (slots)",
            requested: len,
            max: MAX_SLOTS,
        });
    }
    Ok(())
}

/// One recipient's binary codeword, bit-packed (bit `i % 64` of word `i / 64`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Codeword {
    len: usize,
    words: Vec<u64>,
}

impl Codeword {
    /// Draws `x_i ~ Bernoulli(p_i)` for every slot, deterministic in `seed`
    /// (stream `symbol`: slot `i` reads word `i`). Each recipient must get its own seed.
    pub fn draw(seed: &[u8; 32], biases: &Biases) -> Self {
        let mut blocks = StreamBlocks::new(b"symbol", seed);
        let mut cache = (u64::MAX, [0u8; 32]);
        let mut word = Self::zeros(biases.len());
        for (i, &p) in biases.as_slice().iter().enumerate() {
            if unit(blocks.word(i as u64, &mut cache)) < p {
                word.words[i / 64] |= 1 << (i % 64);
            }
        }
        word
    }

    /// The symbols of `slots` alone, exactly as [`Codeword::draw`] draws them (the stream
    /// is read at each slot's own position, so the cost is the number of slots asked, not
    /// the code's length); every other slot reads 0. For scoring a leak that covers
    /// `slots` only (scores sum over observed slots): such a codeword's
    /// [`Codeword::commitment`] is not the recipient's. Slots past the end are ignored.
    pub fn draw_slots(seed: &[u8; 32], biases: &Biases, slots: &[usize]) -> Self {
        let mut blocks = StreamBlocks::new(b"symbol", seed);
        let mut cache = (u64::MAX, [0u8; 32]);
        let mut word = Self::zeros(biases.len());
        let p = biases.as_slice();
        for &i in slots.iter().filter(|&&i| i < p.len()) {
            if unit(blocks.word(i as u64, &mut cache)) < p[i] {
                word.words[i / 64] |= 1 << (i % 64);
            }
        }
        word
    }

    /// [`Codeword::draw_slots`] as it was first written: through the keyed stream's
    /// hasher, seeking word by word. The same symbols, 2 to 3 times slower; public (and
    /// hidden) only as the baseline of `examples/scoring_scale.rs` and of the tests that
    /// compare the two.
    #[doc(hidden)]
    pub fn draw_slots_streamed(seed: &[u8; 32], biases: &Biases, slots: &[usize]) -> Self {
        let mut stream = KeyedStream::new(b"symbol", seed);
        let mut word = Self::zeros(biases.len());
        let p = biases.as_slice();
        let mut next = 0usize;
        for &i in slots.iter().filter(|&&i| i < p.len()) {
            if i != next {
                stream.seek_word(i as u64);
            }
            if stream.next_unit() < p[i] {
                word.words[i / 64] |= 1 << (i % 64);
            }
            next = i + 1;
        }
        word
    }

    /// A codeword with the given symbols (for simulations and for codes kept
    /// elsewhere).
    ///
    /// # Errors
    /// [`Error::LimitExceeded`] when there are more than [`MAX_SLOTS`] symbols.
    pub fn from_symbols(symbols: &[bool]) -> Result<Self, Error> {
        check_len(symbols.len())?;
        let mut word = Self::zeros(symbols.len());
        for (i, _) in symbols.iter().enumerate().filter(|(_, s)| **s) {
            word.words[i / 64] |= 1 << (i % 64);
        }
        Ok(word)
    }

    fn zeros(len: usize) -> Self {
        Self {
            len,
            words: vec![0; len.div_ceil(64)],
        }
    }

    /// Number of slots.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The packed symbols: bit `i % 64` of word `i / 64` is slot `i`'s.
    pub(crate) fn words(&self) -> &[u64] {
        &self.words
    }

    /// Whether the codeword has no slots.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The symbol of slot `i`, or `None` past the end.
    pub fn symbol(&self, i: usize) -> Option<bool> {
        (i < self.len).then(|| self.words[i / 64] >> (i % 64) & 1 == 1)
    }

    /// The symbols in slot order.
    pub fn symbols(&self) -> impl Iterator<Item = bool> + '_ {
        (0..self.len).map(|i| self.words[i / 64] >> (i % 64) & 1 == 1)
    }

    /// Commitment for the audit log:
    /// `SHA-256("tracemark-tardos/v1" || 0x00 || "codeword" || 0x00 || len as u64 LE
    /// || symbols packed LSB-first into ceil(len/8) bytes)`.
    pub fn commitment(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(DOMAIN);
        h.update([0]);
        h.update(b"codeword");
        h.update([0]);
        h.update((self.len as u64).to_le_bytes());
        let bytes: Vec<u8> = self.words.iter().flat_map(|w| w.to_le_bytes()).collect();
        h.update(&bytes[..self.len.div_ceil(8)]);
        h.finalize().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn seed(n: u8) -> [u8; 32] {
        [n; 32]
    }

    #[test]
    fn default_cutoff_is_tardos_for_three_colluders() {
        assert_eq!(Cutoff::for_coalition(3).ok(), Some(Cutoff::default()));
        assert!((Cutoff::default().value() - 1.0 / 900.0).abs() < 1e-15);
    }

    #[test]
    fn invalid_cutoffs_are_rejected() {
        for t in [0.0, -0.1, 0.5, 0.7, f64::NAN, f64::INFINITY] {
            assert!(Cutoff::try_new(t).is_err(), "{t}");
        }
        assert!(Cutoff::for_coalition(0).is_err());
    }

    #[test]
    fn too_long_codes_are_refused() {
        let err = Biases::draw(&seed(1), MAX_SLOTS + 1, Cutoff::default());
        assert!(matches!(err, Err(Error::LimitExceeded { .. })));
    }

    #[test]
    fn biases_follow_the_arcsine_law() {
        // For the arcsine density, P(p < 1/4) = 1/3 (2/pi asin(1/2)), E[p] = 1/2.
        let b = Biases::draw(&seed(2), 20_000, Cutoff::default()).expect("len is small");
        let below = b.as_slice().iter().filter(|&&p| p < 0.25).count() as f64 / 20_000.0;
        let mean = b.as_slice().iter().sum::<f64>() / 20_000.0;
        assert!((below - 1.0 / 3.0).abs() < 0.015, "{below}");
        assert!((mean - 0.5).abs() < 0.01, "{mean}");
    }

    #[test]
    fn codeword_symbols_follow_their_biases() {
        let b = Biases::draw(&seed(3), 4000, Cutoff::default()).expect("len is small");
        let expected: f64 = b.as_slice().iter().sum();
        let ones: usize = (0..20u8)
            .map(|r| {
                Codeword::draw(&seed(100 + r), &b)
                    .symbols()
                    .filter(|&s| s)
                    .count()
            })
            .sum();
        let rate = ones as f64 / 20.0;
        assert!(
            (rate - expected).abs() < 0.02 * expected,
            "{rate} vs {expected}"
        );
    }

    #[test]
    fn commitment_binds_length_and_symbols() {
        let a = Codeword::from_symbols(&[true, false, true]).expect("short");
        let b = Codeword::from_symbols(&[true, false, true, false]).expect("short");
        let c = Codeword::from_symbols(&[true, true, true]).expect("short");
        assert_ne!(a.commitment(), b.commitment());
        assert_ne!(a.commitment(), c.commitment());
        assert_eq!(a.commitment(), a.clone().commitment());
    }

    proptest! {
        #[test]
        fn drawing_some_slots_gives_exactly_those_symbols(
            s in any::<[u8; 32]>(),
            r in any::<[u8; 32]>(),
            len in 1usize..700,
            picks in proptest::collection::btree_set(0usize..800, 0..120),
        ) {
            let b = Biases::draw(&s, len, Cutoff::default()).expect("len is small");
            let full = Codeword::draw(&r, &b);
            let slots: Vec<usize> = picks.into_iter().collect();
            let part = Codeword::draw_slots(&r, &b, &slots);
            prop_assert_eq!(part.len(), len);
            for i in 0..len {
                let want = slots.contains(&i) && full.symbol(i) == Some(true);
                prop_assert_eq!(part.symbol(i), Some(want), "slot {}", i);
            }
        }

        #[test]
        fn batched_and_streamed_draws_agree(
            s in any::<[u8; 32]>(),
            r in any::<[u8; 32]>(),
            len in 1usize..700,
            picks in proptest::collection::vec(0usize..800, 0..120),
        ) {
            // Any order, repeats included: the streamed draw seeks wherever it must.
            let b = Biases::draw(&s, len, Cutoff::default()).expect("len is small");
            prop_assert_eq!(
                Codeword::draw_slots(&r, &b, &picks),
                Codeword::draw_slots_streamed(&r, &b, &picks)
            );
            let all: Vec<usize> = (0..len).collect();
            prop_assert_eq!(Codeword::draw(&r, &b), Codeword::draw_slots_streamed(&r, &b, &all));
        }

        #[test]
        fn biases_lie_within_the_cutoff(s in any::<[u8; 32]>(), len in 0usize..600, t in 1e-5f64..0.2) {
            let cutoff = Cutoff::try_new(t).expect("t in range");
            let b = Biases::draw(&s, len, cutoff).expect("len is small");
            prop_assert_eq!(b.len(), len);
            for &p in b.as_slice() {
                prop_assert!(p >= t && p <= 1.0 - t, "{} outside [{}, {}]", p, t, 1.0 - t);
            }
        }

        #[test]
        fn drawing_is_deterministic_per_seed(s in any::<[u8; 32]>(), r in any::<[u8; 32]>(), len in 1usize..300) {
            let b1 = Biases::draw(&s, len, Cutoff::default()).expect("len is small");
            let b2 = Biases::draw(&s, len, Cutoff::default()).expect("len is small");
            prop_assert_eq!(&b1, &b2);
            let w1 = Codeword::draw(&r, &b1);
            prop_assert_eq!(&w1, &Codeword::draw(&r, &b2));
            prop_assert_eq!(w1.commitment(), Codeword::draw(&r, &b2).commitment());
        }

        #[test]
        fn different_seeds_give_different_codes(s in any::<[u8; 32]>(), flip in 0usize..256) {
            let mut other = s;
            other[flip / 8] ^= 1 << (flip % 8);
            let b1 = Biases::draw(&s, 64, Cutoff::default()).expect("len is small");
            let b2 = Biases::draw(&other, 64, Cutoff::default()).expect("len is small");
            prop_assert_ne!(&b1, &b2);
            // 200 symbols: two codewords agree everywhere with probability < 0.75^200.
            let long = Biases::draw(&s, 200, Cutoff::default()).expect("len is small");
            prop_assert_ne!(Codeword::draw(&s, &long), Codeword::draw(&other, &long));
        }

        #[test]
        fn symbols_round_trip_through_packing(bits in proptest::collection::vec(any::<bool>(), 0..300)) {
            let w = Codeword::from_symbols(&bits).expect("short");
            prop_assert_eq!(w.symbols().collect::<Vec<_>>(), bits.clone());
            prop_assert_eq!(w.symbol(bits.len()), None);
        }
    }
}
