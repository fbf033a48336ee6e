//! C2SP `signed-note` with Ed25519 (<https://c2sp.org/signed-note>), compatible with Go's
//! `golang.org/x/mod/sumdb/note`.
//!
//! A note is UTF-8 text ending in a newline, a blank line, then one or more signature
//! lines `— <key name> <base64(key id || signature)>`. The key id is the first four bytes
//! of `SHA-256(name || 0x0A || 0x01 || public key)`, big-endian; `0x01` is the Ed25519
//! signature type. A verifier key is written `name+<8 hex digits of key id>+base64(0x01 ||
//! public key)`.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::LedgerError as Error;

/// Signature type byte for Ed25519 (C2SP signed-note, "Signature types").
pub const ALG_ED25519: u8 = 0x01;
/// Cap on a whole note, in bytes. Checkpoints are a few hundred bytes.
pub const MAX_NOTE_BYTES: usize = 64 * 1024;
/// Cap on signature lines; Go's `sumdb/note` refuses more than 100.
pub const MAX_SIGNATURES: usize = 100;
/// Cap on a key name, in bytes.
pub const MAX_KEY_NAME_BYTES: usize = 256;
/// Prefix of a signature line: U+2014 EM DASH and a space.
const SIG_PREFIX: &str = "\u{2014} ";

/// A key name: non-empty UTF-8 without `+`, whitespace or control characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyName(String);

impl KeyName {
    /// Checks the signed-note name rules.
    pub fn try_new(name: impl Into<String>) -> Result<Self, Error> {
        let name = name.into();
        if name.len() > MAX_KEY_NAME_BYTES {
            return Err(Error::LimitExceeded {
                what: "key name",
                actual: name.len(),
                limit: MAX_KEY_NAME_BYTES,
            });
        }
        if !is_valid_name(&name) {
            return Err(Error::MalformedKey {
                reason: "key name must be non-empty, without '+', spaces or control characters",
            });
        }
        Ok(Self(name))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.contains('+')
        && !name.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Key id: first 4 bytes (big-endian) of `SHA-256(name || "\n" || alg || key)`.
pub fn key_id(name: &KeyName, public_key: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.0.as_bytes());
    h.update(b"\n");
    h.update([ALG_ED25519]);
    h.update(public_key);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// A trusted Ed25519 verifier key with its name and key id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierKey {
    name: KeyName,
    key_id: u32,
    key: VerifyingKey,
}

impl VerifierKey {
    /// Wraps a public key under a name.
    pub fn new(name: KeyName, public_key: &[u8; 32]) -> Result<Self, Error> {
        let key = VerifyingKey::from_bytes(public_key).map_err(|_| Error::MalformedKey {
            reason: "not a valid Ed25519 public key",
        })?;
        Ok(Self {
            key_id: key_id(&name, public_key),
            name,
            key,
        })
    }

    /// Parses `name+hash+base64(0x01 || key)`, checking that the hash is the key id.
    pub fn parse(s: &str) -> Result<Self, Error> {
        if s.len() > MAX_KEY_NAME_BYTES + 64 {
            return Err(Error::LimitExceeded {
                what: "verifier key",
                actual: s.len(),
                limit: MAX_KEY_NAME_BYTES + 64,
            });
        }
        let mut parts = s.splitn(3, '+');
        let (Some(name), Some(hash), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(Error::MalformedKey {
                reason: "verifier key must be name+hash+key",
            });
        };
        let name = KeyName::try_new(name)?;
        let public = decode_alg_key(key)?;
        let this = Self::new(name, &public)?;
        if parse_key_id(hash)? != this.key_id {
            return Err(Error::MalformedKey {
                reason: "key id in verifier key does not match the name and key",
            });
        }
        Ok(this)
    }

    /// The key name.
    pub fn name(&self) -> &KeyName {
        &self.name
    }

    /// The key id.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The raw public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    fn verifies(&self, text: &[u8], sig: &[u8]) -> bool {
        let Ok(sig) = Signature::from_slice(sig) else {
            return false;
        };
        self.key.verify_strict(text, &sig).is_ok()
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut key = vec![ALG_ED25519];
        key.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.key_id, B64.encode(key))
    }
}

