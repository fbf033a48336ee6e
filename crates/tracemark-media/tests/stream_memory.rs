//! Issue 15, bounded memory: `open_stream_bytes` gives the samples and errors of
//! `decode_bytes`, and `StreamEncoder` the bytes of `encode_bytes_as`, however the signal is
//! split into blocks.

mod common;

use proptest::prelude::*;
use tracemark_media::{
    AudioBuffer, EncodeOptions, Format, Limits, MediaError, SampleChoice, SampleFormat, SampleRate,
    SharedBytes, StreamEncoder, decode_bytes, encode_bytes, encode_bytes_as, open_stream_bytes,
};

/// A tone with a little noise; `channels` channels, `frames` frames.
fn signal(rate: u32, channels: usize, frames: usize, seed: u32) -> AudioBuffer {
    let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    let planes = (0..channels)
        .map(|c| {
            (0..frames)
                .map(|i| {
                    s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    let noise = (s >> 8) as f32 / 16_777_216.0 - 0.5;
                    let t = i as f32 / rate as f32;
                    0.4 * (std::f32::consts::TAU * (330.0 + 70.0 * c as f32) * t).sin()
                        + 0.02 * noise
                })
                .collect()
        })
        .collect();
    AudioBuffer::try_new(SampleRate::try_new(rate).expect("rate"), planes).expect("buffer")
}

/// `audio` on the 16-bit grid up to `frame`, off it from there on.
fn late_off_grid(audio: &AudioBuffer, frame: usize) -> AudioBuffer {
    let planes = audio
        .channels()
        .iter()
        .map(|c| {
            let mut c: Vec<f32> = c
                .iter()
                .map(|x| (x * 32_768.0).round() / 32_768.0)
                .collect();
            if let Some(x) = c.get_mut(frame) {
                *x += 1e-7;
            }
            c
        })
        .collect();
    AudioBuffer::try_new(audio.rate(), planes)
        .expect("buffer")
        .with_source_format(audio.source_format())
}

/// Every block of a stream over `bytes`, joined, with the stream's source format.
fn read_all(
    bytes: &SharedBytes,
    hint: Option<&str>,
    limits: &Limits,
) -> Result<AudioBuffer, MediaError> {
    common::join(open_stream_bytes(bytes.clone(), hint, limits)?)
}

/// `audio` encoded by the stream encoder in blocks of the sizes `splits` cycles through.
fn stream_encode(
    audio: &AudioBuffer,
    format: Format,
    samples: SampleChoice,
    splits: &[usize],
) -> Vec<u8> {
    stream_encode_into(
        std::io::Cursor::new(Vec::new()),
        audio,
        format,
        samples,
        splits,
    )
    .into_inner()
}

/// [`stream_encode`] into `out`, given back where the encoder left it.
fn stream_encode_into<W: std::io::Read + std::io::Write + std::io::Seek>(
    out: W,
    audio: &AudioBuffer,
    format: Format,
    samples: SampleChoice,
    splits: &[usize],
) -> W {
    let mut enc = StreamEncoder::with_output(
        out,
        format,
        audio.rate(),
        audio.channel_count(),
        audio.source_format(),
        &EncodeOptions::default(),
        samples,
    )
    .expect("encoder");
    let mut at = 0;
    for &n in splits.iter().cycle() {
        if at >= audio.frames() {
            break;
        }
        let end = (at + n).min(audio.frames());
        let block: Vec<&[f32]> = audio.channels().iter().map(|c| &c[at..end]).collect();
        enc.push(&block).expect("push");
        at = end;
    }
    enc.finish_output().expect("finish")
}

const INT16: Option<SampleFormat> = Some(SampleFormat::Int { bits: 16 });

#[test]
fn streaming_from_bytes_gives_the_samples_of_decode_bytes() {
    let opts = EncodeOptions::default();
    let mono = signal(16_000, 1, 40_000, 1);
    let stereo = signal(44_100, 2, 50_000, 2);
    let cases = [
        (
            "wav int16",
            mono.clone().with_source_format(INT16),
            Format::Wav,
        ),
        ("wav float stereo", stereo.clone(), Format::Wav),
        (
            "flac int24",
            mono.clone()
                .with_source_format(Some(SampleFormat::Int { bits: 24 })),
            Format::Flac,
        ),
        ("flac stereo", stereo.clone(), Format::Flac),
        ("mp3", mono.clone(), Format::Mp3),
        ("mp3 stereo", stereo.clone(), Format::Mp3),
        ("opus", mono.clone(), Format::Opus),
        ("opus stereo 44.1 kHz", stereo, Format::Opus),
    ];
    for (name, audio, format) in cases {
        let bytes = SharedBytes::from(encode_bytes(&audio, format, &opts).expect("encode"));
        for hint in [None, Some(format.extension())] {
            let whole = decode_bytes(bytes.as_slice(), hint, &Limits::default()).expect("whole");
            let streamed = read_all(&bytes, hint, &Limits::default()).expect("streamed");
            assert_eq!(streamed, whole, "{name}");
            assert_eq!(streamed.source_format(), whole.source_format(), "{name}");
        }
    }
}

