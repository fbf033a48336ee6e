//! One recipe per codec: the rate and layout it works at, the tool commands, and the delay
//! its decoder leaves in the output.

use std::path::Path;
use std::time::Duration;

use tracemark_attacks::Codec;
use tracemark_dsp::{AudioBuffer, SampleRate};
use tracemark_media::WavSample;

use crate::CodecError;
use crate::tool::run;
use crate::wav;

/// The rate and layout a codec is fed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Working {
    /// The input as it is (wideband codecs pick their own internal rate).
    AsIs,
    /// Downmixed to mono at this rate (speech codecs).
    Mono(u32),
}

/// How the codec is fed.
pub fn working(codec: Codec) -> Working {
    match codec {
        Codec::Gsm | Codec::AmrNb(_) | Codec::SpeexNb { .. } | Codec::Codec2 { .. } => {
            Working::Mono(8_000)
        }
        // 16 kHz input keeps Opus in its SILK layer at low rates (RFC 6716 section 2.1).
        Codec::OpusSilk { .. } => Working::Mono(16_000),
        _ => Working::AsIs,
    }
}

/// The programs a codec's round trip runs.
pub fn tools(codec: Codec) -> &'static [&'static str] {
    match codec {
        Codec::Mp3 { .. } => &["lame"],
        Codec::Aac { .. } => &["ffmpeg"],
        Codec::Vorbis { .. } => &["oggenc", "oggdec"],
        Codec::Opus { .. } | Codec::OpusSilk { .. } => &["opusenc", "opusdec"],
        Codec::Gsm | Codec::AmrNb(_) => &["sox"],
        Codec::SpeexNb { .. } => &["speexenc", "speexdec"],
        Codec::Codec2 { .. } => &["c2enc", "c2dec"],
        _ => &[],
    }
}

/// LAME's encoder delay in samples (`ENCDELAY`, lame `encoder.h`): the lag of a decoded MP3
/// that carries no LAME tag with gapless information.
pub const LAME_ENCODER_DELAY: usize = 576;

/// AMR-NB decoder output lag at 8 kHz: the 5 ms look-ahead of 3GPP TS 26.090 section 4,
/// measured as 39 frames for both 12.2 and 4.75 kbit/s.
pub const AMR_NB_DELAY: usize = 39;

/// codec2 lag at 8 kHz: about one 20 ms frame; a vocoder keeps no waveform, so this was
/// measured on the speech envelope (163 frames) and is good to a few milliseconds only.
pub const CODEC2_DELAY: usize = 160;

/// Leading frames (at the decoded file's rate) by which the decoded audio lags the input,
/// measured with `cargo run --release -p tracemark-codec-attacks --example measure_delay` and
/// checked by the `codec_output_is_time_aligned` test. `expected` is the decoded length a
/// delay-free decoder would give; `decoded` is what the tool gave.
///
/// Zero where the tool compensates: `lame --decode` reads the LAME tag's encoder delay and
/// padding (gapless) when the encoder could write one, `opusdec` applies the Ogg Opus pre-skip
/// (RFC 7845 section 4.2), `oggdec` and ffmpeg's M4A demuxer honour granule positions and the
/// edit list, and sox's GSM 06.10 and speexdec add none measurable (within one frame).
/// At low MP3 rates (an MPEG-2/2.5 frame too small for the tag: 16 kbit/s, or 32 kbit/s when
/// LAME resamples) the output is longer than the input by the encoder delay plus padding, and
/// [`LAME_ENCODER_DELAY`] is trimmed.
pub fn delay_frames(codec: Codec, expected: usize, decoded: usize) -> usize {
    match codec {
        Codec::Mp3 { .. } if decoded >= expected + LAME_ENCODER_DELAY / 2 => LAME_ENCODER_DELAY,
        Codec::AmrNb(_) => AMR_NB_DELAY,
        Codec::Codec2 { .. } => CODEC2_DELAY,
        _ => 0,
    }
}

