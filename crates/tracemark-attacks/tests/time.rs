//! Time attacks: lengths and frequencies measured against the promised ratios.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod common;

use common::*;
use tracemark_attacks::{Attack, AttackContext, AttackError};
use tracemark_dsp::AudioBuffer;

fn apply(attack: Attack, input: &AudioBuffer) -> AudioBuffer {
    attack.apply(input, &AttackContext::new(42)).unwrap()
}

#[test]
fn speed_change_scales_length_and_frequency_by_the_same_ratio() {
    let fs = 16_000;
    let input = tone(1_000.0, fs, 3.0, 0.5);
    for percent in [1.0f32, -1.0, 5.0, -5.0, 10.0, -10.0] {
        let factor = 1.0 + f64::from(percent) / 100.0;
        let out = apply(Attack::Speed { percent }, &input);
        let expected = input.frames() as f64 / factor;
        assert!(
            (out.frames() as f64 - expected).abs() <= 2.0,
            "{percent}%: {} frames",
            out.frames()
        );
        let f = peak_hz(&out.channels()[0], fs);
        assert!(
            (f - 1_000.0 * factor).abs() < 1.0,
            "{percent}%: tone at {f} Hz"
        );
    }
}

#[test]
fn tempo_change_keeps_the_pitch_and_scales_the_length() {
    let fs = 16_000;
    let input = tone(440.0, fs, 3.0, 0.5);
    for percent in [5.0f32, -5.0] {
        let factor = 1.0 + f64::from(percent) / 100.0;
        let out = apply(Attack::Tempo { percent }, &input);
        assert_eq!(
            out.frames(),
            (input.frames() as f64 / factor).round() as usize
        );
        let f = peak_hz(&out.channels()[0], fs);
        assert!((f - 440.0).abs() < 1.0, "{percent}%: tone at {f} Hz");
        // WSOLA aligns the waveforms, so the tone stays clean (no phasiness from misaligned
        // overlaps): away from the edges the level matches the input's.
        let x = &out.channels()[0];
        let level = power(&x[4_000..x.len() - 4_000]);
        assert!(
            (10.0 * (level / 0.125).log10()).abs() < 0.5,
            "level {level}"
        );
    }
}

#[test]
fn pitch_shift_moves_a_tone_by_the_semitone_ratio_and_keeps_the_length() {
    let fs = 16_000;
    let input = tone(440.0, fs, 3.0, 0.5);
    for semitones in [1.0f32, -1.0] {
        let out = apply(Attack::PitchShift { semitones }, &input);
        assert_eq!(out.frames(), input.frames());
        let expected = 440.0 * 2f64.powf(f64::from(semitones) / 12.0);
        let f = peak_hz(&out.channels()[0], fs);
        assert!(
            (f - expected).abs() < 1.0,
            "{semitones} st: {f} Hz, expected {expected}"
        );
    }
}

#[test]
fn crop_keeps_an_exact_contiguous_excerpt_chosen_by_the_seed() {
    let fs = 8_000;
    let ramp: Vec<f32> = (0..10 * fs).map(|i| i as f32 / 1e5).collect();
    let input = AudioBuffer::mono(rate(fs), ramp.clone()).unwrap();
    let attack = Attack::Crop { seconds: 3.0 };
    let starts: Vec<usize> = (0..4u64)
        .map(|seed| {
            let out = attack.apply(&input, &AttackContext::new(seed)).unwrap();
            assert_eq!(out.frames(), 3 * fs as usize);
            let start = (out.channels()[0][0] * 1e5).round() as usize;
            assert_eq!(out.channels()[0][..], ramp[start..start + 3 * fs as usize]);
            start
        })
        .collect();
    assert!(
        starts.windows(2).any(|w| w[0] != w[1]),
        "seed does not move the crop: {starts:?}"
    );
    let err = Attack::Crop { seconds: 20.0 }
        .apply(&input, &AttackContext::new(0))
        .unwrap_err();
    assert!(matches!(err, AttackError::TooShort { .. }) && err.is_skippable());
}

