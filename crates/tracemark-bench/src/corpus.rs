//! The benchmark's recordings: which corpus files, how long, speech or music.

use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;
use tracemark_dsp::AudioBuffer;
use tracemark_media::{Limits, decode_file};

/// What a recording holds, which decides the quality metrics that apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Speech,
    Music,
}

/// The default matrix: two speech recordings (telephone 8 kHz, read speech 16 kHz) and one
/// music recording (44.1 kHz stereo), each cut to at most 60 s.
pub const DEFAULT_FILES: [&str; 3] = [
    "call-en-8k.flac",
    "librivox-en-16k.flac",
    "music-44k-elvish-theme.flac",
];

/// Longest stretch of a recording the matrix uses.
pub const MAX_SECONDS: f64 = 60.0;

/// One recording, cut.
#[derive(Debug, Clone)]
pub struct Recording {
    pub name: String,
    pub kind: Kind,
    pub audio: AudioBuffer,
}

/// What the report says about a recording.
#[derive(Debug, Clone, Serialize)]
pub struct RecordingInfo {
    pub name: String,
    pub kind: Kind,
    pub rate_hz: u32,
    pub channels: usize,
    pub seconds_used: f64,
}

impl Recording {
    pub fn info(&self) -> RecordingInfo {
        RecordingInfo {
            name: self.name.clone(),
            kind: self.kind,
            rate_hz: self.audio.rate().hz(),
            channels: self.audio.channel_count(),
            seconds_used: self.audio.duration_s(),
        }
    }
}

/// Decodes `names` from `dir`, each cut to [`MAX_SECONDS`].
pub fn load(dir: &Path, names: &[String]) -> Result<Vec<Recording>> {
    names
        .iter()
        .map(|name| {
            let path = dir.join(name);
            let audio = decode_file(&path, &Limits::default())
                .with_context(|| format!("decoding corpus file {}", path.display()))?;
            let keep = (MAX_SECONDS * f64::from(audio.rate().hz())) as usize;
            let kind = if name.contains("music") {
                Kind::Music
            } else {
                Kind::Speech
            };
            Ok(Recording {
                name: name.clone(),
                kind,
                audio: audio.slice(0, keep),
            })
        })
        .collect()
}
