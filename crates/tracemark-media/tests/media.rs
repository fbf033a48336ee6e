//! Integration tests for tracemark-media: round trips, the real-audio corpus, and hostile input.

use std::path::Path;

use proptest::prelude::*;
use tracemark_media::{
    AudioBuffer, EncodeOptions, Format, Limits, MediaError, SampleRate, decode_bytes, decode_file,
    encode_bytes, encode_file,
};
use tracemark_testkit::{CORPUS, CorpusFile};

const ALL: [Format; 4] = [Format::Wav, Format::Flac, Format::Mp3, Format::Opus];

/// A deterministic test signal: two tones and a little LCG noise per channel, at -6 dBFS.
/// (Synthetic on purpose: it must exist on machines without the corpus.)
fn signal(rate: u32, channels: usize, seconds: f64) -> AudioBuffer {
    let n = (f64::from(rate) * seconds) as usize;
    let mut seed = 0x2545_f491_u32;
    let planes = (0..channels)
        .map(|c| {
            let f1 = 300.0 + 110.0 * c as f32;
            let f2 = 1_100.0 + 70.0 * c as f32;
            (0..n)
                .map(|i| {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    let noise = (seed >> 8) as f32 / (1 << 24) as f32 - 0.5;
                    let t = i as f32 / rate as f32;
                    0.3 * (std::f32::consts::TAU * f1 * t).sin()
                        + 0.15 * (std::f32::consts::TAU * f2 * t).sin()
                        + 0.02 * noise
                })
                .collect()
        })
        .collect();
    AudioBuffer::try_new(SampleRate::try_new(rate).expect("rate"), planes).expect("buffer")
}

