//! Inclusion and consistency proofs: verification (RFC 9162 §2.1.3.2, §2.1.4.2) and a
//! strict binary and text serialisation.
//!
//! Binary form (all integers big-endian):
//! `version (0x01) | kind (0x01 inclusion, 0x02 consistency) | u64 a | u64 b | u8 count |
//! count * 32-byte hashes`, where `(a, b)` is `(leaf index, tree size)` or
//! `(old size, new size)`. Text form: a header line `inclusion <index> <size>` or
//! `consistency <old> <new>`, then one padded base64 hash per line, each line ending in
//! `\n`. Both parsers reject anything but exactly the canonical encoding, including a
//! hash count that differs from the one the sizes require.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::LedgerError as Error;
use crate::merkle::{Hash, consistency_subtrees, empty_root, inclusion_subtrees, node_hash};

/// Version byte of the binary proof encoding.
pub const PROOF_VERSION: u8 = 0x01;
const KIND_INCLUSION: u8 = 0x01;
const KIND_CONSISTENCY: u8 = 0x02;
/// Longest proof any tree of at most `2^64 - 1` leaves needs is 64 (inclusion) or 65
/// (consistency) hashes; anything longer is refused before allocation.
pub const MAX_PROOF_HASHES: usize = 65;
/// Cap on a serialised proof's size, binary or text.
pub const MAX_PROOF_BYTES: usize = 4096;
const HEADER_LEN: usize = 1 + 1 + 8 + 8 + 1;

/// Proof that a leaf is at `leaf_index` in the tree of `tree_size` leaves.
///
/// Constructed only with `leaf_index < tree_size` and exactly as many hashes as RFC 9162
/// `PATH` yields for those numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InclusionProof {
    leaf_index: u64,
    tree_size: u64,
    path: Vec<Hash>,
}

impl InclusionProof {
    /// Checks the numbers and the path length, then wraps them.
    pub fn new(leaf_index: u64, tree_size: u64, path: Vec<Hash>) -> Result<Self, Error> {
        if leaf_index >= tree_size {
            return Err(Error::IndexOutOfRange {
                index: leaf_index,
                size: tree_size,
            });
        }
        let expected = inclusion_subtrees(leaf_index, tree_size).len();
        if path.len() != expected {
            return Err(Error::ProofLength {
                what: "inclusion",
                expected,
                actual: path.len(),
            });
        }
        Ok(Self {
            leaf_index,
            tree_size,
            path,
        })
    }

    /// Index of the proven leaf.
    pub fn leaf_index(&self) -> u64 {
        self.leaf_index
    }

    /// Size of the tree the proof is against.
    pub fn tree_size(&self) -> u64 {
        self.tree_size
    }

    /// The audit path, leaf to root.
    pub fn path(&self) -> &[Hash] {
        &self.path
    }

    /// The root that `leaf` and this path lead to (RFC 9162 §2.1.3.2 steps 1-4).
    pub fn root_from_leaf(&self, leaf: &Hash) -> Result<Hash, Error> {
        let fail = Error::InclusionFailed {
            index: self.leaf_index,
            size: self.tree_size,
        };
        let (mut fnode, mut snode) = (self.leaf_index, self.tree_size - 1);
        let mut r = *leaf;
        for p in &self.path {
            if snode == 0 {
                return Err(fail);
            }
            if fnode & 1 == 1 || fnode == snode {
                r = node_hash(p, &r);
                if fnode & 1 == 0 {
                    while fnode & 1 == 0 && fnode != 0 {
                        fnode >>= 1;
                        snode >>= 1;
                    }
                }
            } else {
                r = node_hash(&r, p);
            }
            fnode >>= 1;
            snode >>= 1;
        }
        if snode != 0 {
            return Err(fail);
        }
        Ok(r)
    }