#[test]
fn cut_removes_exactly_the_middle_samples() {
    let fs = 8_000;
    let ramp: Vec<f32> = (0..7 * fs).map(|i| i as f32).collect();
    let input = AudioBuffer::mono(rate(fs), ramp.clone()).unwrap();
    let out = apply(Attack::Cut { seconds: 2.0 }, &input);
    let removed = 2 * fs as usize;
    assert_eq!(out.frames(), ramp.len() - removed);
    let start = (ramp.len() - removed) / 2;
    let expected = [&ramp[..start], &ramp[start + removed..]].concat();
    assert_eq!(out.channels()[0], expected);
}

#[test]
fn jitter_drops_or_repeats_one_chunk_per_second() {
    let fs = 16_000;
    let seconds = 20;
    let ramp: Vec<f32> = (0..seconds * fs).map(|i| i as f32).collect();
    let input = AudioBuffer::mono(rate(fs), ramp).unwrap();
    let out = apply(
        Attack::Jitter {
            chunk_ms: 10.0,
            period_ms: 1_000.0,
        },
        &input,
    );
    let chunk = 160i64;
    let change = out.frames() as i64 - input.frames() as i64;
    assert_eq!(change % chunk, 0);
    assert!(
        change.abs() <= i64::from(seconds) * chunk,
        "length changed by {change}"
    );
    // Count the discontinuities of the ramp: one per second, each a jump of +-chunk.
    let x = &out.channels()[0];
    let jumps: Vec<i64> = x
        .windows(2)
        .map(|w| (w[1] - w[0]) as i64)
        .filter(|&d| d != 1)
        .collect();
    assert_eq!(jumps.len(), seconds as usize);
    assert!(
        jumps.iter().all(|&d| d == 1 + chunk || d == 1 - chunk),
        "{jumps:?}"
    );
    assert!(jumps.iter().any(|&d| d > 1) && jumps.iter().any(|&d| d < 1));
}

#[test]
fn splice_average_and_insert_produce_the_expected_samples() {
    let fs = 8_000;
    let a = AudioBuffer::mono(rate(fs), vec![1.0; 8_000]).unwrap();
    let b = AudioBuffer::mono(rate(fs), vec![3.0; 8_000]).unwrap();
    let ctx = AttackContext::new(0).with_other(&b);
    let spliced = Attack::Splice.apply(&a, &ctx).unwrap();
    assert_eq!(
        spliced.channels()[0],
        [vec![1.0; 4_000], vec![3.0; 4_000]].concat()
    );
    let averaged = Attack::Average.apply(&a, &ctx).unwrap();
    assert_eq!(averaged.channels()[0], vec![2.0; 8_000]);
    let foreign = AudioBuffer::mono(rate(fs), vec![-1.0; 24_000]).unwrap();
    let ctx = AttackContext::new(0).with_other(&foreign);
    let inserted = Attack::InsertForeign { seconds: 0.5 }
        .apply(&a, &ctx)
        .unwrap();
    let expected = [vec![1.0; 4_000], vec![-1.0; 4_000], vec![1.0; 4_000]].concat();
    assert_eq!(inserted.channels()[0], expected);
    let err = Attack::Splice
        .apply(&a, &AttackContext::new(0))
        .unwrap_err();
    assert!(matches!(err, AttackError::MissingOtherBuffer { .. }));
}

#[test]
fn edits_conform_a_foreign_buffer_of_another_rate_and_layout() {
    let stereo = AudioBuffer::try_new(rate(16_000), vec![vec![0.5; 32_000]; 2]).unwrap();
    let mono_8k = tone(300.0, 8_000, 2.0, 0.2);
    let ctx = AttackContext::new(0).with_other(&mono_8k);
    let out = Attack::InsertForeign { seconds: 1.0 }
        .apply(&stereo, &ctx)
        .unwrap();
    assert_eq!(out.channel_count(), 2);
    assert_eq!(out.frames(), 48_000);
    let inserted = &out.channels()[1][16_000..32_000];
    assert!((peak_hz(inserted, 16_000) - 300.0).abs() < 1.0);
}
