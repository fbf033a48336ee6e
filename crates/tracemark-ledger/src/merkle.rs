//! RFC 9162 Merkle tree hashing and an append-only tree that proves any past size.
//!
//! Hashing follows RFC 9162 §2.1.1: `MTH({}) = SHA-256()`,
//! `MTH({d0}) = SHA-256(0x00 || d0)`, and for `n > 1`, with `k` the largest power of two
//! smaller than `n`, `MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))`.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::LedgerError as Error;
use crate::proof::{ConsistencyProof, InclusionProof};

/// Domain-separation prefix of a leaf hash (RFC 9162 §2.1.1).
pub const LEAF_PREFIX: u8 = 0x00;
/// Domain-separation prefix of an interior node hash (RFC 9162 §2.1.1).
pub const NODE_PREFIX: u8 = 0x01;

/// A SHA-256 output: a leaf hash, node hash or tree root.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// Number of bytes in a hash.
    pub const LEN: usize = 32;

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Plain SHA-256 of `data` (no domain prefix), e.g. for file digests.
    pub fn sha256(data: &[u8]) -> Hash {
        Hash(Sha256::digest(data).into())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({self})")
    }
}

/// Root of the empty tree: SHA-256 of the empty string (RFC 9162 §2.1.1).
pub fn empty_root() -> Hash {
    Hash::sha256(&[])
}

/// RFC 9162 §2.1.1 leaf hash: `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([LEAF_PREFIX]);
    h.update(data);
    Hash(h.finalize().into())
}

/// RFC 9162 §2.1.1 interior node hash: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([NODE_PREFIX]);
    h.update(left.0);
    h.update(right.0);
    Hash(h.finalize().into())
}

/// Largest power of two strictly smaller than `n` (the RFC 9162 split point). `n >= 2`.
pub(crate) fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The subtrees, as `(first leaf, leaf count)`, whose hashes form the inclusion proof
/// of leaf `index` in a tree of `size` leaves, in proof order (leaf to root).
///
/// This is RFC 9162 §2.1.3.1 `PATH(m, D[n])` with the recursion unrolled:
/// for `m < k`, `PATH(m, D[0:k]) : MTH(D[k:n])`, else `PATH(m - k, D[k:n]) : MTH(D[0:k])`.
/// Requires `index < size`.
pub(crate) fn inclusion_subtrees(index: u64, size: u64) -> Vec<(u64, u64)> {
    let (mut lo, mut n, mut m) = (0u64, size, index);
    let mut out = Vec::with_capacity(64);
    while n > 1 {
        let k = split_point(n);
        if m < k {
            out.push((lo + k, n - k));
            n = k;
        } else {
            out.push((lo, k));
            lo += k;
            m -= k;
            n -= k;
        }
    }
    out.reverse();
    out
}

/// The subtrees whose hashes form the consistency proof from `old` to `new` leaves, in
/// proof order. RFC 9162 §2.1.4.1 `SUBPROOF(m, D[n], b)` unrolled:
/// `m == n` gives `{}` when `b` else `{MTH(D[n])}`; for `m <= k`,
/// `SUBPROOF(m, D[0:k], b) : MTH(D[k:n])`, else `SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])`.
/// Empty when `old == 0` or `old == new`. Requires `old <= new`.
pub(crate) fn consistency_subtrees(old: u64, new: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::with_capacity(64);
    if old == 0 || old == new {
        return out;
    }
    let (mut lo, mut n, mut m, mut whole) = (0u64, new, old, true);
    loop {
        if m == n {
            if !whole {
                out.push((lo, n));
            }
            break;
        }
        let k = split_point(n);
        if m <= k {
            out.push((lo + k, n - k));
            n = k;
        } else {
            out.push((lo, k));
            lo += k;
            m -= k;
            n -= k;
            whole = false;
        }
    }
    out.reverse();
    out
}

