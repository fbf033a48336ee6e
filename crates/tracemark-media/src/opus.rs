//! Ogg Opus (RFC 6716 codec, RFC 7845 encapsulation) via `opus-pure`.

use std::io::Read;

use opus_pure::{
    Application, ChannelLayout, Error as OpusError, MAX_PACKET_BYTES, MAX_PACKET_SAMPLES,
    OggOpusReader, OggOpusWriter, OpusDecoder, OpusEncoder, OpusHead, OpusMSDecoder, OpusMSEncoder,
    Trim,
};
use tracemark_dsp::{AudioBuffer, DspError};

use crate::collect::{Collector, MAX_RATE, MIN_RATE, check_channels};
use crate::{EncodeOptions, Format, Limits, MediaError};

/// The rates the Opus codec runs at (RFC 6716 §2).
pub(crate) const OPUS_RATES: [u32; 5] = [8_000, 12_000, 16_000, 24_000, 48_000];
/// Rate used when the input is not at an Opus rate: Opus's native full-band rate.
pub(crate) const FULLBAND: u32 = 48_000;
/// Most channels we write: mapping family 1 covers 1 to 8 (RFC 7845 §5.1.1.2).
const MAX_ENCODE_CHANNELS: usize = 8;

/// Whether `head` (the first bytes of a file) is an Ogg page whose first packet is an
/// `OpusHead` (RFC 7845 §3: the ID header sits alone on the first page).
pub(crate) fn is_ogg_opus(head: &[u8]) -> bool {
    if head.len() < 27 || &head[..4] != b"OggS" {
        return false;
    }
    let start = 27 + usize::from(head[26]);
    head.get(start..start + 8) == Some(b"OpusHead".as_slice())
}

pub(crate) fn map_err(e: OpusError, frame: u64) -> MediaError {
    match e {
        OpusError::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            MediaError::Truncated {
                path: None,
                decoded: frame,
                declared: 0,
            }
        }
        OpusError::Io(io) => MediaError::io(io),
        OpusError::InvalidArgument(what) => MediaError::Unsupported {
            path: None,
            what: format!("Opus stream: {what}"),
        },
        other => MediaError::corrupt(frame, format!("Opus: {other}")),
    }
}

/// A mono/stereo decoder or a surround (mapping family 1) one.
pub(crate) enum Decoder {
    /// Boxed: the single-stream state is ~10 kB, the multistream one a few pointers.
    Single(Box<OpusDecoder>),
    Multi(OpusMSDecoder),
}

impl Decoder {
    pub(crate) fn new(head: &OpusHead, rate: u32) -> Result<Self, MediaError> {
        let rate = rate as i32;
        match head.mapping_family {
            0 => head
                .decoder(rate)
                .map(|d| Self::Single(Box::new(d)))
                .map_err(|e| map_err(e, 0)),
            1 => {
                let channels = usize::from(head.channel_count);
                let layout = ChannelLayout::surround(channels, 1).map_err(|e| map_err(e, 0))?;
                if layout.nb_streams != usize::from(head.stream_count)
                    || layout.nb_coupled_streams != usize::from(head.coupled_count)
                    || layout.mapping != head.channel_mapping
                {
                    return Err(MediaError::Unsupported {
                        path: None,
                        what: "Opus surround stream with a non-standard channel mapping".into(),
                    });
                }
                let mut d = OpusMSDecoder::new(rate, channels, 1).map_err(|e| map_err(e, 0))?;
                for s in d.streams_mut() {
                    s.gain_q8 = i32::from(head.output_gain_q8);
                }
                Ok(Self::Multi(d))
            }
            family => Err(MediaError::Unsupported {
                path: None,
                what: format!("Opus channel mapping family {family}"),
            }),
        }
    }

    pub(crate) fn decode(&mut self, packet: &[u8], out: &mut [f32]) -> Result<usize, OpusError> {
        match self {
            Self::Single(d) => d.decode(packet, MAX_PACKET_SAMPLES, out),
            Self::Multi(d) => d.decode(packet, MAX_PACKET_SAMPLES, out),
        }
    }
}

