//! Decoding block by block, with memory bounded by one block whatever the input's length:
//! [`open_stream`] reads a file and gives the samples of [`crate::decode_file`],
//! [`open_stream_bytes`] reads bytes already in memory and gives the samples of
//! [`crate::decode_bytes`] (same decoders, same checks, same errors). Both run one reader,
//! generic over where the bytes come from ([`Source`]).
//!
//! Held in memory: the decoder's state and one decoded block (a FLAC frame, a symphonia
//! packet, or [`WHOLE_BLOCK`] frames). [`open_stream_bytes`] reads the caller's
//! [`SharedBytes`] in place, never copying them, so several streams (threads, passes) can read
//! one buffer at once.
//!
//! Streamed: native FLAC (claxon) and everything symphonia decodes on its own (WAV, AIFF,
//! MP3, Vorbis, CAF, Matroska without Opus). Read whole and then handed out in blocks, as
//! before: Opus, GSM 06.10, AMR, 3GP and MP4/MOV (whose edit lists apply to the whole track).

use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use symphonia::core::codecs::audio::AudioDecoder;
use symphonia::core::codecs::audio::well_known::CODEC_ID_OPUS;
use symphonia::core::formats::FormatReader;
use symphonia::core::io::MediaSource;
use tracemark_dsp::{AudioBuffer, SampleFormat, SampleRate};

use crate::collect::{check_channels, check_rate};
use crate::decode::{
    SNIFF_LEN, check_size, checked_decoder, guarded, is_eof, is_live_matroska, map_sym, pcm_format,
    precheck_wav, probe_audio_track,
};
use crate::{Limits, MediaError};

/// Frames handed out per block when the whole file was decoded first.
const WHOLE_BLOCK: usize = 1 << 16;

/// An encoded file held in memory, shared rather than copied: cloning it is a reference
/// count. Built from a `Vec<u8>` (moved, not copied), an `Arc<[u8]>`, an `Arc<Vec<u8>>` or a
/// static slice; read by [`open_stream_bytes`].
#[derive(Clone)]
pub struct SharedBytes(Arc<dyn AsRef<[u8]> + Send + Sync>);

impl SharedBytes {
    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        (*self.0).as_ref()
    }
}

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl std::fmt::Debug for SharedBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SharedBytes({} bytes)", self.as_slice().len())
    }
}

impl From<Vec<u8>> for SharedBytes {
    fn from(bytes: Vec<u8>) -> Self {
        Self(Arc::new(bytes))
    }
}

impl From<Arc<Vec<u8>>> for SharedBytes {
    fn from(bytes: Arc<Vec<u8>>) -> Self {
        Self(bytes)
    }
}

impl From<Arc<[u8]>> for SharedBytes {
    fn from(bytes: Arc<[u8]>) -> Self {
        Self(Arc::new(bytes))
    }
}

impl From<&'static [u8]> for SharedBytes {
    fn from(bytes: &'static [u8]) -> Self {
        Self(Arc::new(bytes))
    }
}

/// Bytes a stream can read from anywhere, seeking as it goes: a file sealed in chunks
/// in a blob store, say, opened a chunk at a time ([`open_stream_source`]).
pub trait ByteSource: Read + Seek + Send + Sync {
    /// The length in bytes.
    fn byte_len(&self) -> u64;
    /// Another reader of the same bytes, at their start (read only for the formats
    /// decoded whole, when the first reader was already handed to a container reader).
    fn reopen(&self) -> Box<dyn ByteSource>;
}

/// Where a stream's bytes come from: a file, bytes in memory, or a caller's source.
enum Source {
    File(File),
    Bytes(Cursor<SharedBytes>),
    Other(Box<dyn ByteSource>),
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Self::File(f) => f.read(buf),
            Self::Bytes(c) => c.read(buf),
            Self::Other(o) => o.read(buf),
        }
    }
}

