//! Lossy codecs as data, and the seam through which an I/O crate runs them.
//!
//! This crate stays pure: it names codecs and their settings; a [`CodecBackend`] supplied by
//! the caller (for example `tracemark-codec-attacks`, which runs ffmpeg, lame, opusenc, sox)
//! does the encoding.

use tracemark_dsp::AudioBuffer;

use crate::AttackError;

/// AMR-NB bit rates (3GPP TS 26.071, modes MR475 to MR122).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AmrNbMode {
    /// 4.75 kbit/s.
    Mr475,
    /// 5.15 kbit/s.
    Mr515,
    /// 5.90 kbit/s.
    Mr59,
    /// 6.70 kbit/s.
    Mr67,
    /// 7.40 kbit/s.
    Mr74,
    /// 7.95 kbit/s.
    Mr795,
    /// 10.2 kbit/s.
    Mr102,
    /// 12.2 kbit/s (the GSM-EFR rate).
    Mr122,
}

impl AmrNbMode {
    /// The mode number 0..=7 of TS 26.071 (also sox's `-C` value for `.amr-nb`).
    pub fn index(self) -> u8 {
        self as u8
    }

    /// Bit rate in bit/s.
    pub fn bits_per_second(self) -> u32 {
        [4_750, 5_150, 5_900, 6_700, 7_400, 7_950, 10_200, 12_200][self as usize]
    }

    fn label(self) -> &'static str {
        [
            "4.75k", "5.15k", "5.9k", "6.7k", "7.4k", "7.95k", "10.2k", "12.2k",
        ][self as usize]
    }
}

/// A lossy codec and its setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Codec {
    /// MPEG-1/2 Layer III at a constant bit rate.
    Mp3 {
        /// kbit/s.
        kbps: u16,
    },
    /// AAC-LC.
    Aac {
        /// kbit/s.
        kbps: u16,
    },
    /// Ogg Vorbis at a quality level (-1..=10; 0 is about 64 kbit/s stereo).
    Vorbis {
        /// The `oggenc -q` value.
        quality: i8,
    },
    /// Opus (RFC 6716) in its default audio mode.
    Opus {
        /// kbit/s.
        kbps: u16,
    },
    /// Opus restricted to its SILK (speech) layer: 16 kHz input, voice application.
    OpusSilk {
        /// kbit/s.
        kbps: u16,
    },
    /// GSM 06.10 full rate (13 kbit/s, 8 kHz).
    Gsm,
    /// AMR narrowband (8 kHz).
    AmrNb(AmrNbMode),
    /// Speex narrowband (8 kHz).
    SpeexNb {
        /// The `speexenc --quality` value 0..=10 (8 is 15 kbit/s).
        quality: u8,
    },
    /// Codec 2 (8 kHz) at a bit rate it supports (3200, 2400, 1600, 1400, 1300, 1200).
    Codec2 {
        /// bit/s.
        bps: u16,
    },
}

impl Codec {
    /// A stable short name, such as `mp3-64k` or `amr-nb-12.2k`.
    pub fn name(self) -> String {
        match self {
            Self::Mp3 { kbps } => format!("mp3-{kbps}k"),
            Self::Aac { kbps } => format!("aac-{kbps}k"),
            Self::Vorbis { quality } => format!("vorbis-q{quality}"),
            Self::Opus { kbps } => format!("opus-{kbps}k"),
            Self::OpusSilk { kbps } => format!("opus-silk-{kbps}k"),
            Self::Gsm => "gsm-06.10".into(),
            Self::AmrNb(mode) => format!("amr-nb-{}", mode.label()),
            Self::SpeexNb { quality } => format!("speex-nb-q{quality}"),
            Self::Codec2 { bps } => format!("codec2-{bps}"),
        }
    }

    /// True for the narrowband telephone codecs, which work on 8 kHz mono.
    pub fn is_narrowband(self) -> bool {
        matches!(
            self,
            Self::Gsm | Self::AmrNb(_) | Self::SpeexNb { .. } | Self::Codec2 { .. }
        )
    }
}

/// Runs a codec round trip. Implementations return audio at the input's rate, channel count and
/// length, time-aligned with the input (the codec's delay compensated).
pub trait CodecBackend {
    /// Encodes `input` with `codec` and decodes it again.
    fn round_trip(&self, codec: Codec, input: &AudioBuffer) -> Result<AudioBuffer, AttackError>;
}
