//! Writing WAV block by block, to a file ([`WavStreamWriter`]) or into memory (through
//! [`crate::StreamEncoder`]), byte for byte as [`crate::encode_bytes`] writes [`Format::Wav`].
//!
//! Held in memory: one block's bytes and a write buffer; the samples go out as they come.
//! Integer WAV is TPDF-dithered unless every sample already lies on the integer grid
//! (`src/quantize.rs`). That is known only at the end: the writer writes plain integers for
//! as long as the samples lie on the grid and, if one does not, rewrites that prefix with
//! dither when it is finished (reading back the integers it wrote, which hold the samples
//! exactly), so the file is the one the whole-buffer writer makes either way.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use tracemark_dsp::{SampleFormat, SampleRate};

use crate::quantize::{Pcm, Redither, SampleChoice, StreamQuantizer, resolve_for};
use crate::{Format, MediaError};

/// Checks that `block` holds `channels` channels of one length; returns that length.
pub(crate) fn block_frames<C: AsRef<[f32]>>(
    format: Format,
    channels: usize,
    block: &[C],
) -> Result<usize, MediaError> {
    let frames = block.first().map_or(0, |c| c.as_ref().len());
    if block.len() != channels || block.iter().any(|c| c.as_ref().len() != frames) {
        return Err(MediaError::Encode {
            format,
            reason: format!(
                "a block of {} channels of unequal or wrong shape for {channels}",
                block.len(),
            ),
        });
    }
    Ok(frames)
}

/// The WAV writer over any seekable output: the header is hound's, as [`crate::encode_bytes`]
/// writes it, with its sizes patched when finished.
pub(crate) struct WavSink<W: Read + Write + Seek> {
    out: BufWriter<W>,
    pcm: Pcm,
    channels: usize,
    /// Where the samples start.
    data_offset: u64,
    /// For integer samples.
    quantizer: Option<StreamQuantizer>,
    /// Interleaved samples written.
    written: u64,
    bytes: Vec<u8>,
    /// A block's integers and dither, reused.
    ints: Vec<i32>,
    noise: Vec<f64>,
}

impl<W: Read + Write + Seek> WavSink<W> {
    /// Starts a WAV in `pcm` for `channels` channels at `rate` in `out`.
    pub(crate) fn new(out: W, rate: u32, channels: usize, pcm: Pcm) -> Result<Self, MediaError> {
        let spec = crate::wav::spec(rate, channels, pcm)?;
        // hound's own header, for no samples yet; its last field is the data length.
        let mut header = std::io::Cursor::new(Vec::new());
        hound::WavWriter::new(&mut header, spec)
            .and_then(hound::WavWriter::finalize)
            .map_err(|e| MediaError::Encode {
                format: Format::Wav,
                reason: e.to_string(),
            })?;
        let header = header.into_inner();
        let mut out = BufWriter::with_capacity(1 << 18, out);
        out.write_all(&header).map_err(MediaError::io)?;
        let quantizer = match pcm {
            Pcm::Float32 => None,
            Pcm::Int { bits, dither } => Some(StreamQuantizer::new(bits, dither)),
        };
        Ok(Self {
            out,
            pcm,
            channels,
            data_offset: header.len() as u64,
            quantizer,
            written: 0,
            bytes: Vec::new(),
            ints: Vec::new(),
            noise: Vec::new(),
        })
    }

    /// Appends a block: `block[c]` holds channel `c`'s frames, all of one length.
    pub(crate) fn write<C: AsRef<[f32]>>(&mut self, block: &[C]) -> Result<(), MediaError> {
        let frames = block_frames(Format::Wav, self.channels, block)?;
        let width = usize::from(self.width());
        let samples = (frames * self.channels) as u64;
        let data = (self.written + samples) * width as u64;
        if self.data_offset - 8 + data > u64::from(u32::MAX) {
            return Err(MediaError::Encode {
                format: Format::Wav,
                reason: "a WAV file cannot hold more than 4 GiB".into(),
            });
        }
        self.bytes.clear();
        match &mut self.quantizer {
            None => {
                for i in 0..frames {
                    for ch in block {
                        self.bytes.extend_from_slice(&ch.as_ref()[i].to_le_bytes());
                    }
                }
            }
            Some(q) => {
                self.ints.clear();
                q.next_block(block, frames, &mut self.ints, &mut self.noise);
                self.bytes.reserve(self.ints.len() * width);
                match width {
                    2 => {
                        self.bytes.resize(self.ints.len() * 2, 0);
                        for (b, &v) in self.bytes.chunks_exact_mut(2).zip(&self.ints) {
                            b.copy_from_slice(&(v as i16).to_le_bytes());
                        }
                    }
                    _ => {
                        for &v in &self.ints {
                            push_int(&mut self.bytes, v, width);
                        }
                    }
                }
            }
        }
        self.out.write_all(&self.bytes).map_err(MediaError::io)?;
        self.written += samples;
        Ok(())
    }