/// Decodes an Ogg Opus stream; see [`crate::decode_bytes`] for the rate policy.
///
/// Only the first logical stream is read: decoding stops at its end-of-stream page. A stream
/// that ends without that page is [`MediaError::Truncated`].
pub(crate) fn decode<R: Read>(source: R, limits: &Limits) -> Result<AudioBuffer, MediaError> {
    let mut reader = OggOpusReader::new(source).map_err(|e| map_err(e, 0))?;
    let head = reader.head().clone();
    let channels = usize::from(head.channel_count);
    check_channels(channels)?;
    let original = head.input_sample_rate;
    let decode_rate = decode_rate(original);
    let mut decoder = Decoder::new(&head, decode_rate)?;
    let mut trim = Trim::new(&head, decode_rate as i32, channels).map_err(|e| map_err(e, 0))?;
    let mut out = Collector::new(decode_rate, channels, limits)?;
    let mut block = vec![0.0f32; MAX_PACKET_SAMPLES * channels];
    let mut ended = false;
    while let Some(packet) = reader.read_packet().map_err(|e| map_err(e, out.frames()))? {
        let n = decoder
            .decode(&packet.data, &mut block)
            .map_err(|e| map_err(e, out.frames()))?;
        let kept = trim.keep(&packet, &block[..n * channels]);
        out.push_interleaved(kept)?;
        if packet.end_of_stream {
            ended = true;
            break;
        }
    }
    if !ended {
        return Err(MediaError::Truncated {
            path: None,
            decoded: out.frames(),
            declared: 0,
        });
    }
    to_original_rate(out.finish()?, original)
}

/// The rate Opus is decoded at for a stream whose header records `original` as the input rate.
pub(crate) fn decode_rate(original: u32) -> u32 {
    if OPUS_RATES.contains(&original) {
        original
    } else {
        FULLBAND
    }
}

/// `audio` (decoded at [`decode_rate`]) resampled to `original` when that is another rate in
/// range, as `opusdec` does; otherwise unchanged.
pub(crate) fn to_original_rate(
    audio: AudioBuffer,
    original: u32,
) -> Result<AudioBuffer, MediaError> {
    let decode_rate = audio.rate().hz();
    if original == decode_rate || !(MIN_RATE..=MAX_RATE).contains(&original) {
        return Ok(audio);
    }
    let planes = resample(audio.channels(), decode_rate, original)
        .map_err(|e| MediaError::corrupt(0, format!("resampling Opus output: {e}")))?;
    let rate = tracemark_dsp::SampleRate::try_new(original).map_err(MediaError::buffer)?;
    AudioBuffer::try_new(rate, planes).map_err(MediaError::buffer)
}

/// Each channel of `planes` converted from `from` to `to` Hz by the workspace's one resampler,
/// [`tracemark_dsp::resample`] (time-aligned, full band up to 0.45 of the lower rate), then
/// padded or cut to `ceil(len * to / from)` frames so that durations stay exact.
fn resample(planes: &[Vec<f32>], from: u32, to: u32) -> Result<Vec<Vec<f32>>, DspError> {
    let frames = planes.first().map_or(0, Vec::len) as u64;
    let want = (frames * u64::from(to)).div_ceil(u64::from(from)) as usize;
    planes
        .iter()
        .map(|p| {
            let mut out = tracemark_dsp::resample(p, from, to)?;
            out.resize(want, 0.0);
            Ok(out)
        })
        .collect()
}

/// A mono/stereo encoder or a surround (mapping family 1) one.
enum Encoder {
    /// Both boxed: ~23 kB and ~240 B of state; the enum itself stays two words.
    Single(Box<OpusEncoder>),
    Multi(Box<OpusMSEncoder>),
}

impl Encoder {
    fn encode(&mut self, pcm: &[f32], frame: usize, out: &mut [u8]) -> Result<usize, OpusError> {
        match self {
            Self::Single(e) => e.encode(pcm, frame, out),
            Self::Multi(e) => e.encode(pcm, frame, out),
        }
    }
}

/// Default bitrate: 64 kb/s per channel, which libopus documents as transparent-leaning for
/// music and keeps watermark energy well above the coding noise.
const DEFAULT_KBPS_PER_CHANNEL: u32 = 64;

/// An Ogg Opus stream being coded in 20 ms packets. Inputs at an Opus rate are coded at that
/// rate; others are resampled to 48 kHz first by [`tracemark_dsp::StreamResampler`], which
/// gives [`tracemark_dsp::resample`]'s samples in pieces (the header still records the
/// original rate, so [`crate::decode_bytes`] returns audio at it).
///
/// The gapless recipe from opus-pure's README: flush the encoder delay with silence, and end
/// the stream with a final granule that trims the padding (RFC 7845 §4.4). The last packet
/// is known only at the end, so one coded packet is held back. Held in memory: the Ogg page
/// being filled (pages go to the output as they fill), one packet, one 20 ms frame of
/// samples, and the encoder's and resamplers' state.
pub(crate) struct OpusStream<W: std::io::Write> {
    encoder: Encoder,
    writer: OggOpusWriter<W>,
    /// One per channel, when the input is not at an Opus rate.
    resamplers: Option<Vec<tracemark_dsp::StreamResampler>>,
    resampled: Vec<Vec<f32>>,
    channels: usize,
    /// Samples per packet, granule ticks (48 kHz) per sample, and the header's pre-skip.
    frame: usize,
    ticks: usize,
    pre_skip: usize,
    /// The frame being filled, interleaved, and how many of its frames are filled.
    block: Vec<f32>,
    filled: usize,
    /// Frames coded (at the coding rate) and packets coded.
    total: usize,
    packets: usize,
    packet: Vec<u8>,
    held: Option<Vec<u8>>,
}

