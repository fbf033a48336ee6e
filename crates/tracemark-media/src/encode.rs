//! Encoding to WAV, FLAC and MP3, and the public entry points for every format.

use std::io::{Seek, Write};
use std::path::Path;

use tracemark_dsp::AudioBuffer;

use crate::quantize::{SampleChoice, resolve};
use crate::{EncodeOptions, Format, MediaError, StreamEncoder};

/// Encodes `audio` into an in-memory file of `format`, at the input's rate and channel count
/// wherever the format allows.
///
/// | format | what is written | why |
/// |---|---|---|
/// | WAV | the source's sample format ([`AudioBuffer::source_format`]: 8/16/24/32-bit integers, TPDF-dithered, see `src/quantize.rs`); 32-bit IEEE float (`WAVE_FORMAT_IEEE_FLOAT`) when the source is float or unknown | a copy keeps its input's format; float is bit-exact for `f32` buffers |
/// | FLAC | the source's integer depth (8 to 24 bits, TPDF-dithered); 16-bit, rounded, clamped to ±1, when the source is unknown, float or wider | FLAC has no float; 16-bit rounding noise sits near −101 dBFS, some 60 dB below any watermark on audible material. Not 24-bit by default: flacenc 0.5 caps the Rice parameter at 14 (RICE1 only, RFC 9639 §9.2.7.1), which 24-bit residuals of 16-bit material overflow: a 120 s 8 kHz call came out at 71 MB, 37 times its WAV |
/// | MP3 | LAME CBR, joint stereo, with a LAME/Info tag | the tag lets decoders trim encoder delay and padding (gapless), so durations are kept |
/// | Opus | Ogg Opus, 20 ms frames, `Application::Audio`, gapless end-trim | see below |
///
/// MP3 accepts the MPEG rates 8, 11.025, 12, 16, 22.05, 24, 32, 44.1 and 48 kHz and 1 or 2
/// channels; default bitrate 128 kb/s per channel, capped for the stream at 320 (MPEG-1
/// rates), 160 (MPEG-2) or 64 kb/s (MPEG-2.5 rates). Opus codes 8/12/16/24/48 kHz input at its own rate and
/// resamples anything else to 48 kHz ([`tracemark_dsp::resample`]) while recording the original rate
/// in the header; 1 to 8 channels; default 64 kb/s per channel.
///
/// To choose the sample format of a WAV or FLAC copy, see [`encode_bytes_as`].
///
/// # Errors
/// [`MediaError::EncodeSampleRate`], [`MediaError::EncodeChannels`] or
/// [`MediaError::EncodeBitrate`] when the format cannot carry the input as asked;
/// [`MediaError::Encode`] when the encoder itself fails.
pub fn encode_bytes(
    audio: &AudioBuffer,
    format: Format,
    opts: &EncodeOptions,
) -> Result<Vec<u8>, MediaError> {
    encode_bytes_as(audio, format, opts, SampleChoice::Source)
}

/// [`encode_bytes`] with the sample format of a lossless copy chosen by `samples`
/// ([`SampleChoice::Source`] is what [`encode_bytes`] does; [`SampleChoice::FormatDefault`]
/// writes 32-bit float WAV and 16-bit FLAC whatever the source). Lossy formats ignore it.
///
/// ```
/// use tracemark_media::{decode_bytes, encode_bytes_as, EncodeOptions, Format, Limits};
/// use tracemark_media::{AudioBuffer, SampleChoice, SampleFormat, SampleRate};
/// let audio = AudioBuffer::mono(SampleRate::try_new(8_000)?, vec![0.25; 800])?;
/// let int24 = SampleChoice::Exactly(SampleFormat::Int { bits: 24 });
/// let wav = encode_bytes_as(&audio, Format::Wav, &EncodeOptions::default(), int24)?;
/// let back = decode_bytes(&wav, Some("wav"), &Limits::default())?;
/// assert_eq!(back.source_format(), Some(SampleFormat::Int { bits: 24 }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As [`encode_bytes`], and [`MediaError::Encode`] when `samples` asks for a sample format
/// the format cannot store (float FLAC, 32-bit FLAC).
pub fn encode_bytes_as(
    audio: &AudioBuffer,
    format: Format,
    opts: &EncodeOptions,
    samples: SampleChoice,
) -> Result<Vec<u8>, MediaError> {
    if format == Format::Wav {
        // hound's writer: an independent reference the streaming one is tested against.
        return crate::wav::write(audio, resolve(audio, format, samples)?);
    }
    let mut encoder = StreamEncoder::new(
        format,
        audio.rate(),
        audio.channel_count(),
        audio.source_format(),
        opts,
        samples,
    )?;
    encoder.push(audio.channels())?;
    encoder.finish()
}

