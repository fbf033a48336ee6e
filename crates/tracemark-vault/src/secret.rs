//! The vault's secrets: the master secret (watermark keys, codeword seeds and the at-rest
//! encryption key all derive from it by HKDF-SHA256, RFC 5869, one label per purpose) and
//! the separate Ed25519 seed that signs the log's checkpoints.

use std::path::Path;

use chacha20poly1305::aead::{AeadInOut, KeyInit, Tag};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::Sha256;
use tracemark_watermark::WatermarkKey;

use crate::VaultError;

/// 32 secret bytes read from or written to a key file as 64 hex digits.
#[derive(Clone)]
pub struct Secret([u8; 32]);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    /// Fresh randomness from the operating system.
    pub fn generate() -> Result<Self, VaultError> {
        let mut b = [0u8; 32];
        crate::secret::fill_random(&mut b)?;
        Ok(Self(b))
    }

    /// Wraps bytes (tests, derived keys).
    pub fn from_bytes(b: [u8; 32]) -> Self {
        Self(b)
    }

    /// The raw bytes.
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Writes the secret to a new file readable only by its owner.
    pub fn write_new(&self, path: &Path) -> Result<(), VaultError> {
        use std::io::Write;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(path).map_err(VaultError::io(path))?;
        writeln!(f, "{}", hex::encode(self.0)).map_err(VaultError::io(path))?;
        f.sync_all().map_err(VaultError::io(path))
    }

    /// Reads a key file.
    pub fn read(path: &Path) -> Result<Self, VaultError> {
        let text = std::fs::read_to_string(path).map_err(VaultError::io(path))?;
        let text = text.trim();
        let bad = || VaultError::BadKeyFile {
            path: path.to_path_buf(),
            reason: "expected 64 hexadecimal digits",
        };
        let mut b = [0u8; 32];
        // Strict: exactly 64 hex digits (the hex crate refuses signs and odd lengths).
        hex::decode_to_slice(text, &mut b).map_err(|_| bad())?;
        Ok(Self(b))
    }

    /// 32 bytes derived for `label`.
    pub fn derive(&self, label: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's limit of 8160 (RFC 5869 §2.3).
        Hkdf::<Sha256>::new(None, &self.0)
            .expand(label.as_bytes(), &mut out)
            .expect("HKDF output length within RFC 5869 limit");
        out
    }

    /// The vault's watermark key.
    pub fn watermark_key(&self) -> WatermarkKey {
        WatermarkKey::from_bytes(self.derive("tracemark/v1/vault/watermark"))
    }

    /// Encrypts `plain` with XChaCha20-Poly1305 under the at-rest key; `context` (e.g. the
    /// blob's content hash) is bound as associated data. Output: nonce || ciphertext || tag
    /// (the tag is Poly1305's 16 bytes, RFC 8439 section 2.8), encrypted in place in the one
    /// buffer returned (a long original is not held twice over).
    pub fn seal(&self, plain: &[u8], context: &[u8]) -> Result<Vec<u8>, VaultError> {
        let mut framed = Vec::with_capacity(NONCE_LEN + plain.len() + TAG_LEN);
        framed.extend_from_slice(&[0; NONCE_LEN]);
        framed.extend_from_slice(plain);
        self.seal_framed(framed, context)
    }

    /// Seals `framed`, room for the nonce followed by the plaintext: the nonce drawn and
    /// written, the plaintext encrypted in place, the tag appended.
    fn seal_framed(&self, mut framed: Vec<u8>, context: &[u8]) -> Result<Vec<u8>, VaultError> {
        let mut nonce = [0u8; NONCE_LEN];
        crate::secret::fill_random(&mut nonce)?;
        framed[..NONCE_LEN].copy_from_slice(&nonce);
        let tag = self
            .cipher()
            .encrypt_inout_detached(
                &XNonce::from(nonce),
                context,
                (&mut framed[NONCE_LEN..]).into(),
            )
            .map_err(|_| VaultError::Invalid {
                what: "blob",
                reason: "encryption failed".into(),
            })?;
        framed.extend_from_slice(&tag);
        Ok(framed)
    }

    /// Reverses [`Secret::seal`], and opens blobs sealed in chunks (originals and copies
    /// since they stream: `crate::sealed`), decrypting in place: the buffer given becomes
    /// the plaintext. A blob too short, altered, sealed under another key or for another
    /// `context` is [`VaultError::Tampered`], naming `what`.
    pub fn open(&self, sealed: Vec<u8>, context: &[u8], what: &str) -> Result<Vec<u8>, VaultError> {
        if crate::sealed::is_chunked(&sealed) {
            return self.open_chunked(sealed, context, what);
        }
        self.open_whole(sealed, context, what)
    }

    /// Opens a blob sealed whole ([`Secret::seal`]).
    fn open_whole(
        &self,
        mut sealed: Vec<u8>,
        context: &[u8],
        what: &str,
    ) -> Result<Vec<u8>, VaultError> {
        let tampered = || VaultError::Tampered {
            what: what.to_string(),
        };
        let Some(body_len) = sealed.len().checked_sub(NONCE_LEN + TAG_LEN) else {
            return Err(tampered());
        };
        let (nonce, rest) = sealed.split_at_mut(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = (&*nonce).try_into().map_err(|_| tampered())?;
        let (body, tag) = rest.split_at_mut(body_len);
        let tag = Tag::<XChaCha20Poly1305>::try_from(&*tag).map_err(|_| tampered())?;
        self.cipher()
            .decrypt_inout_detached(&XNonce::from(nonce), context, body.into(), &tag)
            .map_err(|_| tampered())?;
        sealed.truncate(NONCE_LEN + body_len);
        sealed.drain(..NONCE_LEN);
        Ok(sealed)
    }

    pub(crate) fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.derive("tracemark/v1/vault/at-rest").into())
    }
}