impl Seek for Source {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        match self {
            Self::File(f) => f.seek(pos),
            Self::Bytes(c) => c.seek(pos),
            Self::Other(o) => o.seek(pos),
        }
    }
}

impl MediaSource for Source {
    fn is_seekable(&self) -> bool {
        match self {
            Self::File(f) => f.is_seekable(),
            Self::Bytes(c) => c.is_seekable(),
            Self::Other(_) => true,
        }
    }

    fn byte_len(&self) -> Option<u64> {
        match self {
            Self::File(f) => f.byte_len(),
            Self::Bytes(c) => c.byte_len(),
            Self::Other(o) => Some(o.byte_len()),
        }
    }
}

/// Audio being decoded block by block; see [`open_stream`] and [`open_stream_bytes`].
pub struct AudioStream {
    inner: Inner,
    /// The file read, named in every error; `None` for bytes in memory.
    path: Option<PathBuf>,
    rate: SampleRate,
    channels: usize,
    source_format: Option<SampleFormat>,
    /// Frames handed out so far, and the cap on them.
    frames: u64,
    max_frames: u64,
    block: Vec<Vec<f32>>,
    done: bool,
}

impl std::fmt::Debug for AudioStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioStream")
            .field("path", &self.path)
            .field("rate", &self.rate)
            .field("channels", &self.channels)
            .field("frames", &self.frames)
            .finish()
    }
}

enum Inner {
    Flac {
        reader: Box<claxon::FlacReader<BufReader<Source>>>,
        buffer: Vec<i32>,
        scale: f32,
        declared: Option<u64>,
    },
    Symphonia {
        format: Box<dyn FormatReader>,
        decoder: Box<dyn AudioDecoder>,
        track_id: u32,
        declared: Option<u64>,
        open_ended: bool,
        /// The first decoded block, read while opening to learn the channel count.
        first: Option<Vec<Vec<f32>>>,
    },
    Whole {
        audio: AudioBuffer,
        at: usize,
    },
}

/// Opens `path` for decoding block by block; every error names `path`.
///
/// Reading every block of the stream gives exactly the samples [`crate::decode_file`] gives,
/// and fails where it fails, with the same error: a truncated stream fails at its end, a
/// non-finite sample at its block, and [`Limits`] are checked as blocks arrive.
///
/// # Errors
/// As [`crate::decode_file`].
pub fn open_stream(path: &Path, limits: &Limits) -> Result<AudioStream, MediaError> {
    let open = || {
        let file = File::open(path).map_err(MediaError::io)?;
        let len = file.metadata().map_err(MediaError::io)?.len();
        let hint = path.extension().and_then(|e| e.to_str());
        open_source(Source::File(file), len, hint, limits, || {
            crate::decode_file(path, limits)
        })
    };
    let mut stream = open().map_err(|e| e.with_path(path))?;
    stream.path = Some(path.to_path_buf());
    Ok(stream)
}

/// Opens an encoded file held in memory for decoding block by block, reading `bytes` in
/// place (a clone of [`SharedBytes`] is a reference count, so two passes or several threads
/// can each open their own stream over one buffer).
///
/// Reading every block gives exactly the samples [`crate::decode_bytes`] gives for the same
/// bytes, `format_hint` and `limits`, and fails where it fails, with the same error.
///
/// ```
/// use tracemark_media::{decode_bytes, encode_bytes, open_stream_bytes, SharedBytes};
/// use tracemark_media::{AudioBuffer, EncodeOptions, Format, Limits, SampleRate};
/// let audio = AudioBuffer::mono(SampleRate::try_new(8_000)?, vec![0.25; 9_000])?;
/// let bytes = SharedBytes::from(encode_bytes(&audio, Format::Flac, &EncodeOptions::default())?);
/// let mut stream = open_stream_bytes(bytes.clone(), None, &Limits::default())?;
/// let mut samples = Vec::new();
/// while let Some(block) = stream.next_block()? {
///     samples.extend_from_slice(&block[0]);
/// }
/// assert_eq!(samples, decode_bytes(bytes.as_slice(), None, &Limits::default())?.channels()[0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As [`crate::decode_bytes`].
pub fn open_stream_bytes(
    bytes: impl Into<SharedBytes>,
    format_hint: Option<&str>,
    limits: &Limits,
) -> Result<AudioStream, MediaError> {
    let bytes = bytes.into();
    let len = bytes.as_slice().len() as u64;
    let source = Source::Bytes(Cursor::new(bytes.clone()));
    open_source(source, len, format_hint, limits, || {
        crate::decode_bytes(bytes.as_slice(), format_hint, limits)
    })
}

