//! Opus packets from a container symphonia demuxes (WebM/Matroska, what browsers'
//! MediaRecorder writes), decoded by `opus-pure` like Ogg Opus.
//!
//! Matroska carries the Opus identification header as the track's CodecPrivate (the Matroska
//! codec mapping for `A_OPUS`, which points at RFC 7845 §5.1), then one Opus packet per block.

use opus_pure::{MAX_PACKET_SAMPLES, OpusHead};
use symphonia::core::formats::FormatReader;
use tracemark_dsp::AudioBuffer;

use crate::collect::{Collector, check_channels};
use crate::opus::{Decoder, decode_rate, map_err, to_original_rate};
use crate::{Limits, MediaError};

/// Fixed part of the identification header (RFC 7845 §5.1): magic (8), version, channel
/// count, pre-skip (u16 LE), input rate (u32 LE), output gain (i16 LE), mapping family.
const HEAD_FIXED: usize = 19;

fn bad_head(reason: &str) -> MediaError {
    MediaError::corrupt(
        0,
        format!("Opus identification header (CodecPrivate): {reason}"),
    )
}

/// Parses an `OpusHead` (RFC 7845 §5.1), rejecting what the RFC forbids.
pub(crate) fn parse_head(data: &[u8]) -> Result<OpusHead, MediaError> {
    if data.len() < HEAD_FIXED || &data[..8] != b"OpusHead" {
        return Err(bad_head("missing or shorter than 19 bytes"));
    }
    // §5.1: a decoder rejects major versions (upper four bits) above 0.
    if data[8] >> 4 != 0 {
        return Err(bad_head(&format!("unsupported version {}", data[8])));
    }
    let channel_count = data[9];
    check_channels(usize::from(channel_count))?;
    let mapping_family = data[18];
    let (stream_count, coupled_count, channel_mapping) = if mapping_family == 0 {
        if channel_count > 2 {
            return Err(bad_head("mapping family 0 allows at most 2 channels"));
        }
        (1, channel_count - 1, Vec::new())
    } else {
        let need = HEAD_FIXED + 2 + usize::from(channel_count);
        let Some(table) = data.get(HEAD_FIXED + 2..need) else {
            return Err(bad_head("channel mapping table is truncated"));
        };
        let (streams, coupled) = (data[HEAD_FIXED], data[HEAD_FIXED + 1]);
        if streams == 0 || coupled > streams {
            return Err(bad_head(&format!(
                "{streams} streams with {coupled} coupled"
            )));
        }
        (streams, coupled, table.to_vec())
    };
    Ok(OpusHead {
        channel_count,
        pre_skip: u16::from_le_bytes([data[10], data[11]]),
        input_sample_rate: u32::from_le_bytes([data[12], data[13], data[14], data[15]]),
        output_gain_q8: i16::from_le_bytes([data[16], data[17]]),
        mapping_family,
        stream_count,
        coupled_count,
        channel_mapping,
    })
}

/// Decodes the Opus track `track_id` of `format`, whose identification header is `head`;
/// with `open_ended` (a live recording's unknown-size segment) the end of the input ends it.
///
/// The header's pre-skip is dropped from the start (RFC 7845 §4.2). Matroska's end trim
/// (BlockGroup DiscardPadding) is not exposed by symphonia 0.6.1, so the last packet is kept
/// whole: the result can be up to one packet (at most 120 ms, usually 20 ms) longer than the
/// original. Decoding is strict: one undecodable packet fails the file.
pub(crate) fn decode(
    format: &mut dyn FormatReader,
    track_id: u32,
    head: &[u8],
    open_ended: bool,
    limits: &Limits,
) -> Result<AudioBuffer, MediaError> {
    let head = parse_head(head)?;
    let channels = usize::from(head.channel_count);
    let rate = decode_rate(head.input_sample_rate);
    let mut decoder = Decoder::new(&head, rate)?;
    let mut out = Collector::new(rate, channels, limits)?;
    // 48 kHz ticks per output sample: exact, every Opus rate divides 48 kHz.
    let mut skip = u64::from(head.pre_skip) / u64::from(48_000 / rate);
    let mut block = vec![0.0f32; MAX_PACKET_SAMPLES * channels];
    loop {
        let packet = match format.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(e) if open_ended && crate::decode::is_eof(&e) => break,
            Err(e) => return Err(crate::decode::map_sym(e, out.frames())),
        };
        if packet.track_id != track_id {
            continue;
        }
        let n = decoder
            .decode(&packet.data, &mut block)
            .map_err(|e| map_err(e, out.frames()))?;
        let dropped = skip.min(n as u64) as usize;
        skip -= dropped as u64;
        out.push_interleaved(&block[dropped * channels..n * channels])?;
    }
    to_original_rate(out.finish()?, head.input_sample_rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(family: u8, channels: u8) -> Vec<u8> {
        let mut h = b"OpusHead".to_vec();
        h.extend_from_slice(&[1, channels, 0x38, 0x01]);
        h.extend_from_slice(&48_000u32.to_le_bytes());
        h.extend_from_slice(&[0, 0, family]);
        h
    }

    #[test]
    fn parses_a_stereo_head_and_rejects_damaged_ones() {
        let h = parse_head(&head(0, 2)).expect("valid");
        assert_eq!((h.channel_count, h.pre_skip, h.coupled_count), (2, 312, 1));
        assert_eq!(h.input_sample_rate, 48_000);
        for bad in [
            head(0, 3), // family 0 is mono or stereo
            head(1, 6), // family 1 without its mapping table
            head(0, 0), // no channels
            head(0, 2)[..18].to_vec(),
            b"OpusTags\x01\x02\0\0\0\0\0\0\0\0\0\0\0".to_vec(),
        ] {
            assert!(parse_head(&bad).is_err(), "{bad:?}");
        }
        let mut v2 = head(0, 1);
        v2[8] = 0x10;
        assert!(parse_head(&v2).is_err());
    }
}
