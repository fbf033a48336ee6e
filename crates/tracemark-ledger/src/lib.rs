//! The tamper-evident log core of tracemark: every ingest, issuance, trace and export
//! becomes an entry in an append-only Merkle log whose history nobody can rewrite
//! without being caught.
//!
//! - [`MerkleTree`]: RFC 9162 (Certificate Transparency v2) hashing with leaf/node domain
//!   separation; root, inclusion proof and consistency proof for any past tree size.
//! - [`InclusionProof`], [`ConsistencyProof`]: RFC 9162 verification and strict binary
//!   and text encodings. RFC 9162 roots do not commit to the tree size, so evidence checks
//!   proofs against a signed [`Checkpoint`], which states size and root together.
//! - [`Checkpoint`]: C2SP `tlog-checkpoint`, signed as a C2SP `signed-note` with Ed25519
//!   ([`NoteSigner`], [`VerifierKey`], [`SignedNote`]).
//! - [`LogEntry`]: the events, with a canonical versioned binary encoding.
//!
//! The crate is pure: no files, no clock, no threads, no global state. Times and keys are
//! passed in; storage and key management live in the crates above it.
//!
//! ```
//! use tracemark_ledger::{
//!     Checkpoint, Hash, Ident, KeyName, LogEntry, MerkleTree, NoteSigner, UnixMillis,
//! };
//!
//! let mut tree = MerkleTree::new();
//! let entry = LogEntry::RecordingIngested {
//!     time: UnixMillis(1_760_000_000_000),
//!     recording: Ident::try_new("rec-0001")?,
//!     content_sha256: Hash::sha256(b"original audio bytes"),
//! };
//! let index = tree.push_leaf_hash(entry.leaf_hash());
//! for i in 0u32..9 {
//!     tree.append(&i.to_be_bytes());
//! }
//!
//! // The log signs a checkpoint; the seed comes from the vault, never from this crate.
//! let signer = NoteSigner::from_seed(KeyName::try_new("tracemark.example/log")?, &[7; 32]);
//! let note = Checkpoint::new(signer.verifier_key().name().clone(), tree.size(), tree.root())
//!     .sign(&signer)?;
//!
//! // An auditor holding only the verifier key checks the checkpoint and the proof.
//! let verifier = signer.verifier_key();
//! let checkpoint = Checkpoint::open(note.as_bytes(), &verifier)?;
//! let proof = tree.inclusion_proof(index, checkpoint.size())?;
//! checkpoint.verify_inclusion(&entry.leaf_hash(), &proof)?;
//!
//! // Later checkpoints must extend earlier ones.
//! let older = Checkpoint::new(checkpoint.origin().clone(), 3, tree.root_at(3)?);
//! checkpoint.verify_consistency(&older, &tree.consistency_proof(3, tree.size())?)?;
//! # Ok::<(), tracemark_ledger::LedgerError>(())
//! ```

mod checkpoint;
mod entry;
mod error;
mod merkle;
pub mod note;
mod proof;

pub use checkpoint::{Checkpoint, MAX_EXTENSION_BYTES, MAX_EXTENSION_LINES};
pub use entry::{
    ENTRY_VERSION, Ident, LogEntry, MAX_ENTRY_BYTES, MAX_IDENT_BYTES, MAX_STATED_COLUMNS,
    MAX_TEXT_BYTES, Text, UnixMillis,
};
pub use error::LedgerError;
pub use merkle::{
    Frontier, Hash, LEAF_PREFIX, MerkleTree, NODE_PREFIX, empty_root, leaf_hash, node_hash,
};
pub use note::{KeyName, NoteSigner, SignedNote, VerifierKey};
pub use proof::{
    ConsistencyProof, InclusionProof, MAX_PROOF_BYTES, MAX_PROOF_HASHES, PROOF_VERSION,
};