fn encode_error(e: OpusError) -> MediaError {
    MediaError::Encode {
        format: Format::Opus,
        reason: e.to_string(),
    }
}

impl<W: std::io::Write> OpusStream<W> {
    /// An Ogg Opus stream written to `out` as its pages fill.
    pub(crate) fn new(
        out: W,
        original: u32,
        channels: usize,
        opts: &EncodeOptions,
    ) -> Result<Self, MediaError> {
        if channels > MAX_ENCODE_CHANNELS {
            return Err(MediaError::EncodeChannels {
                format: Format::Opus,
                count: channels,
                max: MAX_ENCODE_CHANNELS,
            });
        }
        // RFC 6716 §2.1.1: 6 kb/s is the lowest useful rate; 256 kb/s per channel the highest.
        let kbps = opts
            .bitrate_kbps
            .unwrap_or(DEFAULT_KBPS_PER_CHANNEL * channels as u32);
        if !(6..=256 * channels as u32).contains(&kbps) {
            return Err(MediaError::EncodeBitrate {
                format: Format::Opus,
                kbps,
                valid: "6 to 256 per channel",
            });
        }
        let (rate, resamplers) = if OPUS_RATES.contains(&original) {
            (original, None)
        } else {
            let r = (0..channels)
                .map(|_| tracemark_dsp::StreamResampler::new(original, FULLBAND))
                .collect::<Result<Vec<_>, _>>()
                .map_err(resample_error)?;
            (FULLBAND, Some(r))
        };
        let (encoder, head) = if channels <= 2 {
            let mut e = OpusEncoder::new(rate as i32, channels, Application::Audio)
                .map_err(encode_error)?;
            e.bitrate_bps = kbps as i32 * 1000;
            let head = OpusHead::for_encoder(&e, original);
            (Encoder::Single(Box::new(e)), head)
        } else {
            let mut e = OpusMSEncoder::new(rate as i32, channels, 1, Application::Audio)
                .map_err(encode_error)?;
            e.set_bitrate(kbps as i32 * 1000);
            let head = OpusHead::for_ms_encoder(&e, original);
            (Encoder::Multi(Box::new(e)), head)
        };
        let frame = (rate / 50) as usize; // 20 ms packets
        let pre_skip = usize::from(head.pre_skip);
        Ok(Self {
            encoder,
            writer: OggOpusWriter::new(out, head).map_err(encode_error)?,
            resamplers,
            resampled: vec![Vec::new(); channels],
            channels,
            frame,
            // Exact for Opus rates.
            ticks: (48_000 / rate) as usize,
            pre_skip,
            block: vec![0.0; frame * channels],
            filled: 0,
            total: 0,
            packets: 0,
            packet: vec![0u8; MAX_PACKET_BYTES],
            held: None,
        })
    }

    pub(crate) fn push<C: AsRef<[f32]>>(&mut self, block: &[C]) -> Result<(), MediaError> {
        crate::wav_stream::block_frames(Format::Opus, self.channels, block)?;
        let Some(resamplers) = &mut self.resamplers else {
            return self.feed(block);
        };
        for ((r, out), ch) in resamplers.iter_mut().zip(&mut self.resampled).zip(block) {
            out.clear();
            r.push(ch.as_ref(), out).map_err(resample_error)?;
        }
        let planes = std::mem::take(&mut self.resampled);
        let fed = self.feed(&planes);
        self.resampled = planes;
        fed
    }

    /// Codes `planes` (at the coding rate) into packets as frames fill.
    fn feed<C: AsRef<[f32]>>(&mut self, planes: &[C]) -> Result<(), MediaError> {
        let frames = planes.iter().map(|p| p.as_ref().len()).min().unwrap_or(0);
        for t in 0..frames {
            for (c, plane) in planes.iter().enumerate() {
                self.block[self.filled * self.channels + c] = plane.as_ref()[t];
            }
            self.filled += 1;
            self.total += 1;
            if self.filled == self.frame {
                self.code()?;
            }
        }
        Ok(())
    }