    fn width(&self) -> u8 {
        match self.pcm {
            Pcm::Float32 => 4,
            Pcm::Int { bits, .. } => bits.div_ceil(8),
        }
    }

    /// Finishes the file (and, where dither turned out to be needed, dithers the samples
    /// written before that was known); gives back the output, positioned at the file's end.
    pub(crate) fn finish(self) -> std::io::Result<W> {
        let data = self.written * u64::from(self.width());
        let (offset, pcm) = (self.data_offset, self.pcm);
        let prefix = self
            .quantizer
            .as_ref()
            .and_then(StreamQuantizer::plain_prefix);
        let mut out = self.out.into_inner().map_err(|e| e.into_error())?;
        // As hound's `update_header`: the RIFF size, then the data chunk's. Both fit in
        // `u32`: `write` refuses more.
        let riff = (offset - 8 + data) as u32;
        out.seek(SeekFrom::Start(4))?;
        out.write_all(&riff.to_le_bytes())?;
        out.seek(SeekFrom::Start(offset - 4))?;
        out.write_all(&(data as u32).to_le_bytes())?;
        if let (Some(count), Pcm::Int { bits, .. }) = (prefix, pcm) {
            dither_prefix(&mut out, offset, bits, count)?;
        }
        out.seek(SeekFrom::Start(offset + data))?;
        out.flush()?;
        Ok(out)
    }
}

/// Writes a WAV file block by block, byte for byte as [`crate::encode_bytes`] writes
/// [`Format::Wav`] for audio of the same rate, channel count and source format (see the
/// module doc for how dither is kept identical). To write into memory, see
/// [`crate::StreamEncoder`].
pub struct WavStreamWriter {
    sink: WavSink<File>,
    path: PathBuf,
}

impl std::fmt::Debug for WavStreamWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WavStreamWriter")
            .field("path", &self.path)
            .field("pcm", &self.sink.pcm)
            .field("written", &self.sink.written)
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
        crate::wav::spec(rate.hz(), channels, pcm)?;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(|e| MediaError::io(e).with_path(path))?;
        let sink = WavSink::new(file, rate.hz(), channels, pcm).map_err(|e| e.with_path(path))?;
        Ok(Self {
            sink,
            path: path.to_path_buf(),
        })
    }

    /// Appends a block: `block[c]` holds channel `c`'s frames, all of one length.
    ///
    /// # Errors
    /// [`MediaError::Encode`] for a block of the wrong shape or a file past 4 GiB; write
    /// failures, naming the file.
    pub fn write<C: AsRef<[f32]>>(&mut self, block: &[C]) -> Result<(), MediaError> {
        self.sink.write(block).map_err(|e| e.with_path(&self.path))
    }

    /// Finishes the file (and, where dither turned out to be needed, dithers the samples
    /// written before that was known).
    ///
    /// # Errors
    /// Write failures, naming the file.
    pub fn finish(self) -> Result<(), MediaError> {
        let path = self.path;
        self.sink
            .finish()
            .map(drop)
            .map_err(|e| MediaError::io(e).with_path(&path))
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

/// Rewrites the first `count` samples of the integer WAV `out` (samples from `offset`) with
/// the dither the whole-buffer writer gives them (the samples lay on the grid, so each
/// integer is its sample exactly).
fn dither_prefix<W: Read + Write + Seek>(
    out: &mut W,
    offset: u64,
    bits: u8,
    count: u64,
) -> std::io::Result<()> {
    let width = usize::from(bits.div_ceil(8));
    let mut redither = Redither::new(bits);
    let mut bytes = vec![0u8; width * (1 << 16)];
    let mut done = 0u64;
    while done < count {
        let n = ((count - done) as usize).min(1 << 16);
        let at = offset + done * width as u64;
        out.seek(SeekFrom::Start(at))?;
        let buf = &mut bytes[..n * width];
        out.read_exact(buf)?;
        for sample in buf.chunks_exact_mut(width) {
            write_int(sample, redither.next(read_int(sample)));
        }
        out.seek(SeekFrom::Start(at))?;
        out.write_all(buf)?;
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
