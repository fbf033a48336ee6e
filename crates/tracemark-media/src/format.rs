//! Output formats and resource limits.

/// A format [`crate::encode_bytes`] can write.
///
/// Decoding accepts more (Ogg Vorbis, AAC/M4A); see [`crate::decode_bytes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// RIFF WAVE, written as 32-bit IEEE float (bit-exact for [`tracemark_dsp::AudioBuffer`]).
    Wav,
    /// FLAC, written as 16-bit integer PCM.
    Flac,
    /// MPEG-1/2/2.5 Layer III via LAME, constant bitrate, with a LAME/Info tag for gapless
    /// decoding.
    Mp3,
    /// Opus (RFC 6716) in an Ogg container (RFC 7845).
    Opus,
}

impl Format {
    /// The format a file extension names (case-insensitive, with or without the dot).
    ///
    /// ```
    /// use tracemark_media::Format;
    /// assert_eq!(Format::from_extension(".WAV"), Some(Format::Wav));
    /// assert_eq!(Format::from_extension("ogg"), None); // Vorbis or Opus: ambiguous
    /// ```
    pub fn from_extension(ext: &str) -> Option<Self> {
        let ext = ext.strip_prefix('.').unwrap_or(ext).to_ascii_lowercase();
        match ext.as_str() {
            "wav" | "wave" => Some(Self::Wav),
            "flac" => Some(Self::Flac),
            "mp3" => Some(Self::Mp3),
            "opus" => Some(Self::Opus),
            _ => None,
        }
    }

    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Wav => "wav",
            Self::Flac => "flac",
            Self::Mp3 => "mp3",
            Self::Opus => "opus",
        }
    }

    /// Whether decoding gives back exactly what was encoded (up to the format's quantisation).
    pub fn is_lossless(self) -> bool {
        matches!(self, Self::Wav | Self::Flac)
    }
}

/// Resource caps applied while decoding untrusted input.
///
/// Decoding stops with [`crate::MediaError::Limit`] as soon as either cap is exceeded, before
/// the excess is allocated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Largest accepted input, in bytes.
    pub max_bytes: u64,
    /// Longest accepted decoded duration, in seconds.
    pub max_duration_s: f64,
}

impl Default for Limits {
    /// 2 GiB of input and 4 hours of audio.
    fn default() -> Self {
        Self {
            max_bytes: 2 << 30,
            max_duration_s: 4.0 * 3600.0,
        }
    }
}

impl Limits {
    /// Most sample frames allowed at `rate_hz` (at least zero, saturating).
    pub(crate) fn max_frames(&self, rate_hz: u32) -> u64 {
        let frames = (self.max_duration_s * f64::from(rate_hz)).floor();
        if frames.is_nan() || frames <= 0.0 {
            0
        } else {
            // Float-to-int `as` saturates; u64::MAX means "no practical cap".
            frames as u64
        }
    }
}

/// Options for [`crate::encode_bytes`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EncodeOptions {
    /// Bitrate for the lossy formats (MP3, Opus) in kb/s, for the whole stream. `None` picks a
    /// transparent-leaning default (see [`crate::encode_bytes`]). Ignored for WAV and FLAC.
    pub bitrate_kbps: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_round_trips() {
        for f in [Format::Wav, Format::Flac, Format::Mp3, Format::Opus] {
            assert_eq!(Format::from_extension(f.extension()), Some(f));
        }
        assert_eq!(Format::from_extension("txt"), None);
    }

    #[test]
    fn max_frames_handles_odd_durations() {
        let l = |d| Limits {
            max_bytes: 1,
            max_duration_s: d,
        };
        assert_eq!(l(1.0).max_frames(8_000), 8_000);
        assert_eq!(l(-1.0).max_frames(8_000), 0);
        assert_eq!(l(f64::NAN).max_frames(8_000), 0);
        assert_eq!(l(f64::INFINITY).max_frames(8_000), u64::MAX);
    }
}
