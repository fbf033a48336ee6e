//! Signal attacks: each test measures the effect the attack promises.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod common;

use common::*;
use tracemark_attacks::{Attack, AttackContext, LIMITER_CEILING};
use tracemark_dsp::AudioBuffer;

fn apply(attack: Attack, input: &AudioBuffer) -> AudioBuffer {
    attack.apply(input, &AttackContext::new(42)).unwrap()
}

/// Magnitude in dB of the order-4 bilinear Butterworth low-pass at `f` (cut-off `fc`).
fn butterworth_lp_db(f: f64, fc: f64, fs: f64) -> f64 {
    let ratio = (std::f64::consts::PI * f / fs).tan() / (std::f64::consts::PI * fc / fs).tan();
    10.0 * (1.0 + ratio.powi(8)).log10()
}

#[test]
fn white_noise_lands_within_half_a_db_of_the_requested_snr() {
    let input = tone(440.0, 16_000, 2.0, 0.3);
    for snr in [30.0f32, 20.0, 10.0] {
        let out = apply(Attack::WhiteNoise { snr_db: snr }, &input);
        let measured = snr_db(&input, &out);
        assert!(
            (measured - f64::from(snr)).abs() < 0.5,
            "asked {snr}, got {measured}"
        );
    }
}

#[test]
fn babble_lands_within_half_a_db_with_and_without_a_source() {
    let input = tone(440.0, 16_000, 2.0, 0.3);
    let out = apply(Attack::Babble { snr_db: 20.0 }, &input);
    assert!((snr_db(&input, &out) - 20.0).abs() < 0.5);
    let speech = tracemark_testkit::corpus_or_excerpt("librivox-en-16k.flac", 10.0, (0.0, 10.0));
    let ctx = AttackContext::new(1).with_other(&speech);
    let out = Attack::Babble { snr_db: 20.0 }.apply(&input, &ctx).unwrap();
    assert!((snr_db(&input, &out) - 20.0).abs() < 0.5);
    // The babble is speech: its spectrum is not the tone's.
    let diff: Vec<f32> = out.channels()[0]
        .iter()
        .zip(&input.channels()[0])
        .map(|(a, b)| a - b)
        .collect();
    assert!((peak_hz(&diff, 16_000) - 440.0).abs() > 5.0);
}

