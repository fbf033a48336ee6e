//! FLAC encoding with flacenc 0.5, frame by frame: [`FlacStream`] is the one FLAC writer,
//! behind both [`crate::encode_bytes`] (fed the whole buffer as one block) and
//! [`crate::StreamEncoder`].
//!
//! It runs flacenc's own `encode_with_fixed_block_size` loop by hand (the same frame buffer,
//! context, MD5, frame numbers and STREAMINFO updates), so the bytes are those of that call;
//! but each frame is serialised as soon as it is coded and written to the output: a
//! placeholder of STREAMINFO's length first, then the frames as they come, then STREAMINFO
//! written over the placeholder when the stream ends (its MD5 and sample count are known
//! only then). Held in memory: one frame of integer samples (4096 per channel) and the
//! coder's state, never the PCM signal.
//!
//! Dither (see `src/quantize.rs`) is needed only if some sample lies off the integer grid,
//! which a stream learns late. While dither may still be needed and every sample so far lay
//! on the grid, the frames are kept in memory rather than written; when a sample off the
//! grid arrives they are decoded (claxon, from the bytes kept), dithered as the whole-buffer
//! path dithers them, and coded again, once, with the MD5 restarted, and from then on frames
//! go out as they are coded. So what is held is the frames of the longest prefix on the
//! grid: for a marked copy, its leading digital silence.

use flacenc::component::{BitRepr, Stream, StreamInfo};
use flacenc::config::Encoder as Config;
use flacenc::error::{Verified, Verify};
use flacenc::source::{Context, Fill, FrameBuf};
use std::io::{Seek, Write};

use crate::quantize::{Pcm, Redither, StreamQuantizer};
use crate::wav_stream::block_frames;
use crate::{Format, MediaError};

fn err(reason: String) -> MediaError {
    MediaError::Encode {
        format: Format::Flac,
        reason,
    }
}

/// A FLAC stream being coded frame by frame into `W`.
pub(crate) struct FlacStream<W: Write + Seek> {
    config: Verified<Config>,
    channels: usize,
    bits: u8,
    rate: u32,
    coder: Coder,
    quantizer: StreamQuantizer,
    /// A block's integers and dither, reused.
    ints: Vec<i32>,
    noise: Vec<f64>,
    /// Whether the samples written plain before dither was found needed have been redone.
    redithered: bool,
    out: W,
    /// Where the file starts in `out`, the placeholder's length, and the frame bytes written.
    start: u64,
    header_len: usize,
    written: u64,
}

/// What flacenc's loop keeps: STREAMINFO as frames update it, the frame buffer, the context
/// (MD5, sample and frame counts), the frame being filled and the frames coded.
struct Coder {
    info: StreamInfo,
    framebuf: FrameBuf,
    context: Context,
    pending: Vec<i32>,
    frames: Vec<u8>,
}

impl Coder {
    fn new(
        config: &Verified<Config>,
        rate: u32,
        channels: usize,
        bits: u8,
    ) -> Result<Self, MediaError> {
        let bits = usize::from(bits);
        let block = config.block_size;
        let mut stream =
            Stream::new(rate as usize, channels, bits).map_err(|e| err(format!("{e:?}")))?;
        // As `encode_with_fixed_block_size` sets them before its first frame.
        stream
            .stream_info_mut()
            .set_block_sizes(block, block)
            .map_err(|e| err(format!("{e:?}")))?;
        Ok(Self {
            info: stream.stream_info().clone(),
            framebuf: FrameBuf::with_size(channels, block).map_err(|e| err(format!("{e:?}")))?,
            context: Context::new(bits, channels),
            pending: Vec::with_capacity(block * channels),
            frames: Vec::new(),
        })
    }

    /// Codes the samples pending as one frame.
    fn code_pending(&mut self, config: &Verified<Config>) -> Result<(), MediaError> {
        (&mut self.framebuf, &mut self.context)
            .fill_interleaved(&self.pending)
            .map_err(|e| err(format!("{e:?}")))?;
        let number = self.context.current_frame_number().unwrap_or(0);
        let frame = flacenc::encode_fixed_size_frame(config, &self.framebuf, number, &self.info)
            .map_err(|e| err(format!("{e:?}")))?;
        self.info.update_frame_info(&frame);
        let mut sink = flacenc::bitsink::ByteSink::new();
        frame.write(&mut sink).map_err(|e| err(format!("{e:?}")))?;
        self.frames.extend_from_slice(sink.as_slice());
        self.pending.clear();
        Ok(())
    }

