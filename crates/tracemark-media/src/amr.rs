//! AMR-NB and AMR-WB in the RFC 4867 §5 storage format (`.amr`: a `#!AMR\n` or `#!AMR-WB\n`
//! magic, then one octet-aligned record per 20 ms frame), decoded by `rvoip-codec-core`, a
//! pure-Rust port of the 3GPP reference decoders (TS 26.073 / TS 26.173).

use codec_core::codecs::amr::{AmrCodec, AmrFrameType, AmrStorageReader, AmrVariant};
use codec_core::types::{CodecConfig, CodedFrame, FrameKind, VariableRateCodec};
use tracemark_dsp::AudioBuffer;

use crate::collect::Collector;
use crate::{Limits, MediaError};

/// Whether `head` starts with an AMR storage magic (RFC 4867 §5.1 / §5.2; the multi-channel
/// forms too, so they are refused by name rather than probed as something else).
pub(crate) fn is_amr(head: &[u8]) -> bool {
    head.starts_with(b"#!AMR\n")
        || head.starts_with(b"#!AMR-WB\n")
        || head.starts_with(b"#!AMR_MC1.0\n")
        || head.starts_with(b"#!AMR-WB_MC1.0\n")
}

/// Decodes a whole `.amr` file held in memory; strict: a damaged record fails the file.
pub(crate) fn decode(bytes: &[u8], limits: &Limits) -> Result<AudioBuffer, MediaError> {
    let mut reader = AmrStorageReader::new(bytes).map_err(|e| MediaError::Unsupported {
        path: None,
        what: format!("AMR storage file: {e}"),
    })?;
    let variant = reader.variant();
    let config = match variant {
        AmrVariant::NarrowBand => CodecConfig::amr_nb(),
        AmrVariant::WideBand => CodecConfig::amr_wb(),
    };
    let mut codec = AmrCodec::new(&config)
        .map_err(|e| MediaError::corrupt(0, format!("AMR decoder setup: {e}")))?;
    let mut out = Collector::new(variant.sample_rate(), 1, limits)?;
    let mut samples = Vec::with_capacity(variant.frame_samples());
    loop {
        let record = match reader.next_frame() {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(e) if e.to_string().contains("truncated") => {
                return Err(MediaError::Truncated {
                    path: None,
                    decoded: out.frames(),
                    declared: 0,
                });
            }
            Err(e) => {
                return Err(MediaError::corrupt(
                    out.frames(),
                    format!("AMR record: {e}"),
                ));
            }
        };
        let (kind, mode) = match record.frame_type {
            AmrFrameType::Speech(mode) => (FrameKind::Speech, mode.index()),
            AmrFrameType::Sid(_) => (FrameKind::ComfortNoise, 0),
            AmrFrameType::NoData => (FrameKind::NoData, 0),
            AmrFrameType::SpeechLost => (FrameKind::Lost, 0),
        };
        let frame = CodedFrame {
            kind,
            mode,
            quality_ok: record.quality_ok,
            data: record.data,
        };
        let pcm = codec
            .decode_frame(&frame)
            .map_err(|e| MediaError::corrupt(out.frames(), format!("AMR frame: {e}")))?;
        samples.clear();
        samples.extend(pcm.iter().map(|&s| f32::from(s) / 32_768.0));
        out.push_interleaved(&samples)?;
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record header (RFC 4867 §5.3): padding, FT (4 bits), Q, padding x2.
    fn toc(ft: u8) -> u8 {
        (ft << 3) | 0b100
    }

    fn nb_file(frames: usize) -> Vec<u8> {
        let mut f = b"#!AMR\n".to_vec();
        for i in 0..frames {
            // FT 0 (4.75 kbit/s): 95 bits in 12 octets.
            f.push(toc(0));
            f.extend((0..12).map(|j| (i * 31 + j * 7) as u8));
        }
        f
    }

    #[test]
    fn decodes_nb_and_wb_records_at_their_rates() {
        let nb = decode(&nb_file(5), &Limits::default()).expect("nb");
        assert_eq!((nb.rate().hz(), nb.frames()), (8_000, 5 * 160));
        // AMR-WB NO_DATA records (FT 15, no octets): 20 ms each at 16 kHz.
        let mut wb = b"#!AMR-WB\n".to_vec();
        wb.extend([toc(15); 5]);
        let wb = decode(&wb, &Limits::default()).expect("wb");
        assert_eq!((wb.rate().hz(), wb.frames()), (16_000, 5 * 320));
    }

    #[test]
    fn cut_records_reserved_types_and_multichannel_files_are_errors() {
        let good = nb_file(5);
        for cut in [good.len() - 1, good.len() - 12] {
            let e = decode(&good[..cut], &Limits::default()).expect_err("cut");
            assert!(matches!(e, MediaError::Truncated { .. }), "cut {cut}: {e}");
        }
        let mut reserved = good.clone();
        reserved[6] = toc(12); // FT 12-14 are reserved for AMR-NB
        let e = decode(&reserved, &Limits::default()).expect_err("reserved");
        assert!(matches!(e, MediaError::Corrupt { frame: 0, .. }), "{e}");
        let e = decode(b"#!AMR_MC1.0\n\0\0\0\x01", &Limits::default()).expect_err("mc");
        assert!(e.to_string().contains("multi-channel"), "{e}");
    }

    #[test]
    fn the_duration_cap_stops_decoding() {
        let limits = Limits {
            max_bytes: u64::MAX,
            max_duration_s: 0.05,
        };
        let e = decode(&nb_file(5), &limits).expect_err("over cap");
        assert!(matches!(e, MediaError::Limit { limit: 400, .. }), "{e}");
    }
}