#[test]
fn two_streams_read_one_buffer_at_once_from_two_threads() {
    let audio = signal(16_000, 2, 30_000, 3).with_source_format(INT16);
    let bytes = SharedBytes::from(
        encode_bytes(&audio, Format::Flac, &EncodeOptions::default()).expect("encode"),
    );
    let want = decode_bytes(bytes.as_slice(), None, &Limits::default()).expect("decode");
    let got: Vec<AudioBuffer> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| s.spawn(|| read_all(&bytes, None, &Limits::default()).expect("stream")))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("join"))
            .collect()
    });
    assert!(got.iter().all(|g| *g == want));
}

#[test]
fn streaming_from_bytes_fails_where_decode_bytes_fails() {
    let audio = signal(16_000, 1, 40_000, 4).with_source_format(INT16);
    let opts = EncodeOptions::default();
    let flac = encode_bytes(&audio, Format::Flac, &opts).expect("encode");
    let wav = encode_bytes(&audio, Format::Wav, &opts).expect("encode");
    let mp3 = encode_bytes(&audio, Format::Mp3, &opts).expect("encode");
    let opus = encode_bytes(&audio, Format::Opus, &opts).expect("encode");
    let capped = Limits {
        max_duration_s: 1.0,
        ..Limits::default()
    };
    let small = Limits {
        max_bytes: 1_000,
        ..Limits::default()
    };
    let cases: Vec<(&str, Vec<u8>, Limits)> = vec![
        (
            "truncated flac",
            flac[..flac.len() / 2].to_vec(),
            Limits::default(),
        ),
        (
            "truncated wav",
            wav[..wav.len() / 2].to_vec(),
            Limits::default(),
        ),
        (
            "truncated opus",
            opus[..opus.len() / 2].to_vec(),
            Limits::default(),
        ),
        (
            "garbage",
            b"RIFF....WAVEnot really".to_vec(),
            Limits::default(),
        ),
        (
            "text",
            b"hello, not audio at all".to_vec(),
            Limits::default(),
        ),
        ("empty", Vec::new(), Limits::default()),
        ("wav over the duration cap", wav.clone(), capped),
        ("flac over the duration cap", flac.clone(), capped),
        ("mp3 over the duration cap", mp3, capped),
        ("opus over the duration cap", opus, capped),
        ("over the byte cap", wav, small),
    ];
    for (name, bytes, limits) in cases {
        let whole = decode_bytes(&bytes, None, &limits).expect_err(name);
        let streamed = read_all(&SharedBytes::from(bytes), None, &limits).expect_err(name);
        assert_eq!(
            std::mem::discriminant(&streamed),
            std::mem::discriminant(&whole),
            "{name}: {streamed} against {whole}"
        );
        assert_eq!(streamed.path(), None, "{name}");
    }
}

