//! Keyed pseudo-random streams: SHA-256 in counter mode.
//!
//! Block `k` of the stream named `label` under the 32-byte secret `key` is
//! `SHA-256("tracemark-tardos/v1" || 0x00 || label || 0x00 || key || k as u64 LE)`:
//! the domain-separated schedule of `tracemark-keystream`'s format version 1, which holds
//! the construction and why it is a PRF. Labels name each purpose (biases, symbols,
//! simulation noise) so that streams never overlap. Every codeword issued depends on these
//! streams, which the known-answer test below pins.

/// Domain-separation prefix of every hash this crate computes.
pub(crate) const DOMAIN: &[u8] = b"tracemark-tardos/v1";

/// A deterministic stream of uniform words derived from a secret seed.
#[derive(Clone)]
pub(crate) struct KeyedStream(tracemark_keystream::KeyStream);

impl KeyedStream {
    /// Opens the stream `label` (which must not contain a zero byte) under `key`.
    pub(crate) fn new(label: &[u8], key: &[u8; 32]) -> Self {
        Self(tracemark_keystream::KeyStream::domain_separated(
            DOMAIN, label, key,
        ))
    }

    /// The next uniformly distributed 64-bit word.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Moves to the `n`-th 64-bit word of the stream.
    pub(crate) fn seek_word(&mut self, n: u64) {
        self.0.seek(n.saturating_mul(8));
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
