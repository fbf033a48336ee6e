//! FLAC decoding with `claxon`.
//!
//! symphonia 0.6.1's FLAC reader was seen to drop a whole frame of valid streams (a 60 s
//! file written by flacenc decoded 4096 samples short while libFLAC, via sox, and ffmpeg
//! read every sample; see tests/flac_len_regression.rs), so FLAC goes through claxon, a
//! decoder dedicated to the format that checks every frame's CRC.

use std::io::Read;

use tracemark_dsp::{AudioBuffer, SampleFormat};

use crate::collect::{Collector, check_channels, check_rate};
use crate::{Limits, MediaError};

/// Whether the stream starts with the FLAC signature (RFC 9639 §6).
pub(crate) fn is_flac(sniff: &[u8]) -> bool {
    sniff.starts_with(b"fLaC")
}

pub(crate) fn corrupt(frame: u64, e: claxon::Error) -> MediaError {
    MediaError::corrupt(frame, format!("FLAC: {e}"))
}

/// Decodes a whole FLAC stream.
pub(crate) fn decode<R: Read>(reader: R, limits: &Limits) -> Result<AudioBuffer, MediaError> {
    let mut flac = claxon::FlacReader::new(reader).map_err(|e| corrupt(0, e))?;
    let info = flac.streaminfo();
    check_rate(info.sample_rate)?;
    check_channels(info.channels as usize)?;
    if !(4..=32).contains(&info.bits_per_sample) {
        return Err(MediaError::corrupt(
            0,
            format!("FLAC: {} bits per sample", info.bits_per_sample),
        ));
    }
    let mut collector = Collector::new(info.sample_rate, info.channels as usize, limits)?;
    if let Some(declared) = info.samples {
        collector.check_total(declared)?;
    }
    let scale = 1.0 / (1u64 << (info.bits_per_sample - 1)) as f32;
    let mut blocks = flac.blocks();
    let mut buffer = Vec::new();
    let mut planes: Vec<Vec<f32>> = vec![Vec::new(); info.channels as usize];
    loop {
        let done = collector.frames();
        let Some(block) = blocks
            .read_next_or_eof(buffer)
            .map_err(|e| corrupt(done, e))?
        else {
            break;
        };
        if block.channels() != info.channels {
            return Err(MediaError::corrupt(
                done,
                "FLAC: channel count changed mid-stream",
            ));
        }
        let frames = block.duration() as usize;
        for (c, plane) in planes.iter_mut().enumerate() {
            plane.clear();
            plane.extend(block.channel(c as u32).iter().map(|&s| s as f32 * scale));
        }
        collector.push_planar(&planes, frames)?;
        buffer = block.into_buffer();
    }
    if let Some(d) = info.samples.filter(|&d| collector.frames() < d) {
        return Err(MediaError::Truncated {
            path: None,
            decoded: collector.frames(),
            declared: d,
        });
    }
    // 4..=32 checked above, so the narrowing cannot wrap.
    let bits = info.bits_per_sample as u8;
    Ok(collector
        .finish()?
        .with_source_format(Some(SampleFormat::Int { bits })))
}
