//! The crate's one error type.

/// Everything that can go wrong while building, parsing or verifying log data.
///
/// Parsers of untrusted input never panic; they return one of these. Resource caps have
/// their own variant ([`LedgerError::LimitExceeded`]) so callers can tell "hostile or corrupt
/// input" from "input too big for this build".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// An input or field is larger than this crate accepts.
    #[error("{what} is {actual} bytes or items, more than the limit of {limit}; refuse the input")]
    LimitExceeded {
        /// What was too large.
        what: &'static str,
        /// Its size.
        actual: usize,
        /// The cap.
        limit: usize,
    },
    /// Binary input ended before a field was complete.
    #[error("{what} is truncated at byte {offset}: {needed} more bytes were expected")]
    Truncated {
        /// What was being decoded.
        what: &'static str,
        /// Byte offset where the field started.
        offset: usize,
        /// Bytes missing.
        needed: usize,
    },
    /// Binary input continued after a complete value.
    #[error("{what} has {extra} trailing bytes after byte {offset}; the encoding must end there")]
    TrailingBytes {
        /// What was being decoded.
        what: &'static str,
        /// Offset of the first extra byte.
        offset: usize,
        /// Number of extra bytes.
        extra: usize,
    },
    /// The version byte is not one this build understands.
    #[error("{what} has unknown version {version}; upgrade tracemark to read it")]
    UnknownVersion {
        /// What was being decoded.
        what: &'static str,
        /// The version found.
        version: u8,
    },
    /// The entry kind tag is not one this build understands.
    #[error("log entry has unknown kind tag {tag}")]
    UnknownTag {
        /// The tag found.
        tag: u8,
    },
    /// A field holds a value outside its allowed set.
    #[error("invalid {field}: {reason}")]
    InvalidField {
        /// The field.
        field: &'static str,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// A signed note is not well formed (C2SP signed-note).
    #[error("malformed signed note at line {line}: {reason}")]
    MalformedNote {
        /// 1-based line number, 0 when the problem is the note as a whole.
        line: usize,
        /// What was wrong.
        reason: &'static str,
    },
    /// A checkpoint body is not well formed (C2SP tlog-checkpoint).
    #[error("malformed checkpoint at line {line}: {reason}")]
    MalformedCheckpoint {
        /// 1-based line number of the note text.
        line: usize,
        /// What was wrong.
        reason: &'static str,
    },
    /// A key string is not well formed.
    #[error("malformed key: {reason}")]
    MalformedKey {
        /// What was wrong.
        reason: &'static str,
    },
    /// A signature line carries a signature that does not verify under the trusted key.
    #[error(
        "signature by {name} (key id {key_id:08x}) does not verify: the note was altered or signed by another key"
    )]
    BadSignature {
        /// Key name on the signature line.
        name: String,
        /// Key id on the signature line.
        key_id: u32,
    },
    /// None of the note's signatures is from the trusted key.
    #[error("note carries no signature by the trusted key {name} (key id {key_id:08x})")]
    NotSignedByKey {
        /// Trusted key name.
        name: String,
        /// Trusted key id.
        key_id: u32,
    },
    /// A checkpoint's origin is not the one expected.
    #[error("checkpoint origin is {found:?}, expected {expected:?}")]
    OriginMismatch {
        /// Origin the caller trusts.
        expected: String,
        /// Origin in the checkpoint.
        found: String,
    },
    /// A leaf index is not inside the tree.
    #[error("leaf index {index} is not inside a tree of size {size}")]
    IndexOutOfRange {
        /// The index asked for.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A tree size is not one this tree has had (or the pair of sizes is out of order).
    #[error("tree size {size} is not available (the tree has {current} leaves)")]
    SizeOutOfRange {
        /// The size asked for.
        size: u64,
        /// The current (or newer) size.
        current: u64,
    },
    /// A proof has the wrong number of hashes for its sizes.
    #[error("proof for {what} has {actual} hashes, but exactly {expected} are needed")]
    ProofLength {
        /// Which proof.
        what: &'static str,
        /// Hashes needed.
        expected: usize,
        /// Hashes present.
        actual: usize,
    },
    /// A proof is for a different tree size than the checkpoint it is checked against.
    ///
    /// RFC 9162 roots do not commit to the tree size, so a proof's sizes are only
    /// meaningful when bound to a signed checkpoint that states them.
    #[error(
        "proof is for tree size {proof_size}, but the checkpoint is for size {checkpoint_size}"
    )]
    CheckpointSizeMismatch {
        /// Size the proof claims.
        proof_size: u64,
        /// Size the checkpoint states.
        checkpoint_size: u64,
    },
    /// An inclusion proof does not lead to the expected root.
    #[error("inclusion proof of leaf {index} in tree of size {size} does not match the root")]
    InclusionFailed {
        /// Leaf index.
        index: u64,
        /// Tree size.
        size: u64,
    },
    /// A consistency proof does not link the two roots.
    #[error("consistency proof from size {old_size} to {new_size} does not match the roots")]
    ConsistencyFailed {
        /// Older tree size.
        old_size: u64,
        /// Newer tree size.
        new_size: u64,
    },
    /// Base64 text that does not decode (strict, padded, standard alphabet).
    #[error("{what} is not canonical padded base64")]
    Base64 {
        /// What was being decoded.
        what: &'static str,
    },
}