/// Fills `buf` from the operating system's randomness.
pub(crate) fn fill_random(buf: &mut [u8]) -> Result<(), VaultError> {
    getrandom::fill(buf).map_err(|e| VaultError::Invalid {
        what: "system randomness",
        reason: e.to_string(),
    })
}

/// XChaCha20's extended nonce (draft-irtf-cfrg-xchacha-03, section 2) and Poly1305's tag
/// (RFC 8439, section 2.5), in bytes.
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_files_must_be_exactly_64_hex_digits() {
        let dir = tempfile::tempdir().expect("tmp");
        let good = dir.path().join("good.key");
        Secret::from_bytes([0xab; 32])
            .write_new(&good)
            .expect("write");
        assert_eq!(Secret::read(&good).expect("read").bytes(), &[0xab; 32]);
        for (name, text) in [
            ("plus", format!("+f{}", "0".repeat(62))),
            ("short", "ab".repeat(31)),
            ("junk", "zz".repeat(32)),
        ] {
            let p = dir.path().join(name);
            std::fs::write(&p, text).expect("write");
            assert!(
                matches!(Secret::read(&p), Err(VaultError::BadKeyFile { .. })),
                "{name}"
            );
        }
    }

    #[test]
    fn a_blob_sealed_by_the_one_shot_cipher_opens() {
        // What `seal` wrote before it encrypted in place: nonce || `Aead::encrypt`'s
        // ciphertext-and-tag. Blobs already stored must open as they did.
        use chacha20poly1305::aead::{Aead, Payload};
        let s = Secret::from_bytes([7; 32]);
        let nonce = [9u8; NONCE_LEN];
        let body = s
            .cipher()
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: b"stored before",
                    aad: b"ctx",
                },
            )
            .expect("encrypt");
        let old = [nonce.as_slice(), &body].concat();
        assert_eq!(s.open(old, b"ctx", "x").expect("open"), b"stored before");
    }

    #[test]
    fn sealed_blobs_open_and_detect_tampering() {
        let s = Secret::from_bytes([5; 32]);
        let sealed = s.seal(b"original audio", b"ctx").expect("seal");
        assert_eq!(
            s.open(sealed.clone(), b"ctx", "x").expect("open"),
            b"original audio"
        );
        let mut bad = sealed.clone();
        bad[30] ^= 1;
        assert!(s.open(bad, b"ctx", "x").is_err());
        assert!(s.open(sealed.clone(), b"other", "x").is_err());
        let mut last = sealed.clone();
        *last.last_mut().expect("a tag") ^= 1;
        assert!(s.open(last, b"ctx", "x").is_err());
        for short in [0, 23, 24, 39] {
            assert!(
                s.open(sealed[..short].to_vec(), b"ctx", "x").is_err(),
                "{short} bytes"
            );
        }
        assert_eq!(
            s.open(s.seal(b"", b"ctx").expect("seal"), b"ctx", "x")
                .expect("empty"),
            b""
        );
        assert!(
            Secret::from_bytes([6; 32])
                .open(sealed, b"ctx", "x")
                .is_err()
        );
    }
}
