//! Keyed pseudo-random streams for tracemark: every random choice that follows from a
//! secret (the watermark's sync pattern, cell layout and CRC mask; the Tardos biases,
//! symbols and simulation noise) is read from one of these streams.
//!
//! # Format version 1 ([`FORMAT_VERSION`])
//!
//! A stream is SHA-256 (FIPS 180-4) in counter mode over a secret *prefix*:
//!
//! ```text
//! block_k = SHA-256(prefix || k as u64 little-endian),  k = 0, 1, 2, ...
//! stream  = block_0 || block_1 || ...
//! ```
//!
//! read front to back: [`KeyStream::next_u32`] takes the next 4 bytes and
//! [`KeyStream::next_u64`] the next 8, each as a little-endian word. The prefix comes from
//! the secret key and a purpose label by one of two key schedules:
//!
//! | schedule | prefix | used by |
//! |---|---|---|
//! | [`KeyStream::hkdf`] | `HKDF-SHA256(salt = none, ikm = key, info = label, L = 32)` (RFC 5869) | watermark (labels `tracemark/v1/...`) |
//! | [`KeyStream::domain_separated`] | `domain \|\| 0x00 \|\| label \|\| 0x00 \|\| key` | Tardos codes (domain `tracemark-tardos/v1`) |
//!
//! Both are PRFs of the key: HKDF by its own analysis (Krawczyk, CRYPTO 2010), and SHA-256
//! keyed by a secret inside a fixed-length prefix as in Bellare, Canetti and Krawczyk,
//! "Keying hash functions for message authentication" (CRYPTO 1996, §3); every input under
//! one label has the same length, so length extension does not apply.
//!
//! Why two schedules and not two labels of one: watermarks and codewords were issued
//! under both before this crate existed, and the stream must stay bit-identical for them to
//! be detected and traced. No label under one schedule gives the other's prefix (an
//! HKDF output cannot equal a prefix that holds the key in clear, nor the reverse), so the
//! two schedules are kept, by name, over one counter-mode core. New purposes should use
//! [`KeyStream::hkdf`] with a new label.
//!
//! Changing anything above (the block function, the counter encoding, the byte order or a
//! schedule) is a new format: bump [`FORMAT_VERSION`] and keep version 1 readable, since
//! every mark already issued was drawn from it. The known-answer tests below pin it.
//!
//! ```
//! use tracemark_keystream::KeyStream;
//! let key = [7u8; 32];
//! let mut a = KeyStream::hkdf(&key, "tracemark/v1/example");
//! let mut b = KeyStream::hkdf(&key, "tracemark/v1/example");
//! assert_eq!(a.next_u64(), b.next_u64());
//! assert_ne!(
//!     KeyStream::hkdf(&key, "tracemark/v1/other").next_u32(),
//!     KeyStream::hkdf(&key, "tracemark/v1/example").next_u32(),
//! );
//! ```
//!
//! The crate is pure: no I/O, clock, threads or global state.

use hkdf::Hkdf;
use sha2::{Digest, Sha256};

/// The version of the construction described in the crate documentation. Streams drawn
/// under version 1 are in every watermark and codeword issued so far.
pub const FORMAT_VERSION: u32 = 1;

/// Bytes per SHA-256 block.
const BLOCK: usize = 32;

/// A keyed pseudo-random stream (format version 1).
#[derive(Clone)]
pub struct KeyStream {
    /// SHA-256 state after absorbing the prefix; each block continues a copy of it.
    prefix: Sha256,
    counter: u64,
    block: [u8; BLOCK],
    /// Bytes of `block` already read.
    used: usize,
}

impl KeyStream {
    /// The stream for `label` under `key` by the HKDF schedule: the prefix is 32 bytes of
    /// HKDF-SHA256 (RFC 5869 §2.2-2.3, empty salt, `info = label`).
    pub fn hkdf(key: &[u8; 32], label: &str) -> Self {
        let mut seed = [0u8; 32];
        Hkdf::<Sha256>::new(None, key)
            .expand(label.as_bytes(), &mut seed)
            // 32 bytes is far below HKDF-SHA256's limit of 255 x 32 (RFC 5869 §2.3).
            .expect("HKDF output length within RFC 5869 limit");
        Self::from_prefix(&seed)
    }

    /// The stream for `label` under `key` by the domain-separated schedule: the prefix is
    /// `domain || 0x00 || label || 0x00 || key`. Neither `domain` nor `label` may hold a
    /// zero byte (checked in debug builds), so that the prefix parses one way only.
    pub fn domain_separated(domain: &[u8], label: &[u8], key: &[u8; 32]) -> Self {
        debug_assert!(!domain.contains(&0), "domains are zero-terminated");
        debug_assert!(!label.contains(&0), "labels are zero-terminated");
        let mut prefix = Vec::with_capacity(domain.len() + label.len() + 2 + key.len());
        prefix.extend_from_slice(domain);
        prefix.push(0);
        prefix.extend_from_slice(label);
        prefix.push(0);
        prefix.extend_from_slice(key);
        Self::from_prefix(&prefix)
    }

    fn from_prefix(prefix: &[u8]) -> Self {
        let mut state = Sha256::new();
        state.update(prefix);
        Self {
            prefix: state,
            counter: 0,
            block: [0; BLOCK],
            used: BLOCK,
        }
    }