fn parse_key_id(hash: &str) -> Result<u32, Error> {
    if hash.len() != 8 || !hash.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(Error::MalformedKey {
            reason: "key id must be 8 lower-case hex digits",
        });
    }
    u32::from_str_radix(hash, 16).map_err(|_| Error::MalformedKey {
        reason: "key id must be 8 lower-case hex digits",
    })
}

fn decode_alg_key(b64: &str) -> Result<[u8; 32], Error> {
    let raw = B64.decode(b64).map_err(|_| Error::Base64 { what: "key" })?;
    match raw.split_first() {
        Some((&ALG_ED25519, rest)) => rest.try_into().map_err(|_| Error::MalformedKey {
            reason: "Ed25519 key must be 32 bytes",
        }),
        _ => Err(Error::MalformedKey {
            reason: "only Ed25519 keys (type 0x01) are supported",
        }),
    }
}

/// An Ed25519 note signer. The secret is zeroised on drop (ed25519-dalek `zeroize`).
pub struct NoteSigner {
    name: KeyName,
    key_id: u32,
    key: SigningKey,
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NoteSigner({}+{:08x})", self.name, self.key_id)
    }
}

impl NoteSigner {
    /// A signer from a 32-byte Ed25519 seed (the caller generates and stores it).
    pub fn from_seed(name: KeyName, seed: &[u8; 32]) -> Self {
        let key = SigningKey::from_bytes(seed);
        let key_id = key_id(&name, key.verifying_key().as_bytes());
        Self { name, key_id, key }
    }

    /// Parses Go's private key string `PRIVATE+KEY+name+hash+base64(0x01 || seed)`.
    pub fn parse_private_key(s: &str) -> Result<Self, Error> {
        let Some(rest) = s.strip_prefix("PRIVATE+KEY+") else {
            return Err(Error::MalformedKey {
                reason: "private key must start with PRIVATE+KEY+",
            });
        };
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(hash), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(Error::MalformedKey {
                reason: "private key must be PRIVATE+KEY+name+hash+key",
            });
        };
        let signer = Self::from_seed(KeyName::try_new(name)?, &decode_alg_key(key)?);
        if parse_key_id(hash)? != signer.key_id {
            return Err(Error::MalformedKey {
                reason: "key id in private key does not match the name and key",
            });
        }
        Ok(signer)
    }

    /// The matching verifier key.
    pub fn verifier_key(&self) -> VerifierKey {
        VerifierKey {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// Signs `text` and returns the complete note: text, blank line, signature line.
    pub fn sign(&self, text: &str) -> Result<String, Error> {
        check_text(text)?;
        let sig = self.key.sign(text.as_bytes());
        let mut blob = self.key_id.to_be_bytes().to_vec();
        blob.extend_from_slice(&sig.to_bytes());
        Ok(format!(
            "{text}\n{SIG_PREFIX}{} {}\n",
            self.name,
            B64.encode(blob)
        ))
    }
}

/// One signature line of a note, not yet verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    /// Key name.
    pub name: String,
    /// Key id.
    pub key_id: u32,
    /// Signature bytes (after the key id).
    pub signature: Vec<u8>,
}

/// A parsed, not yet verified signed note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedNote {
    text: String,
    signatures: Vec<NoteSignature>,
}

fn check_text(text: &str) -> Result<(), Error> {
    if text.len() > MAX_NOTE_BYTES {
        return Err(Error::LimitExceeded {
            what: "note",
            actual: text.len(),
            limit: MAX_NOTE_BYTES,
        });
    }
    if !text.ends_with('\n') {
        return Err(Error::MalformedNote {
            line: 0,
            reason: "note text must end with a newline",
        });
    }
    if let Some(pos) = text.find(|c: char| c.is_control() && c != '\n') {
        return Err(Error::MalformedNote {
            line: text[..pos].matches('\n').count() + 1,
            reason: "control character other than newline",
        });
    }
    Ok(())
}