    /// Verifies that `leaf` (an RFC 9162 leaf hash) is in the tree whose root is `root`
    /// (RFC 9162 §2.1.3.2).
    pub fn verify(&self, leaf: &Hash, root: &Hash) -> Result<(), Error> {
        if self.root_from_leaf(leaf)? == *root {
            Ok(())
        } else {
            Err(Error::InclusionFailed {
                index: self.leaf_index,
                size: self.tree_size,
            })
        }
    }

    /// Canonical binary encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        encode_bytes(KIND_INCLUSION, self.leaf_index, self.tree_size, &self.path)
    }

    /// Strict inverse of [`InclusionProof::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let (a, b, path) = decode_bytes(KIND_INCLUSION, bytes)?;
        Self::new(a, b, path)
    }

    /// Canonical text encoding.
    pub fn to_text(&self) -> String {
        encode_text("inclusion", self.leaf_index, self.tree_size, &self.path)
    }

    /// Strict inverse of [`InclusionProof::to_text`].
    pub fn from_text(text: &str) -> Result<Self, Error> {
        let (a, b, path) = decode_text("inclusion", text)?;
        Self::new(a, b, path)
    }
}

/// Proof that the tree of `old_size` leaves is a prefix of the tree of `new_size` leaves.
///
/// Constructed only with `old_size <= new_size` and exactly as many hashes as RFC 9162
/// `PROOF` yields (none when `old_size` is 0 or equals `new_size`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsistencyProof {
    old_size: u64,
    new_size: u64,
    path: Vec<Hash>,
}

impl ConsistencyProof {
    /// Checks the numbers and the path length, then wraps them.
    pub fn new(old_size: u64, new_size: u64, path: Vec<Hash>) -> Result<Self, Error> {
        if old_size > new_size {
            return Err(Error::SizeOutOfRange {
                size: old_size,
                current: new_size,
            });
        }
        let expected = consistency_subtrees(old_size, new_size).len();
        if path.len() != expected {
            return Err(Error::ProofLength {
                what: "consistency",
                expected,
                actual: path.len(),
            });
        }
        Ok(Self {
            old_size,
            new_size,
            path,
        })
    }

    /// Size of the older tree.
    pub fn old_size(&self) -> u64 {
        self.old_size
    }

    /// Size of the newer tree.
    pub fn new_size(&self) -> u64 {
        self.new_size
    }

    /// The proof hashes.
    pub fn path(&self) -> &[Hash] {
        &self.path
    }

    /// Verifies that `old_root` (size `old_size`) and `new_root` (size `new_size`) are
    /// roots of one append-only log (RFC 9162 §2.1.4.2). An empty old tree must have the
    /// empty root, and equal sizes need equal roots.
    pub fn verify(&self, old_root: &Hash, new_root: &Hash) -> Result<(), Error> {
        let fail = Error::ConsistencyFailed {
            old_size: self.old_size,
            new_size: self.new_size,
        };
        let (first, second) = (self.old_size, self.new_size);
        if first == 0 {
            return if *old_root == empty_root() {
                Ok(())
            } else {
                Err(fail)
            };
        }
        if first == second {
            return if old_root == new_root {
                Ok(())
            } else {
                Err(fail)
            };
        }
        // Step 1: an empty path fails. (Unreachable: `new` enforces the exact length.)
        let Some((&head, rest)) = self.path.split_first() else {
            return Err(fail);
        };
        // Step 2: if `first` is a power of two, the old root is the implicit first value.
        let (start, rest) = if first.is_power_of_two() {
            (*old_root, self.path.as_slice())
        } else {
            (head, rest)
        };
        // Steps 3-4.
        let (mut fnode, mut snode) = (first - 1, second - 1);
        while fnode & 1 == 1 {
            fnode >>= 1;
            snode >>= 1;
        }
        // Step 5.
        let (mut fr, mut sr) = (start, start);
        // Step 6.
        for c in rest {
            if snode == 0 {
                return Err(fail);
            }
            if fnode & 1 == 1 || fnode == snode {
                fr = node_hash(c, &fr);
                sr = node_hash(c, &sr);
                if fnode & 1 == 0 {
                    while fnode & 1 == 0 && fnode != 0 {
                        fnode >>= 1;
                        snode >>= 1;
                    }
                }
            } else {
                sr = node_hash(&sr, c);
            }
            fnode >>= 1;
            snode >>= 1;
        }
        // Step 7.
        if fr == *old_root && sr == *new_root && snode == 0 {
            Ok(())
        } else {
            Err(fail)
        }
    }

