//! Temporary audio files for the tools: WAV through `tracemark-media` (the workspace's one
//! WAV writer, and its decoder), raw 16-bit PCM for codec2.

use std::path::Path;

use tracemark_dsp::AudioBuffer;
use tracemark_media::{Limits, MediaError, WavSample, decode_file, encode_wav};

use crate::CodecError;

fn wav_err(path: &Path) -> impl Fn(MediaError) -> CodecError + '_ {
    move |e| CodecError::Wav {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// Writes `audio` as WAV of `sample` format ([`WavSample::Float32`] is lossless for our
/// buffers; [`WavSample::Int16`] is for tools that read nothing else, such as speexenc).
pub fn write(path: &Path, audio: &AudioBuffer, sample: WavSample) -> Result<(), CodecError> {
    let bytes = encode_wav(audio, sample).map_err(wav_err(path))?;
    std::fs::write(path, bytes).map_err(|source| CodecError::Io {
        context: format!("writing {}", path.display()),
        source,
    })
}

/// Reads a WAV file that a tool wrote, of any integer or float format, into planar f32.
pub fn read(path: &Path) -> Result<AudioBuffer, CodecError> {
    decode_file(path, &Limits::default()).map_err(wav_err(path))
}

/// Full scale of 16-bit PCM: 2^15.
const FULL_SCALE_16: f32 = 32_768.0;

fn to_i16(s: f32) -> i16 {
    (s * FULL_SCALE_16)
        .round()
        .clamp(-FULL_SCALE_16, FULL_SCALE_16 - 1.0) as i16
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
        .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / FULL_SCALE_16)
        .collect())
}
