//! Property tests: proofs verify for every (index, size) and (old, new) pair up to 200
//! leaves; any single-bit change to a proof, root, leaf, entry encoding or signed
//! checkpoint fails verification; entries round-trip; ct-merkle agrees (differential).

use proptest::prelude::*;
use sha2::Sha256;
use tracemark_ledger::{
    Checkpoint, ConsistencyProof, Hash, Ident, InclusionProof, KeyName, LedgerError, LogEntry,
    MerkleTree, NoteSigner, Text, UnixMillis, leaf_hash,
};

const MAX_LEAVES: u64 = 200;

fn data(i: u64) -> Vec<u8> {
    format!("leaf {i}").into_bytes()
}

fn tree(n: u64) -> MerkleTree {
    let mut t = MerkleTree::new();
    for i in 0..n {
        t.append(&data(i));
    }
    t
}

fn flip(h: &Hash, bit: usize) -> Hash {
    let mut x = *h;
    x.0[bit / 8] ^= 1 << (bit % 8);
    x
}

#[test]
fn every_inclusion_proof_up_to_200_leaves_verifies() -> Result<(), LedgerError> {
    let t = tree(MAX_LEAVES);
    for size in 1..=MAX_LEAVES {
        let root = t.root_at(size)?;
        for index in 0..size {
            let proof = t.inclusion_proof(index, size)?;
            proof.verify(&leaf_hash(&data(index)), &root)?;
            // The same path must not prove a neighbour or another size.
            if index + 1 < size {
                assert!(proof.verify(&leaf_hash(&data(index + 1)), &root).is_err());
            }
        }
    }
    Ok(())
}

#[test]
fn every_consistency_proof_up_to_200_leaves_verifies() -> Result<(), LedgerError> {
    let t = tree(MAX_LEAVES);
    let roots: Vec<Hash> = (0..=MAX_LEAVES)
        .map(|s| t.root_at(s))
        .collect::<Result<_, _>>()?;
    for new in 0..=MAX_LEAVES {
        for old in 0..=new {
            let proof = t.consistency_proof(old, new)?;
            proof.verify(&roots[old as usize], &roots[new as usize])?;
            if old > 0 && old < new {
                assert!(
                    proof
                        .verify(&roots[old as usize - 1], &roots[new as usize])
                        .is_err()
                );
            }
        }
    }
    Ok(())
}

#[test]
fn every_single_bit_flip_in_small_proofs_and_roots_fails() -> Result<(), LedgerError> {
    let t = tree(40);
    for size in 1..=40u64 {
        let root = t.root_at(size)?;
        for index in 0..size {
            let p = t.inclusion_proof(index, size)?;
            let leaf = leaf_hash(&data(index));
            for bit in 0..256 {
                assert!(p.verify(&leaf, &flip(&root, bit)).is_err());
                assert!(p.verify(&flip(&leaf, bit), &root).is_err());
                for k in 0..p.path().len() {
                    let mut path = p.path().to_vec();
                    path[k] = flip(&path[k], bit);
                    let bad = InclusionProof::new(index, size, path)?;
                    assert!(
                        bad.verify(&leaf, &root).is_err(),
                        "({index},{size}) h{k} b{bit}"
                    );
                }
            }
        }
        for old in 1..size {
            let p = t.consistency_proof(old, size)?;
            let old_root = t.root_at(old)?;
            for bit in 0..256 {
                assert!(p.verify(&flip(&old_root, bit), &root).is_err());
                assert!(p.verify(&old_root, &flip(&root, bit)).is_err());
                for k in 0..p.path().len() {
                    let mut path = p.path().to_vec();
                    path[k] = flip(&path[k], bit);
                    let bad = ConsistencyProof::new(old, size, path)?;
                    assert!(
                        bad.verify(&old_root, &root).is_err(),
                        "({old},{size}) h{k} b{bit}"
                    );
                }
            }
        }
    }
    Ok(())
}

