//! The one error type of this crate.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::Format;

/// What went wrong reading or writing audio.
///
/// Every decode-side variant carries the `path` of the file when there is one
/// ([`crate::decode_file`] fills it in; [`crate::decode_bytes`] leaves it `None`).
/// Messages say what was wrong and what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// Reading or writing failed at the operating-system level.
    #[error("{}I/O error: {source}; check the path exists and is readable/writable", At(.path))]
    Io {
        /// The file, if known.
        path: Option<PathBuf>,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A resource cap from [`crate::Limits`] was exceeded; decoding stopped there.
    #[error(
        "{}{what} is {found}, over the limit of {limit}; raise the cap in Limits if the input is trusted, or cut it shorter",
        At(.path)
    )]
    Limit {
        /// The file, if known.
        path: Option<PathBuf>,
        /// What was measured, with its unit.
        what: &'static str,
        /// The cap.
        limit: u64,
        /// What the input has (or declares), at least.
        found: u64,
    },
    /// The input holds no data at all.
    #[error("{}the input is empty (0 bytes); nothing to decode", At(.path))]
    Empty {
        /// The file, if known.
        path: Option<PathBuf>,
    },
    /// The container or stream parsed but held no audio frames.
    #[error("{}the stream holds no audio frames", At(.path))]
    NoAudio {
        /// The file, if known.
        path: Option<PathBuf>,
    },
    /// The content is not a format this crate reads.
    #[error(
        "{}not a recognised audio file ({reason}); supported: WAV (PCM, A-law, mu-law, IMA ADPCM, GSM 06.10), FLAC, MP3, Ogg Vorbis/Opus, AAC/M4A/MP4/MOV, WebM/Matroska, AMR",
        At(.path)
    )]
    UnrecognisedFormat {
        /// The file, if known.
        path: Option<PathBuf>,
        /// The prober's reason.
        reason: String,
    },
    /// A recognised container uses a codec or feature this crate cannot decode.
    #[error("{}unsupported: {what}; convert the file to WAV or FLAC first", At(.path))]
    Unsupported {
        /// The file, if known.
        path: Option<PathBuf>,
        /// The unsupported feature.
        what: String,
    },
    /// The stream is damaged.
    #[error("{}corrupt stream near frame {frame}: {reason}; the file is damaged or not what its header says", At(.path))]
    Corrupt {
        /// The file, if known.
        path: Option<PathBuf>,
        /// Sample frames decoded successfully before the damage.
        frame: u64,
        /// The decoder's reason.
        reason: String,
    },
    /// The stream ended before the length its header declares.
    #[error(
        "{}truncated: decoded {decoded} of {declared} declared frames; the file was cut short (incomplete copy or download?)",
        At(.path)
    )]
    Truncated {
        /// The file, if known.
        path: Option<PathBuf>,
        /// Frames decoded before the end of the data.
        decoded: u64,
        /// Frames the header declares (`0` when the stream only lacks its end marker).
        declared: u64,
    },
    /// The sample rate is outside what tracemark decodes.
    #[error("{}sample rate {hz} Hz is outside {min}..={max} Hz; resample the file first", At(.path))]
    SampleRate {
        /// The file, if known.
        path: Option<PathBuf>,
        /// The rate found.
        hz: u32,
        /// Lowest accepted rate.
        min: u32,
        /// Highest accepted rate.
        max: u32,
    },
    /// The channel count is outside what tracemark decodes.
    #[error("{}{count} channels; tracemark handles 1 to {max}", At(.path))]
    Channels {
        /// The file, if known.
        path: Option<PathBuf>,
        /// The count found.
        count: usize,
        /// Most channels accepted.
        max: usize,
    },
    /// The encoder does not accept this sample rate.
    #[error(
        "{format:?} cannot be written at {hz} Hz (supported: {supported}); resample first or pick another format"
    )]
    EncodeSampleRate {
        /// The target format.
        format: Format,
        /// The rejected rate.
        hz: u32,
        /// The rates the format accepts.
        supported: &'static str,
    },
    /// The encoder does not accept this channel count.
    #[error("{format:?} cannot be written with {count} channels (at most {max}); downmix first")]
    EncodeChannels {
        /// The target format.
        format: Format,
        /// The rejected count.
        count: usize,
        /// Most channels the format accepts.
        max: usize,
    },
    /// The requested bitrate is not one the encoder offers.
    #[error("{format:?} has no {kbps} kb/s setting (valid: {valid})")]
    EncodeBitrate {
        /// The target format.
        format: Format,
        /// The rejected bitrate.
        kbps: u32,
        /// The accepted values.
        valid: &'static str,
    },
    /// The encoder failed.
    #[error("{format:?} encoder failed: {reason}")]
    Encode {
        /// The target format.
        format: Format,
        /// The encoder's message.
        reason: String,
    },
    /// Decoded audio did not satisfy the buffer invariants, or resampling failed.
    #[error("{}audio buffer rejected: {source}", At(.path))]
    Buffer {
        /// The file, if known.
        path: Option<PathBuf>,
        /// The DSP crate's error.
        #[source]
        source: tracemark_dsp::DspError,
    },
}