    /// "fLaC" and STREAMINFO, as `Stream::write` writes them once the stream is done.
    fn header(&self) -> Result<Vec<u8>, MediaError> {
        let mut info = self.info.clone();
        info.set_md5_digest(&self.context.md5_digest());
        info.set_total_samples(self.context.total_samples());
        let mut sink = flacenc::bitsink::ByteSink::new();
        Stream::with_stream_info(info)
            .write(&mut sink)
            .map_err(|e| err(format!("{e:?}")))?;
        let mut bytes = sink.as_slice().to_vec();
        fix_streaminfo_min_block(&mut bytes);
        Ok(bytes)
    }
}

impl<W: Write + Seek> FlacStream<W> {
    /// A FLAC stream of `channels` channels at `rate` Hz in `pcm` (float becomes 16-bit,
    /// rounded), written to `out` from its current position.
    pub(crate) fn new(
        mut out: W,
        rate: u32,
        channels: usize,
        pcm: Pcm,
    ) -> Result<Self, MediaError> {
        // FLAC carries 1 to 8 channels (RFC 9639 §9.1.3).
        if channels > 8 {
            return Err(MediaError::EncodeChannels {
                format: Format::Flac,
                count: channels,
                max: 8,
            });
        }
        let (bits, dither) = match pcm {
            Pcm::Int { bits, dither } => (bits, dither),
            Pcm::Float32 => (16, false),
        };
        let config = Config::default()
            .into_verified()
            .map_err(|(_, e)| err(format!("config: {e:?}")))?;
        let coder = Coder::new(&config, rate, channels, bits)?;
        // STREAMINFO's length does not depend on its contents (RFC 9639 §8.2).
        let placeholder = coder.header()?;
        let start = out.stream_position().map_err(MediaError::io)?;
        out.write_all(&placeholder).map_err(MediaError::io)?;
        Ok(Self {
            config,
            channels,
            bits,
            rate,
            coder,
            quantizer: StreamQuantizer::new(bits, dither),
            ints: Vec::new(),
            noise: Vec::new(),
            redithered: false,
            out,
            start,
            header_len: placeholder.len(),
            written: 0,
        })
    }

    /// Writes the frames coded so far (call it once they can no longer be recoded).
    fn write_frames(&mut self) -> Result<(), MediaError> {
        if !self.coder.frames.is_empty() {
            self.out
                .write_all(&self.coder.frames)
                .map_err(MediaError::io)?;
            self.written += self.coder.frames.len() as u64;
            self.coder.frames.clear();
        }
        Ok(())
    }

    /// Appends a block: `block[c]` holds channel `c`'s frames, all of one length.
    pub(crate) fn push<C: AsRef<[f32]>>(&mut self, block: &[C]) -> Result<(), MediaError> {
        let frames = block_frames(Format::Flac, self.channels, block)?;
        let full = self.config.block_size * self.channels;
        let mut ints = std::mem::take(&mut self.ints);
        ints.clear();
        self.quantizer
            .next_block(block, frames, &mut ints, &mut self.noise);
        // Whole frames into the pending block, coded each time it fills.
        let mut rest = &ints[..];
        while !rest.is_empty() {
            let take = (full - self.coder.pending.len()).min(rest.len());
            self.coder.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.coder.pending.len() == full {
                self.coder.code_pending(&self.config)?;
            }
        }
        self.ints = ints;
        if let (false, Some(plain)) = (self.redithered, self.quantizer.plain_prefix()) {
            self.redithered = true;
            self.redither(plain)?;
        }
        // Once the quantiser has settled (dither is off, or it started and the plain prefix
        // was redone above), no frame coded so far will be recoded.
        if self.quantizer.settled() {
            self.write_frames()?;
        }
        Ok(())
    }

    /// Recodes everything so far with the first `plain` samples dithered.
    fn redither(&mut self, plain: u64) -> Result<(), MediaError> {
        let header = self.coder.header()?;
        let old = std::mem::replace(
            &mut self.coder,
            Coder::new(&self.config, self.rate, self.channels, self.bits)?,
        );
        let mut redither = Redither::new(self.bits);
        let mut at = 0u64;
        let mut fix = |v: i32| {
            at += 1;
            if at <= plain { redither.next(v) } else { v }
        };
        let coded = std::io::Cursor::new([header.as_slice(), &old.frames].concat());
        drop(old.frames);
        let decode = |e: claxon::Error| err(format!("re-reading coded frames: {e}"));
        let mut reader = claxon::FlacReader::new(coded).map_err(decode)?;
        let mut blocks = reader.blocks();
        let mut buffer = Vec::new();
        while let Some(block) = blocks.read_next_or_eof(buffer).map_err(decode)? {
            for i in 0..block.duration() as usize {
                for c in 0..self.channels as u32 {
                    self.coder.pending.push(fix(block.channel(c)[i]));
                }
            }
            self.coder.code_pending(&self.config)?;
            buffer = block.into_buffer();
        }
        self.coder.pending.extend(old.pending.into_iter().map(fix));
        Ok(())
    }