/// A bare RFC 9162 proof does not bind its tree size (proofs for sizes 76 and 77 can
/// share a path), so evidence checks proofs against a signed checkpoint that states the
/// size. Against checkpoints, every bit of the serialised proof matters.
#[test]
fn serialised_proofs_with_any_bit_flipped_fail_against_checkpoints() -> Result<(), LedgerError> {
    let t = tree(77);
    let origin = KeyName::try_new("tracemark.test/log")?;
    let new_cp = Checkpoint::new(origin.clone(), 77, t.root());
    let old_cp = Checkpoint::new(origin, 20, t.root_at(20)?);
    let leaf = leaf_hash(&data(30));
    let proof = t.inclusion_proof(30, 77)?;
    new_cp.verify_inclusion(&leaf, &proof)?;
    for (bytes, text) in [
        (proof.to_bytes(), false),
        (proof.to_text().into_bytes(), true),
    ] {
        for bit in 0..bytes.len() * 8 {
            let mut b = bytes.clone();
            b[bit / 8] ^= 1 << (bit % 8);
            let parsed = if text {
                std::str::from_utf8(&b)
                    .map_err(|_| LedgerError::Base64 { what: "utf8" })
                    .and_then(InclusionProof::from_text)
            } else {
                InclusionProof::from_bytes(&b)
            };
            if let Ok(p) = parsed {
                assert!(new_cp.verify_inclusion(&leaf, &p).is_err(), "bit {bit}");
            }
        }
    }
    let proof = t.consistency_proof(20, 77)?;
    new_cp.verify_consistency(&old_cp, &proof)?;
    let bytes = proof.to_bytes();
    for bit in 0..bytes.len() * 8 {
        let mut b = bytes.clone();
        b[bit / 8] ^= 1 << (bit % 8);
        if let Ok(p) = ConsistencyProof::from_bytes(&b) {
            assert!(new_cp.verify_consistency(&old_cp, &p).is_err(), "bit {bit}");
        }
    }
    Ok(())
}

#[test]
fn ct_merkle_agrees_on_roots_and_current_size_proofs() -> Result<(), LedgerError> {
    let mut ours = MerkleTree::new();
    let mut theirs = ct_merkle::mem_backed_tree::MemoryBackedTree::<Sha256, Vec<u8>>::new();
    for n in 1..=70u64 {
        ours.append(&data(n - 1));
        theirs.push(data(n - 1));
        assert_eq!(
            theirs.root().as_bytes().as_slice(),
            ours.root().as_bytes(),
            "root {n}"
        );
        for index in 0..n {
            let p = ours.inclusion_proof(index, n)?;
            let flat: Vec<u8> = p.path().iter().flat_map(|h| h.0).collect();
            assert_eq!(
                theirs.prove_inclusion(index as usize).as_bytes(),
                flat.as_slice()
            );
        }
        for old in 1..n {
            let p = ours.consistency_proof(old, n)?;
            let flat: Vec<u8> = p.path().iter().flat_map(|h| h.0).collect();
            let c = theirs.prove_consistency((n - old) as usize);
            assert_eq!(c.as_bytes(), flat.as_slice(), "consistency ({old},{n})");
        }
    }
    Ok(())
}

#[test]
fn signed_checkpoint_with_any_bit_flipped_is_rejected() -> Result<(), LedgerError> {
    let signer = NoteSigner::from_seed(KeyName::try_new("tracemark.test/log")?, &[3; 32]);
    let t = tree(9);
    let cp = Checkpoint::new(signer.verifier_key().name().clone(), 9, t.root());
    let note = cp.sign(&signer)?.into_bytes();
    let key = signer.verifier_key();
    assert_eq!(Checkpoint::open(&note, &key)?, cp);
    for bit in 0..note.len() * 8 {
        let mut b = note.clone();
        b[bit / 8] ^= 1 << (bit % 8);
        assert!(Checkpoint::open(&b, &key).is_err(), "bit {bit} accepted");
    }
    Ok(())
}

