//! Regression: FLAC encoding must keep every sample, whatever the content.

use tracemark_dsp::{AudioBuffer, SampleRate};
use tracemark_media::{EncodeOptions, Format, Limits, decode_bytes, encode_bytes};

#[test]
fn flac_round_trip_keeps_the_length_of_noisy_and_silent_tails() {
    for seed in 0..12u32 {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(7);
        let n = 480_000;
        let samples: Vec<f32> = (0..n)
            .map(|i| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = (s >> 8) as f32 / 16_777_216.0 - 0.5;
                if (i / 4000) % 3 == 0 {
                    0.0
                } else {
                    noise * 0.3
                }
            })
            .collect();
        let audio =
            AudioBuffer::mono(SampleRate::try_new(8_000).expect("rate"), samples).expect("buffer");
        let bytes = encode_bytes(&audio, Format::Flac, &EncodeOptions::default()).expect("encode");
        let back = decode_bytes(&bytes, Some("flac"), &Limits::default()).expect("decode");
        assert_eq!(back.frames(), n, "seed {seed}");
    }
}