    /// Ends the stream: the last frame, then STREAMINFO over the placeholder. Gives back
    /// the output, positioned at the file's end.
    pub(crate) fn finish(mut self) -> Result<W, MediaError> {
        if !self.coder.pending.is_empty() {
            self.coder.code_pending(&self.config)?;
        }
        // Nothing can be recoded now.
        self.write_frames()?;
        let header = self.coder.header()?;
        if header.len() != self.header_len {
            return Err(err(format!(
                "STREAMINFO came to {} bytes, not the {} reserved for it",
                header.len(),
                self.header_len
            )));
        }
        let end = self.start + self.header_len as u64 + self.written;
        crate::encode_stream::overwrite(&mut self.out, self.start, &header, end)?;
        Ok(self.out)
    }
}

/// flacenc 0.5 records the (shorter) last block as STREAMINFO's minimum block size, but
/// RFC 9639 §8.2 defines that field "excluding the last block". Strict readers (symphonia)
/// then see min != max, treat the stream as variable-blocksize, and reject its fixed-blocksize
/// frame headers. Every block but the last has the configured size, so min = max is correct.
/// It can also record a minimum frame size above the maximum, which claxon rightly rejects;
/// both frame sizes are set to 0, "unknown", which RFC 9639 §8.2 allows.
fn fix_streaminfo_min_block(bytes: &mut [u8]) {
    // "fLaC", then a metadata block header whose type (low 7 bits) is 0 = STREAMINFO;
    // min block size is at bytes 8..10, max at 10..12, min frame size at 12..15 and max
    // frame size at 15..18 (RFC 9639 §8.1, §8.2).
    if bytes.len() >= 18 && &bytes[..4] == b"fLaC" && bytes[4] & 0x7f == 0 {
        let (head, max) = bytes.split_at_mut(10);
        head[8..10].copy_from_slice(&max[..2]);
        bytes[12..18].fill(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quantize::interleave;
    use tracemark_dsp::{AudioBuffer, SampleRate};

    /// The whole-buffer path as it was before the stream: flacenc's own loop over
    /// interleaved integers, every frame kept as a `Frame` until the stream is written.
    fn flacenc_whole(audio: &AudioBuffer, bits: u8, dither: bool) -> Vec<u8> {
        let config = Config::default().into_verified().expect("config");
        let interleaved = interleave(audio, bits, dither);
        let source = flacenc::source::MemSource::from_samples(
            &interleaved,
            audio.channel_count(),
            usize::from(bits),
            audio.rate().hz() as usize,
        );
        let stream = flacenc::encode_with_fixed_block_size(&config, source, config.block_size)
            .expect("encode");
        let mut sink = flacenc::bitsink::ByteSink::new();
        stream.write(&mut sink).expect("write");
        let mut bytes = sink.as_slice().to_vec();
        fix_streaminfo_min_block(&mut bytes);
        bytes
    }

    fn streamed(audio: &AudioBuffer, pcm: Pcm, block: usize) -> Vec<u8> {
        let out = std::io::Cursor::new(Vec::new());
        let mut s =
            FlacStream::new(out, audio.rate().hz(), audio.channel_count(), pcm).expect("new");
        let mut at = 0;
        while at < audio.frames() {
            let end = (at + block).min(audio.frames());
            let piece: Vec<&[f32]> = audio.channels().iter().map(|c| &c[at..end]).collect();
            s.push(&piece).expect("push");
            at = end;
        }
        s.finish().expect("finish").into_inner()
    }

    #[test]
    fn frame_by_frame_coding_gives_the_bytes_of_flacencs_whole_stream_loop() {
        let rate = SampleRate::try_new(16_000).expect("rate");
        let tone =
            |k: f32| -> Vec<f32> { (0..20_000).map(|i| (i as f32 * k).sin() * 0.6).collect() };
        let off = AudioBuffer::try_new(rate, vec![tone(0.01), tone(0.023)]).expect("buffer");
        // On the 16-bit grid for 9000 frames (two full FLAC frames and more), then off it.
        let mut late = tone(0.017);
        for x in &mut late[..] {
            *x = (*x * 32_768.0).round() / 32_768.0;
        }
        late[9_000] += 1e-7;
        let late = AudioBuffer::mono(rate, late).expect("late");
        let empty = AudioBuffer::mono(rate, Vec::new()).expect("empty");
        for (name, audio, bits, dither) in [
            ("stereo 16 dithered", &off, 16, true),
            ("stereo 24 dithered", &off, 24, true),
            ("stereo 16 rounded", &off, 16, false),
            ("late off the grid", &late, 16, true),
            ("empty", &empty, 16, true),
        ] {
            let want = flacenc_whole(audio, bits, dither);
            for block in [1, 1_000, 4_096, 1 << 20] {
                let got = streamed(audio, Pcm::Int { bits, dither }, block);
                assert!(got == want, "{name}, blocks of {block}: bytes differ");
            }
        }
    }
}