    /// Canonical binary encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        encode_bytes(KIND_CONSISTENCY, self.old_size, self.new_size, &self.path)
    }

    /// Strict inverse of [`ConsistencyProof::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let (a, b, path) = decode_bytes(KIND_CONSISTENCY, bytes)?;
        Self::new(a, b, path)
    }

    /// Canonical text encoding.
    pub fn to_text(&self) -> String {
        encode_text("consistency", self.old_size, self.new_size, &self.path)
    }

    /// Strict inverse of [`ConsistencyProof::to_text`].
    pub fn from_text(text: &str) -> Result<Self, Error> {
        let (a, b, path) = decode_text("consistency", text)?;
        Self::new(a, b, path)
    }
}

fn encode_bytes(kind: u8, a: u64, b: u64, path: &[Hash]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + 32 * path.len());
    out.push(PROOF_VERSION);
    out.push(kind);
    out.extend_from_slice(&a.to_be_bytes());
    out.extend_from_slice(&b.to_be_bytes());
    // Path lengths are at most MAX_PROOF_HASHES (65), enforced by the constructors.
    out.push(path.len() as u8);
    for h in path {
        out.extend_from_slice(&h.0);
    }
    out
}

fn decode_bytes(kind: u8, bytes: &[u8]) -> Result<(u64, u64, Vec<Hash>), Error> {
    const WHAT: &str = "proof";
    if bytes.len() > MAX_PROOF_BYTES {
        return Err(Error::LimitExceeded {
            what: "proof encoding",
            actual: bytes.len(),
            limit: MAX_PROOF_BYTES,
        });
    }
    if bytes.len() < HEADER_LEN {
        return Err(Error::Truncated {
            what: WHAT,
            offset: 0,
            needed: HEADER_LEN - bytes.len(),
        });
    }
    if bytes[0] != PROOF_VERSION {
        return Err(Error::UnknownVersion {
            what: WHAT,
            version: bytes[0],
        });
    }
    if bytes[1] != kind {
        return Err(Error::InvalidField {
            field: "proof kind",
            reason: "expected the other kind of proof",
        });
    }
    let word = |at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&bytes[at..at + 8]);
        u64::from_be_bytes(w)
    };
    let (a, b) = (word(2), word(10));
    let count = usize::from(bytes[18]);
    if count > MAX_PROOF_HASHES {
        return Err(Error::LimitExceeded {
            what: "proof hash count",
            actual: count,
            limit: MAX_PROOF_HASHES,
        });
    }
    let body = &bytes[HEADER_LEN..];
    let want = count * 32;
    if body.len() < want {
        return Err(Error::Truncated {
            what: WHAT,
            offset: HEADER_LEN,
            needed: want - body.len(),
        });
    }
    if body.len() > want {
        return Err(Error::TrailingBytes {
            what: WHAT,
            offset: HEADER_LEN + want,
            extra: body.len() - want,
        });
    }
    let path = body
        .chunks_exact(32)
        .map(|c| {
            let mut h = [0u8; 32];
            h.copy_from_slice(c);
            Hash(h)
        })
        .collect();
    Ok((a, b, path))
}

fn encode_text(label: &str, a: u64, b: u64, path: &[Hash]) -> String {
    let mut out = format!("{label} {a} {b}\n");
    for h in path {
        out.push_str(&B64.encode(h.0));
        out.push('\n');
    }
    out
}

