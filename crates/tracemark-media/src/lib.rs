//! Media I/O for tracemark: turns audio files into [`AudioBuffer`]s and back.
//!
//! Decoding reads WAV (PCM, float, A-law, mu-law, IMA ADPCM), AIFF, MP3, Ogg Vorbis, AAC/ALAC
//! (MP4/M4A/MOV), CAF and Matroska/WebM through symphonia, native FLAC through claxon
//! (symphonia 0.6.1 was seen to drop a frame, see `src/flac.rs`), and Opus, in Ogg or in
//! WebM/Matroska, through `opus-pure`; GSM 06.10 WAV (0x0031) through this crate's own
//! fixed-point decoder (`src/gsm.rs`, sample-exact against ffmpeg and libgsm); AMR-NB and
//! AMR-WB, in `.amr` files or in a 3GP's AMR track (`src/amr_3gp.rs`), through
//! `rvoip-codec-core` (`src/amr.rs`). In a video file the first audio track is decoded. The
//! container is recognised by content, not by extension. Input is treated as untrusted: every failure is a typed [`MediaError`]
//! (never a panic), sample rate and channel count are checked before anything is allocated,
//! and [`Limits`] caps input size and decoded duration, stopping as soon as a cap is crossed.
//!
//! Decoders of PCM (WAV, AIFF, FLAC) record the source's sample format in the buffer
//! ([`AudioBuffer::source_format`]), and encoding keeps it: a 16-bit WAV in gives a 16-bit WAV
//! out, TPDF-dithered ([`SampleChoice`]). Encoding writes WAV (the source's format, else
//! 32-bit float), FLAC (the source's depth up to 24 bits, else 16-bit), MP3 (LAME, LGPL-3.0)
//! and Ogg Opus; see [`encode_bytes`] for what each format keeps and why. This is the workspace's one WAV
//! writer: [`encode_wav`] also writes 16-bit integer WAV for tools that need it.
//!
//! Block by block, with memory bounded whatever the recording's length: [`open_stream`] (a
//! file) and [`open_stream_bytes`] (an encoded file in memory, shared as [`SharedBytes`] by
//! several passes or threads without a copy) give the samples of [`decode_file`] and
//! [`decode_bytes`]; [`StreamEncoder`] gives the bytes of [`encode_bytes_as`] in memory, and
//! [`WavStreamWriter`] those of a WAV in a file. The encoders hold the encoded output and a
//! few frames of state, never the PCM signal (see `src/encode_stream.rs` for each format).
//!
//! This crate sits on top of `tracemark-dsp` and below the CLI and server; the pure crates
//! never see a file.
//!
//! ```
//! use tracemark_dsp::{AudioBuffer, SampleRate};
//! use tracemark_media::{decode_bytes, encode_bytes, EncodeOptions, Format, Limits};
//!
//! let rate = SampleRate::try_new(16_000)?;
//! let tone: Vec<f32> = (0..16_000).map(|i| (i as f32 * 0.05).sin() * 0.5).collect();
//! let audio = AudioBuffer::mono(rate, tone)?;
//!
//! let flac = encode_bytes(&audio, Format::Flac, &EncodeOptions::default())?;
//! let back = decode_bytes(&flac, None, &Limits::default())?; // probed by content
//! assert_eq!(back.rate(), rate);
//! assert_eq!(back.frames(), audio.frames());
//!
//! // Garbage is an error, not a panic.
//! assert!(decode_bytes(b"not audio", Some("mp3"), &Limits::default()).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod amr;
mod amr_3gp;
mod collect;
mod decode;
mod encode;
mod encode_stream;
mod error;
mod flac;
mod flac_encode;
mod format;
mod gsm;
mod mp4_edit;
mod opus;
mod opus_demuxed;
mod quantize;
mod stream;
mod wav;
mod wav_stream;

pub use decode::{decode_bytes, decode_file};
pub use encode::{encode_bytes, encode_bytes_as, encode_file};
pub use encode_stream::StreamEncoder;
pub use error::MediaError;
pub use format::{EncodeOptions, Format, Limits};
pub use quantize::SampleChoice;
pub use stream::{
    AudioStream, ByteSource, SharedBytes, open_stream, open_stream_bytes, open_stream_source,
};
pub use tracemark_dsp::{AudioBuffer, SampleFormat, SampleRate};
pub use wav::{WavSample, encode_wav};
pub use wav_stream::WavStreamWriter;