/// Largest normalised cross-correlation of `b` against `a` over lags `-max_lag..=max_lag`.
fn best_correlation(a: &[f32], b: &[f32], max_lag: usize) -> f64 {
    let mut best = f64::MIN;
    for lag in -(max_lag as isize)..=(max_lag as isize) {
        let (mut ab, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
        for (i, &x) in a.iter().enumerate() {
            let j = i as isize + lag;
            if j < 0 || j as usize >= b.len() {
                continue;
            }
            let y = b[j as usize];
            ab += f64::from(x) * f64::from(y);
            aa += f64::from(x) * f64::from(x);
            bb += f64::from(y) * f64::from(y);
        }
        if aa > 0.0 && bb > 0.0 {
            best = best.max(ab / (aa * bb).sqrt());
        }
    }
    best
}

fn round_trip(format: Format, rate: u32, channels: usize) {
    let input = signal(rate, channels, 1.0);
    let bytes = encode_bytes(&input, format, &EncodeOptions::default())
        .unwrap_or_else(|e| panic!("encode {format:?} {rate} Hz x{channels}: {e}"));
    // No hint: the container must be recognised by content.
    let out = decode_bytes(&bytes, None, &Limits::default())
        .unwrap_or_else(|e| panic!("decode {format:?} {rate} Hz x{channels}: {e}"));
    let what = format!("{format:?} {rate} Hz x{channels}");
    assert_eq!(out.rate(), input.rate(), "{what}: rate");
    assert_eq!(out.channel_count(), channels, "{what}: channels");
    match format {
        Format::Wav => assert_eq!(out, input, "{what}: float WAV is bit-exact"),
        Format::Flac => {
            assert_eq!(out.frames(), input.frames(), "{what}: frames");
            let max_err = input
                .channels()
                .iter()
                .zip(out.channels())
                .flat_map(|(a, b)| a.iter().zip(b).map(|(x, y)| (x - y).abs()))
                .fold(0.0f32, f32::max);
            // 16-bit quantisation: at most half a step of 2^-15.
            assert!(
                max_err <= 0.5 / 32_768.0 + 1e-9,
                "{what}: max error {max_err}"
            );
        }
        Format::Mp3 | Format::Opus => {
            // Gapless: MP3 via the LAME tag, Opus via pre-skip and end-trim.
            let diff = out.frames().abs_diff(input.frames());
            assert!(
                diff <= (rate / 100) as usize,
                "{what}: {} vs {} frames",
                out.frames(),
                input.frames()
            );
            for (c, (a, b)) in input.channels().iter().zip(out.channels()).enumerate() {
                let corr = best_correlation(a, b, 64);
                assert!(corr > 0.95, "{what}: channel {c} correlation {corr}");
            }
        }
    }
}

#[test]
fn every_format_round_trips_at_telephone_wideband_cd_and_48k_rates() {
    for format in ALL {
        for rate in [8_000, 16_000, 44_100, 48_000] {
            for channels in [1, 2] {
                round_trip(format, rate, channels);
            }
        }
    }
}

#[test]
fn lossless_formats_and_opus_carry_surround() {
    for format in [Format::Wav, Format::Flac, Format::Opus] {
        round_trip(format, 48_000, 6);
    }
}

#[test]
fn encoders_reject_what_the_format_cannot_carry() {
    let odd_rate = signal(9_000, 1, 0.1);
    assert!(matches!(
        encode_bytes(&odd_rate, Format::Mp3, &EncodeOptions::default()),
        Err(MediaError::EncodeSampleRate { hz: 9_000, .. })
    ));
    let quad = signal(8_000, 4, 0.1);
    assert!(matches!(
        encode_bytes(&quad, Format::Mp3, &EncodeOptions::default()),
        Err(MediaError::EncodeChannels { count: 4, .. })
    ));
    let mono = signal(8_000, 1, 0.1);
    let odd_bitrate = EncodeOptions {
        bitrate_kbps: Some(100),
    };
    assert!(matches!(
        encode_bytes(&mono, Format::Mp3, &odd_bitrate),
        Err(MediaError::EncodeBitrate { kbps: 100, .. })
    ));
    let too_low = EncodeOptions {
        bitrate_kbps: Some(2),
    };
    assert!(matches!(
        encode_bytes(&mono, Format::Opus, &too_low),
        Err(MediaError::EncodeBitrate { kbps: 2, .. })
    ));
}

#[test]
fn opus_at_a_non_opus_rate_comes_back_at_that_rate() {
    // 22.05 kHz is coded at 48 kHz and resampled back on decode, as opusdec does.
    round_trip(Format::Opus, 22_050, 1);
}

/// Amplitude of the `hz` component in the middle half of `y` at `rate` (a single-bin DFT).
fn tone_amplitude(y: &[f32], hz: f64, rate: u32) -> f64 {
    let (mut s, mut c) = (0.0f64, 0.0f64);
    let m = y.len();
    for (i, &v) in y.iter().enumerate().take(3 * m / 4).skip(m / 4) {
        let t = std::f64::consts::TAU * hz * i as f64 / f64::from(rate);
        s += f64::from(v) * t.sin();
        c += f64::from(v) * t.cos();
    }
    2.0 * (s * s + c * c).sqrt() / (m / 2) as f64
}

#[test]
fn opus_at_a_non_opus_rate_keeps_a_tone_near_the_band_edge() {
    // Regression: media's own copy of the resampler used rubato's default 256-frame
    // sub-chunks, whose shrunken anti-aliasing filter cut the top of the band on the way
    // back from 48 kHz. A tone at 0.45 of the rate came back at 0.65 of its amplitude at
    // 11.025 and 22.05 kHz and at 0.88 at 32 kHz (128 kb/s); with the dsp resampler it
    // comes back at 0.996 or more.
    let opts = EncodeOptions {
        bitrate_kbps: Some(128),
    };
    for rate in [11_025u32, 22_050, 32_000] {
        for fraction in [0.1, 0.45] {
            let hz = fraction * f64::from(rate);
            let tone: Vec<f32> = (0..2 * rate as usize)
                .map(|i| 0.5 * (std::f64::consts::TAU * hz * i as f64 / f64::from(rate)).sin())
                .map(|v| v as f32)
                .collect();
            let sr = SampleRate::try_new(rate).expect("rate");
            let audio = AudioBuffer::try_new(sr, vec![tone]).expect("buffer");
            let bytes = encode_bytes(&audio, Format::Opus, &opts).expect("encode");
            let back = decode_bytes(&bytes, Some("opus"), &Limits::default()).expect("decode");
            assert_eq!(back.rate(), sr);
            let gain = tone_amplitude(&back.channels()[0], hz, rate) / 0.5;
            assert!(
                (gain - 1.0).abs() < 0.02,
                "{rate} Hz, {hz:.0} Hz tone: gain {gain:.4}"
            );
        }
    }
}

#[test]
fn files_round_trip_and_the_extension_is_only_a_hint() {
    let dir = std::env::temp_dir().join(format!("tracemark-media-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let audio = signal(16_000, 1, 0.5);
    for format in ALL {
        // Deliberately misleading extension.
        let path = dir.join(format!("clip.{}.bin", format.extension()));
        encode_file(&audio, &path, format, &EncodeOptions::default()).expect("encode file");
        let back = decode_file(&path, &Limits::default()).expect("decode file");
        assert_eq!(back.rate(), audio.rate());
        assert!(back.frames().abs_diff(audio.frames()) <= 160);
    }
    std::fs::remove_dir_all(&dir).ok();
}

// ---- the real-audio corpus -------------------------------------------------------------

/// Decodes `path` and checks it against the README's row for it.
fn check_listed(path: &Path, listed: &CorpusFile) {
    let name = listed.name;
    let started = std::time::Instant::now();
    let audio = decode_file(path, &Limits::default()).unwrap_or_else(|e| panic!("{e}"));
    println!(
        "{name}: {:.1} s decoded in {:.3} s",
        audio.duration_s(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(audio.rate().hz(), listed.rate_hz, "{name}");
    assert_eq!(audio.channel_count(), listed.channels, "{name}");
    assert!(
        (audio.duration_s() - listed.seconds).abs() <= listed.tolerance_s + 1e-9,
        "{name}: {} s",
        audio.duration_s()
    );
    let peak = audio
        .channels()
        .iter()
        .flatten()
        .fold(0.0f32, |m, s| m.max(s.abs()));
    assert!(peak > 0.01 && peak <= 1.0, "{name}: peak {peak}");
}

#[test]
fn decodes_every_corpus_file_with_the_rate_channels_and_length_its_readme_lists() {
    // The committed excerpt always; the shared corpus (README table in tracemark-testkit)
    // where it is present.
    check_listed(
        &tracemark_testkit::excerpt_path(),
        &tracemark_testkit::EXCERPT,
    );
    let dir = tracemark_testkit::corpus_dir();
    match std::fs::read_dir(&dir) {
        Err(_) => eprintln!(
            "note: {} absent; checked the committed excerpt",
            dir.display()
        ),
        Ok(entries) => {
            let mut seen = 0;
            for entry in entries {
                let path = entry.expect("dir entry").path();
                if path.extension().and_then(|e| e.to_str()) != Some("flac") {
                    continue;
                }
                let name = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .expect("utf-8 name");
                let listed = CORPUS.iter().find(|f| f.name == name).unwrap_or_else(|| {
                    panic!("{name} is in the corpus but not in the README table")
                });
                check_listed(&path, listed);
                seen += 1;
            }
            assert_eq!(seen, CORPUS.len(), "corpus files found");
        }
    }
}

#[test]
fn the_duration_cap_stops_a_long_corpus_file() {
    // The 240 s call, or where the corpus is absent its committed 60 s excerpt: both are
    // over a 10 s cap.
    let call = tracemark_testkit::corpus_dir().join("call-en-8k.flac");
    let path = if call.is_file() {
        call
    } else {
        eprintln!(
            "note: {} absent; using the committed excerpt",
            call.display()
        );
        tracemark_testkit::excerpt_path()
    };
    let limits = Limits {
        max_duration_s: 10.0,
        ..Limits::default()
    };
    let e = decode_file(&path, &limits).expect_err("a file over a 10 s cap");
    assert!(matches!(e, MediaError::Limit { .. }), "{e}");
    assert_eq!(e.path(), Some(path.as_path()));
}

#[test]
fn flac_written_from_real_speech_and_music_is_smaller_than_16_bit_pcm() {
    // Regression: 24-bit FLAC from flacenc overflowed its Rice coder and came out 37 times
    // larger than the float WAV (71 MB for 120 s of an 8 kHz call).
    for (name, excerpt_span) in [
        ("call-en-8k.flac", (0.0, 20.0)),
        ("music-44k-elvish-theme.flac", (20.0, 40.0)),
    ] {
        let audio = tracemark_testkit::corpus_or_excerpt(name, 20.0, excerpt_span);
        let flac = encode_bytes(&audio, Format::Flac, &EncodeOptions::default()).expect("flac");
        let pcm16 = audio.frames() * audio.channel_count() * 2;
        assert!(
            flac.len() < pcm16,
            "{name}: FLAC {} bytes against {pcm16} bytes of 16-bit PCM",
            flac.len()
        );
        let back = decode_bytes(&flac, Some("flac"), &Limits::default()).expect("decode flac");
        assert_eq!(back.frames(), audio.frames(), "{name}");
    }
}

// ---- hostile input ---------------------------------------------------------------------

fn decode(bytes: &[u8]) -> Result<AudioBuffer, MediaError> {
    decode_bytes(bytes, None, &Limits::default())
}

#[test]
fn empty_and_random_bytes_are_clean_errors() {
    assert!(matches!(decode(&[]), Err(MediaError::Empty { .. })));
    let mut seed = 7u64;
    for len in [1, 3, 64, 1_000, 100_000] {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                (seed >> 56) as u8
            })
            .collect();
        assert!(
            decode(&bytes).is_err(),
            "{len} random bytes decoded as audio"
        );
    }
}

#[test]
fn truncated_files_of_every_format_are_errors() {
    let audio = signal(16_000, 2, 2.0);
    for format in ALL {
        let bytes = encode_bytes(&audio, format, &EncodeOptions::default()).expect("encode");
        for keep in [bytes.len() / 2, bytes.len() * 9 / 10, 40, 4] {
            let r = decode(&bytes[..keep]);
            assert!(
                r.is_err(),
                "{format:?} cut to {keep} of {} bytes decoded",
                bytes.len()
            );
        }
    }
}

/// A 44-byte canonical WAV header (RIFF/WAVE, `fmt ` PCM, `data`) with chosen fields.
fn wav_header(channels: u16, rate: u32, bits: u16, data_len: u32) -> Vec<u8> {
    let block = channels.wrapping_mul(bits / 8);
    let mut h = Vec::new();
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&data_len.saturating_add(36).to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&16u32.to_le_bytes());
    h.extend_from_slice(&1u16.to_le_bytes());
    h.extend_from_slice(&channels.to_le_bytes());
    h.extend_from_slice(&rate.to_le_bytes());
    h.extend_from_slice(&rate.wrapping_mul(u32::from(block)).to_le_bytes());
    h.extend_from_slice(&block.to_le_bytes());
    h.extend_from_slice(&bits.to_le_bytes());
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data_len.to_le_bytes());
    h
}

#[test]
fn wav_headers_declaring_absurd_sizes_are_clean_errors() {
    let body = vec![0u8; 4_000];
    // A tiny file whose header declares ~4 GiB of samples: a 74-hour stream.
    let mut huge = wav_header(1, 8_000, 16, 0xFFFF_FFF0);
    huge.extend_from_slice(&body);
    let e = decode(&huge).expect_err("absurd data length");
    assert!(
        matches!(e, MediaError::Limit { .. } | MediaError::Truncated { .. }),
        "{e}"
    );
    // Under a generous cap the same header must still fail as truncated, not allocate 4 GiB.
    let generous = Limits {
        max_duration_s: 1e9,
        ..Limits::default()
    };
    let e = decode_bytes(&huge, None, &generous).expect_err("absurd data length");
    assert!(matches!(e, MediaError::Truncated { .. }), "{e}");

    let mut rate = wav_header(1, 4_000_000_000, 16, 4_000);
    rate.extend_from_slice(&body);
    assert!(decode(&rate).is_err());
    let mut high = wav_header(1, 192_000, 16, 4_000);
    high.extend_from_slice(&body);
    assert!(matches!(
        decode(&high),
        Err(MediaError::SampleRate { hz: 192_000, .. })
    ));
    let mut chans = wav_header(65_535, 8_000, 16, 4_000);
    chans.extend_from_slice(&body);
    // Regression: symphonia 0.6.1 overflows u16 on this header (debug panic); we check first.
    assert!(matches!(
        decode(&chans),
        Err(MediaError::Channels { count: 65_535, .. })
    ));
    let mut zero_bits = wav_header(1, 8_000, 0, 4_000);
    zero_bits.extend_from_slice(&body);
    assert!(decode(&zero_bits).is_err());
}

#[test]
fn a_wav_declaring_no_frames_is_no_audio() {
    let e = decode(&wav_header(1, 8_000, 16, 0)).expect_err("no frames");
    assert!(matches!(e, MediaError::NoAudio { .. }), "{e}");
}

#[test]
fn the_byte_cap_applies_to_files_too() {
    let dir = std::env::temp_dir().join(format!("tracemark-media-cap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("a.wav");
    encode_file(
        &signal(8_000, 1, 0.1),
        &path,
        Format::Wav,
        &EncodeOptions::default(),
    )
    .expect("write");
    let limits = Limits {
        max_bytes: 100,
        ..Limits::default()
    };
    let e = decode_file(&path, &limits).expect_err("over the byte cap");
    assert!(matches!(e, MediaError::Limit { limit: 100, .. }), "{e}");
    assert!(e.to_string().contains("a.wav"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = decode_bytes(&bytes, None, &Limits { max_bytes: 1 << 20, max_duration_s: 60.0 });
    }

    #[test]
    fn bytes_behind_a_real_magic_never_panic(
        magic in prop::sample::select(vec![&b"RIFF"[..], b"fLaC", b"OggS", b"ID3\x03", b"\xff\xfb"]),
        rest in proptest::collection::vec(any::<u8>(), 0..4096),
    ) {
        let mut bytes = magic.to_vec();
        bytes.extend_from_slice(&rest);
        let _ = decode_bytes(&bytes, None, &Limits { max_bytes: 1 << 20, max_duration_s: 60.0 });
    }

    #[test]
    fn corrupting_a_valid_file_never_panics(
        format in prop::sample::select(ALL.to_vec()),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
    ) {
        let mut bytes = encode_bytes(&signal(8_000, 1, 0.2), format, &EncodeOptions::default())
            .expect("encode");
        for (at, x) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= x;
        }
        let _ = decode_bytes(&bytes, None, &Limits::default());
    }
}