fn decode_text(label: &'static str, text: &str) -> Result<(u64, u64, Vec<Hash>), Error> {
    let bad = |line: usize, reason: &'static str| Error::InvalidField {
        field: if line == 1 {
            "proof header line"
        } else {
            "proof hash line"
        },
        reason,
    };
    if text.len() > MAX_PROOF_BYTES {
        return Err(Error::LimitExceeded {
            what: "proof text",
            actual: text.len(),
            limit: MAX_PROOF_BYTES,
        });
    }
    let Some(body) = text.strip_suffix('\n') else {
        return Err(bad(1, "proof text must end with a newline"));
    };
    let mut lines = body.split('\n');
    let header = lines.next().unwrap_or_default();
    let mut words = header.split(' ');
    if words.next() != Some(label) {
        return Err(bad(1, "wrong proof kind label"));
    }
    let a = parse_decimal(words.next().unwrap_or_default()).ok_or(bad(1, "bad first number"))?;
    let b = parse_decimal(words.next().unwrap_or_default()).ok_or(bad(1, "bad second number"))?;
    if words.next().is_some() {
        return Err(bad(1, "extra words after the sizes"));
    }
    let mut path = Vec::new();
    for line in lines {
        if path.len() == MAX_PROOF_HASHES {
            return Err(Error::LimitExceeded {
                what: "proof hash count",
                actual: path.len() + 1,
                limit: MAX_PROOF_HASHES,
            });
        }
        path.push(decode_hash_b64(line, "proof hash")?);
    }
    Ok((a, b, path))
}

/// Parses a canonical unsigned decimal: ASCII digits, no sign, no leading zero (except
/// "0" itself), fitting in a u64.
pub(crate) fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

/// Decodes a canonical padded standard base64 SHA-256 hash.
pub(crate) fn decode_hash_b64(s: &str, what: &'static str) -> Result<Hash, Error> {
    // 32 bytes encode to exactly 44 characters; check before decoding to bound work.
    if s.len() != 44 {
        return Err(Error::Base64 { what });
    }
    let bytes = B64.decode(s).map_err(|_| Error::Base64 { what })?;
    let arr: [u8; 32] = bytes.try_into().map_err(|_| Error::Base64 { what })?;
    Ok(Hash(arr))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{MerkleTree, leaf_hash};

    fn tree(n: u32) -> MerkleTree {
        let mut t = MerkleTree::new();
        for i in 0..n {
            t.append(&i.to_le_bytes());
        }
        t
    }

    #[test]
    fn binary_and_text_round_trip() -> Result<(), Error> {
        let t = tree(13);
        let p = t.inclusion_proof(5, 11)?;
        assert_eq!(InclusionProof::from_bytes(&p.to_bytes())?, p);
        assert_eq!(InclusionProof::from_text(&p.to_text())?, p);
        let c = t.consistency_proof(3, 13)?;
        assert_eq!(ConsistencyProof::from_bytes(&c.to_bytes())?, c);
        assert_eq!(ConsistencyProof::from_text(&c.to_text())?, c);
        Ok(())
    }

    #[test]
    fn parsers_reject_non_canonical_forms() -> Result<(), Error> {
        let t = tree(13);
        let p = t.inclusion_proof(5, 11)?;
        let mut b = p.to_bytes();
        b.push(0);
        assert!(matches!(
            InclusionProof::from_bytes(&b),
            Err(Error::TrailingBytes { .. })
        ));
        assert!(ConsistencyProof::from_bytes(&p.to_bytes()).is_err());
        let text = p.to_text();
        assert!(InclusionProof::from_text(&text.replace("inclusion 5", "inclusion 05")).is_err());
        assert!(InclusionProof::from_text(&text.replace('\n', "\r\n")).is_err());
        assert!(InclusionProof::from_text(text.trim_end()).is_err());
        assert!(InclusionProof::from_text(&format!("{text}\n")).is_err());
        Ok(())
    }

    #[test]
    fn single_leaf_tree_proves_with_empty_path() -> Result<(), Error> {
        let t = tree(1);
        let p = t.inclusion_proof(0, 1)?;
        assert!(p.path().is_empty());
        p.verify(&leaf_hash(&0u32.to_le_bytes()), &t.root())?;
        Ok(())
    }
}