    /// Codes the frame being filled (zero-padded) and writes the packet before it.
    fn code(&mut self) -> Result<(), MediaError> {
        let n = self
            .encoder
            .encode(&self.block, self.frame, &mut self.packet)
            .map_err(encode_error)?;
        if let Some(previous) = self.held.replace(self.packet[..n].to_vec()) {
            self.writer.write_packet(&previous).map_err(encode_error)?;
        }
        self.packets += 1;
        self.block.fill(0.0);
        self.filled = 0;
        Ok(())
    }

    pub(crate) fn finish(mut self) -> Result<W, MediaError> {
        if let Some(resamplers) = self.resamplers.take() {
            let mut planes = std::mem::take(&mut self.resampled);
            for (mut r, out) in resamplers.into_iter().zip(&mut planes) {
                out.clear();
                r.finish(out).map_err(resample_error)?;
            }
            self.feed(&planes)?;
        }
        let total = self.total;
        let packets = (total + self.pre_skip.div_ceil(self.ticks)).div_ceil(self.frame);
        while self.packets < packets {
            self.code()?;
        }
        if let Some(last) = self.held.take() {
            let final_granule = (self.pre_skip + total * self.ticks) as u64;
            let duration = final_granule.saturating_sub(self.writer.granule() as u64);
            self.writer
                .write_packet_with_duration(&last, duration as u32)
                .map_err(encode_error)?;
        }
        self.writer.finish().map_err(encode_error)
    }
}

fn resample_error(e: DspError) -> MediaError {
    MediaError::Encode {
        format: Format::Opus,
        reason: format!("resampling to 48 kHz: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Amplitude and delay (seconds) of the `hz` tone in the middle half of `y` at `rate`.
    fn tone_gain_and_delay(y: &[f32], hz: f64, rate: u32) -> (f64, f64) {
        let (mut s, mut c) = (0.0f64, 0.0f64);
        let m = y.len();
        for (i, &v) in y.iter().enumerate().take(3 * m / 4).skip(m / 4) {
            let t = std::f64::consts::TAU * hz * i as f64 / f64::from(rate);
            s += f64::from(v) * t.sin();
            c += f64::from(v) * t.cos();
        }
        let gain = 2.0 * (s * s + c * c).sqrt() / (m / 2) as f64;
        (gain, -c.atan2(s) / (std::f64::consts::TAU * hz))
    }

    #[test]
    fn resampling_to_and_from_48_khz_keeps_the_whole_band_on_time() {
        // The dsp crate pins the telephone pairs (to and from 8 kHz); these are the pairs the
        // Opus paths convert. Measured with media's former copy (rubato's default
        // sub-chunks), a tone at 0.45 of the lower rate kept 0.65 of its amplitude at
        // 48 -> 22.05 and 48 -> 11.025 kHz, 0.89 at 48 -> 32 kHz and 0.41 at 96 -> 48 kHz.
        for (from, to) in [
            (48_000, 44_100),
            (48_000, 32_000),
            (48_000, 22_050),
            (48_000, 11_025),
            (48_000, 96_000),
            (44_100, 48_000),
            (22_050, 48_000),
            (96_000, 48_000),
        ] {
            for fraction in [0.1, 0.45] {
                let hz = fraction * f64::from(from.min(to));
                let tone: Vec<f32> = (0..2 * from as usize)
                    .map(|i| (std::f64::consts::TAU * hz * i as f64 / f64::from(from)).sin())
                    .map(|v| v as f32)
                    .collect();
                let out = resample(&[tone.clone(), tone], from, to).expect("resample");
                assert_eq!(out.len(), 2);
                assert_eq!(out[0].len(), 2 * to as usize, "{from} -> {to}");
                assert_eq!(out[0], out[1], "{from} -> {to}: channels differ");
                let (gain, delay) = tone_gain_and_delay(&out[0], hz, to);
                assert!(
                    (gain - 1.0).abs() < 0.01,
                    "{from} -> {to}, {hz:.0} Hz: gain {gain}"
                );
                assert!(
                    delay.abs() < 2e-6,
                    "{from} -> {to}, {hz:.0} Hz: delay {delay} s"
                );
            }
        }
    }

    #[test]
    fn sniffs_opus_head_after_the_lacing_table() {
        let mut page = b"OggS".to_vec();
        page.extend_from_slice(&[0; 22]);
        page.push(1); // one lacing value
        page.push(19);
        page.extend_from_slice(b"OpusHead");
        assert!(is_ogg_opus(&page));
        page[28] = b'X';
        assert!(!is_ogg_opus(&page));
        assert!(!is_ogg_opus(b"OggS"));
    }
}
