//! Keyed pseudo-random streams: SHA-256 in counter mode.
//!
//! Block `k` of the stream named `label` under the 32-byte secret `key` is
//! `SHA-256("tracemark-tardos/v1" || 0x00 || label || 0x00 || key || k as u64 LE)`.
//! Every input has a fixed length per label, so length extension does not apply,
//! and SHA-256 keyed by a secret prefix behaves as a PRF (Bellare, Canetti, Krawczyk,
//! "Keying hash functions for message authentication", CRYPTO 1996, §3). Labels name
//! each purpose (biases, symbols, simulation noise) so that streams never overlap.

use sha2::{Digest, Sha256};

/// Domain-separation prefix of every hash this crate computes.
pub(crate) const DOMAIN: &[u8] = b"tracemark-tardos/v1";

/// A deterministic stream of uniform words derived from a secret seed.
#[derive(Clone)]
pub(crate) struct KeyedStream {
    prefix: Sha256,
    counter: u64,
    block: [u8; 32],
    next_word: usize,
}

impl KeyedStream {
    /// Opens the stream `label` (which must not contain a zero byte) under `key`.
    pub(crate) fn new(label: &[u8], key: &[u8; 32]) -> Self {
        debug_assert!(!label.contains(&0), "labels are zero-terminated");
        let mut prefix = Sha256::new();
        prefix.update(DOMAIN);
        prefix.update([0]);
        prefix.update(label);
        prefix.update([0]);
        prefix.update(key);
        Self {
            prefix,
            counter: 0,
            block: [0; 32],
            next_word: 4,
        }
    }

    /// The next uniformly distributed 64-bit word.
    pub(crate) fn next_u64(&mut self) -> u64 {
        if self.next_word == 4 {
            let mut h = self.prefix.clone();
            h.update(self.counter.to_le_bytes());
            self.block = h.finalize().into();
            self.counter = self.counter.wrapping_add(1);
            self.next_word = 0;
        }
        let mut word = [0u8; 8];
        let start = self.next_word * 8;
        word.copy_from_slice(&self.block[start..start + 8]);
        self.next_word += 1;
        u64::from_le_bytes(word)
    }

    /// A uniform draw from `[0, 1)` with 53 random bits.
    pub(crate) fn next_unit(&mut self) -> f64 {
        const SCALE: f64 = 1.0 / (1u64 << 53) as f64;
        (self.next_u64() >> 11) as f64 * SCALE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_key_and_label_give_the_same_stream() {
        let mut a = KeyedStream::new(b"x", &[7; 32]);
        let mut b = KeyedStream::new(b"x", &[7; 32]);
        for _ in 0..9 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn labels_and_keys_separate_streams() {
        let first = |label: &[u8], key| KeyedStream::new(label, key).next_u64();
        assert_ne!(first(b"x", &[7; 32]), first(b"y", &[7; 32]));
        assert_ne!(first(b"x", &[7; 32]), first(b"x", &[8; 32]));
    }

    /// Known answers computed outside this code from the definition in the module docs
    /// (Python's `hashlib`). Codewords already issued depend on these: a change here is a
    /// new format.
    #[test]
    fn keyed_streams_match_their_known_answers() {
        let key: [u8; 32] = std::array::from_fn(|i| i as u8);
        let first = |label: &[u8]| -> Vec<u64> {
            let mut s = KeyedStream::new(label, &key);
            (0..6).map(|_| s.next_u64()).collect()
        };
        // Six words cross from the first SHA-256 block (four words) into the second.
        assert_eq!(
            first(b"bias"),
            [
                0xdda71ba30212a4ae,
                0x0050202e1b837659,
                0xe0ffa790574dfc08,
                0x4921d7fde30ca58e,
                0xe2892b6d52a51da1,
                0x16399c3b917bed3e
            ]
        );
        assert_eq!(
            first(b"symbol"),
            [
                0xace2c0c8a20f6a5a,
                0x987dfa4b51824232,
                0x3a66c0a2a39c3f31,
                0x1b9188af2edf7aab,
                0x4ab2d1a8cb6a3cc5,
                0xe47fbc65ad85eb99
            ]
        );
        let mut s = KeyedStream::new(b"bias", &key);
        assert_eq!(
            s.next_unit(),
            (0xdda71ba30212a4ae_u64 >> 11) as f64 / (1u64 << 53) as f64
        );
    }

    #[test]
    fn unit_draws_stay_in_the_half_open_interval() {
        let mut s = KeyedStream::new(b"u", &[1; 32]);
        let mean = (0..4000)
            .map(|_| s.next_unit())
            .inspect(|u| assert!((0.0..1.0).contains(u)))
            .sum::<f64>()
            / 4000.0;
        assert!((mean - 0.5).abs() < 0.02, "mean {mean}");
    }
}
