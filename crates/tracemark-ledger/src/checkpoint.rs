//! C2SP `tlog-checkpoint` (<https://c2sp.org/tlog-checkpoint>): the signed statement
//! "the log named *origin* had *size* entries with root *hash*".
//!
//! Body: the origin line, the tree size in canonical decimal, the root hash in padded
//! standard base64, then optional non-empty extension lines; every line ends in `\n`.
//! It travels as the text of a [signed note](crate::note).
//!
//! tracemark policy, stricter than the spec's SHOULD: the signing key's name equals the
//! origin, so [`Checkpoint::open`] checks both at once.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::LedgerError as Error;
use crate::merkle::Hash;
use crate::note::{KeyName, NoteSigner, SignedNote, VerifierKey};
use crate::proof::{ConsistencyProof, InclusionProof, decode_hash_b64, parse_decimal};

/// Cap on extension lines.
pub const MAX_EXTENSION_LINES: usize = 16;
/// Cap on one extension line, in bytes.
pub const MAX_EXTENSION_BYTES: usize = 1024;

/// A log checkpoint: origin, tree size, root hash and extension lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    origin: KeyName,
    size: u64,
    root: Hash,
    extensions: Vec<String>,
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    pub fn new(origin: KeyName, size: u64, root: Hash) -> Self {
        Self {
            origin,
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// Adds extension lines (each non-empty, without newline or control characters).
    pub fn with_extensions(mut self, extensions: Vec<String>) -> Result<Self, Error> {
        check_extensions(&extensions)?;
        self.extensions = extensions;
        Ok(self)
    }

    /// The log's origin (also its key name).
    pub fn origin(&self) -> &KeyName {
        &self.origin
    }

    /// Number of entries in the log.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Root hash of the tree of `size` entries.
    pub fn root(&self) -> &Hash {
        &self.root
    }

    /// Extension lines.
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

    /// The checkpoint body, i.e. the note text.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root.0)
        );
        for e in &self.extensions {
            out.push_str(e);
            out.push('\n');
        }
        out
    }

    /// Parses a checkpoint body strictly.
    pub fn parse_text(text: &str) -> Result<Self, Error> {
        let bad = |line, reason| Error::MalformedCheckpoint { line, reason };
        let Some(body) = text.strip_suffix('\n') else {
            return Err(bad(0, "checkpoint must end with a newline"));
        };
        let lines: Vec<&str> = body.split('\n').collect();
        if lines.len() < 3 {
            return Err(bad(
                lines.len() + 1,
                "checkpoint needs origin, size and root lines",
            ));
        }
        if lines.len() - 3 > MAX_EXTENSION_LINES {
            return Err(Error::LimitExceeded {
                what: "checkpoint extension lines",
                actual: lines.len() - 3,
                limit: MAX_EXTENSION_LINES,
            });
        }
        let origin =
            KeyName::try_new(lines[0]).map_err(|_| bad(1, "origin must be a valid key name"))?;
        let size = parse_decimal(lines[1]).ok_or(bad(2, "size must be canonical decimal"))?;
        let root = decode_hash_b64(lines[2], "checkpoint root")
            .map_err(|_| bad(3, "root must be 32 bytes in padded base64"))?;
        let extensions: Vec<String> = lines[3..].iter().map(|s| (*s).to_owned()).collect();
        check_extensions(&extensions)?;
        Ok(Self {
            origin,
            size,
            root,
            extensions,
        })
    }

    /// Signs the checkpoint; the signer's name must be the origin.
    pub fn sign(&self, signer: &NoteSigner) -> Result<String, Error> {
        let key = signer.verifier_key();
        if key.name() != &self.origin {
            return Err(Error::OriginMismatch {
                expected: key.name().to_string(),
                found: self.origin.to_string(),
            });
        }
        signer.sign(&self.to_text())
    }

    /// Parses a signed checkpoint note, verifies its signature by `key` and checks that
    /// its origin is the key's name.
    pub fn open(note: &[u8], key: &VerifierKey) -> Result<Self, Error> {
        let note = SignedNote::parse(note)?;
        note.verify(key)?;
        let cp = Self::parse_text(note.text())?;
        if cp.origin != *key.name() {
            return Err(Error::OriginMismatch {
                expected: key.name().to_string(),
                found: cp.origin.to_string(),
            });
        }
        Ok(cp)
    }

    /// Verifies that `leaf` is in the tree this checkpoint commits to. The proof's tree
    /// size must be the checkpoint's: RFC 9162 roots alone do not fix the size.
    pub fn verify_inclusion(&self, leaf: &Hash, proof: &InclusionProof) -> Result<(), Error> {
        self.check_size(proof.tree_size())?;
        proof.verify(leaf, &self.root)
    }

    /// Verifies that this checkpoint extends `older` (same origin, proof sizes equal to
    /// the two checkpoints' sizes, RFC 9162 consistency).
    pub fn verify_consistency(
        &self,
        older: &Checkpoint,
        proof: &ConsistencyProof,
    ) -> Result<(), Error> {
        if older.origin != self.origin {
            return Err(Error::OriginMismatch {
                expected: self.origin.to_string(),
                found: older.origin.to_string(),
            });
        }
        older.check_size(proof.old_size())?;
        self.check_size(proof.new_size())?;
        proof.verify(&older.root, &self.root)
    }

    fn check_size(&self, proof_size: u64) -> Result<(), Error> {
        if proof_size == self.size {
            Ok(())
        } else {
            Err(Error::CheckpointSizeMismatch {
                proof_size,
                checkpoint_size: self.size,
            })
        }
    }
}