/// Valid settings, or why not.
pub fn validate(codec: Codec) -> Result<(), CodecError> {
    let unsupported = |reason: &str| {
        Err(CodecError::UnsupportedSetting {
            codec: codec.name(),
            reason: reason.into(),
        })
    };
    match codec {
        // ISO/IEC 11172-3 and 13818-3 bit-rate tables, as LAME accepts them.
        Codec::Mp3 { kbps }
            if ![
                8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
            ]
            .contains(&kbps) =>
        {
            unsupported("MP3 rates are 8, 16, 24, 32, 40, 48, 56, 64, 80, ... 320 kbit/s")
        }
        Codec::Aac { kbps } if !(8..=320).contains(&kbps) => unsupported("AAC: 8..=320 kbit/s"),
        Codec::Vorbis { quality } if !(-1..=10).contains(&quality) => {
            unsupported("Vorbis quality is -1..=10")
        }
        // RFC 6716 section 2.1.1: 6 to 510 kbit/s.
        Codec::Opus { kbps } if !(6..=510).contains(&kbps) => unsupported("Opus: 6..=510 kbit/s"),
        Codec::OpusSilk { kbps } if !(6..=40).contains(&kbps) => {
            unsupported("Opus SILK: 6..=40 kbit/s")
        }
        Codec::SpeexNb { quality } if quality > 10 => unsupported("Speex quality is 0..=10"),
        Codec::Codec2 { bps } if ![3200, 2400, 1600, 1400, 1300, 1200].contains(&bps) => {
            unsupported("codec2 modes: 3200, 2400, 1600, 1400, 1300, 1200 bit/s")
        }
        _ => Ok(()),
    }
}

/// What a tool run produced: the decoded audio (still at the decoded rate, delay not yet
/// removed) and the encoded file's size.
pub struct Decoded {
    /// Decoded audio.
    pub audio: AudioBuffer,
    /// Size of the encoded file in bytes (container included).
    pub encoded_bytes: u64,
}