impl SignedNote {
    /// Parses a note strictly: size cap, UTF-8, no control characters but `\n`, text
    /// ending before the last blank line, every later line a well-formed signature line.
    pub fn parse(msg: &[u8]) -> Result<Self, Error> {
        if msg.len() > MAX_NOTE_BYTES {
            return Err(Error::LimitExceeded {
                what: "note",
                actual: msg.len(),
                limit: MAX_NOTE_BYTES,
            });
        }
        let msg = std::str::from_utf8(msg).map_err(|_| Error::MalformedNote {
            line: 0,
            reason: "note is not UTF-8",
        })?;
        check_text(msg)?;
        let Some(split) = msg.rfind("\n\n") else {
            return Err(Error::MalformedNote {
                line: 0,
                reason: "no blank line before the signatures",
            });
        };
        let (text, sigs) = (&msg[..split + 1], &msg[split + 2..]);
        let first_sig_line = text.matches('\n').count() + 2;
        if sigs.is_empty() {
            return Err(Error::MalformedNote {
                line: first_sig_line,
                reason: "no signature lines",
            });
        }
        let mut signatures = Vec::new();
        // `sigs` ends with '\n' (checked above), so the last split piece is empty.
        for (i, line) in sigs[..sigs.len() - 1].split('\n').enumerate() {
            if signatures.len() == MAX_SIGNATURES {
                return Err(Error::LimitExceeded {
                    what: "note signatures",
                    actual: MAX_SIGNATURES + 1,
                    limit: MAX_SIGNATURES,
                });
            }
            signatures.push(parse_signature_line(line, first_sig_line + i)?);
        }
        Ok(Self {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The signed text (ends with a newline).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signature lines, in order.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Checks that the note carries a valid signature by `key`. Signatures by other keys
    /// are ignored; a line naming `key` whose signature fails is an error.
    pub fn verify(&self, key: &VerifierKey) -> Result<(), Error> {
        let mut verified = false;
        for s in &self.signatures {
            if s.name != key.name.0 || s.key_id != key.key_id {
                continue;
            }
            if !key.verifies(self.text.as_bytes(), &s.signature) {
                return Err(Error::BadSignature {
                    name: s.name.clone(),
                    key_id: s.key_id,
                });
            }
            verified = true;
        }
        if verified {
            Ok(())
        } else {
            Err(Error::NotSignedByKey {
                name: key.name.0.clone(),
                key_id: key.key_id,
            })
        }
    }

    /// Parses and verifies in one step, returning the signed text.
    pub fn open(msg: &[u8], key: &VerifierKey) -> Result<String, Error> {
        let note = Self::parse(msg)?;
        note.verify(key)?;
        Ok(note.text)
    }
}

fn parse_signature_line(line: &str, line_no: usize) -> Result<NoteSignature, Error> {
    let bad = |reason| Error::MalformedNote {
        line: line_no,
        reason,
    };
    let rest = line
        .strip_prefix(SIG_PREFIX)
        .ok_or(bad("signature line must start with an em dash and a space"))?;
    let (name, b64) = rest
        .split_once(' ')
        .ok_or(bad("signature line must be name and base64"))?;
    if !is_valid_name(name) || name.len() > MAX_KEY_NAME_BYTES {
        return Err(bad("invalid key name on signature line"));
    }
    let blob = B64
        .decode(b64)
        .map_err(|_| Error::Base64 { what: "signature" })?;
    if blob.len() < 5 {
        return Err(bad("signature too short"));
    }
    let (id, sig) = blob.split_at(4);
    Ok(NoteSignature {
        name: name.to_owned(),
        key_id: u32::from_be_bytes([id[0], id[1], id[2], id[3]]),
        signature: sig.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_follow_the_spec_rules() {
        assert!(KeyName::try_new("example.com/log").is_ok());
        assert!(KeyName::try_new("").is_err());
        assert!(KeyName::try_new("a+b").is_err());
        assert!(KeyName::try_new("a b").is_err());
        assert!(KeyName::try_new("a\u{a0}b").is_err());
        assert!(KeyName::try_new("x".repeat(300)).is_err());
    }

    #[test]
    fn verifier_key_string_round_trips() -> Result<(), Error> {
        let s = NoteSigner::from_seed(KeyName::try_new("tracemark.test/log")?, &[7; 32]);
        let v = s.verifier_key();
        assert_eq!(VerifierKey::parse(&v.to_string())?, v);
        Ok(())
    }

    #[test]
    fn note_without_signature_lines_is_malformed() {
        assert!(SignedNote::parse(b"hello\n\n").is_err());
        assert!(SignedNote::parse(b"hello\n").is_err());
        assert!(SignedNote::parse(b"hello\n\n\xe2\x80\x94 a AAAAAAA=").is_err());
    }
}
