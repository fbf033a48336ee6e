//! Published test vectors.
//!
//! - Merkle trees: the Certificate Transparency test tree of 8 leaves, as published in
//!   transparency-dev/merkle `testonly/constants.go` (`LeafInputs`, `NodeHashes`,
//!   `RootHashes`) and `proof/verify_test.go` (`inclusionProofs`, `consistencyProofs`;
//!   their `leaf` field is 1-based).
//! - Signed notes: the PeterNeumann key, text and signature of Go's
//!   `golang.org/x/mod/sumdb/note` (`note.go` package example and `note_test.go`).

use tracemark_ledger::{
    ConsistencyProof, Hash, InclusionProof, LedgerError, MerkleTree, NoteSigner, SignedNote,
    VerifierKey, empty_root, leaf_hash,
};

fn hd(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or_else(|_| panic!("bad hex {s}")))
        .collect()
}

fn h(s: &str) -> Hash {
    Hash(
        hd(s)
            .try_into()
            .unwrap_or_else(|_| panic!("not 32 bytes: {s}")),
    )
}

const LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// `NodeHashes()` level 0: the leaf hashes.
const LEAF_HASHES: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
];

fn ct_tree() -> MerkleTree {
    let mut t = MerkleTree::new();
    for l in LEAVES {
        t.append(&hd(l));
    }
    t
}

#[test]
fn ct_test_tree_roots_match_for_every_size() -> Result<(), LedgerError> {
    let t = ct_tree();
    assert_eq!(empty_root(), h(ROOTS[0]));
    for (size, root) in ROOTS.iter().enumerate() {
        assert_eq!(t.root_at(size as u64)?, h(root), "size {size}");
    }
    for (i, leaf) in LEAF_HASHES.iter().enumerate() {
        assert_eq!(leaf_hash(&hd(LEAVES[i])), h(leaf));
    }
    Ok(())
}

/// `inclusionProofs` of verify_test.go, with the leaf made 0-based.
fn inclusion_vectors() -> Vec<(u64, u64, Vec<Hash>)> {
    vec![
        (0, 1, vec![]),
        (
            0,
            8,
            vec![
                h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
            ],
        ),
        (
            5,
            8,
            vec![
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
                h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
        (
            2,
            3,
            vec![h(
                "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            )],
        ),
        (
            1,
            5,
            vec![
                h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            ],
        ),
    ]
}

#[test]
fn ct_inclusion_proofs_are_generated_and_verify() -> Result<(), LedgerError> {
    let t = ct_tree();
    for (index, size, path) in inclusion_vectors() {
        let proof = t.inclusion_proof(index, size)?;
        assert_eq!(proof.path(), path.as_slice(), "({index}, {size})");
        let leaf = leaf_hash(&hd(LEAVES[index as usize]));
        InclusionProof::new(index, size, path)?.verify(&leaf, &h(ROOTS[size as usize]))?;
    }
    Ok(())
}

/// `consistencyProofs` of verify_test.go.
fn consistency_vectors() -> Vec<(u64, u64, Vec<Hash>)> {
    vec![
        (1, 1, vec![]),
        (
            1,
            8,
            vec![
                h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
            ],
        ),
        (
            6,
            8,
            vec![
                h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
        (
            2,
            5,
            vec![
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            ],
        ),
        (
            6,
            7,
            vec![
                h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
    ]
}

#[test]
fn ct_consistency_proofs_are_generated_and_verify() -> Result<(), LedgerError> {
    let t = ct_tree();
    for (old, new, path) in consistency_vectors() {
        let proof = t.consistency_proof(old, new)?;
        assert_eq!(proof.path(), path.as_slice(), "({old}, {new})");
        ConsistencyProof::new(old, new, path)?
            .verify(&h(ROOTS[old as usize]), &h(ROOTS[new as usize]))?;
    }
    Ok(())
}

#[test]
fn ct_consistency_proofs_fail_with_swapped_or_wrong_roots() -> Result<(), LedgerError> {
    for (old, new, path) in consistency_vectors().into_iter().filter(|v| v.0 != v.1) {
        let p = ConsistencyProof::new(old, new, path)?;
        let (r1, r2) = (h(ROOTS[old as usize]), h(ROOTS[new as usize]));
        assert!(p.verify(&r2, &r1).is_err());
        assert!(p.verify(&r1, &empty_root()).is_err());
        assert!(p.verify(&empty_root(), &r2).is_err());
    }
    Ok(())
}

const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const PETER_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                          then you don't know what your problem is.\n";
const PETER_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

#[test]
fn go_sumdb_note_key_strings_parse_and_agree() -> Result<(), LedgerError> {
    let signer = NoteSigner::parse_private_key(PETER_SKEY)?;
    let vkey = VerifierKey::parse(PETER_VKEY)?;
    assert_eq!(signer.verifier_key(), vkey);
    assert_eq!(vkey.to_string(), PETER_VKEY);
    assert_eq!(vkey.key_id(), 0xc74f20a3);
    Ok(())
}

#[test]
fn go_sumdb_note_signature_is_reproduced_byte_for_byte() -> Result<(), LedgerError> {
    let signer = NoteSigner::parse_private_key(PETER_SKEY)?;
    let note = signer.sign(PETER_TEXT)?;
    assert_eq!(note, format!("{PETER_TEXT}\n{PETER_SIG}"));
    Ok(())
}

#[test]
fn go_sumdb_note_verifies_and_tampering_fails() -> Result<(), LedgerError> {
    let vkey = VerifierKey::parse(PETER_VKEY)?;
    let note = format!("{PETER_TEXT}\n{PETER_SIG}");
    assert_eq!(SignedNote::open(note.as_bytes(), &vkey)?, PETER_TEXT);
    let tampered = note.replacen("cryptography", "cryptographY", 1);
    assert!(matches!(
        SignedNote::open(tampered.as_bytes(), &vkey),
        Err(LedgerError::BadSignature { .. })
    ));
    let other = NoteSigner::from_seed(tracemark_ledger::KeyName::try_new("Other")?, &[0; 32]);
    assert!(matches!(
        SignedNote::open(note.as_bytes(), &other.verifier_key()),
        Err(LedgerError::NotSignedByKey { .. })
    ));
    Ok(())
}

#[test]
fn wrong_key_id_in_verifier_key_is_rejected() {
    assert!(VerifierKey::parse(&PETER_VKEY.replace("c74f20a3", "c74f20a4")).is_err());
    assert!(VerifierKey::parse(&PETER_VKEY.replace("c74f20a3", "C74F20A3")).is_err());
    assert!(VerifierKey::parse(&PETER_VKEY.replace("ARpc", "Apc")).is_err());
}