impl MediaError {
    /// The file the error is about, if known.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Self::Io { path, .. }
            | Self::Limit { path, .. }
            | Self::Empty { path }
            | Self::NoAudio { path }
            | Self::UnrecognisedFormat { path, .. }
            | Self::Unsupported { path, .. }
            | Self::Corrupt { path, .. }
            | Self::Truncated { path, .. }
            | Self::SampleRate { path, .. }
            | Self::Channels { path, .. }
            | Self::Buffer { path, .. } => path.as_deref(),
            Self::EncodeSampleRate { .. }
            | Self::EncodeChannels { .. }
            | Self::EncodeBitrate { .. }
            | Self::Encode { .. } => None,
        }
    }

    /// Attaches `file` to a decode-side error that has no path yet.
    pub(crate) fn with_path(self, file: &Path) -> Self {
        self.name_file(file, false)
    }

    /// Names `file` in a decode-side error in place of the path it was read from: for a
    /// file known by another name than its path's (an upload spooled under a temporary
    /// name, whose path means nothing to the one who sent it).
    #[must_use]
    pub fn renamed(self, file: &Path) -> Self {
        self.name_file(file, true)
    }

    fn name_file(mut self, file: &Path, replace: bool) -> Self {
        match &mut self {
            Self::Io { path, .. }
            | Self::Limit { path, .. }
            | Self::Empty { path }
            | Self::NoAudio { path }
            | Self::UnrecognisedFormat { path, .. }
            | Self::Unsupported { path, .. }
            | Self::Corrupt { path, .. }
            | Self::Truncated { path, .. }
            | Self::SampleRate { path, .. }
            | Self::Channels { path, .. }
            | Self::Buffer { path, .. } => {
                if replace || path.is_none() {
                    *path = Some(file.to_path_buf());
                }
            }
            Self::EncodeSampleRate { .. }
            | Self::EncodeChannels { .. }
            | Self::EncodeBitrate { .. }
            | Self::Encode { .. } => {}
        }
        self
    }

    pub(crate) fn io(source: std::io::Error) -> Self {
        Self::Io { path: None, source }
    }

    pub(crate) fn corrupt(frame: u64, reason: impl Into<String>) -> Self {
        Self::Corrupt {
            path: None,
            frame,
            reason: reason.into(),
        }
    }

    pub(crate) fn buffer(source: tracemark_dsp::DspError) -> Self {
        Self::Buffer { path: None, source }
    }
}

/// Renders `"<path>: "` when a path is known, nothing otherwise.
struct At<'a>(&'a Option<PathBuf>);

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(p) => write!(f, "{}: ", p.display()),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_path_once_attached() {
        let e = MediaError::corrupt(12, "bad frame").with_path(Path::new("/tmp/x.flac"));
        let msg = e.to_string();
        assert!(
            msg.starts_with("/tmp/x.flac: corrupt stream near frame 12"),
            "{msg}"
        );
        assert_eq!(e.path(), Some(Path::new("/tmp/x.flac")));
        let bare = MediaError::corrupt(0, "bad").to_string();
        assert!(bare.starts_with("corrupt"), "{bare}");
    }

    #[test]
    fn with_path_keeps_an_existing_path() {
        let e = MediaError::Empty {
            path: Some(PathBuf::from("a")),
        }
        .with_path(Path::new("b"));
        assert_eq!(e.path(), Some(Path::new("a")));
    }
}
