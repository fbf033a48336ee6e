//! WAV writing: the one place in the workspace that writes RIFF/WAVE files (through `hound`).

use std::io::Cursor;

use tracemark_dsp::AudioBuffer;

use crate::quantize::{Pcm, interleave};
use crate::{Format, MediaError};

/// Sample format of a WAV file written by [`encode_wav`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WavSample {
    /// 32-bit IEEE float (`WAVE_FORMAT_IEEE_FLOAT`): bit-exact for `f32` buffers. What
    /// [`crate::encode_bytes`] writes for [`Format::Wav`].
    Float32,
    /// Signed 16-bit integers (`WAVE_FORMAT_PCM`), rounded and clamped to the representable
    /// range: for tools that read nothing else (speexenc).
    Int16,
}

/// Encodes `audio` as an in-memory WAV file of `sample` format, channels interleaved.
///
/// ```
/// use tracemark_media::{decode_bytes, encode_wav, AudioBuffer, Limits, SampleRate, WavSample};
/// let audio = AudioBuffer::mono(SampleRate::try_new(8_000)?, vec![0.25; 800])?;
/// let wav = encode_wav(&audio, WavSample::Int16)?;
/// assert_eq!(&wav[..4], b"RIFF");
/// assert_eq!(decode_bytes(&wav, Some("wav"), &Limits::default())?.channels()[0][0], 0.25);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`MediaError::EncodeChannels`] past 65535 channels; [`MediaError::Encode`] if `hound`
/// fails (a file over 4 GiB).
pub fn encode_wav(audio: &AudioBuffer, sample: WavSample) -> Result<Vec<u8>, MediaError> {
    match sample {
        WavSample::Float32 => write(audio, Pcm::Float32),
        WavSample::Int16 => write(
            audio,
            Pcm::Int {
                bits: 16,
                dither: false,
            },
        ),
    }
}

/// Writes `audio` as WAV in `pcm`: 32-bit float, or integers of 8, 16, 24 or 32 bits.
pub(crate) fn write(audio: &AudioBuffer, pcm: Pcm) -> Result<Vec<u8>, MediaError> {
    let err = |e: hound::Error| MediaError::Encode {
        format: Format::Wav,
        reason: e.to_string(),
    };
    let spec = spec(audio.rate().hz(), audio.channel_count(), pcm)?;
    let mut cursor = Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut cursor, spec).map_err(err)?;
    match pcm {
        Pcm::Float32 => {
            for i in 0..audio.frames() {
                for ch in audio.channels() {
                    w.write_sample(ch[i]).map_err(err)?;
                }
            }
        }
        Pcm::Int { bits, dither } => {
            for v in interleave(audio, bits, dither) {
                w.write_sample(v).map_err(err)?;
            }
        }
    }
    w.finalize().map_err(err)?;
    Ok(cursor.into_inner())
}

/// The header [`write`] gives a WAV of `channels` channels at `rate` in `pcm`.
pub(crate) fn spec(rate: u32, channels: usize, pcm: Pcm) -> Result<hound::WavSpec, MediaError> {
    let (bits_per_sample, sample_format) = match pcm {
        Pcm::Float32 => (32, hound::SampleFormat::Float),
        Pcm::Int { bits, .. } => (u16::from(bits), hound::SampleFormat::Int),
    };
    Ok(hound::WavSpec {
        channels: u16::try_from(channels).map_err(|_| MediaError::EncodeChannels {
            format: Format::Wav,
            count: channels,
            max: usize::from(u16::MAX),
        })?,
        sample_rate: rate,
        bits_per_sample,
        sample_format,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Limits, SampleRate, decode_bytes};

    #[test]
    fn both_sample_formats_round_trip_through_the_decoder() {
        let rate = SampleRate::try_new(11_025).expect("rate");
        let left: Vec<f32> = (0..500).map(|i| (i as f32 * 0.01).sin() * 0.7).collect();
        let right: Vec<f32> = left.iter().map(|s| -s).collect();
        let audio = AudioBuffer::try_new(rate, vec![left, right]).expect("buffer");
        let float = encode_wav(&audio, WavSample::Float32).expect("float");
        let back = decode_bytes(&float, Some("wav"), &Limits::default()).expect("decode");
        assert_eq!(back, audio, "32-bit float is bit-exact");
        let int = encode_wav(&audio, WavSample::Int16).expect("int");
        assert!(int.len() < float.len());
        let back = decode_bytes(&int, Some("wav"), &Limits::default()).expect("decode");
        assert_eq!(back.rate(), rate);
        for (a, b) in audio.channels().iter().zip(back.channels()) {
            let worst = a
                .iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f32::max);
            assert!(worst <= 0.5 / 32_768.0 + f32::EPSILON, "worst {worst}");
        }
    }

    #[test]
    fn int16_clamps_instead_of_wrapping() {
        let rate = SampleRate::try_new(8_000).expect("rate");
        let audio = AudioBuffer::mono(rate, vec![1.5, -1.5, 1.0]).expect("buffer");
        let wav = encode_wav(&audio, WavSample::Int16).expect("encode");
        let back = decode_bytes(&wav, Some("wav"), &Limits::default()).expect("decode");
        assert_eq!(
            back.channels()[0],
            [32_767.0 / 32_768.0, -1.0, 32_767.0 / 32_768.0]
        );
    }
}