    fn refill(&mut self) {
        let mut h = self.prefix.clone();
        h.update(self.counter.to_le_bytes());
        self.block = h.finalize().into();
        self.counter = self.counter.wrapping_add(1);
        self.used = 0;
    }

    /// Moves to byte `offset` of the stream, as if that many bytes had been read: in
    /// counter mode any position is one block away, so reading a few words far into a
    /// stream costs those words, not the bytes before them.
    pub fn seek(&mut self, offset: u64) {
        self.counter = offset / BLOCK as u64;
        self.refill();
        self.used = (offset % BLOCK as u64) as usize;
    }

    /// Fills `out` with the next bytes of the stream.
    pub fn fill_bytes(&mut self, out: &mut [u8]) {
        let mut filled = 0;
        while filled < out.len() {
            if self.used == BLOCK {
                self.refill();
            }
            let n = (out.len() - filled).min(BLOCK - self.used);
            out[filled..filled + n].copy_from_slice(&self.block[self.used..self.used + n]);
            self.used += n;
            filled += n;
        }
    }

    /// The next 4 bytes as a little-endian word.
    pub fn next_u32(&mut self) -> u32 {
        let mut w = [0u8; 4];
        self.fill_bytes(&mut w);
        u32::from_le_bytes(w)
    }

    /// The next 8 bytes as a little-endian word.
    pub fn next_u64(&mut self) -> u64 {
        let mut w = [0u8; 8];
        self.fill_bytes(&mut w);
        u64::from_le_bytes(w)
    }
}

impl std::fmt::Debug for KeyStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The state is secret: show only how far the stream has been read.
        let read = self.counter.saturating_mul(BLOCK as u64) - (BLOCK - self.used) as u64;
        f.debug_struct("KeyStream")
            .field("bytes_read", &read)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn seeking_reads_what_reading_through_would() {
        let key = [9u8; 32];
        let mut through = super::KeyStream::hkdf(&key, "tracemark/v1/test/seek");
        let mut all = vec![0u8; 1000];
        through.fill_bytes(&mut all);
        for offset in [0u64, 1, 7, 8, 31, 32, 33, 63, 64, 500, 992] {
            let mut s = super::KeyStream::hkdf(&key, "tracemark/v1/test/seek");
            s.seek(offset);
            let mut got = vec![0u8; 8];
            s.fill_bytes(&mut got);
            assert_eq!(
                got,
                all[offset as usize..offset as usize + 8],
                "offset {offset}"
            );
        }
    }

    use super::*;

    fn key() -> [u8; 32] {
        std::array::from_fn(|i| i as u8)
    }

    /// Known answers computed outside this code from the definition above (Python's `hmac`
    /// and `hashlib`); the same values pin the watermark and Tardos streams in their crates.
    #[test]
    fn both_schedules_match_their_known_answers() {
        let mut wm = KeyStream::hkdf(&key(), "tracemark/v1/layout/roles");
        let words: Vec<u32> = (0..10).map(|_| wm.next_u32()).collect();
        assert_eq!(
            words,
            [
                0x678d5cba, 0x3b73aa8e, 0x0a10d373, 0x83ac20ac, 0x96fce2a1, 0x460d8677, 0x88f4a961,
                0x790cec31, 0x650a925d, 0x8763603f
            ]
        );
        let mut td = KeyStream::domain_separated(b"tracemark-tardos/v1", b"bias", &key());
        let words: Vec<u64> = (0..6).map(|_| td.next_u64()).collect();
        assert_eq!(
            words,
            [
                0xdda71ba30212a4ae,
                0x0050202e1b837659,
                0xe0ffa790574dfc08,
                0x4921d7fde30ca58e,
                0xe2892b6d52a51da1,
                0x16399c3b917bed3e
            ]
        );
    }

    #[test]
    fn words_and_bytes_read_the_same_stream_across_blocks() {
        let mut bytes = [0u8; 80];
        KeyStream::hkdf(&key(), "x").fill_bytes(&mut bytes);
        let mut s = KeyStream::hkdf(&key(), "x");
        // One 4-byte word, then 8-byte words at 4..68: the one at 28..36 straddles the first
        // two blocks, the one at 60..68 the next two.
        let mut expect = s.next_u32().to_le_bytes().to_vec();
        for _ in 0..8 {
            expect.extend_from_slice(&s.next_u64().to_le_bytes());
        }
        let mut rest = [0u8; 12];
        s.fill_bytes(&mut rest);
        expect.extend_from_slice(&rest);
        assert_eq!(expect, bytes);
    }

    #[test]
    fn keys_labels_and_schedules_separate_streams() {
        let first = |s: &mut KeyStream| s.next_u64();
        let a = first(&mut KeyStream::hkdf(&key(), "a"));
        assert_ne!(a, first(&mut KeyStream::hkdf(&key(), "b")));
        assert_ne!(a, first(&mut KeyStream::hkdf(&[9; 32], "a")));
        let d = first(&mut KeyStream::domain_separated(b"d", b"a", &key()));
        assert_ne!(a, d);
        assert_ne!(
            d,
            first(&mut KeyStream::domain_separated(b"e", b"a", &key()))
        );
    }

    #[test]
    fn debug_output_hides_the_state() {
        let mut s = KeyStream::hkdf(&key(), "a");
        s.next_u32();
        assert_eq!(format!("{s:?}"), "KeyStream { bytes_read: 4 }");
    }
}
