//! Temporary audio files: WAV through `hound`, raw 16-bit PCM for codec2.

use std::path::Path;

use tracemark_dsp::{AudioBuffer, SampleRate};

use crate::CodecError;

fn wav_err(path: &Path) -> impl Fn(hound::Error) -> CodecError + '_ {
    move |e| CodecError::Wav {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// Sample format of a temporary WAV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WavFormat {
    /// IEEE float, 32 bits: lossless for our buffers.
    Float32,
    /// Signed 16-bit integers, for tools that read nothing else (speexenc).
    Int16,
}

/// Writes `audio` (interleaving its channels).
pub fn write(path: &Path, audio: &AudioBuffer, format: WavFormat) -> Result<(), CodecError> {
    let spec = hound::WavSpec {
        channels: audio.channel_count() as u16,
        sample_rate: audio.rate().hz(),
        bits_per_sample: match format {
            WavFormat::Float32 => 32,
            WavFormat::Int16 => 16,
        },
        sample_format: match format {
            WavFormat::Float32 => hound::SampleFormat::Float,
            WavFormat::Int16 => hound::SampleFormat::Int,
        },
    };
    let mut writer = hound::WavWriter::create(path, spec).map_err(wav_err(path))?;
    for i in 0..audio.frames() {
        for c in audio.channels() {
            match format {
                WavFormat::Float32 => writer.write_sample(c[i]).map_err(wav_err(path))?,
                WavFormat::Int16 => writer.write_sample(to_i16(c[i])).map_err(wav_err(path))?,
            }
        }
    }
    writer.finalize().map_err(wav_err(path))
}

fn to_i16(s: f32) -> i16 {
    (s * 32_768.0).round().clamp(-32_768.0, 32_767.0) as i16
}

/// Reads a WAV file of any integer or float format into planar f32.
pub fn read(path: &Path) -> Result<AudioBuffer, CodecError> {
    let mut reader = hound::WavReader::open(path).map_err(wav_err(path))?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels.max(1));
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .samples::<f32>()
            .collect::<Result<_, _>>()
            .map_err(wav_err(path))?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(wav_err(path))?
        }
    };
    let planar = deinterleave(&interleaved, channels);
    let rate = SampleRate::try_new(spec.sample_rate).map_err(|e| CodecError::Wav {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    AudioBuffer::try_new(rate, planar).map_err(|e| CodecError::Wav {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn deinterleave(interleaved: &[f32], channels: usize) -> Vec<Vec<f32>> {
    let frames = interleaved.len() / channels;
    (0..channels)
        .map(|c| (0..frames).map(|f| interleaved[f * channels + c]).collect())
        .collect()
}

/// Writes mono raw signed 16-bit little-endian PCM.
pub fn write_raw_s16(path: &Path, samples: &[f32]) -> Result<(), CodecError> {
    let bytes: Vec<u8> = samples
        .iter()
        .flat_map(|&s| to_i16(s).to_le_bytes())
        .collect();
    std::fs::write(path, bytes).map_err(|source| CodecError::Io {
        context: format!("writing {}", path.display()),
        source,
    })
}

/// Reads mono raw signed 16-bit little-endian PCM.
pub fn read_raw_s16(path: &Path) -> Result<Vec<f32>, CodecError> {
    let bytes = std::fs::read(path).map_err(|source| CodecError::Io {
        context: format!("reading {}", path.display()),
        source,
    })?;
    Ok(bytes
        .chunks_exact(2)
        .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32_768.0)
        .collect())
}