/// Encodes `audio` as [`encode_bytes`] does and writes it to `path` (created or truncated).
///
/// # Errors
/// As [`encode_bytes`], plus [`MediaError::Io`] naming `path` if the write fails.
pub fn encode_file(
    audio: &AudioBuffer,
    path: &Path,
    format: Format,
    opts: &EncodeOptions,
) -> Result<(), MediaError> {
    let bytes = encode_bytes(audio, format, opts)?;
    std::fs::write(path, bytes).map_err(|e| MediaError::io(e).with_path(path))
}

/// Sample rates MPEG audio defines (ISO/IEC 11172-3, 13818-3, and the MPEG-2.5 extension).
const MP3_RATES: [u32; 9] = [
    8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000,
];

fn mp3_bitrate(kbps: u32) -> Option<mp3lame_encoder::Bitrate> {
    use mp3lame_encoder::Bitrate as B;
    Some(match kbps {
        8 => B::Kbps8,
        16 => B::Kbps16,
        24 => B::Kbps24,
        32 => B::Kbps32,
        40 => B::Kbps40,
        48 => B::Kbps48,
        64 => B::Kbps64,
        80 => B::Kbps80,
        96 => B::Kbps96,
        112 => B::Kbps112,
        128 => B::Kbps128,
        160 => B::Kbps160,
        192 => B::Kbps192,
        224 => B::Kbps224,
        256 => B::Kbps256,
        320 => B::Kbps320,
        _ => return None,
    })
}

/// Default MP3 bitrate: 128 kb/s per channel, capped by what the MPEG version allows
/// (MPEG-1 ≤ 320, MPEG-2 ≤ 160, MPEG-2.5 ≤ 64 kb/s for the whole stream).
fn mp3_default_kbps(rate: u32, channels: usize) -> u32 {
    let wanted = 128 * channels as u32;
    let cap = match rate {
        32_000.. => 320,
        16_000.. => 160,
        _ => 64,
    };
    wanted.min(cap)
}

/// Frames fed to LAME at a time: the output reservation stays small; LAME buffers
/// internally.
const MP3_CHUNK: usize = 1152 * 16;

/// An MP3 stream being coded: LAME fed in chunks of [`MP3_CHUNK`] frames whatever the blocks
/// pushed, so the bytes do not depend on how the signal was split. Held in memory: one
/// chunk of samples, its MP3 bytes on their way to the output, and LAME's state.
pub(crate) struct Mp3Stream<W: Write + Seek> {
    encoder: mp3lame_encoder::Encoder,
    channels: usize,
    /// Samples not yet fed, per channel (fewer than [`MP3_CHUNK`]).
    pending: Vec<Vec<f32>>,
    /// LAME's output for the chunk just fed, before it is written.
    coded: Vec<u8>,
    out: W,
    /// Where the file starts in `out`, and how many bytes of it are written.
    start: u64,
    written: u64,
}

fn mp3_error(what: &str, e: &dyn std::fmt::Debug) -> MediaError {
    MediaError::Encode {
        format: Format::Mp3,
        reason: format!("{what}: {e:?}"),
    }
}

impl<W: Write + Seek> Mp3Stream<W> {
    /// An MP3 stream written to `out` (from its current position) as LAME codes it.
    pub(crate) fn new(
        mut out: W,
        rate: u32,
        channels: usize,
        opts: &EncodeOptions,
    ) -> Result<Self, MediaError> {
        use mp3lame_encoder::{Builder, Quality};

        if !MP3_RATES.contains(&rate) {
            return Err(MediaError::EncodeSampleRate {
                format: Format::Mp3,
                hz: rate,
                supported: "8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000",
            });
        }
        if channels > 2 {
            return Err(MediaError::EncodeChannels {
                format: Format::Mp3,
                count: channels,
                max: 2,
            });
        }
        let kbps = opts
            .bitrate_kbps
            .unwrap_or_else(|| mp3_default_kbps(rate, channels));
        let bitrate = mp3_bitrate(kbps).ok_or(MediaError::EncodeBitrate {
            format: Format::Mp3,
            kbps,
            valid: "8, 16, 24, 32, 40, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320",
        })?;
        let err = mp3_error;
        let mut b = Builder::new().ok_or_else(|| err("LAME init", &"lame_init returned null"))?;
        b.set_num_channels(channels as u8)
            .map_err(|e| err("channels", &e))?;
        b.set_sample_rate(rate)
            .map_err(|e| err("sample rate", &e))?;
        b.set_brate(bitrate).map_err(|e| err("bitrate", &e))?;
        b.set_quality(Quality::Best)
            .map_err(|e| err("quality", &e))?;
        b.set_to_write_vbr_tag(true)
            .map_err(|e| err("LAME tag", &e))?;
        let encoder = b.build().map_err(|e| err("LAME params", &e))?;
        let start = out.stream_position().map_err(MediaError::io)?;
        Ok(Self {
            encoder,
            channels,
            pending: vec![Vec::with_capacity(MP3_CHUNK); channels],
            coded: Vec::new(),
            out,
            start,
            written: 0,
        })
    }

