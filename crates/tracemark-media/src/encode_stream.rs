//! Encoding block by block into memory: [`StreamEncoder`].
//!
//! What each format holds while encoding (never the PCM signal):
//!
//! | format | held |
//! |---|---|
//! | WAV | the file's bytes so far and a 256 KiB write buffer |
//! | FLAC | the compressed frames so far, one frame of samples (4096 per channel), the coder's state; once, if dither turns out to be needed after frames were coded, a second copy of the frames while they are recoded (`src/flac_encode.rs`) |
//! | MP3 | the MP3 bytes so far, up to 18432 samples per channel, LAME's state |
//! | Opus | the Ogg bytes so far, one 20 ms frame, one packet, the encoder's and (off the Opus rates) the resamplers' state |

use std::io::Cursor;

use tracemark_dsp::{SampleFormat, SampleRate};

use crate::encode::Mp3Stream;
use crate::flac_encode::FlacStream;
use crate::opus::OpusStream;
use crate::quantize::{SampleChoice, resolve_for};
use crate::wav_stream::WavSink;
use crate::{EncodeOptions, Format, MediaError};

/// Encodes audio that arrives block by block into an in-memory file, byte for byte as
/// [`crate::encode_bytes_as`] encodes the whole signal: [`Self::push`] blocks of any length
/// in order, then [`Self::finish`]. (For FLAC, MP3 and Opus, [`crate::encode_bytes_as`] is
/// this encoder fed one block; WAV is checked against hound's writer.)
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
pub struct StreamEncoder {
    inner: Inner,
    format: Format,
}

enum Inner {
    Wav(WavSink<Cursor<Vec<u8>>>),
    /// Boxed: the coder's state is some 470 bytes, the other variants' under 200.
    Flac(Box<FlacStream>),
    Mp3(Mp3Stream),
    Opus(Box<OpusStream>),
}

impl std::fmt::Debug for StreamEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamEncoder")
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl StreamEncoder {
    /// An encoder of `format` for `channels` channels at `rate`, whose source format (as
    /// [`crate::AudioBuffer::source_format`] records it) is `source_format`; `opts` and
    /// `samples` as [`crate::encode_bytes_as`] takes them.
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
                Inner::Wav(WavSink::new(Cursor::new(Vec::new()), hz, channels, pcm)?)
            }
            Format::Flac => {
                let pcm = resolve_for(source_format, format, samples)?;
                Inner::Flac(Box::new(FlacStream::new(hz, channels, pcm)?))
            }
            Format::Mp3 => Inner::Mp3(Mp3Stream::new(hz, channels, opts)?),
            Format::Opus => Inner::Opus(Box::new(OpusStream::new(hz, channels, opts)?)),
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

    /// Ends the signal and gives the file.
    ///
    /// # Errors
    /// [`MediaError::Encode`] when the encoder fails.
    pub fn finish(self) -> Result<Vec<u8>, MediaError> {
        match self.inner {
            Inner::Wav(w) => w.finish().map(Cursor::into_inner).map_err(MediaError::io),
            Inner::Flac(f) => f.finish(),
            Inner::Mp3(m) => m.finish(),
            Inner::Opus(o) => o.finish(),
        }
    }
}
