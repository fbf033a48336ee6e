//! Reading and writing audio block by block, with memory bounded by one block whatever the
//! file's length: [`open_stream`] gives the same samples as [`crate::decode_file`] (same
//! decoders, same checks, same errors), and [`WavStreamWriter`] writes the same bytes as
//! [`crate::encode_bytes`] for [`Format::Wav`].
//!
//! Streamed: native FLAC (claxon) and everything symphonia decodes on its own (WAV, AIFF,
//! MP3, Vorbis, CAF, Matroska without Opus). Read whole and then handed out in blocks, as
//! before: Opus, GSM 06.10, AMR, 3GP and MP4/MOV (whose edit lists apply to the whole track).

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use symphonia::core::codecs::audio::AudioDecoder;
use symphonia::core::codecs::audio::well_known::CODEC_ID_OPUS;
use symphonia::core::formats::FormatReader;
use tracemark_dsp::{AudioBuffer, SampleFormat, SampleRate};

use crate::collect::{check_channels, check_rate};
use crate::decode::{
    SNIFF_LEN, check_size, checked_decoder, guarded, is_eof, is_live_matroska, map_sym, pcm_format,
    precheck_wav, probe_audio_track,
};
use crate::quantize::{Pcm, SampleChoice, Tpdf, on_grid_sample, resolve_for};
use crate::{Format, Limits, MediaError};

/// Frames handed out per block when the whole file was decoded first.
const WHOLE_BLOCK: usize = 1 << 16;

/// An audio file being decoded block by block; see [`open_stream`].
pub struct AudioStream {
    inner: Inner,
    path: PathBuf,
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
        reader: Box<claxon::FlacReader<BufReader<File>>>,
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
    open_inner(path, limits).map_err(|e| e.with_path(path))
}