fn check_extensions(extensions: &[String]) -> Result<(), Error> {
    if extensions.len() > MAX_EXTENSION_LINES {
        return Err(Error::LimitExceeded {
            what: "checkpoint extension lines",
            actual: extensions.len(),
            limit: MAX_EXTENSION_LINES,
        });
    }
    for (i, e) in extensions.iter().enumerate() {
        let line = i + 4;
        if e.len() > MAX_EXTENSION_BYTES {
            return Err(Error::LimitExceeded {
                what: "checkpoint extension line",
                actual: e.len(),
                limit: MAX_EXTENSION_BYTES,
            });
        }
        if e.is_empty() {
            return Err(Error::MalformedCheckpoint {
                line,
                reason: "extension lines must not be empty",
            });
        }
        if e.chars().any(char::is_control) {
            return Err(Error::MalformedCheckpoint {
                line,
                reason: "extension lines must not hold control characters",
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::empty_root;

    fn origin() -> Result<KeyName, Error> {
        KeyName::try_new("tracemark.test/log")
    }

    #[test]
    fn text_round_trips_with_extensions() -> Result<(), Error> {
        let cp = Checkpoint::new(origin()?, 42, empty_root())
            .with_extensions(vec!["— witness abc".into(), "x y".into()])?;
        assert_eq!(Checkpoint::parse_text(&cp.to_text())?, cp);
        Ok(())
    }

    #[test]
    fn parse_rejects_non_canonical_bodies() -> Result<(), Error> {
        let good = Checkpoint::new(origin()?, 42, empty_root()).to_text();
        assert!(Checkpoint::parse_text(&good).is_ok());
        for bad in [
            good.replace("\n42\n", "\n042\n"),
            good.replace("\n42\n", "\n+42\n"),
            good.replace("\n42\n", "\n-1\n"),
            format!("{good}\n"),
            good.trim_end().to_owned(),
            good.replace('=', ""),
            "tracemark.test/log\n42\n".to_owned(),
            format!(
                "{}\n18446744073709551616\n{}",
                origin()?,
                good.split('\n').nth(2).unwrap_or("")
            ),
        ] {
            assert!(Checkpoint::parse_text(&bad).is_err(), "{bad:?}");
        }
        Ok(())
    }

    #[test]
    fn open_checks_signature_and_origin() -> Result<(), Error> {
        let signer = NoteSigner::from_seed(origin()?, &[1; 32]);
        let cp = Checkpoint::new(origin()?, 7, empty_root());
        let note = cp.sign(&signer)?;
        assert_eq!(
            Checkpoint::open(note.as_bytes(), &signer.verifier_key())?,
            cp
        );
        let other = NoteSigner::from_seed(KeyName::try_new("other")?, &[1; 32]);
        assert!(cp.sign(&other).is_err());
        assert!(Checkpoint::open(note.as_bytes(), &other.verifier_key()).is_err());
        Ok(())
    }
}
