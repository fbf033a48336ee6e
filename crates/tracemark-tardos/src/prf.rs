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
        unit(self.next_u64())
    }
}

/// The uniform draw from `[0, 1)` that [`KeyedStream::next_unit`] makes of a word: its top
/// 53 bits.
pub(crate) fn unit(word: u64) -> f64 {
    const SCALE: f64 = 1.0 / (1u64 << 53) as f64;
    (word >> 11) as f64 * SCALE
}

/// SHA-256's initial hash value (FIPS 180-4, §5.3.3).
const IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// Random access to the blocks of one [`KeyedStream`], without its per-block hasher
/// state: the message `prefix || k as u64 LE` is padded once (FIPS 180-4, §5.1.1) with
/// the counter's bytes left to fill, every whole 64-byte block of the prefix is
/// compressed once, and block `k` costs the compressions of the blocks the counter
/// touches (two for every label of this crate: a 59-byte prefix plus 8 counter bytes
/// and 9 of padding make 76 > 64), by `sha2`'s compression function (SHA-NI where the
/// CPU has it). The bytes are those of the stream; a test compares them.
#[derive(Clone)]
pub(crate) struct StreamBlocks {
    /// State after the prefix's whole blocks.
    midstate: [u32; 8],
    /// The padded blocks from the one holding the counter's first byte on: the counter
    /// starts less than 64 bytes into the first, and with the 9 bytes of padding and
    /// length it ends before the second's end, so one or two.
    tail: [[u8; 64]; 2],
    tail_len: usize,
    /// Offset of the counter's first byte within `tail`.
    counter_at: usize,
    /// Offset of the key within `tail[0]` when the key lies in it (then
    /// [`StreamBlocks::rekey`] copies 32 bytes); `None` when part of it was compressed.
    key_at: Option<usize>,
    label: &'static [u8],
}

impl std::fmt::Debug for StreamBlocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The padded message holds the key: show nothing of it.
        f.debug_struct("StreamBlocks").finish_non_exhaustive()
    }
}

impl StreamBlocks {
    /// The blocks of the stream `label` (no zero byte) under `key`.
    pub(crate) fn new(label: &'static [u8], key: &[u8; 32]) -> Self {
        let mut message = Vec::with_capacity(DOMAIN.len() + label.len() + 2 + key.len() + 8);
        message.extend_from_slice(DOMAIN);
        message.push(0);
        message.extend_from_slice(label);
        message.push(0);
        message.extend_from_slice(key);
        let prefix_len = message.len();
        message.extend_from_slice(&[0; 8]);
        let bit_len = (message.len() as u64) * 8;
        message.push(0x80);
        while message.len() % 64 != 56 {
            message.push(0);
        }
        message.extend_from_slice(&bit_len.to_be_bytes());
        let blocks: Vec<[u8; 64]> = message
            .chunks_exact(64)
            .map(|c| std::array::from_fn(|i| c[i]))
            .collect();
        let whole = prefix_len / 64;
        let mut midstate = IV;
        sha2::block_api::compress256(&mut midstate, &blocks[..whole]);
        let mut tail = [[0u8; 64]; 2];
        let tail_len = blocks.len() - whole;
        tail[..tail_len].copy_from_slice(&blocks[whole..]);
        let counter_at = prefix_len - whole * 64;
        Self {
            midstate,
            tail,
            tail_len,
            counter_at,
            key_at: counter_at.checked_sub(key.len()),
            label,
        }
    }

    /// The same stream's blocks under another key, as [`StreamBlocks::new`] would make
    /// them: where the key lies in the first tail block (every label of up to 10 bytes,
    /// as this crate's are), by copying it in.
    pub(crate) fn rekey(&mut self, key: &[u8; 32]) {
        match self.key_at {
            Some(at) => self.tail[0][at..at + key.len()].copy_from_slice(key),
            None => *self = Self::new(self.label, key),
        }
    }

    /// Block `k`: bytes `32 k .. 32 k + 32` of the stream.
    pub(crate) fn block(&mut self, k: u64) -> [u8; 32] {
        for (j, b) in k.to_le_bytes().into_iter().enumerate() {
            let at = self.counter_at + j;
            self.tail[at / 64][at % 64] = b;
        }
        let mut state = self.midstate;
        sha2::block_api::compress256(&mut state, &self.tail[..self.tail_len]);
        let mut out = [0u8; 32];
        for (o, w) in out.chunks_exact_mut(4).zip(state) {
            o.copy_from_slice(&w.to_be_bytes());
        }
        out
    }

    /// Word `n` of the stream, as [`KeyedStream::next_u64`] reads it after
    /// [`KeyedStream::seek_word`]`(n)`, with the block of the previous call reused when
    /// `n` falls in it. `cache` holds that block and its index (`u64::MAX`: none).
    #[inline]
    pub(crate) fn word(&mut self, n: u64, cache: &mut (u64, [u8; 32])) -> u64 {
        let k = n / 4;
        if cache.0 != k {
            *cache = (k, self.block(k));
        }
        let at = (n % 4) as usize * 8;
        let mut w = [0u8; 8];
        w.copy_from_slice(&cache.1[at..at + 8]);
        u64::from_le_bytes(w)
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
    fn random_access_blocks_are_the_streams_bytes() {
        for (label, key) in [
            (&b"symbol"[..], [0u8; 32]),
            (b"bias", [0xa5; 32]),
            (b"x", [3; 32]),
        ] {
            let mut stream = KeyedStream::new(label, &key);
            let mut blocks = StreamBlocks::new(label, &key);
            let mut cache = (u64::MAX, [0u8; 32]);
            let words: Vec<u64> = (0..300).map(|_| stream.next_u64()).collect();
            for (n, &w) in words.iter().enumerate() {
                assert_eq!(blocks.word(n as u64, &mut cache), w, "word {n}");
            }
            for n in [299u64, 0, 7, 1 << 40, (1 << 40) + 3, u64::MAX / 8] {
                stream.seek_word(n);
                assert_eq!(blocks.word(n, &mut cache), stream.next_u64(), "word {n}");
            }
        }
        // Labels long enough that the prefix fills a whole block, compressed once, with
        // the key partly in it (40 bytes) or wholly (80 bytes).
        const LONG: &[u8] = &[b'l'; 40];
        const LONGER: &[u8] = &[b'l'; 80];
        for label in [LONG, LONGER] {
            let (mut stream, mut blocks) = (
                KeyedStream::new(label, &[1; 32]),
                StreamBlocks::new(label, &[1; 32]),
            );
            let mut cache = (u64::MAX, [0u8; 32]);
            for n in 0..20 {
                assert_eq!(blocks.word(n, &mut cache), stream.next_u64());
            }
        }
    }

    #[test]
    fn rekeyed_blocks_are_the_new_keys_stream() {
        const LONG: &[u8] = &[b'l'; 40];
        for label in [&b"symbol"[..], b"x", LONG] {
            let mut blocks = StreamBlocks::new(label, &[1; 32]);
            for key in [[2u8; 32], [0xff; 32], [1; 32]] {
                blocks.rekey(&key);
                let mut stream = KeyedStream::new(label, &key);
                let mut cache = (u64::MAX, [0u8; 32]);
                for n in 0..12 {
                    assert_eq!(blocks.word(n, &mut cache), stream.next_u64(), "{label:?}");
                }
            }
        }
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