/// Opens an encoded file read from `source` for decoding block by block, seeking in it
/// as the container needs: exactly the samples, checks and errors of
/// [`crate::decode_bytes`] over the source's bytes. The formats that are decoded whole
/// (see the module's notes) are read whole from `source` first.
///
/// # Errors
/// As [`crate::decode_bytes`]; a source that fails to read is [`MediaError::Io`].
pub fn open_stream_source(
    source: Box<dyn ByteSource>,
    format_hint: Option<&str>,
    limits: &Limits,
) -> Result<AudioStream, MediaError> {
    let len = source.byte_len();
    let again = source.reopen();
    open_source(Source::Other(source), len, format_hint, limits, move || {
        let mut again = again;
        let mut bytes = Vec::new();
        again.read_to_end(&mut bytes).map_err(MediaError::io)?;
        crate::decode_bytes(&bytes, format_hint, limits)
    })
}

/// Opens `source` of `len` bytes; `whole` decodes it whole, for the formats not streamed.
fn open_source(
    mut source: Source,
    len: u64,
    hint: Option<&str>,
    limits: &Limits,
    whole: impl FnOnce() -> Result<AudioBuffer, MediaError>,
) -> Result<AudioStream, MediaError> {
    check_size(len, limits)?;
    let mut sniff = Vec::with_capacity(SNIFF_LEN);
    (&mut source)
        .take(SNIFF_LEN as u64)
        .read_to_end(&mut sniff)
        .map_err(MediaError::io)?;
    source.seek(SeekFrom::Start(0)).map_err(MediaError::io)?;
    let whole_only = crate::opus::is_ogg_opus(&sniff)
        || crate::gsm::is_gsm_wav(&sniff)
        || crate::amr::is_amr(&sniff)
        || crate::amr_3gp::is_iso_bmff(&sniff);
    let opened = if crate::flac::is_flac(&sniff) {
        guarded(|| open_flac(source, limits))?
    } else if whole_only {
        None
    } else {
        precheck_wav(&sniff)?;
        let open_ended = is_live_matroska(&sniff);
        guarded(|| open_symphonia(source, hint, open_ended, limits))?
    };
    let (inner, rate, channels, source_format) = match opened {
        Some(opened) => opened,
        None => {
            let audio = whole()?;
            let (rate, channels) = (audio.rate(), audio.channel_count());
            let format = audio.source_format();
            (Inner::Whole { audio, at: 0 }, rate, channels, format)
        }
    };
    Ok(AudioStream {
        inner,
        path: None,
        rate,
        channels,
        source_format,
        frames: 0,
        max_frames: limits.max_frames(rate.hz()),
        block: vec![Vec::new(); channels],
        done: false,
    })
}

type Opened = Option<(Inner, SampleRate, usize, Option<SampleFormat>)>;

