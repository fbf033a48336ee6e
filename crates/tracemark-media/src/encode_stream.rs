//! Encoding block by block, into memory or into any seekable output: [`StreamEncoder`].
//!
//! What each format holds while encoding, besides its output (never the PCM signal):
//!
//! | format | held |
//! |---|---|
//! | WAV | a 256 KiB write buffer and one block's bytes |
//! | FLAC | one frame of samples (4096 per channel) and the coder's state; while dither may still turn out to be needed and every sample so far lay on the integer grid, the frames of that prefix, and once a second copy while they are recoded (`src/flac_encode.rs`) |
//! | MP3 | up to 18432 samples per channel and their MP3 bytes, LAME's state |
//! | Opus | one 20 ms frame, one packet, one Ogg page, the encoder's and (off the Opus rates) the resamplers' state |
//!
//! Each format also goes back once to the file's start when it ends (WAV's sizes, FLAC's
//! STREAMINFO, MP3's LAME tag), hence a seekable output; WAV also reads back its samples
//! when dither turned out to be needed after they were written.

use std::io::{Cursor, Read, Seek, Write};

use tracemark_dsp::{SampleFormat, SampleRate};

use crate::encode::Mp3Stream;
use crate::flac_encode::FlacStream;
use crate::opus::OpusStream;
use crate::quantize::{SampleChoice, resolve_for};
use crate::wav_stream::WavSink;
use crate::{EncodeOptions, Format, MediaError};

/// Encodes audio that arrives block by block, byte for byte as [`crate::encode_bytes_as`]
/// encodes the whole signal: [`Self::push`] blocks of any length in order, then
/// [`Self::finish`] (in memory) or [`Self::finish_output`]. (For FLAC, MP3 and Opus,
/// [`crate::encode_bytes_as`] is this encoder fed one block; WAV is checked against hound's
/// writer.) [`Self::new`] encodes into memory; [`Self::with_output`] into a file or any
/// other seekable output, which then holds the only copy of the encoded bytes.
///
/// ```
/// use tracemark_media::{encode_bytes_as, EncodeOptions, Format, SampleChoice, StreamEncoder};
/// use tracemark_media::{AudioBuffer, SampleFormat, SampleRate};
/// let rate = SampleRate::try_new(16_000)?;
/// let tone: Vec<f32> = (0..40_000).map(|i| (i as f32 * 0.03).sin() * 0.5).collect();
/// let int16 = Some(SampleFormat::Int { bits: 16 });
/// let opts = EncodeOptions::default();
/// let mut encoder = StreamEncoder::new(Format::Flac, rate, 1, int16, &opts, SampleChoice::Source)?;
/// for piece in tone.chunks(1_000) {
///     encoder.push(&[piece])?;
/// }
/// let streamed = encoder.finish()?;
/// let audio = AudioBuffer::mono(rate, tone)?.with_source_format(int16);
/// assert_eq!(streamed, encode_bytes_as(&audio, Format::Flac, &opts, SampleChoice::Source)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct StreamEncoder<W: Read + Write + Seek = Cursor<Vec<u8>>> {
    inner: Inner<W>,
    format: Format,
}

enum Inner<W: Read + Write + Seek> {
    Wav(WavSink<W>),
    /// Boxed: the coder's state is some 470 bytes, the other variants' under 200.
    Flac(Box<FlacStream<W>>),
    Mp3(Mp3Stream<W>),
    Opus(Box<OpusStream<W>>),
}

impl<W: Read + Write + Seek> std::fmt::Debug for StreamEncoder<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamEncoder")
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl StreamEncoder {
    /// An encoder into memory of `format` for `channels` channels at `rate`, whose source
    /// format (as [`crate::AudioBuffer::source_format`] records it) is `source_format`;
    /// `opts` and `samples` as [`crate::encode_bytes_as`] takes them.
    ///
    /// # Errors
    /// As [`crate::encode_bytes_as`] for audio of this rate, channel count and source format.
    pub fn new(
        format: Format,
        rate: SampleRate,
        channels: usize,
        source_format: Option<SampleFormat>,
        opts: &EncodeOptions,
        samples: SampleChoice,
    ) -> Result<Self, MediaError> {
        let out = Cursor::new(Vec::new());
        Self::with_output(out, format, rate, channels, source_format, opts, samples)
    }

    /// Ends the signal and gives the file.
    ///
    /// # Errors
    /// [`MediaError::Encode`] when the encoder fails.
    pub fn finish(self) -> Result<Vec<u8>, MediaError> {
        self.finish_output().map(Cursor::into_inner)
    }
}

impl<W: Read + Write + Seek> StreamEncoder<W> {
    /// [`StreamEncoder::new`], writing the file into `out` as it is encoded. `out` must be
    /// empty: the file starts at its position 0.
    ///
    /// # Errors
    /// As [`StreamEncoder::new`], and [`MediaError::Io`] when `out` cannot be written.
    pub fn with_output(
        out: W,
        format: Format,
        rate: SampleRate,
        channels: usize,
        source_format: Option<SampleFormat>,
        opts: &EncodeOptions,
        samples: SampleChoice,
    ) -> Result<Self, MediaError> {
        if channels == 0 {
            return Err(MediaError::Encode {
                format,
                reason: "no channels to encode".into(),
            });
        }
        let hz = rate.hz();
        let inner = match format {
            Format::Wav => {
                let pcm = resolve_for(source_format, format, samples)?;
                Inner::Wav(WavSink::new(out, hz, channels, pcm)?)
            }
            Format::Flac => {
                let pcm = resolve_for(source_format, format, samples)?;
                Inner::Flac(Box::new(FlacStream::new(out, hz, channels, pcm)?))
            }
            Format::Mp3 => Inner::Mp3(Mp3Stream::new(out, hz, channels, opts)?),
            Format::Opus => Inner::Opus(Box::new(OpusStream::new(out, hz, channels, opts)?)),
        };
        Ok(Self { inner, format })
    }

    /// Appends a block: `block[c]` holds channel `c`'s frames, all of one length (any
    /// length, zero included).
    ///
    /// # Errors
    /// [`MediaError::Encode`] for a block of the wrong shape, a WAV past 4 GiB, or an
    /// encoder failing.
    pub fn push<C: AsRef<[f32]>>(&mut self, block: &[C]) -> Result<(), MediaError> {
        match &mut self.inner {
            Inner::Wav(w) => w.write(block),
            Inner::Flac(f) => f.push(block),
            Inner::Mp3(m) => m.push(block),
            Inner::Opus(o) => o.push(block),
        }
    }

    /// Ends the signal and gives back the output, positioned at the end of the file.
    ///
    /// # Errors
    /// [`MediaError::Encode`] when the encoder fails, [`MediaError::Io`] when the output
    /// cannot be written.
    pub fn finish_output(self) -> Result<W, MediaError> {
        match self.inner {
            Inner::Wav(w) => w.finish().map_err(MediaError::io),
            Inner::Flac(f) => f.finish(),
            Inner::Mp3(m) => m.finish(),
            Inner::Opus(o) => o.finish(),
        }
    }
}

/// Writes `bytes` over the file at `at` (a header whose contents were known only at the
/// end) and goes back to `end`, the file's end.
pub(crate) fn overwrite<W: Write + Seek>(
    out: &mut W,
    at: u64,
    bytes: &[u8],
    end: u64,
) -> Result<(), MediaError> {
    out.seek(std::io::SeekFrom::Start(at))
        .and_then(|_| out.write_all(bytes))
        .and_then(|()| out.seek(std::io::SeekFrom::Start(end)))
        .map(|_| ())
        .map_err(MediaError::io)
}
