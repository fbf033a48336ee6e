//! CRC-24 with the generator of 3GPP TS 36.212 §5.1.1 (gCRC24A).
//!
//! In the parameters of Greg Cook's "Catalogue of parametrised CRC algorithms" (reveng)
//! this is **CRC-24/LTE-A**: width 24, poly 0x864CFB, init 0, not reflected in or out,
//! xorout 0, check 0xCDE703 (the CRC of the ASCII bytes "123456789"), residue 0. It shares its
//! polynomial with CRC-24/OPENPGP (RFC 4880 §6.1) but not its initial value (0xB704CE there,
//! check 0x21CF02), so OpenPGP's check value does not apply here.

/// gCRC24A(D) = D^24 + D^23 + D^18 + D^17 + D^14 + D^11 + D^10 + D^7 + D^6 + D^5 + D^4 +
/// D^3 + D + 1 (3GPP TS 36.212 §5.1.1), without the leading term.
const POLY: u32 = 0x86_4CFB;

/// The 24-bit CRC of `bytes` (MSB first, zero initial value, as in 3GPP TS 36.212).
pub fn crc24(bytes: &[u8]) -> u32 {
    let mut crc: u32 = 0;
    for &byte in bytes {
        crc ^= u32::from(byte) << 16;
        for _ in 0..8 {
            crc <<= 1;
            if crc & 0x100_0000 != 0 {
                crc ^= POLY;
            }
        }
    }
    crc & 0xFF_FFFF
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_catalogue_check_value_of_crc_24_lte_a() {
        // reveng catalogue, CRC-24/LTE-A: check = 0xCDE703 over "123456789".
        assert_eq!(crc24(b"123456789"), 0xCD_E703);
        assert_eq!(crc24(b""), 0);
    }

    #[test]
    fn appending_the_crc_gives_a_zero_remainder() {
        let data = b"tracemark";
        let c = crc24(data);
        let mut with = data.to_vec();
        with.extend_from_slice(&[(c >> 16) as u8, (c >> 8) as u8, c as u8]);
        assert_eq!(crc24(&with), 0);
    }

    #[test]
    fn every_single_bit_error_changes_the_crc() {
        let data = [0x5Au8; 12];
        let c = crc24(&data);
        for bit in 0..96 {
            let mut d = data;
            d[bit / 8] ^= 1 << (bit % 8);
            assert_ne!(crc24(&d), c, "bit {bit}");
        }
    }
}