fn open_flac(source: Source, limits: &Limits) -> Result<Opened, MediaError> {
    let flac =
        claxon::FlacReader::new(BufReader::new(source)).map_err(|e| crate::flac::corrupt(0, e))?;
    let info = flac.streaminfo();
    let rate = check_rate(info.sample_rate)?;
    check_channels(info.channels as usize)?;
    if !(4..=32).contains(&info.bits_per_sample) {
        return Err(MediaError::corrupt(
            0,
            format!("FLAC: {} bits per sample", info.bits_per_sample),
        ));
    }
    let max_frames = limits.max_frames(info.sample_rate);
    if let Some(declared) = info.samples.filter(|&d| d > max_frames) {
        return Err(MediaError::Limit {
            path: None,
            what: "decoded duration (sample frames)",
            limit: max_frames,
            found: declared,
        });
    }
    let scale = 1.0 / (1u64 << (info.bits_per_sample - 1)) as f32;
    // 4..=32 checked above, so the narrowing cannot wrap.
    let bits = info.bits_per_sample as u8;
    Ok(Some((
        Inner::Flac {
            reader: Box::new(flac),
            buffer: Vec::new(),
            scale,
            declared: info.samples,
        },
        rate,
        info.channels as usize,
        Some(SampleFormat::Int { bits }),
    )))
}

/// `None` when the track must be decoded whole (Opus in Matroska).
fn open_symphonia(
    source: Source,
    hint_ext: Option<&str>,
    open_ended: bool,
    limits: &Limits,
) -> Result<Opened, MediaError> {
    let (format, track_id, declared, params) = probe_audio_track(Box::new(source), hint_ext)?;
    if params.codec == CODEC_ID_OPUS {
        return Ok(None);
    }
    let (checked_rate, decoder) = checked_decoder(&params, declared, limits)?;
    let rate = checked_rate.hz();
    let mut inner = Inner::Symphonia {
        format,
        decoder,
        track_id,
        declared,
        open_ended,
        first: None,
    };
    // The channel count is the first decoded block's (as `decode_file` takes it).
    let mut first = Vec::new();
    if !symphonia_block(&mut inner, rate, 0, &mut first)? {
        return Err(MediaError::NoAudio { path: None });
    }
    let channels = first.len();
    check_channels(channels)?;
    if let Inner::Symphonia { first: slot, .. } = &mut inner {
        *slot = Some(first);
    }
    Ok(Some((inner, checked_rate, channels, pcm_format(&params))))
}

/// Reads the next non-empty decoded block of a symphonia stream into `out`; false at its
/// end.
fn symphonia_block(
    inner: &mut Inner,
    rate: u32,
    done: u64,
    out: &mut Vec<Vec<f32>>,
) -> Result<bool, MediaError> {
    let Inner::Symphonia {
        format,
        decoder,
        track_id,
        open_ended,
        first,
        ..
    } = inner
    else {
        return Ok(false);
    };
    if let Some(block) = first.take() {
        *out = block;
        return Ok(true);
    }
    loop {
        let packet = match format.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => return Ok(false),
            Err(e) if *open_ended && is_eof(&e) => return Ok(false),
            Err(e) => return Err(map_sym(e, done)),
        };
        if packet.track_id != *track_id {
            continue;
        }
        let buf = decoder.decode(&packet).map_err(|e| map_sym(e, done))?;
        if buf.frames() == 0 {
            continue;
        }
        if buf.spec().rate() != rate {
            return Err(MediaError::corrupt(
                done,
                format!(
                    "sample rate changed mid-stream from {rate} to {}",
                    buf.spec().rate()
                ),
            ));
        }
        buf.copy_to_vecs_planar(out);
        out.truncate(buf.spec().channels().count());
        for p in out.iter_mut() {
            p.truncate(buf.frames());
        }
        return Ok(true);
    }
}

impl AudioStream {
    /// The stream's sample rate.
    pub fn rate(&self) -> SampleRate {
        self.rate
    }

    /// The stream's channel count.
    pub fn channel_count(&self) -> usize {
        self.channels
    }

    /// The source's sample format, as [`AudioBuffer::source_format`] records it.
    pub fn source_format(&self) -> Option<SampleFormat> {
        self.source_format
    }

