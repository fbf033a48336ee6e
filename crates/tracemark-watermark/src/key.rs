//! The watermark key and the keyed pseudo-random streams derived from it.
//!
//! Every purpose (sync pattern, data layout, symbol layout, CRC mask...) gets its own
//! stream, derived with HKDF-SHA256 (RFC 5869) under a named label, so that no two
//! purposes ever share randomness and adding a purpose changes none of the others. The
//! streams are `tracemark-keystream`'s format version 1 (HKDF schedule); every mark issued
//! depends on them, which the known-answer test below pins.

use hkdf::Hkdf;
use sha2::Sha256;

use crate::WatermarkError;

/// A 256-bit watermark secret.
#[derive(Clone, PartialEq, Eq)]
pub struct WatermarkKey([u8; 32]);

impl std::fmt::Debug for WatermarkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret; print its public identifier.
        write!(f, "WatermarkKey({})", self.id_hex())
    }
}

impl WatermarkKey {
    /// Wraps 32 secret bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Parses 64 hexadecimal digits (surrounding white space ignored).
    pub fn from_hex(text: &str) -> Result<Self, WatermarkError> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text.trim(), &mut bytes).map_err(|e| WatermarkError::BadKey {
            reason: match e {
                hex::FromHexError::InvalidHexCharacter { .. } => {
                    "expected only hexadecimal digits 0-9, a-f"
                }
                _ => "expected exactly 64 hexadecimal digits (32 bytes)",
            },
        })?;
        Ok(Self(bytes))
    }

    /// The secret as 64 hexadecimal digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// A public 8-byte identifier of the key (SHA-256 of a labelled derivation), safe to
    /// print and store beside results.
    pub fn id_hex(&self) -> String {
        let mut out = [0u8; 8];
        self.derive("tracemark/v1/key-id", &mut out);
        hex::encode(out)
    }

    /// Fills `out` with key material for `label` (HKDF-SHA256, RFC 5869 §2.3, empty salt).
    pub fn derive(&self, label: &str, out: &mut [u8]) {
        let hk = Hkdf::<Sha256>::new(None, &self.0);
        // Output lengths used here are at most 64 bytes, far below HKDF's 255 x 32 limit.
        hk.expand(label.as_bytes(), out)
            .expect("HKDF output length within RFC 5869 limit");
    }

    /// The keyed pseudo-random stream for `label`: the HKDF schedule of
    /// [`tracemark_keystream`] (format version 1), whose prefix is exactly
    /// `derive(label, 32 bytes)`.
    pub fn stream(&self, label: &str) -> KeyStream {
        KeyStream(tracemark_keystream::KeyStream::hkdf(&self.0, label))
    }
}

/// A keyed pseudo-random stream ([`tracemark_keystream::KeyStream`], HKDF schedule) with the
/// draws the watermark layout needs.
#[derive(Clone, Debug)]
pub struct KeyStream(tracemark_keystream::KeyStream);

impl KeyStream {
    /// The next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }

    /// A uniform float in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        f64::from(self.next_u32()) / 4_294_967_296.0
    }

    /// A random sign.
    pub fn next_sign(&mut self) -> f32 {
        if self.next_u32() & 1 == 1 { 1.0 } else { -1.0 }
    }

    /// A uniform index in `0..n` (n > 0), by rejection so it is unbiased.
    pub fn below(&mut self, n: u32) -> u32 {
        let n = n.max(1);
        let zone = u32::MAX - (u32::MAX % n);
        loop {
            let v = self.next_u32();
            if v < zone {
                return v % n;
            }
        }
    }

    /// Shuffles `items` (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u32 + 1) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_for_different_labels_differ() {
        let k = WatermarkKey::from_bytes([7; 32]);
        let a: Vec<u32> = (0..8)
            .map({
                let mut s = k.stream("a");
                move |_| s.next_u32()
            })
            .collect();
        let b: Vec<u32> = (0..8)
            .map({
                let mut s = k.stream("b");
                move |_| s.next_u32()
            })
            .collect();
        assert_ne!(a, b);
    }

    /// Known answers for the keyed streams, computed outside this code from their definition
    /// (Python's `hmac` and `hashlib`: seed = HKDF-SHA256(salt = none, ikm = key, info =
    /// label, 32 bytes); block k = SHA-256(seed || k as u64 LE); words little-endian).
    /// Every watermark already issued depends on these: a change here is a new format.
    #[test]
    fn keyed_streams_match_their_known_answers() {
        let key = WatermarkKey::from_bytes(std::array::from_fn(|i| i as u8));
        let first = |label: &str| -> Vec<u32> {
            let mut s = key.stream(label);
            (0..10).map(|_| s.next_u32()).collect()
        };
        // Ten words cross from the first SHA-256 block (eight words) into the second.
        assert_eq!(
            first("tracemark/v1/layout/roles"),
            [
                0x678d5cba, 0x3b73aa8e, 0x0a10d373, 0x83ac20ac, 0x96fce2a1, 0x460d8677, 0x88f4a961,
                0x790cec31, 0x650a925d, 0x8763603f
            ]
        );
        assert_eq!(
            first("tracemark/v1/crc-mask"),
            [
                0x2d2f7227, 0x9da0c573, 0x9c169a29, 0xe4d0b82a, 0x58b6fda6, 0xbc33cb40, 0x2f225574,
                0xc6147dda, 0x8661b83d, 0xe30ebf8c
            ]
        );
        assert_eq!(key.id_hex(), "4515b13672ee7d7e");
        // The helpers read the same words.
        let mut s = key.stream("tracemark/v1/layout/roles");
        assert_eq!(s.next_f64(), f64::from(0x678d5cba_u32) / 4_294_967_296.0);
        assert_eq!(s.next_sign(), -1.0); // 0x3b73aa8e is even
        let mut items: Vec<u32> = (0..10).collect();
        key.stream("tracemark/v1/layout/data").shuffle(&mut items);
        assert_eq!(items, [9, 0, 8, 5, 1, 4, 7, 2, 6, 3]);
    }

    #[test]
    fn hex_round_trip_and_rejection() {
        let k = WatermarkKey::from_bytes([0xAB; 32]);
        assert_eq!(WatermarkKey::from_hex(&k.to_hex()), Ok(k.clone()));
        assert!(WatermarkKey::from_hex("abcd").is_err());
        assert!(WatermarkKey::from_hex(&"zz".repeat(32)).is_err());
        // `u8::from_str_radix` accepted a leading '+' in each digit pair.
        assert!(WatermarkKey::from_hex(&format!("+f{}", "ab".repeat(31))).is_err());
        assert_eq!(
            WatermarkKey::from_hex(&format!("  {}\n", k.to_hex())),
            Ok(k)
        );
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let k = WatermarkKey::from_bytes([0xAB; 32]);
        assert!(!format!("{k:?}").contains("abab"));
    }
}