/// Every format and sample choice the property below runs, with a signal for each.
fn encoder_cases() -> Vec<(&'static str, AudioBuffer, Format, SampleChoice)> {
    let src = SampleChoice::Source;
    let mono = signal(16_000, 1, 12_000, 5);
    let stereo = signal(48_000, 2, 12_000, 6);
    vec![
        (
            "wav int16",
            mono.clone().with_source_format(INT16),
            Format::Wav,
            src,
        ),
        ("wav float stereo", stereo.clone(), Format::Wav, src),
        (
            "wav int24 stereo",
            stereo.clone(),
            Format::Wav,
            SampleChoice::Exactly(SampleFormat::Int { bits: 24 }),
        ),
        (
            "wav int16 late off the grid",
            late_off_grid(&mono, 9_000).with_source_format(INT16),
            Format::Wav,
            src,
        ),
        (
            "flac int16",
            mono.clone().with_source_format(INT16),
            Format::Flac,
            src,
        ),
        ("flac unknown stereo", stereo.clone(), Format::Flac, src),
        (
            "flac int16 stereo late off the grid",
            late_off_grid(&stereo, 10_000).with_source_format(INT16),
            Format::Flac,
            src,
        ),
        (
            "flac int16 on the grid",
            late_off_grid(&mono, usize::MAX).with_source_format(INT16),
            Format::Flac,
            src,
        ),
        ("mp3", mono.clone(), Format::Mp3, src),
        ("mp3 stereo", stereo.clone(), Format::Mp3, src),
        ("opus", mono, Format::Opus, src),
        ("opus stereo", stereo.clone(), Format::Opus, src),
        (
            "opus resampled from 22.05 kHz",
            signal(22_050, 2, 9_000, 7),
            Format::Opus,
            src,
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn streamed_encoding_gives_the_bytes_of_encode_bytes_as_for_any_split(
        splits in prop::collection::vec(prop_oneof![0usize..4, 1usize..5_000], 1..12)
    ) {
        prop_assume!(splits.iter().any(|&n| n > 0));
        for (name, audio, format, samples) in encoder_cases() {
            let want = encode_bytes_as(&audio, format, &EncodeOptions::default(), samples)
                .expect("encode");
            let got = stream_encode(&audio, format, samples, &splits);
            prop_assert!(got == want, "{}: bytes differ for splits {:?}", name, splits);
        }
    }
}

#[test]
fn streamed_encoding_in_one_sample_blocks_gives_the_same_bytes() {
    for (name, audio, format, samples) in encoder_cases() {
        let want =
            encode_bytes_as(&audio, format, &EncodeOptions::default(), samples).expect("encode");
        assert!(
            stream_encode(&audio, format, samples, &[1]) == want,
            "{name}"
        );
    }
}

#[test]
fn the_streamed_lossless_files_decode_to_the_samples_encoded() {
    let stereo = signal(16_000, 2, 20_000, 8);
    let float = stream_encode(&stereo, Format::Wav, SampleChoice::Source, &[777]);
    let back = decode_bytes(&float, None, &Limits::default()).expect("decode");
    assert_eq!(back.channels(), stereo.channels(), "float WAV is exact");
    let on_grid = late_off_grid(&stereo, usize::MAX).with_source_format(INT16);
    for format in [Format::Wav, Format::Flac] {
        let bytes = stream_encode(&on_grid, format, SampleChoice::Source, &[1_000, 3]);
        let back = decode_bytes(&bytes, None, &Limits::default()).expect("decode");
        assert_eq!(
            back.channels(),
            on_grid.channels(),
            "{format:?}: on the grid, exact"
        );
        assert_eq!(back.source_format(), INT16);
    }
    let mp3 = stream_encode(&stereo, Format::Mp3, SampleChoice::Source, &[5_000]);
    let back = decode_bytes(&mp3, None, &Limits::default()).expect("decode");
    assert_eq!(
        back.frames(),
        stereo.frames(),
        "gapless MP3 keeps the length"
    );
    let opus = stream_encode(&stereo, Format::Opus, SampleChoice::Source, &[5_000]);
    let back = decode_bytes(&opus, None, &Limits::default()).expect("decode");
    assert_eq!(
        back.frames(),
        stereo.frames(),
        "gapless Opus keeps the length"
    );
}

#[test]
fn a_block_of_the_wrong_shape_is_an_error() {
    let rate = SampleRate::try_new(16_000).expect("rate");
    for format in [Format::Wav, Format::Flac, Format::Mp3, Format::Opus] {
        let mut enc = StreamEncoder::new(
            format,
            rate,
            2,
            None,
            &EncodeOptions::default(),
            SampleChoice::Source,
        )
        .expect("encoder");
        let short = [vec![0.0; 10], vec![0.0; 9]];
        assert!(
            matches!(enc.push(&short), Err(MediaError::Encode { .. })),
            "{format:?}"
        );
        assert!(matches!(
            enc.push(&[vec![0.0; 10]]),
            Err(MediaError::Encode { .. })
        ));
    }
}

#[test]
fn streamed_into_a_file_gives_the_bytes_encoded_in_memory_and_ends_at_its_end() {
    use std::io::{Read, Seek, SeekFrom};
    for (name, audio, format, samples) in encoder_cases() {
        let want =
            encode_bytes_as(&audio, format, &EncodeOptions::default(), samples).expect("encode");
        let file = tempfile::tempfile().expect("temporary file");
        let mut file = stream_encode_into(file, &audio, format, samples, &[4_113]);
        let end = file.stream_position().expect("position");
        assert_eq!(end, want.len() as u64, "{name}: left at the file's end");
        let mut got = Vec::new();
        file.seek(SeekFrom::Start(0)).expect("rewind");
        file.read_to_end(&mut got).expect("read back");
        assert!(got == want, "{name}: the file's bytes differ from memory's");
    }
}