    /// Frames handed out so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The next block, one `Vec` per channel, all of one length; `None` at the end.
    ///
    /// # Errors
    /// As [`crate::decode_file`] (naming the file) or [`crate::decode_bytes`]: corrupt or truncated input, a non-finite
    /// sample, a cap of [`Limits`] crossed.
    pub fn next_block(&mut self) -> Result<Option<&[Vec<f32>]>, MediaError> {
        if self.done {
            return Ok(None);
        }
        let got = guarded(|| self.read_block()).map_err(|e| match &self.path {
            Some(path) => e.with_path(path),
            None => e,
        });
        match got {
            Ok(true) => Ok(Some(&self.block)),
            Ok(false) => {
                self.done = true;
                Ok(None)
            }
            Err(e) => {
                self.done = true;
                Err(e)
            }
        }
    }

    /// Fills `self.block`; false at the end.
    fn read_block(&mut self) -> Result<bool, MediaError> {
        let done = self.frames;
        let frames = match &mut self.inner {
            Inner::Whole { audio, at } => {
                let end = (*at + WHOLE_BLOCK).min(audio.frames());
                for (dst, src) in self.block.iter_mut().zip(audio.channels()) {
                    dst.clear();
                    dst.extend_from_slice(&src[*at..end]);
                }
                let n = end - *at;
                *at = end;
                if n == 0 {
                    return Ok(false);
                }
                // Checked by the decoder already.
                self.frames += n as u64;
                return Ok(true);
            }
            Inner::Flac {
                reader,
                buffer,
                scale,
                declared,
            } => {
                let block = reader
                    .blocks()
                    .read_next_or_eof(std::mem::take(buffer))
                    .map_err(|e| crate::flac::corrupt(done, e))?;
                let Some(block) = block else {
                    if let Some(d) = declared.filter(|&d| done < d) {
                        return Err(MediaError::Truncated {
                            path: None,
                            decoded: done,
                            declared: d,
                        });
                    }
                    return self.end();
                };
                if block.channels() as usize != self.channels {
                    return Err(MediaError::corrupt(
                        done,
                        "FLAC: channel count changed mid-stream",
                    ));
                }
                for (c, plane) in self.block.iter_mut().enumerate() {
                    plane.clear();
                    plane.extend(block.channel(c as u32).iter().map(|&s| s as f32 * *scale));
                }
                let n = block.duration() as usize;
                *buffer = block.into_buffer();
                n
            }
            Inner::Symphonia { declared, .. } => {
                let declared = *declared;
                if !symphonia_block(&mut self.inner, self.rate.hz(), done, &mut self.block)? {
                    if let Some(d) = declared.filter(|&d| done < d) {
                        return Err(MediaError::Truncated {
                            path: None,
                            decoded: done,
                            declared: d,
                        });
                    }
                    return self.end();
                }
                if self.block.len() != self.channels {
                    return Err(MediaError::corrupt(
                        done,
                        "channel count changed mid-stream",
                    ));
                }
                self.block.first().map_or(0, Vec::len)
            }
        };
        let total = done + frames as u64;
        if total > self.max_frames {
            return Err(MediaError::Limit {
                path: None,
                what: "decoded duration (sample frames)",
                limit: self.max_frames,
                found: total,
            });
        }
        for (c, plane) in self.block.iter().enumerate() {
            if let Some(i) = plane.iter().position(|x| !x.is_finite()) {
                return Err(MediaError::corrupt(
                    done + i as u64,
                    format!("non-finite sample (NaN or infinity) in channel {c}"),
                ));
            }
        }
        self.frames = total;
        Ok(true)
    }

    /// The end of a decoded stream: nothing at all is [`MediaError::NoAudio`].
    fn end(&mut self) -> Result<bool, MediaError> {
        if self.frames == 0 {
            return Err(MediaError::NoAudio { path: None });
        }
        Ok(false)
    }
}