/// Encodes `input` (already at the working rate and layout) and decodes it, in `dir`.
pub fn encode_decode(
    codec: Codec,
    input: &AudioBuffer,
    dir: &Path,
    budget: Duration,
) -> Result<Decoded, CodecError> {
    let p = |name: &str| dir.join(name);
    let s = |name: &str| name.to_string();
    let (encoded, audio) = match codec {
        Codec::Mp3 { kbps } => {
            wav::write(&p("in.wav"), input, WavSample::Float32)?;
            let kbps = kbps.to_string();
            run(
                "lame",
                &["--quiet", "--cbr", "-b", &kbps, "in.wav", "out.mp3"],
                dir,
                budget,
            )?;
            run(
                "lame",
                &["--quiet", "--decode", "out.mp3", "dec.wav"],
                dir,
                budget,
            )?;
            (s("out.mp3"), wav::read(&p("dec.wav"))?)
        }
        Codec::Aac { kbps } => {
            wav::write(&p("in.wav"), input, WavSample::Float32)?;
            let rate = format!("{kbps}k");
            let quiet = ["-nostdin", "-hide_banner", "-v", "error", "-y", "-i"];
            // The float WAV that tracemark-media writes (through hound) carries a channel mask
            // (mono = FL) that ffmpeg's AAC encoder rejects; `-ac` restores the standard layout.
            let ac = input.channel_count().to_string();
            let enc_args = [
                "in.wav", "-ac", &ac, "-c:a", "aac", "-b:a", &rate, "out.m4a",
            ];
            let enc = [&quiet[..], &enc_args[..]].concat();
            run("ffmpeg", &enc, dir, budget)?;
            let dec = [&quiet[..], &["out.m4a", "-c:a", "pcm_f32le", "dec.wav"]].concat();
            run("ffmpeg", &dec, dir, budget)?;
            (s("out.m4a"), wav::read(&p("dec.wav"))?)
        }
        Codec::Vorbis { quality } => {
            wav::write(&p("in.wav"), input, WavSample::Float32)?;
            let q = quality.to_string();
            run(
                "oggenc",
                &["-Q", "-q", &q, "-o", "out.ogg", "in.wav"],
                dir,
                budget,
            )?;
            run("oggdec", &["-Q", "-o", "dec.wav", "out.ogg"], dir, budget)?;
            (s("out.ogg"), wav::read(&p("dec.wav"))?)
        }
        Codec::Opus { kbps } | Codec::OpusSilk { kbps } => {
            wav::write(&p("in.wav"), input, WavSample::Float32)?;
            let kbps = kbps.to_string();
            let mut enc = vec!["--quiet", "--bitrate", &kbps];
            if matches!(codec, Codec::OpusSilk { .. }) {
                enc.extend(["--framesize", "20"]);
            }
            enc.extend(["in.wav", "out.opus"]);
            run("opusenc", &enc, dir, budget)?;
            let rate = input.rate().hz().to_string();
            // Decode at the input's rate where Opus allows it (8/12/16/24/48 kHz), else 48 kHz.
            let rate = if [8_000, 12_000, 16_000, 24_000, 48_000].contains(&input.rate().hz()) {
                rate
            } else {
                "48000".into()
            };
            let dec = ["--quiet", "--float", "--rate", &rate, "out.opus", "dec.wav"];
            run("opusdec", &dec, dir, budget)?;
            (s("out.opus"), wav::read(&p("dec.wav"))?)
        }
        Codec::Gsm => {
            wav::write(&p("in.wav"), input, WavSample::Float32)?;
            run("sox", &["in.wav", "out.gsm"], dir, budget)?;
            run(
                "sox",
                &["out.gsm", "-e", "floating-point", "-b", "32", "dec.wav"],
                dir,
                budget,
            )?;
            (s("out.gsm"), wav::read(&p("dec.wav"))?)
        }
        Codec::AmrNb(mode) => {
            wav::write(&p("in.wav"), input, WavSample::Float32)?;
            let c = mode.index().to_string();
            run("sox", &["in.wav", "-C", &c, "out.amr-nb"], dir, budget)?;
            let dec = ["out.amr-nb", "-e", "floating-point", "-b", "32", "dec.wav"];
            run("sox", &dec, dir, budget)?;
            (s("out.amr-nb"), wav::read(&p("dec.wav"))?)
        }
        Codec::SpeexNb { quality } => {
            wav::write(&p("in.wav"), input, WavSample::Int16)?;
            let q = quality.to_string();
            let enc = ["--narrowband", "--quality", &q, "in.wav", "out.spx"];
            run("speexenc", &enc, dir, budget)?;
            run("speexdec", &["out.spx", "dec.wav"], dir, budget)?;
            (s("out.spx"), wav::read(&p("dec.wav"))?)
        }
        Codec::Codec2 { bps } => {
            wav::write_raw_s16(&p("in.raw"), &input.channels()[0])?;
            let mode = bps.to_string();
            run("c2enc", &[&mode, "in.raw", "out.c2"], dir, budget)?;
            run("c2dec", &[&mode, "out.c2", "dec.raw"], dir, budget)?;
            let samples = wav::read_raw_s16(&p("dec.raw"))?;
            let rate = SampleRate::try_new(8_000).map_err(tracemark_attacks::AttackError::from)?;
            let audio =
                AudioBuffer::mono(rate, samples).map_err(tracemark_attacks::AttackError::from)?;
            (s("out.c2"), audio)
        }
        _ => {
            return Err(CodecError::UnsupportedSetting {
                codec: codec.name(),
                reason: "no recipe for this codec yet".into(),
            });
        }
    };
    let path = p(&encoded);
    let encoded_bytes = std::fs::metadata(&path)
        .map_err(|source| CodecError::Io {
            context: format!("measuring {}", path.display()),
            source,
        })?
        .len();
    Ok(Decoded {
        audio,
        encoded_bytes,
    })
}
