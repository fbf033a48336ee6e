//! Every pure attack of the standard suite on real recordings (the shared corpus, or the
//! committed call excerpt where it is absent: see `tracemark-testkit`).
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod common;

use common::*;
use tracemark_attacks::{Attack, AttackContext, standard_suite};
use tracemark_testkit::corpus_or_excerpt;

/// Expected output length for the attacks that change it, else the input's.
fn expected_frames(attack: &Attack, frames: usize, fs: u32, other_frames: usize) -> Option<usize> {
    let secs = |s: f32| (f64::from(s) * f64::from(fs)).round() as usize;
    Some(match *attack {
        Attack::Crop { seconds } => secs(seconds),
        Attack::Cut { seconds } => frames - secs(seconds),
        Attack::Speed { percent } | Attack::Tempo { percent } => {
            (frames as f64 / (1.0 + f64::from(percent) / 100.0)).round() as usize
        }
        Attack::InsertForeign { seconds } => frames + secs(seconds).min(other_frames),
        Attack::Jitter { .. } => return None,
        _ => frames,
    })
}

#[test]
fn every_pure_attack_runs_on_speech_with_the_promised_length() {
    let speech = corpus_or_excerpt("librivox-en-16k.flac", 24.0, (0.0, 24.0));
    let other = corpus_or_excerpt("arctic-a0007-16k.flac", 4.0, (30.0, 34.0));
    // A second "copy": the same speech with a little noise, as another recipient's file.
    let copy = Attack::WhiteNoise { snr_db: 40.0 }
        .apply(&speech, &AttackContext::new(99))
        .unwrap();
    for attack in standard_suite() {
        if let Attack::Codec(_) | Attack::TelephoneChain { .. } = attack {
            continue;
        }
        let other_buffer = match attack {
            Attack::Splice | Attack::Average => &copy,
            _ => &other,
        };
        let ctx = AttackContext::new(7).with_other(other_buffer);
        let out = attack.apply(&speech, &ctx).unwrap();
        assert_eq!(out.rate(), speech.rate(), "{}", attack.name());
        if let Some(expected) = expected_frames(&attack, speech.frames(), 16_000, other.frames()) {
            let slack = if matches!(attack, Attack::Speed { .. }) {
                2
            } else {
                0
            };
            assert!(
                out.frames().abs_diff(expected) <= slack,
                "{}: {} frames, expected {expected}",
                attack.name(),
                out.frames()
            );
        }
        // Attacks that keep time alignment and phase keep the waveform recognisable (the IIR
        // filters shift phase, so their effect is checked on tones instead).
        let aligned = matches!(
            attack,
            Attack::Gain { .. }
                | Attack::WhiteNoise { .. }
                | Attack::Babble { .. }
                | Attack::ResampleVia { .. }
                | Attack::MuLaw
                | Attack::Echo { .. }
                | Attack::Splice
                | Attack::Average
        );
        if aligned {
            let c = correlation(&speech.channels()[0], &out.channels()[0]);
            assert!(c > 0.7, "{}: correlation {c}", attack.name());
        }
    }
}

#[test]
fn stereo_music_keeps_its_channels_through_time_attacks() {
    let music = corpus_or_excerpt("music-44k-elvish-theme.flac", 6.0, (40.0, 46.0));
    assert_eq!(music.channel_count(), 2);
    for attack in [
        Attack::Speed { percent: -5.0 },
        Attack::Tempo { percent: 5.0 },
        Attack::PitchShift { semitones: 1.0 },
        Attack::ReRecording,
        Attack::Reverb { rt60_ms: 500.0 },
    ] {
        let out = attack.apply(&music, &AttackContext::new(3)).unwrap();
        assert_eq!(out.channel_count(), 2, "{}", attack.name());
        let level_db = 10.0 * (power(&out.channels()[0]) / power(&music.channels()[0])).log10();
        assert!(
            level_db.abs() < 6.0,
            "{}: level changed by {level_db} dB",
            attack.name()
        );
    }
}