#[test]
fn noise_depends_on_the_seed_only() {
    let input = tone(440.0, 8_000, 1.0, 0.3);
    let attack = Attack::WhiteNoise { snr_db: 20.0 };
    let a = attack.apply(&input, &AttackContext::new(1)).unwrap();
    let b = attack.apply(&input, &AttackContext::new(1)).unwrap();
    let c = attack.apply(&input, &AttackContext::new(2)).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn low_pass_attenuates_the_stopband_as_a_fourth_order_butterworth() {
    let fs = 44_100;
    for f in [3_500.0, 7_000.0, 10_000.0] {
        let input = tone(f, fs, 1.0, 0.5);
        let out = apply(Attack::LowPass { cutoff_hz: 3_500.0 }, &input);
        let measured = attenuation_db(&input.channels()[0], &out.channels()[0]);
        let expected = butterworth_lp_db(f, 3_500.0, f64::from(fs));
        assert!(
            (measured - expected).abs() < 0.5,
            "{f} Hz: {measured} dB vs {expected} dB"
        );
    }
    // 7 kHz is one octave up: about 24 dB.
    assert!(butterworth_lp_db(7_000.0, 3_500.0, 44_100.0) > 24.0);
}

#[test]
fn high_pass_attenuates_below_its_cutoff_and_passes_above() {
    let fs = 16_000;
    let low = tone(125.0, fs, 2.0, 0.5);
    let out = apply(Attack::HighPass { cutoff_hz: 500.0 }, &low);
    // Two octaves below an order-4 cut-off: 10 log10(1 + 4^8) ~ 48 dB (warping is negligible).
    let att = attenuation_db(&low.channels()[0], &out.channels()[0]);
    assert!((att - 48.2).abs() < 1.0, "125 Hz attenuated by {att} dB");
    let high = tone(4_000.0, fs, 1.0, 0.5);
    let out = apply(Attack::HighPass { cutoff_hz: 500.0 }, &high);
    assert!(attenuation_db(&high.channels()[0], &out.channels()[0]).abs() < 0.1);
}

#[test]
fn band_pass_keeps_the_telephone_band_only() {
    let fs = 16_000;
    let attack = Attack::BandPass {
        low_hz: 300.0,
        high_hz: 3_400.0,
    };
    for (f, min_db, max_db) in [
        (100.0, 35.0, 45.0),
        (1_000.0, -0.1, 0.1),
        (6_800.0, 28.0, 60.0),
    ] {
        let input = tone(f, fs, 2.0, 0.5);
        let out = apply(attack, &input);
        let att = attenuation_db(&input.channels()[0], &out.channels()[0]);
        assert!(
            (min_db..=max_db).contains(&att),
            "{f} Hz attenuated by {att} dB"
        );
    }
}

#[test]
fn gain_scales_and_clips() {
    let input = tone(440.0, 8_000, 0.5, 0.5);
    let quiet = apply(Attack::Gain { factor: 0.25 }, &input);
    for (a, b) in input.channels()[0].iter().zip(&quiet.channels()[0]) {
        assert!((a * 0.25 - b).abs() < 1e-7);
    }
    let loud = apply(Attack::Gain { factor: 4.0 }, &input);
    let x = &loud.channels()[0];
    assert!(x.iter().all(|s| s.abs() <= 1.0));
    let clipped = x.iter().filter(|s| s.abs() == 1.0).count();
    // A sine at amplitude 2 exceeds 1 for 2/3 of the time (|sin| > 0.5).
    let share = clipped as f64 / x.len() as f64;
    assert!((share - 2.0 / 3.0).abs() < 0.02, "clipped share {share}");
}

#[test]
fn limiter_holds_the_ceiling_without_clipping_a_steady_tone() {
    let input = tone(1_000.0, 16_000, 1.0, 0.5);
    let out = apply(Attack::Limiter { drive_db: 12.0 }, &input);
    let x = &out.channels()[0];
    let peak = x.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    assert!(peak <= LIMITER_CEILING + 1e-6, "peak {peak}");
    // After the attack the gain is steady, so the output is still a clean sine near the ceiling.
    let tail = &x[8_000..];
    let tail_peak = tail.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    assert!(tail_peak > 0.95 * LIMITER_CEILING, "tail peak {tail_peak}");
    let reference = tone_samples(1_000.0, 16_000, 16_000, 1.0);
    let c = correlation(tail, &reference[8_000..]);
    assert!(c > 0.999, "not a clean sine: correlation {c}");
}

#[test]
fn echo_adds_one_delayed_copy() {
    let mut impulse = vec![0.0f32; 8_000];
    impulse[10] = 1.0;
    let input = AudioBuffer::mono(rate(8_000), impulse).unwrap();
    let out = apply(
        Attack::Echo {
            delay_ms: 100.0,
            gain: 0.4,
        },
        &input,
    );
    let x = &out.channels()[0];
    assert_eq!(x.len(), 8_000);
    assert_eq!(x[10], 1.0);
    assert!((x[810] - 0.4).abs() < 1e-7);
    assert_eq!(x.iter().filter(|s| **s != 0.0).count(), 2);
}

#[test]
fn reverb_adds_a_decaying_tail_and_keeps_the_direct_sound() {
    let fs = 16_000;
    let mut impulse = vec![0.0f32; fs as usize];
    impulse[100] = 1.0;
    let input = AudioBuffer::mono(rate(fs), impulse).unwrap();
    let out = apply(Attack::Reverb { rt60_ms: 500.0 }, &input);
    let x = &out.channels()[0];
    assert!((x[100] - 1.0).abs() < 1e-3, "direct sound {}", x[100]);
    let early = power(&x[400..2_000]);
    let late = power(&x[5_200..6_800]);
    // 0.3 s later the tail is 36 dB (60 dB per 0.5 s) weaker.
    let drop = 10.0 * (early / late).log10();
    assert!((drop - 36.0).abs() < 4.0, "decay {drop} dB");
}

#[test]
fn resampling_through_8k_keeps_the_band_and_removes_the_rest() {
    let fs = 44_100;
    let attack = Attack::ResampleVia { hz: 8_000 };
    let inside = tone(1_000.0, fs, 1.0, 0.5);
    let out = apply(attack, &inside);
    assert_eq!(out.frames(), inside.frames());
    assert!(
        snr_db(&inside, &out) > 30.0,
        "1 kHz not kept: {} dB",
        snr_db(&inside, &out)
    );
    let outside = tone(6_000.0, fs, 1.0, 0.5);
    let out = apply(attack, &outside);
    let att = attenuation_db(&outside.channels()[0], &out.channels()[0]);
    assert!(att > 50.0, "6 kHz attenuated by {att} dB only");
}

#[test]
fn mu_law_gives_the_textbook_quantisation_noise() {
    let input = tone(1_000.0, 8_000, 1.0, 0.5);
    let out = apply(Attack::MuLaw, &input);
    // G.711 mu-law: about 38 dB SQNR across its range.
    let sqnr = snr_db(&input, &out);
    assert!((33.0..=42.0).contains(&sqnr), "SQNR {sqnr} dB");
}

#[test]
fn rerecording_band_limits_reverberates_and_adds_noise() {
    let fs = 44_100;
    let high = tone(12_000.0, fs, 1.0, 0.5);
    let out = apply(Attack::ReRecording, &high);
    assert!(attenuation_db(&high.channels()[0], &out.channels()[0]) > 15.0);
    let mid = tone(1_000.0, fs, 1.0, 0.3);
    let out = apply(Attack::ReRecording, &mid);
    assert_eq!(out.frames(), mid.frames());
    assert!((peak_hz(&out.channels()[0], fs) - 1_000.0).abs() < 2.0);
    // How much the room changes one tone depends on its random response at that frequency
    // (measured over seeds 0..60: 0.7 to 23.8 dB); 32 tones across the band average it
    // out (1.3 to 3.1 dB), close to the 6 dB direct-to-reverberant ratio.
    let frames = fs as usize;
    let many: Vec<f32> = (0..32)
        .map(|k| tone_samples(250.0 + 110.0 * k as f64, fs, frames, 0.03))
        .fold(vec![0.0; frames], |acc, t| {
            acc.iter().zip(&t).map(|(a, b)| a + b).collect()
        });
    let many = AudioBuffer::mono(rate(fs), many).expect("buffer");
    let snr = snr_db(&many, &apply(Attack::ReRecording, &many));
    assert!(
        snr < 6.0,
        "the room and noise should change the waveform: {snr} dB"
    );
}

#[test]
fn codec_attacks_without_a_backend_are_skippable() {
    let input = tone(440.0, 8_000, 1.0, 0.3);
    for attack in tracemark_attacks::standard_suite() {
        if let Attack::Codec(_) | Attack::TelephoneChain { .. } = attack {
            let err = attack.apply(&input, &AttackContext::new(1)).unwrap_err();
            assert!(err.is_skippable(), "{}: {err}", attack.name());
        }
    }
}