/// The right edge of an RFC 9162 tree: the roots of its complete subtrees, largest first
/// (one per set bit of the size). It is all a log sequencer needs to append leaves and
/// compute the new root, so a store can keep it in one row instead of loading every leaf:
/// `32 * popcount(size)` bytes, at most 2 KiB.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// Subtree roots, largest (leftmost) first; `peaks[i]` covers `2^h` leaves where `h`
    /// is the i-th highest set bit of `size`.
    peaks: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash and returns its index.
    pub fn push_leaf_hash(&mut self, leaf: Hash) -> u64 {
        let index = self.size;
        let mut node = leaf;
        // Merging equal-sized subtrees is binary increment: one merge per trailing one bit.
        let mut carry = index;
        while carry & 1 == 1 {
            let left = self.peaks.pop().unwrap_or_default();
            node = node_hash(&left, &node);
            carry >>= 1;
        }
        self.peaks.push(node);
        self.size += 1;
        index
    }

    /// The root (RFC 9162 §2.1.1): the peaks folded right to left.
    pub fn root(&self) -> Hash {
        let mut peaks = self.peaks.iter().rev();
        let Some(first) = peaks.next() else {
            return empty_root();
        };
        peaks.fold(*first, |acc, left| node_hash(left, &acc))
    }

    /// `size` (8 bytes big-endian) then the peaks.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.size.to_be_bytes().to_vec();
        for p in &self.peaks {
            out.extend_from_slice(&p.0);
        }
        out
    }

    /// Strict inverse of [`Frontier::to_bytes`]: the peak count must match the size.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let invalid = |reason| Error::InvalidField {
            field: "frontier",
            reason,
        };
        let (size, rest) = bytes
            .split_first_chunk::<8>()
            .ok_or(invalid("shorter than its 8-byte size"))?;
        let size = u64::from_be_bytes(*size);
        if rest.len() != 32 * size.count_ones() as usize {
            return Err(invalid("peak count does not match the size"));
        }
        let peaks = rest
            .chunks_exact(32)
            .map(|c| {
                let mut h = [0u8; 32];
                h.copy_from_slice(c);
                Hash(h)
            })
            .collect();
        Ok(Self { size, peaks })
    }
}

impl From<&MerkleTree> for Frontier {
    fn from(tree: &MerkleTree) -> Self {
        let mut peaks = Vec::new();
        let size = tree.size();
        let mut start = 0u64;
        for h in (0..64).rev() {
            if size >> h & 1 == 1 {
                peaks.push(tree.range_hash(start, 1 << h));
                start += 1 << h;
            }
        }
        Self { size, peaks }
    }
}

/// An append-only RFC 9162 Merkle tree over leaf hashes, kept in memory.
///
/// It stores the hash of every complete (power-of-two) subtree, level by level, so an
/// append costs amortised one node hash, and the root, inclusion proof and consistency
/// proof of *any* past tree size cost `O(log n)` node hashes. Memory is about
/// `2 * 32` bytes per leaf.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MerkleTree {
    /// `levels[h][i]` is the hash of the complete subtree of `2^h` leaves starting at leaf
    /// `i * 2^h`. Only complete subtrees are stored, so `levels[h].len() == size >> h`.
    levels: Vec<Vec<Hash>>,
}