fn ident() -> impl Strategy<Value = Ident> {
    "[a-z0-9._-]{1,40}".prop_map(|s| Ident::try_new(s).unwrap_or_else(|e| panic!("{e}")))
}

fn hash() -> impl Strategy<Value = Hash> {
    any::<[u8; 32]>().prop_map(Hash)
}

fn entry() -> impl Strategy<Value = LogEntry> {
    let t = any::<i64>().prop_map(UnixMillis);
    prop_oneof![
        (t.clone(), ident(), hash()).prop_map(|(time, recording, content_sha256)| {
            LogEntry::RecordingIngested {
                time,
                recording,
                content_sha256,
            }
        }),
        (t.clone(), ident(), hash()).prop_map(|(time, recipient, record_sha256)| {
            LogEntry::RecipientAdded {
                time,
                recipient,
                record_sha256,
            }
        }),
        (t.clone(), ident(), hash()).prop_map(|(time, recipient, record_sha256)| {
            LogEntry::RecipientChanged {
                time,
                recipient,
                record_sha256,
            }
        }),
        (
            t.clone(),
            ident(),
            ident(),
            any::<[u8; 32]>(),
            ident(),
            hash()
        )
            .prop_map(
                |(time, recording, recipient, codeword_commitment, format, copy_sha256)| {
                    LogEntry::CopyIssued {
                        time,
                        recording,
                        recipient,
                        codeword_commitment,
                        format,
                        copy_sha256,
                    }
                }
            ),
        (t.clone(), ident(), hash(), "[ -~\n]{0,200}", hash()).prop_map(
            |(time, trace, leak_sha256, verdict, report_sha256)| LogEntry::TraceRecorded {
                time,
                trace,
                leak_sha256,
                verdict: Text::try_new(verdict).unwrap_or_else(|e| panic!("{e}")),
                report_sha256,
            }
        ),
        (t.clone(), ident(), hash()).prop_map(|(time, trace, bundle_sha256)| {
            LogEntry::EvidenceExported {
                time,
                trace,
                bundle_sha256,
            }
        }),
        (t, ident(), ident(), ident()).prop_map(|(time, actor, subject, action)| {
            LogEntry::AccessRecorded {
                time,
                actor,
                subject,
                action,
            }
        }),
    ]
}

proptest! {
    #[test]
    fn entry_encoding_round_trips(e in entry()) {
        prop_assert_eq!(LogEntry::decode(&e.encode()), Ok(e));
    }

    #[test]
    fn flipped_entry_bit_breaks_inclusion(e in entry(), bit in any::<prop::sample::Index>(),
                                          pos in 0u64..50) {
        let mut t = tree(pos);
        let index = t.push_leaf_hash(e.leaf_hash());
        for i in 0..7 { t.append(&data(1000 + i)); }
        let proof = t.inclusion_proof(index, t.size()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(proof.verify(&e.leaf_hash(), &t.root()).is_ok());
        let mut bytes = e.encode();
        let bit = bit.index(bytes.len() * 8);
        bytes[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(proof.verify(&leaf_hash(&bytes), &t.root()).is_err());
        if let Ok(other) = LogEntry::decode(&bytes) {
            prop_assert_ne!(other, e);
        }
    }

    #[test]
    fn random_proofs_in_larger_trees_verify(size in 1u64..3000, seed in any::<u64>()) {
        let t = tree(size);
        let index = seed % size;
        let old = seed.rotate_left(17) % (size + 1);
        let p = t.inclusion_proof(index, size).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(p.verify(&leaf_hash(&data(index)), &t.root()).is_ok());
        let c = t.consistency_proof(old, size).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let old_root = t.root_at(old).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(c.verify(&old_root, &t.root()).is_ok());
    }

    #[test]
    fn entry_decoder_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = LogEntry::decode(&bytes);
    }
}
