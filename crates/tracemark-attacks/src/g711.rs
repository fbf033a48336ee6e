//! ITU-T G.711 (11/1988) mu-law companding, the North American and Japanese telephone PCM.
//!
//! The segment encoding follows the standard's Table 2a on 14-bit magnitudes, in the usual
//! 16-bit-input formulation (bias 0x84, clip 32635) of the Sun/CCITT reference `g711.c`.

/// Bias added before segment search (G.711 Table 2a: 33 in 14-bit units, 132 in 16-bit).
const BIAS: i32 = 0x84;
/// Largest magnitude that still fits the top segment after biasing.
const CLIP: i32 = 32_635;

/// Encodes one 16-bit linear sample as a mu-law octet (bits inverted, as transmitted).
pub fn mulaw_encode(sample: i16) -> u8 {
    let mut pcm = i32::from(sample);
    let sign = if pcm < 0 {
        pcm = -pcm;
        0x80
    } else {
        0x00
    };
    let magnitude = pcm.min(CLIP) + BIAS;
    // Segment: position of the highest set bit above bit 7 (segments 0..=7).
    let exponent = (31 - (magnitude as u32).leading_zeros())
        .saturating_sub(7)
        .min(7) as i32;
    let mantissa = (magnitude >> (exponent + 3)) & 0x0F;
    !((sign | (exponent << 4) | mantissa) as u8)
}

/// Decodes a mu-law octet to a 16-bit linear sample.
pub fn mulaw_decode(code: u8) -> i16 {
    let u = i32::from(!code);
    let magnitude = (((u & 0x0F) << 3) + BIAS) << ((u & 0x70) >> 4);
    let value = if u & 0x80 != 0 {
        BIAS - magnitude
    } else {
        magnitude - BIAS
    };
    // |value| <= 32124 by construction of the table.
    value as i16
}

/// Quantises float samples through mu-law and back, in place (16-bit PCM in between).
pub fn mulaw_round_trip(x: &mut [f32]) {
    for s in x {
        let pcm = (*s * 32_768.0).round().clamp(-32_768.0, 32_767.0) as i16;
        *s = f32::from(mulaw_decode(mulaw_encode(pcm))) / 32_768.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_table_endpoints() {
        assert_eq!(mulaw_encode(0), 0xFF);
        assert_eq!(mulaw_decode(0xFF), 0);
        assert_eq!(mulaw_decode(0x7F), 0);
        assert_eq!(mulaw_decode(0x80), 32_124);
        assert_eq!(mulaw_decode(0x00), -32_124);
        assert_eq!(mulaw_encode(i16::MAX), 0x80);
        assert_eq!(mulaw_encode(i16::MIN), 0x00);
    }

    #[test]
    fn every_code_decodes_to_a_value_that_encodes_back_to_it() {
        for code in 0..=255u8 {
            if code == 0x7F {
                continue; // negative zero encodes as positive zero, 0xFF
            }
            assert_eq!(mulaw_encode(mulaw_decode(code)), code, "code {code:#x}");
        }
    }

    #[test]
    fn quantisation_error_is_relative() {
        for v in [100i16, 1000, 10_000, -20_000] {
            let back = mulaw_decode(mulaw_encode(v));
            let err = (i32::from(back) - i32::from(v)).abs();
            assert!(err <= i32::from(v).abs() / 16 + 4, "{v} -> {back}");
        }
    }
}