impl MerkleTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a tree from leaf hashes in log order.
    pub fn from_leaf_hashes<I: IntoIterator<Item = Hash>>(leaves: I) -> Self {
        let mut tree = Self::new();
        for h in leaves {
            tree.push_leaf_hash(h);
        }
        tree
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Whether the tree has no leaves.
    pub fn is_empty(&self) -> bool {
        self.size() == 0
    }

    /// Appends a leaf by its RFC 9162 leaf hash and returns its index.
    pub fn push_leaf_hash(&mut self, leaf: Hash) -> u64 {
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        self.levels[0].push(leaf);
        let mut h = 0;
        // Each time a level gains an even count, its last two nodes complete a parent.
        while self.levels[h].len().is_multiple_of(2) {
            let n = self.levels[h].len();
            let parent = node_hash(&self.levels[h][n - 2], &self.levels[h][n - 1]);
            if self.levels.len() == h + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[h + 1].push(parent);
            h += 1;
        }
        self.size() - 1
    }

    /// Appends a leaf by its data (hashed with [`leaf_hash`]) and returns its index.
    pub fn append(&mut self, data: &[u8]) -> u64 {
        self.push_leaf_hash(leaf_hash(data))
    }

    /// The leaf hash at `index`, if present.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        let i = usize::try_from(index).ok()?;
        self.levels.first()?.get(i).copied()
    }

    /// Root of the current tree.
    pub fn root(&self) -> Hash {
        self.range_hash(0, self.size())
    }

    /// Root of the tree as it was when it had `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, Error> {
        self.check_size(size)?;
        Ok(self.range_hash(0, size))
    }

    /// Inclusion proof of leaf `index` in the tree of `size` leaves (RFC 9162 §2.1.3.1).
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<InclusionProof, Error> {
        self.check_size(size)?;
        if index >= size {
            return Err(Error::IndexOutOfRange { index, size });
        }
        let path = self.hashes(&inclusion_subtrees(index, size));
        InclusionProof::new(index, size, path)
    }

    /// Consistency proof from the tree of `old_size` leaves to that of `new_size` leaves
    /// (RFC 9162 §2.1.4.1).
    pub fn consistency_proof(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<ConsistencyProof, Error> {
        self.check_size(new_size)?;
        if old_size > new_size {
            return Err(Error::SizeOutOfRange {
                size: old_size,
                current: new_size,
            });
        }
        let path = self.hashes(&consistency_subtrees(old_size, new_size));
        ConsistencyProof::new(old_size, new_size, path)
    }

    fn check_size(&self, size: u64) -> Result<(), Error> {
        if size > self.size() {
            return Err(Error::SizeOutOfRange {
                size,
                current: self.size(),
            });
        }
        Ok(())
    }

    fn hashes(&self, subtrees: &[(u64, u64)]) -> Vec<Hash> {
        subtrees
            .iter()
            .map(|&(lo, n)| self.range_hash(lo, n))
            .collect()
    }

    /// `MTH(D[lo : lo + n])` for a subtree met in the RFC 9162 recursion, where `lo` is a
    /// multiple of the largest power of two not above `n`, so every complete piece is
    /// stored. Callers guarantee `lo + n <= size`.
    fn range_hash(&self, lo: u64, n: u64) -> Hash {
        if n == 0 {
            return empty_root();
        }
        if n.is_power_of_two() {
            let h = n.trailing_zeros() as usize;
            // Invariant: lo is a multiple of n and lo + n <= size, so node lo >> h of level
            // h is a stored complete subtree; indices fit in usize because the nodes exist.
            return self.levels[h][(lo >> h) as usize];
        }
        let k = split_point(n);
        node_hash(&self.range_hash(lo, k), &self.range_hash(lo + k, n - k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split_point(n as u64) as usize;
                node_hash(&naive_mth(&leaves[..k]), &naive_mth(&leaves[k..]))
            }
        }
    }

    #[test]
    fn frontier_root_equals_the_tree_root_at_every_size() -> Result<(), Error> {
        let mut tree = MerkleTree::new();
        let mut frontier = Frontier::new();
        assert_eq!(frontier.root(), empty_root());
        for i in 0u32..300 {
            let leaf = leaf_hash(&i.to_be_bytes());
            assert_eq!(frontier.push_leaf_hash(leaf), tree.push_leaf_hash(leaf));
            assert_eq!(frontier.root(), tree.root(), "size {}", tree.size());
            assert_eq!(Frontier::from(&tree), frontier);
            let bytes = frontier.to_bytes();
            assert_eq!(bytes.len(), 8 + 32 * tree.size().count_ones() as usize);
            assert_eq!(Frontier::from_bytes(&bytes)?, frontier);
        }
        let mut bad = frontier.to_bytes();
        bad.pop();
        assert!(Frontier::from_bytes(&bad).is_err());
        assert!(Frontier::from_bytes(&[0; 7]).is_err());
        Ok(())
    }

    #[test]
    fn split_point_is_largest_power_of_two_below_n() {
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(8), 4);
        assert_eq!(split_point(9), 8);
        assert_eq!(split_point(u64::MAX), 1 << 63);
    }

    #[test]
    fn roots_of_every_past_size_match_the_recursive_definition() {
        let leaves: Vec<Hash> = (0u32..300).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let tree = MerkleTree::from_leaf_hashes(leaves.iter().copied());
        for size in 0..=leaves.len() {
            assert_eq!(
                tree.root_at(size as u64).ok(),
                Some(naive_mth(&leaves[..size])),
                "size {size}"
            );
        }
        assert!(tree.root_at(301).is_err());
    }

    #[test]
    fn proofs_out_of_range_are_errors_not_panics() {
        let mut tree = MerkleTree::new();
        assert!(tree.inclusion_proof(0, 0).is_err());
        tree.append(b"a");
        assert!(tree.inclusion_proof(1, 1).is_err());
        assert!(tree.inclusion_proof(0, 2).is_err());
        assert!(tree.consistency_proof(2, 1).is_err());
        assert!(tree.consistency_proof(1, 2).is_err());
        assert!(tree.consistency_proof(0, 1).is_ok());
    }
}