    pub(crate) fn push<C: AsRef<[f32]>>(&mut self, block: &[C]) -> Result<(), MediaError> {
        let frames = crate::wav_stream::block_frames(Format::Mp3, self.channels, block)?;
        let mut at = 0;
        while at < frames {
            let have = self.pending.first().map_or(0, Vec::len);
            let end = frames.min(at + MP3_CHUNK - have);
            for (p, ch) in self.pending.iter_mut().zip(block) {
                p.extend_from_slice(&ch.as_ref()[at..end]);
            }
            at = end;
            if self.pending.first().map_or(0, Vec::len) == MP3_CHUNK {
                self.feed()?;
            }
        }
        Ok(())
    }

    /// Feeds the pending samples to LAME.
    fn feed(&mut self) -> Result<(), MediaError> {
        use mp3lame_encoder::{DualPcm, MonoPcm};
        let frames = self.pending.first().map_or(0, Vec::len);
        if frames == 0 {
            return Ok(());
        }
        self.coded
            .reserve(mp3lame_encoder::max_required_buffer_size(frames));
        let r = match self.pending.as_slice() {
            [mono] => self.encoder.encode_to_vec(MonoPcm(mono), &mut self.coded),
            [left, right] => {
                let pcm = DualPcm { left, right };
                self.encoder.encode_to_vec(pcm, &mut self.coded)
            }
            _ => return Err(mp3_error("encode", &"1 or 2 channels")),
        };
        r.map_err(|e| mp3_error("encode", &e))?;
        self.pending.iter_mut().for_each(Vec::clear);
        self.write_coded()
    }

    /// Writes what LAME gave to the output.
    fn write_coded(&mut self) -> Result<(), MediaError> {
        self.out.write_all(&self.coded).map_err(MediaError::io)?;
        self.written += self.coded.len() as u64;
        self.coded.clear();
        Ok(())
    }

