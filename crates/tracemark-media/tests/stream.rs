//! Streaming I/O gives what the whole-buffer paths give: `open_stream` the samples of
//! `decode_file`, `WavStreamWriter` the bytes of `encode_bytes(.., Format::Wav, ..)`.

mod common;

use std::path::Path;

use tracemark_media::{
    AudioBuffer, EncodeOptions, Format, Limits, MediaError, SampleFormat, SampleRate,
    WavStreamWriter, decode_file, encode_bytes, open_stream,
};

/// Every block of `path`, joined, with the stream's source format.
fn read_all(path: &Path) -> Result<AudioBuffer, MediaError> {
    common::join(open_stream(path, &Limits::default())?)
}

/// `audio` written by the streaming writer in blocks of `block` frames.
fn stream_write(audio: &AudioBuffer, path: &Path, block: usize) -> Vec<u8> {
    let mut w = WavStreamWriter::create(
        path,
        audio.rate(),
        audio.channel_count(),
        audio.source_format(),
    )
    .expect("create");
    let mut at = 0;
    while at < audio.frames() {
        let end = (at + block).min(audio.frames());
        let piece: Vec<Vec<f32>> = audio
            .channels()
            .iter()
            .map(|c| c[at..end].to_vec())
            .collect();
        w.write(&piece).expect("write");
        at = end;
    }
    w.finish().expect("finish");
    std::fs::read(path).expect("read back")
}

fn real_speech() -> AudioBuffer {
    tracemark_testkit::corpus_or_excerpt("librivox-en-16k.flac", 10.0, (0.0, 10.0))
}

#[test]
fn streamed_decoding_gives_the_samples_of_decode_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let speech = real_speech();
    for (name, format, source) in [
        (
            "int16.wav",
            Format::Wav,
            Some(SampleFormat::Int { bits: 16 }),
        ),
        ("float.wav", Format::Wav, None),
        (
            "int24.flac",
            Format::Flac,
            Some(SampleFormat::Int { bits: 24 }),
        ),
        ("int16.mp3", Format::Mp3, None),
    ] {
        let audio = speech.clone().with_source_format(source);
        let path = dir.path().join(name);
        let bytes = encode_bytes(&audio, format, &EncodeOptions::default()).expect("encode");
        std::fs::write(&path, bytes).expect("write");
        let whole = decode_file(&path, &Limits::default()).expect("decode");
        let streamed = read_all(&path).expect("stream");
        assert_eq!(streamed, whole, "{name}");
        assert_eq!(streamed.source_format(), whole.source_format(), "{name}");
    }
    // The committed FLAC excerpt, through claxon block by block.
    let excerpt = tracemark_testkit::excerpt_path();
    assert_eq!(
        read_all(&excerpt).expect("stream"),
        decode_file(&excerpt, &Limits::default()).expect("decode")
    );
}

#[test]
fn streamed_decoding_fails_where_decode_file_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let audio = real_speech().with_source_format(Some(SampleFormat::Int { bits: 16 }));
    let bytes = encode_bytes(&audio, Format::Flac, &EncodeOptions::default()).expect("encode");
    let cut = dir.path().join("cut.flac");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("write");
    let garbage = dir.path().join("garbage.wav");
    std::fs::write(&garbage, b"RIFF....WAVEnot really").expect("write");
    let capped = Limits {
        max_duration_s: 1.0,
        ..Limits::default()
    };
    let wav = dir.path().join("long.wav");
    std::fs::write(
        &wav,
        encode_bytes(&audio, Format::Wav, &EncodeOptions::default()).expect("encode"),
    )
    .expect("write");
    for (path, limits) in [
        (&cut, Limits::default()),
        (&garbage, Limits::default()),
        (&wav, capped),
    ] {
        let whole = decode_file(path, &limits).expect_err("whole");
        let streamed = open_stream(path, &limits).and_then(|mut s| {
            while s.next_block()?.is_some() {}
            Ok(())
        });
        let streamed = streamed.expect_err("streamed");
        assert_eq!(
            std::mem::discriminant(&streamed),
            std::mem::discriminant(&whole),
            "{}: {streamed} against {whole}",
            path.display()
        );
        assert_eq!(streamed.path(), Some(path.as_path()));
    }
}

#[test]
fn the_streaming_wav_writer_writes_the_bytes_of_encode_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rate = SampleRate::try_new(16_000).expect("rate");
    let speech = real_speech();
    let stereo = AudioBuffer::try_new(
        rate,
        vec![
            speech.channels()[0].clone(),
            speech.channels()[0].iter().map(|x| -0.5 * x).collect(),
        ],
    )
    .expect("stereo");
    // Starts on the 16-bit grid, leaves it after 1000 frames: the writer must go back and
    // dither the start, as the whole-buffer writer dithers everything.
    let mut late = speech.channels()[0].clone();
    for x in &mut late[..] {
        *x = (*x * 32_768.0).round() / 32_768.0;
    }
    late[1_000] += 1e-7;
    let late = AudioBuffer::mono(rate, late).expect("late");
    let on_grid = AudioBuffer::mono(
        rate,
        late.channels()[0]
            .iter()
            .map(|x| (x * 32_768.0).round() / 32_768.0)
            .collect(),
    )
    .expect("on grid");
    let cases = [
        ("int16", speech.clone(), 16),
        ("int8", speech.clone(), 8),
        ("int24 stereo", stereo.clone(), 24),
        ("int32", speech.clone(), 32),
        ("float stereo", stereo, 0),
        ("int16 late off the grid", late, 16),
        ("int16 on the grid", on_grid, 16),
    ];
    for (name, audio, bits) in cases {
        let format = (bits > 0).then_some(SampleFormat::Int { bits });
        let audio = audio.with_source_format(format);
        let want = encode_bytes(&audio, Format::Wav, &EncodeOptions::default()).expect("encode");
        for block in [1, 333, 4_096, 1 << 20] {
            let got = stream_write(&audio, &dir.path().join("out.wav"), block);
            assert!(got == want, "{name}, blocks of {block}: bytes differ");
        }
    }
}
