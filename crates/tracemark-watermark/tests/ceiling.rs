//! A marked copy never clips: every sample stays within the original's own peak and within
//! -0.1 dBFS where the original does, and its 16-bit WAV copy keeps that (issue 14, item 5).

use proptest::prelude::*;
use tracemark_dsp::limit::ceiling_for;
use tracemark_dsp::{AudioBuffer, SampleFormat, SampleRate};
use tracemark_media::{EncodeOptions, Format, Limits, decode_bytes, encode_bytes};
use tracemark_watermark::{EmbedParams, Message, Payload, WatermarkKey, embed, embed_reporting};

/// A loud host: a few partials in the marked band, a low one, and noise, normalised so its
/// largest sample is exactly `peak` (hosts at or next to full scale are the point).
fn loud(rate: u32, channels: usize, seconds: f64, seed: u64, peak: f32) -> AudioBuffer {
    let n = (f64::from(rate) * seconds) as usize;
    let mut s = seed | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    };
    let freqs = [
        110.0 + 50.0 * next().abs(),
        440.0 + 900.0 * next().abs(),
        1_700.0 + 1_200.0 * next().abs(),
    ];
    let mut chans: Vec<Vec<f32>> = (0..channels)
        .map(|c| {
            (0..n)
                .map(|i| {
                    let t = i as f32 / rate as f32;
                    let tone: f32 = freqs
                        .iter()
                        .enumerate()
                        .map(|(k, f)| (std::f32::consts::TAU * f * t + c as f32 + k as f32).sin())
                        .sum();
                    tone + 0.3 * next()
                })
                .collect()
        })
        .collect();
    let top = chans.iter().flatten().fold(0.0f32, |m, x| m.max(x.abs()));
    for x in chans.iter_mut().flatten() {
        *x = (*x * (peak / top)).clamp(-peak, peak);
    }
    AudioBuffer::try_new(SampleRate::try_new(rate).expect("rate"), chans).expect("buffer")
}

fn peak_of(a: &AudioBuffer) -> f32 {
    a.channels()
        .iter()
        .flatten()
        .fold(0.0f32, |m, x| m.max(x.abs()))
}

fn mark(audio: &AudioBuffer, seed: u8) -> AudioBuffer {
    let symbols: Vec<bool> = (0..64u32)
        .map(|i| (i * 5 + u32::from(seed)) % 3 == 0)
        .collect();
    embed(
        audio,
        &WatermarkKey::from_bytes([seed; 32]),
        &Message {
            payload: Payload::from_hex("0123456789abcdef").expect("hex"),
            symbols: Some(&symbols),
        },
        &EmbedParams::default(),
    )
    .expect("embed")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]
    #[test]
    fn a_marked_loud_signal_never_passes_its_ceiling(
        seed in any::<u64>(),
        key in 1u8..=255,
        rate in prop::sample::select(vec![8_000u32, 16_000, 44_100, 48_000]),
        channels in 1usize..=2,
        peak in 0.9f32..=1.0,
    ) {
        let audio = loud(rate, channels, 1.5, seed, peak);
        let marked = mark(&audio, key);
        let ceiling = ceiling_for(peak_of(&audio));
        for (x, y) in audio.channels().iter().zip(marked.channels()) {
            for (n, (x, y)) in x.iter().zip(y).enumerate() {
                prop_assert!(y.abs() <= ceiling.max(x.abs()), "frame {}: {} from {}", n, y, x);
            }
        }
        prop_assert!(peak_of(&marked) <= peak_of(&audio));
    }
}

#[test]
fn real_music_at_full_scale_is_limited_and_still_read_with_the_original() {
    // The orchestral corpus file (or the call excerpt where the corpus is absent), brought
    // to 16-bit full scale as a loudness-maximised master would be.
    let music =
        tracemark_testkit::corpus_or_excerpt("music-44k-elvish-theme.flac", 12.0, (0.0, 12.0));
    let gain = (32_767.0 / 32_768.0) / peak_of(&music);
    let chans = music
        .channels()
        .iter()
        .map(|c| c.iter().map(|x| x * gain).collect())
        .collect();
    let master = AudioBuffer::try_new(music.rate(), chans).expect("buffer");
    let payload = Payload::from_hex("0123456789abcdef").expect("hex");
    let key = WatermarkKey::from_bytes([3; 32]);
    let message = Message {
        payload,
        symbols: None,
    };
    let (marked, report) =
        embed_reporting(&master, &key, &message, &EmbedParams::default()).expect("embed");
    let l = report.limiter;
    assert!(l.overshoot_frames > 0 && l.ceiling < 0.99, "{l:?}");
    assert!(peak_of(&marked) <= peak_of(&master));
    let found = tracemark_watermark::detect_informed(&marked, &master, &key).expect("informed");
    assert_eq!(found.payload, Some(payload), "z {}", found.z);
}

#[test]
fn a_16_bit_copy_of_a_full_scale_16_bit_original_has_no_new_full_scale_samples() {
    // A 16-bit master at full scale, decoded as the vault decodes originals.
    let host = loud(48_000, 2, 3.0, 11, 32_767.0 / 32_768.0);
    let int16 = tracemark_media::encode_bytes_as(
        &host,
        Format::Wav,
        &EncodeOptions::default(),
        tracemark_media::SampleChoice::Exactly(SampleFormat::Int { bits: 16 }),
    )
    .expect("encode");
    let original = decode_bytes(&int16, Some("wav"), &Limits::default()).expect("decode");
    assert_eq!(
        original.source_format(),
        Some(SampleFormat::Int { bits: 16 })
    );
    let marked = mark(&original, 5);
    assert_eq!(marked.source_format(), Some(SampleFormat::Int { bits: 16 }));
    let copy = encode_bytes(&marked, Format::Wav, &EncodeOptions::default()).expect("encode");
    let back = decode_bytes(&copy, Some("wav"), &Limits::default()).expect("decode");
    assert_eq!(
        back.source_format(),
        Some(SampleFormat::Int { bits: 16 }),
        "16-bit in, 16-bit out"
    );
    let lsb = 1.0 / 32_768.0;
    let ceiling = ceiling_for(peak_of(&original));
    let full_scale = |a: &AudioBuffer| {
        a.channels()
            .iter()
            .flatten()
            .filter(|&&x| x <= -1.0 || x >= 1.0 - lsb)
            .count()
    };
    for (x, y) in original.channels().iter().zip(back.channels()) {
        for (x, y) in x.iter().zip(y) {
            // The marked sample is within its bound; TPDF dither (under 1 LSB) then rounding
            // (at most half of one) move it by less than 1.5 LSB.
            assert!(y.abs() < ceiling.max(x.abs()) + 1.5 * lsb, "{y} from {x}");
        }
    }
    assert!(full_scale(&back) <= full_scale(&original));
}
