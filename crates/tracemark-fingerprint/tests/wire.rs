//! The stored index: round trips, and a parser that never panics on arbitrary bytes.
#![allow(clippy::unwrap_used)] // tests: a panic is a failure

use proptest::prelude::*;
use tracemark_fingerprint::{Fingerprint, FingerprintError, Index, Peak};

fn peaks() -> impl Strategy<Value = (Vec<Peak>, u32)> {
    prop::collection::vec((0u32..20_000, 1_200u16..=13_600), 0..300).prop_map(|raw| {
        let peaks: Vec<Peak> = raw
            .into_iter()
            .map(|(tick, quarter_hz)| Peak { tick, quarter_hz })
            .collect();
        (peaks, 20_000)
    })
}

proptest! {
    #[test]
    fn serialisation_round_trips(recs in prop::collection::vec((any::<u64>(), peaks()), 0..5)) {
        let mut index = Index::new();
        for (id, (p, ticks)) in recs {
            let _ = index.add(id, Fingerprint::from_peaks(p, ticks));
        }
        let bytes = index.to_bytes();
        let back = Index::from_bytes(&bytes).unwrap();
        prop_assert_eq!(back.to_bytes(), bytes);
        prop_assert_eq!(back.hash_count(), index.hash_count());
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_parser(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Index::from_bytes(&bytes);
    }

    #[test]
    fn mutated_valid_bytes_never_panic_the_parser(
        (p, ticks) in peaks(), at in any::<prop::sample::Index>(), value in any::<u8>()
    ) {
        let mut index = Index::new();
        index.add(9, Fingerprint::from_peaks(p, ticks)).unwrap();
        let mut bytes = index.to_bytes();
        let i = at.index(bytes.len());
        bytes[i] = value;
        if let Ok(parsed) = Index::from_bytes(&bytes) {
            prop_assert_eq!(parsed.to_bytes(), bytes);
        }
    }
}

#[test]
fn parse_errors_are_typed() {
    let bytes = Index::new().to_bytes();
    assert!(matches!(
        Index::from_bytes(b"nope"),
        Err(FingerprintError::Truncated {
            offset: 0,
            needed: 4,
            what: "magic"
        })
    ));
    let mut other = bytes.clone();
    other[0] = b'X';
    assert!(matches!(
        Index::from_bytes(&other),
        Err(FingerprintError::BadMagic)
    ));
    let mut version = bytes.clone();
    version[8] = 9;
    assert!(matches!(
        Index::from_bytes(&version),
        Err(FingerprintError::UnsupportedVersion { found: 9, .. })
    ));
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(matches!(
        Index::from_bytes(&trailing),
        Err(FingerprintError::Invalid { .. })
    ));
    let mut huge = bytes;
    huge[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        Index::from_bytes(&huge),
        Err(FingerprintError::Limit { .. })
    ));
}