    pub(crate) fn finish(mut self) -> Result<W, MediaError> {
        use mp3lame_encoder::FlushGap;
        self.feed()?;
        // LAME's flush needs up to 7200 bytes (lame.h, lame_encode_flush). `FlushGap` is
        // `lame_encode_flush`, which drains every buffered sample; the "nogap" variant keeps
        // the tail for a following track and would cut the end of ours.
        self.coded.reserve(7_200);
        self.encoder
            .flush_to_vec::<FlushGap>(&mut self.coded)
            .map_err(|e| mp3_error("flush", &e))?;
        self.write_coded()?;
        // LAME wrote a placeholder Info frame first; overwrite it with the final tag, which
        // carries the frame count and the encoder delay/padding used for gapless decoding.
        let mut tag = Vec::with_capacity(self.encoder.lame_tag_size());
        if self.encoder.lame_tag_encode_to_vec(&mut tag).is_some() {
            let at = self.encoder.id3v2_tag_size() as u64;
            if at + tag.len() as u64 <= self.written {
                let end = self.start + self.written;
                crate::encode_stream::overwrite(&mut self.out, self.start + at, &tag, end)?;
            }
        }
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quantize::interleave;

    #[test]
    fn i16_conversion_clamps_and_rounds() {
        let rate = tracemark_dsp::SampleRate::try_new(8_000).expect("rate");
        let x = [0.0, 1.0, -1.0, 2.0, 0.5 / 32_768.0 * 3.0];
        let audio = AudioBuffer::mono(rate, x.to_vec()).expect("buffer");
        assert_eq!(
            interleave(&audio, 16, false),
            [0, 32_767, -32_768, 32_767, 2]
        );
    }

    use crate::{Limits, SampleFormat, decode_bytes};
    use tracemark_dsp::SampleRate;

    fn music(rate: u32, seconds: f64) -> AudioBuffer {
        let n = (f64::from(rate) * seconds) as usize;
        let mut s = 12_345u32;
        let chans = (0..2)
            .map(|c| {
                (0..n)
                    .map(|i| {
                        s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                        let noise = (s >> 8) as f32 / 16_777_216.0 - 0.5;
                        let t = i as f32 / rate as f32;
                        0.5 * (std::f32::consts::TAU * (220.0 + 110.0 * c as f32) * t).sin()
                            + 0.01 * noise
                    })
                    .collect()
            })
            .collect();
        AudioBuffer::try_new(SampleRate::try_new(rate).expect("rate"), chans).expect("buffer")
    }

    fn exactly(bits: u8) -> SampleChoice {
        SampleChoice::Exactly(SampleFormat::Int { bits })
    }

    /// A processed copy (here: 1 dB down, off the 16-bit grid), as the watermark makes one.
    fn processed(a: &AudioBuffer) -> AudioBuffer {
        let chans = a
            .channels()
            .iter()
            .map(|c| c.iter().map(|x| x * 0.891).collect())
            .collect();
        AudioBuffer::try_new(a.rate(), chans)
            .expect("buffer")
            .with_source_format(a.source_format())
    }

    fn wav_bits(bytes: &[u8]) -> (u16, u16) {
        let r = hound::WavReader::new(std::io::Cursor::new(bytes)).expect("wav");
        let spec = r.spec();
        (spec.bits_per_sample, spec.sample_format as u16)
    }

    #[test]
    fn a_16_bit_wav_in_gives_a_16_bit_wav_out() {
        let opts = EncodeOptions::default();
        let input =
            encode_bytes_as(&music(48_000, 1.0), Format::Wav, &opts, exactly(16)).expect("encode");
        let original = decode_bytes(&input, Some("wav"), &Limits::default()).expect("decode");
        assert_eq!(
            original.source_format(),
            Some(SampleFormat::Int { bits: 16 })
        );
        // Unchanged audio comes back bit for bit (on the grid: no dither added).
        let same = encode_bytes(&original, Format::Wav, &opts).expect("encode");
        assert_eq!(same, input);
        // A processed copy is 16-bit integer PCM, within dither of the float it came from.
        let copy = processed(&original);
        let bytes = encode_bytes(&copy, Format::Wav, &opts).expect("encode");
        assert_eq!(wav_bits(&bytes), (16, hound::SampleFormat::Int as u16));
        let back = decode_bytes(&bytes, Some("wav"), &Limits::default()).expect("decode");
        for (a, b) in copy.channels().iter().zip(back.channels()) {
            let worst = a
                .iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f32::max);
            assert!(worst < 1.5 / 32_768.0, "worst {worst}");
        }
        // Float unless the source says otherwise, and on request.
        let unknown = AudioBuffer::try_new(copy.rate(), copy.channels().to_vec()).expect("buf");
        let float = encode_bytes(&unknown, Format::Wav, &opts).expect("encode");
        assert_eq!(wav_bits(&float), (32, hound::SampleFormat::Float as u16));
        let asked = encode_bytes_as(&copy, Format::Wav, &opts, SampleChoice::FormatDefault)
            .expect("encode");
        assert_eq!(wav_bits(&asked), (32, hound::SampleFormat::Float as u16));
    }

    #[test]
    fn flac_keeps_its_bit_depth() {
        let opts = EncodeOptions::default();
        for bits in [16u8, 24] {
            let input = encode_bytes_as(&music(16_000, 1.0), Format::Flac, &opts, exactly(bits))
                .expect("encode");
            let original = decode_bytes(&input, Some("flac"), &Limits::default()).expect("decode");
            assert_eq!(original.source_format(), Some(SampleFormat::Int { bits }));
            let copy = encode_bytes(&processed(&original), Format::Flac, &opts).expect("encode");
            let back = decode_bytes(&copy, Some("flac"), &Limits::default()).expect("decode");
            assert_eq!(
                back.source_format(),
                Some(SampleFormat::Int { bits }),
                "{bits} bits"
            );
            eprintln!(
                "{bits}-bit FLAC: {} bytes for {} frames",
                copy.len(),
                back.frames()
            );
            // And a 16-bit FLAC may become a 16-bit WAV.
            let wav = encode_bytes(&back, Format::Wav, &opts).expect("encode");
            assert_eq!(wav_bits(&wav).0, u16::from(bits));
        }
    }

    #[test]
    fn mp3_defaults_respect_mpeg_version_caps() {
        assert_eq!(mp3_default_kbps(44_100, 2), 256);
        assert_eq!(mp3_default_kbps(16_000, 2), 160);
        assert_eq!(mp3_default_kbps(8_000, 1), 64);
        for (rate, ch) in [(8_000, 2), (16_000, 1), (48_000, 1)] {
            assert!(mp3_bitrate(mp3_default_kbps(rate, ch)).is_some());
        }
    }
}