fn open_inner(path: &Path, limits: &Limits) -> Result<AudioStream, MediaError> {
    let mut file = File::open(path).map_err(MediaError::io)?;
    let len = file.metadata().map_err(MediaError::io)?.len();
    check_size(len, limits)?;
    let mut sniff = Vec::with_capacity(SNIFF_LEN);
    (&mut file)
        .take(SNIFF_LEN as u64)
        .read_to_end(&mut sniff)
        .map_err(MediaError::io)?;
    file.seek(SeekFrom::Start(0)).map_err(MediaError::io)?;
    let whole_only = crate::opus::is_ogg_opus(&sniff)
        || crate::gsm::is_gsm_wav(&sniff)
        || crate::amr::is_amr(&sniff)
        || crate::amr_3gp::is_iso_bmff(&sniff);
    let opened = if crate::flac::is_flac(&sniff) {
        guarded(|| open_flac(file, limits))?
    } else if whole_only {
        None
    } else {
        precheck_wav(&sniff)?;
        let hint = path.extension().and_then(|e| e.to_str());
        let open_ended = is_live_matroska(&sniff);
        guarded(|| open_symphonia(file, hint, open_ended, limits))?
    };
    let (inner, rate, channels, source_format) = match opened {
        Some(opened) => opened,
        None => {
            let audio = crate::decode_file(path, limits)?;
            let (rate, channels) = (audio.rate(), audio.channel_count());
            let format = audio.source_format();
            (Inner::Whole { audio, at: 0 }, rate, channels, format)
        }
    };
    Ok(AudioStream {
        inner,
        path: path.to_path_buf(),
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

fn open_flac(file: File, limits: &Limits) -> Result<Opened, MediaError> {
    let flac =
        claxon::FlacReader::new(BufReader::new(file)).map_err(|e| crate::flac::corrupt(0, e))?;
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
    file: File,
    hint_ext: Option<&str>,
    open_ended: bool,
    limits: &Limits,
) -> Result<Opened, MediaError> {
    let (format, track_id, declared, params) = probe_audio_track(Box::new(file), hint_ext)?;
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
    /// As [`crate::decode_file`], naming the file: corrupt or truncated input, a non-finite
    /// sample, a cap of [`Limits`] crossed.
    pub fn next_block(&mut self) -> Result<Option<&[Vec<f32>]>, MediaError> {
        if self.done {
            return Ok(None);
        }
        let got = guarded(|| self.read_block()).map_err(|e| e.with_path(&self.path));
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

/// Writes a WAV file block by block, byte for byte as [`crate::encode_bytes`] writes
/// [`Format::Wav`] for audio of the same rate, channel count and source format.
///
/// Integer WAV is TPDF-dithered unless every sample already lies on the integer grid
/// (`src/quantize.rs`). That is known only at the end: the writer writes plain integers for
/// as long as the samples lie on the grid and, if one does not, rewrites that prefix with
/// dither when it is finished (reading back the integers it wrote, which hold the samples
/// exactly), so the file is the one the whole-buffer writer makes either way.
pub struct WavStreamWriter {
    file: std::io::BufWriter<File>,
    path: PathBuf,
    pcm: Pcm,
    channels: usize,
    /// Where the samples start: the header is hound's, as [`crate::encode_bytes`] writes it.
    data_offset: u64,
    noise: Tpdf,
    /// Interleaved samples written, and how many at the start were written without
    /// dither while dither turned out to be needed.
    written: u64,
    dithering: bool,
    plain_prefix: u64,
    bytes: Vec<u8>,
}

impl std::fmt::Debug for WavStreamWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WavStreamWriter")
            .field("path", &self.path)
            .field("pcm", &self.pcm)
            .field("written", &self.written)
            .finish()
    }
}

impl WavStreamWriter {
    /// Creates (or truncates) `path` for audio of `rate` and `channels` whose source format
    /// is `source_format` (the sample format is chosen as [`crate::encode_bytes`] chooses
    /// it).
    ///
    /// # Errors
    /// [`MediaError::EncodeChannels`] past 65535 channels, [`MediaError::Io`] or
    /// [`MediaError::Encode`] naming `path` when the file cannot be written.
    pub fn create(
        path: &Path,
        rate: SampleRate,
        channels: usize,
        source_format: Option<SampleFormat>,
    ) -> Result<Self, MediaError> {
        let pcm = resolve_for(source_format, Format::Wav, SampleChoice::Source)?;
        let spec = crate::wav::spec(rate.hz(), channels, pcm)?;
        // hound's own header, for no samples yet; its last field is the data length.
        let mut header = std::io::Cursor::new(Vec::new());
        hound::WavWriter::new(&mut header, spec)
            .and_then(hound::WavWriter::finalize)
            .map_err(encode_error)?;
        let header = header.into_inner();
        let io = |e: std::io::Error| MediaError::io(e).with_path(path);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(io)?;
        let mut file = std::io::BufWriter::with_capacity(1 << 18, file);
        file.write_all(&header).map_err(io)?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
            pcm,
            channels,
            data_offset: header.len() as u64,
            noise: Tpdf::new(),
            written: 0,
            dithering: false,
            plain_prefix: 0,
            bytes: Vec::new(),
        })
    }

    /// Appends a block: `block[c]` holds channel `c`'s frames, all of one length.
    ///
    /// # Errors
    /// [`MediaError::Encode`] for a block of the wrong shape or a file past 4 GiB; write
    /// failures, naming the file.
    pub fn write(&mut self, block: &[Vec<f32>]) -> Result<(), MediaError> {
        let frames = block.first().map_or(0, Vec::len);
        if block.len() != self.channels || block.iter().any(|c| c.len() != frames) {
            return Err(MediaError::Encode {
                format: Format::Wav,
                reason: format!(
                    "a block of {} channels of unequal or wrong shape for {}",
                    block.len(),
                    self.channels
                ),
            });
        }
        self.bytes.clear();
        match self.pcm {
            Pcm::Float32 => {
                for i in 0..frames {
                    for ch in block {
                        self.bytes.extend_from_slice(&ch[i].to_le_bytes());
                    }
                }
            }
            Pcm::Int { bits, dither } => {
                let scale = f64::from(1u32 << (bits - 1));
                let (lo, hi) = (-scale, scale - 1.0);
                let width = usize::from(bits.div_ceil(8));
                let mut at = self.written;
                for i in 0..frames {
                    for ch in block {
                        let x = ch[i];
                        // The dither sequence runs whether or not it is used, so that each
                        // sample meets the same noise as in the whole-buffer writer.
                        let d = self.noise.next_lsb();
                        if dither && !self.dithering && !on_grid_sample(x, scale) {
                            self.dithering = true;
                            self.plain_prefix = at;
                        }
                        let d = if self.dithering { d } else { 0.0 };
                        let v = round_clamped(f64::from(x) * scale + d, lo, hi);
                        push_int(&mut self.bytes, v, width);
                        at += 1;
                    }
                }
            }
        }
        let samples = (frames * self.channels) as u64;
        let data = (self.written + samples) * u64::from(self.pcm_width());
        if self.data_offset - 8 + data > u64::from(u32::MAX) {
            return Err(MediaError::Encode {
                format: Format::Wav,
                reason: "a WAV file cannot hold more than 4 GiB".into(),
            });
        }
        self.file
            .write_all(&self.bytes)
            .map_err(|e| MediaError::io(e).with_path(&self.path))?;
        self.written += samples;
        Ok(())
    }

    fn pcm_width(&self) -> u8 {
        match self.pcm {
            Pcm::Float32 => 4,
            Pcm::Int { bits, .. } => bits.div_ceil(8),
        }
    }

    /// Finishes the file (and, where dither turned out to be needed, dithers the samples
    /// written before that was known).
    ///
    /// # Errors
    /// Write failures, naming the file.
    pub fn finish(self) -> Result<(), MediaError> {
        let path = self.path.clone();
        self.finish_inner()
            .map_err(|e| MediaError::io(e).with_path(&path))
    }

    fn finish_inner(mut self) -> std::io::Result<()> {
        self.file.flush()?;
        let data = self.written * u64::from(self.pcm_width());
        // As hound's `update_header`: the RIFF size, then the data chunk's. Both fit in
        // `u32`: `write` refuses more.
        let riff = (self.data_offset - 8 + data) as u32;
        let file = self.file.get_mut();
        file.seek(SeekFrom::Start(4))?;
        file.write_all(&riff.to_le_bytes())?;
        file.seek(SeekFrom::Start(self.data_offset - 4))?;
        file.write_all(&(data as u32).to_le_bytes())?;
        if let (true, Pcm::Int { bits, .. }) = (self.dithering, self.pcm)
            && self.plain_prefix > 0
        {
            dither_prefix(file, self.data_offset, bits, self.plain_prefix)?;
        }
        file.flush()
    }
}

/// Appends `v` as a WAV integer sample of `width` bytes (8 bits unsigned, offset 128, as
/// hound writes it; wider ones signed little-endian).
fn push_int(out: &mut Vec<u8>, v: i32, width: usize) {
    match width {
        1 => out.push((v + 128) as u8),
        2 => out.extend_from_slice(&(v as i16).to_le_bytes()),
        3 => out.extend_from_slice(&v.to_le_bytes()[..3]),
        _ => out.extend_from_slice(&v.to_le_bytes()),
    }
}

/// `v.round().clamp(lo, hi) as i32` for finite `v` and integer bounds within `i32`, without
/// the libm call `f64::round` compiles to on baseline x86-64 (no SSE4.1 `roundsd`): half
/// away from zero, as `round`. Exact: below 2^31 in magnitude, `v - trunc(v)` is exact.
fn round_clamped(v: f64, lo: f64, hi: f64) -> i32 {
    if !(lo..=hi).contains(&v) {
        // Past a bound (or NaN, which `clamp` passes and `as` makes 0).
        return v.round().clamp(lo, hi) as i32;
    }
    // Within i32: the cast truncates exactly.
    let t = v as i32;
    let frac = v - f64::from(t);
    // `round(v)` of a `v` within `[lo, hi]`, integers, is within them too. No branch: under
    // dither the fraction is noise, and a branch on it would be mispredicted half the time.
    t + i32::from(frac >= 0.5) - i32::from(frac <= -0.5)
}

fn encode_error(e: hound::Error) -> MediaError {
    MediaError::Encode {
        format: Format::Wav,
        reason: e.to_string(),
    }
}

/// Rewrites the first `count` samples of the integer WAV `file` (samples from `offset`) with the dither the
/// whole-buffer writer gives them (the samples lay on the grid, so each integer is its
/// sample exactly).
fn dither_prefix(file: &mut File, offset: u64, bits: u8, count: u64) -> std::io::Result<()> {
    let width = usize::from(bits.div_ceil(8));
    let scale = f64::from(1u32 << (bits - 1));
    let (lo, hi) = (-scale, scale - 1.0);
    let mut noise = Tpdf::new();
    let mut bytes = vec![0u8; width * (1 << 16)];
    let mut done = 0u64;
    while done < count {
        let n = ((count - done) as usize).min(1 << 16);
        let at = offset + done * width as u64;
        file.seek(SeekFrom::Start(at))?;
        let buf = &mut bytes[..n * width];
        file.read_exact(buf)?;
        for sample in buf.chunks_exact_mut(width) {
            let v = read_int(sample);
            let y = (f64::from(v) + noise.next_lsb()).round().clamp(lo, hi) as i32;
            write_int(sample, y);
        }
        file.seek(SeekFrom::Start(at))?;
        file.write_all(buf)?;
        done += n as u64;
    }
    Ok(())
}

/// A WAV integer sample of 1 (unsigned, offset 128) to 4 bytes (signed, little-endian).
fn read_int(b: &[u8]) -> i32 {
    match b.len() {
        1 => i32::from(b[0]) - 128,
        2 => i32::from(i16::from_le_bytes([b[0], b[1]])),
        3 => i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8,
        _ => i32::from_le_bytes([b[0], b[1], b[2], b[3]]),
    }
}

fn write_int(b: &mut [u8], v: i32) {
    match b.len() {
        1 => b[0] = (v + 128) as u8,
        2 => b.copy_from_slice(&(v as i16).to_le_bytes()),
        3 => b.copy_from_slice(&v.to_le_bytes()[..3]),
        _ => b.copy_from_slice(&v.to_le_bytes()),
    }
}
