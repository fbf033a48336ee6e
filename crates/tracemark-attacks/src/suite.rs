//! The attack matrix of issue 3 ("The measuring stick"), and a quick subset.

use crate::attack::{Attack, TELEPHONE_BAND_HZ, TELEPHONE_RATE_HZ};
use crate::codec::{AmrNbMode, Codec};

/// Every attack of issue 3, in the order: lossy codecs, telephone, signal, time,
/// re-recording, editing. Codec entries need a codec backend in the context; edits need a
/// second buffer.
pub fn standard_suite() -> Vec<Attack> {
    let mut suite = Vec::new();
    // Lossy codecs.
    for kbps in [128, 64, 32, 16] {
        suite.push(Attack::Codec(Codec::Mp3 { kbps }));
    }
    for kbps in [64, 32] {
        suite.push(Attack::Codec(Codec::Aac { kbps }));
    }
    suite.push(Attack::Codec(Codec::Vorbis { quality: 0 }));
    for kbps in [32, 16, 12, 8] {
        suite.push(Attack::Codec(Codec::Opus { kbps }));
    }
    // Telephone.
    suite.push(Attack::ResampleVia {
        hz: TELEPHONE_RATE_HZ,
    });
    suite.push(Attack::BandPass {
        low_hz: TELEPHONE_BAND_HZ.0,
        high_hz: TELEPHONE_BAND_HZ.1,
    });
    suite.push(Attack::MuLaw);
    suite.extend(
        [
            Codec::Gsm,
            Codec::AmrNb(AmrNbMode::Mr122),
            Codec::AmrNb(AmrNbMode::Mr475),
            Codec::SpeexNb { quality: 8 },
            Codec::Codec2 { bps: 3200 },
            Codec::OpusSilk { kbps: 6 },
        ]
        .map(Attack::Codec),
    );
    suite.push(Attack::TelephoneChain {
        codec: Codec::Mp3 { kbps: 64 },
    });
    // Signal.
    suite.push(Attack::Gain { factor: 0.25 });
    suite.push(Attack::Gain { factor: 4.0 });
    suite.push(Attack::Limiter { drive_db: 12.0 });
    for snr_db in [30.0, 20.0, 10.0] {
        suite.push(Attack::WhiteNoise { snr_db });
    }
    suite.push(Attack::Babble { snr_db: 20.0 });
    suite.push(Attack::LowPass { cutoff_hz: 3_500.0 });
    suite.push(Attack::HighPass { cutoff_hz: 500.0 });
    suite.push(Attack::Echo {
        delay_ms: 100.0,
        gain: 0.4,
    });
    suite.push(Attack::Reverb { rt60_ms: 500.0 });
    // Time.
    for seconds in [3.0, 5.0, 10.0, 20.0] {
        suite.push(Attack::Crop { seconds });
    }
    for percent in [1.0, -1.0, 5.0, -5.0, 10.0, -10.0] {
        suite.push(Attack::Speed { percent });
    }
    for percent in [5.0, -5.0] {
        suite.push(Attack::Tempo { percent });
    }
    for semitones in [1.0, -1.0] {
        suite.push(Attack::PitchShift { semitones });
    }
    suite.push(Attack::Jitter {
        chunk_ms: 10.0,
        period_ms: 1_000.0,
    });
    suite.push(Attack::Cut { seconds: 2.0 });
    // Re-recording and editing.
    suite.push(Attack::ReRecording);
    suite.push(Attack::Splice);
    suite.push(Attack::Average);
    suite.push(Attack::InsertForeign { seconds: 3.0 });
    suite
}

/// Ten attacks spanning the families, for a `--quick` run.
pub fn quick_suite() -> Vec<Attack> {
    vec![
        Attack::Codec(Codec::Mp3 { kbps: 64 }),
        Attack::Codec(Codec::Opus { kbps: 16 }),
        Attack::Codec(Codec::AmrNb(AmrNbMode::Mr122)),
        Attack::WhiteNoise { snr_db: 20.0 },
        Attack::BandPass {
            low_hz: TELEPHONE_BAND_HZ.0,
            high_hz: TELEPHONE_BAND_HZ.1,
        },
        Attack::Speed { percent: 5.0 },
        Attack::Crop { seconds: 10.0 },
        Attack::Cut { seconds: 2.0 },
        Attack::ReRecording,
        Attack::Splice,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_stable() {
        let names: Vec<String> = standard_suite().iter().map(Attack::name).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len(), "duplicate names in {names:?}");
        for expected in [
            "mp3-64k",
            "opus-silk-6k",
            "amr-nb-4.75k",
            "tel8k+bp+mp3-64k",
            "speed+5%",
            "speed-10%",
            "pitch-1st",
            "gain-x0.25",
            "noise-20dB",
            "crop-3s",
            "jitter-10ms-per-1000ms",
        ] {
            assert!(
                names.iter().any(|n| n == expected),
                "{expected} missing from {names:?}"
            );
        }
    }

    #[test]
    fn quick_suite_is_a_subset_of_about_ten() {
        let full = standard_suite();
        let quick = quick_suite();
        assert_eq!(quick.len(), 10);
        assert!(quick.iter().all(|a| full.contains(a)));
    }
}
