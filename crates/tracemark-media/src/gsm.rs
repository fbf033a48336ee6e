//! GSM 06.10 full-rate speech (ETSI EN 300 961, "RPE-LTP") in WAV: `WAVE_FORMAT_GSM610`
//! (format tag 0x0031), the Microsoft packing call recorders write: blocks of 65 bytes holding
//! two 260-bit frames of 160 samples each, bit fields least significant bit first.
//!
//! The decoder is the standard's fixed-point decoder (§4.3: RPE decoding, long-term synthesis,
//! short-term synthesis, postprocessing) written against the 16-bit arithmetic of §5.1, so its
//! output is deterministic; symphonia 0.6.1 has no GSM decoder.

use tracemark_dsp::AudioBuffer;

use crate::collect::Collector;
use crate::{Limits, MediaError};

/// The RIFF format tag of Microsoft GSM 6.10 (RFC 2361 appendix A).
const WAVE_FORMAT_GSM610: u16 = 0x0031;
/// One block: two frames of 260 bits (§1.7, table 1.1) packed into 65 bytes.
const BLOCK_BYTES: usize = 65;
/// Samples per frame (20 ms at 8 kHz, §1.1).
const FRAME: usize = 160;

/// Where the GSM audio of a RIFF/WAVE file lives.
struct GsmWav<'a> {
    rate: u32,
    data: &'a [u8],
    /// The `fact` chunk's sample count, when present: the audio's true length.
    samples: Option<u64>,
    /// The data chunk's declared length, when the file ends before it.
    truncated: Option<usize>,
}

fn corrupt(reason: impl Into<String>) -> MediaError {
    MediaError::corrupt(0, format!("GSM 6.10 WAV: {}", reason.into()))
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2).map(|s| u16::from_le_bytes([s[0], s[1]]))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// The chunks of a RIFF/WAVE file starting at `head`'s first byte, as (id, body, declared
/// length); the last body may be cut short by the end of `head`.
fn chunks(head: &[u8]) -> impl Iterator<Item = (&[u8], &[u8], usize)> {
    let mut at = 12;
    std::iter::from_fn(move || {
        let id = head.get(at..at + 4)?;
        let len = le32(head, at + 4)? as usize;
        let start = at + 8;
        let end = start.saturating_add(len).min(head.len());
        // Chunks are word-aligned: a pad byte follows odd lengths.
        at = start.saturating_add(len).saturating_add(len & 1);
        Some((id, &head[start..end], len))
    })
}

/// Whether `head` (the first bytes of a file) is a RIFF/WAVE whose `fmt ` chunk declares
/// GSM 6.10.
pub(crate) fn is_gsm_wav(head: &[u8]) -> bool {
    head.len() >= 12
        && &head[..4] == b"RIFF"
        && &head[8..12] == b"WAVE"
        && chunks(head)
            .find(|(id, _, _)| *id == b"fmt ")
            .and_then(|(_, body, _)| le16(body, 0))
            == Some(WAVE_FORMAT_GSM610)
}

fn parse(bytes: &[u8]) -> Result<GsmWav<'_>, MediaError> {
    let (mut fmt, mut data, mut samples) = (None, None, None);
    let mut data_declared = 0usize;
    for (id, body, declared) in chunks(bytes) {
        match id {
            b"fmt " => fmt = Some(body),
            b"fact" => samples = le32(body, 0).map(u64::from),
            b"data" => {
                data = Some(body);
                data_declared = declared;
                break;
            }
            _ => {}
        }
    }
    let fmt = fmt.ok_or_else(|| corrupt("no fmt chunk"))?;
    let field =
        |at, what| le16(fmt, at).ok_or_else(|| corrupt(format!("fmt chunk ends before {what}")));
    let channels = field(2, "the channel count")?;
    if channels != 1 {
        return Err(MediaError::Unsupported {
            path: None,
            what: format!("GSM 6.10 WAV with {channels} channels (the codec is mono)"),
        });
    }
    let rate = le32(fmt, 4).ok_or_else(|| corrupt("fmt chunk ends before the sample rate"))?;
    let align = field(12, "the block align")?;
    if usize::from(align) != BLOCK_BYTES {
        return Err(corrupt(format!(
            "block align {align}, expected {BLOCK_BYTES}"
        )));
    }
    // cbSize (offset 16) = 2, then wSamplesPerBlock (offset 18), which must be 320.
    if let Some(per_block) = le16(fmt, 18).filter(|&n| usize::from(n) != 2 * FRAME) {
        return Err(corrupt(format!(
            "{per_block} samples per block, expected {}",
            2 * FRAME
        )));
    }
    let data = data.ok_or_else(|| corrupt("no data chunk"))?;
    // 0 and 0xFFFFFFFF are what streaming writers leave when they never patch the length.
    let unpatched = data_declared == 0 || data_declared == u32::MAX as usize;
    let truncated = (!unpatched && data.len() < data_declared).then_some(data_declared);
    Ok(GsmWav {
        rate,
        data,
        samples,
        truncated,
    })
}

/// Decodes a whole GSM 6.10 WAV held in memory.
///
/// A data chunk that ends inside a block is [`MediaError::Truncated`] (the whole blocks
/// before it are not returned: strict, like every other path). The `fact` chunk's sample count
/// trims the padding of the last block.
pub(crate) fn decode(bytes: &[u8], limits: &Limits) -> Result<AudioBuffer, MediaError> {
    let wav = parse(bytes)?;
    let mut out = Collector::new(wav.rate, 1, limits)?;
    let blocks = wav.data.len() / BLOCK_BYTES;
    let declared = (blocks * 2 * FRAME) as u64;
    let declared_blocks = wav
        .truncated
        .map_or(blocks + 1, |len| len.div_ceil(BLOCK_BYTES));
    if wav.truncated.is_some() || wav.data.len() % BLOCK_BYTES != 0 {
        return Err(MediaError::Truncated {
            path: None,
            decoded: 0,
            declared: wav.samples.unwrap_or((declared_blocks * 2 * FRAME) as u64),
        });
    }
    let keep = wav.samples.unwrap_or(declared).min(declared);
    out.check_total(keep)?;
    let mut decoder = Decoder::default();
    let mut pcm = [0i16; FRAME];
    let mut samples = [0f32; FRAME];
    for block in wav.data.chunks_exact(BLOCK_BYTES) {
        let mut bits = Bits::new(block);
        for _ in 0..2 {
            let frame = Frame::read(&mut bits);
            decoder.decode(&frame, &mut pcm);
            let room = keep.saturating_sub(out.frames()).min(FRAME as u64) as usize;
            for (s, &p) in samples.iter_mut().zip(&pcm) {
                *s = f32::from(p) / 32_768.0;
            }
            out.push_interleaved(&samples[..room])?;
        }
    }
    out.finish()
}

/// Least-significant-bit-first reader over one 65-byte block.
struct Bits<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Bits<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, at: 0 }
    }

    /// The next `n` bits (n <= 16), as an unsigned value; zeros past the end.
    fn take(&mut self, n: usize) -> i16 {
        let mut v = 0u16;
        for i in 0..n {
            let bit = self
                .bytes
                .get((self.at + i) / 8)
                .map_or(0, |b| (b >> ((self.at + i) % 8)) & 1);
            v |= u16::from(bit) << i;
        }
        self.at += n;
        v as i16
    }
}

/// The parameters of one frame (§1.7, table 1.1: 260 bits).
struct Frame {
    larc: [i16; 8],
    nc: [i16; 4],
    bc: [i16; 4],
    mc: [i16; 4],
    xmaxc: [i16; 4],
    xmc: [[i16; 13]; 4],
}

impl Frame {
    /// Bits per log-area ratio (table 1.1).
    const LAR_BITS: [usize; 8] = [6, 6, 5, 5, 4, 4, 3, 3];

    fn read(bits: &mut Bits<'_>) -> Self {
        let mut f = Self {
            larc: [0; 8],
            nc: [0; 4],
            bc: [0; 4],
            mc: [0; 4],
            xmaxc: [0; 4],
            xmc: [[0; 13]; 4],
        };
        for (l, n) in f.larc.iter_mut().zip(Self::LAR_BITS) {
            *l = bits.take(n);
        }
        for j in 0..4 {
            f.nc[j] = bits.take(7);
            f.bc[j] = bits.take(2);
            f.mc[j] = bits.take(2);
            f.xmaxc[j] = bits.take(6);
            for x in &mut f.xmc[j] {
                *x = bits.take(3);
            }
        }
        f
    }
}

// 16-bit arithmetic of §5.1 (saturating add/sub, rounded Q15 multiply, shifts).
fn sat(v: i32) -> i16 {
    v.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
}
fn add(a: i16, b: i16) -> i16 {
    sat(i32::from(a) + i32::from(b))
}
fn sub(a: i16, b: i16) -> i16 {
    sat(i32::from(a) - i32::from(b))
}
fn mult_r(a: i16, b: i16) -> i16 {
    if a == i16::MIN && b == i16::MIN {
        return i16::MAX;
    }
    ((i32::from(a) * i32::from(b) + 16_384) >> 15) as i16
}
fn abs(a: i16) -> i16 {
    if a == i16::MIN { i16::MAX } else { a.abs() }
}

/// Table 5.1 / 5.2: per log-area ratio, B, MIC and INVA of the LAR decoding (§4.2.8).
const LAR_B: [i16; 8] = [0, 0, 2048, -2560, 94, -1792, -341, -1144];
const LAR_MIC: [i16; 8] = [-32, -32, -16, -16, -8, -8, -4, -4];
const LAR_INVA: [i16; 8] = [13107, 13107, 13107, 13107, 19223, 17476, 31454, 29708];
/// Table 4.3b: quantized LTP gains.
const QLB: [i16; 4] = [3277, 11469, 21299, 32767];
/// Table 4.6: normalized direct mantissa.
const FAC: [i16; 8] = [18431, 20479, 22527, 24575, 26623, 28671, 30719, 32767];

/// Decoder state carried from frame to frame (§4.3).
struct Decoder {
    /// Reconstructed long-term residual, `dp[-120..-1]` then the current 40.
    drp: [i16; 160],
    /// Last valid LTP lag.
    nrp: i16,
    /// Decoded LARs of the previous and current frame.
    larpp: [[i16; 8]; 2],
    j: usize,
    /// Short-term synthesis filter memory.
    v: [i16; 9],
    /// De-emphasis memory.
    msr: i16,
}

impl Default for Decoder {
    fn default() -> Self {
        Self {
            drp: [0; 160],
            nrp: 40,
            larpp: [[0; 8]; 2],
            j: 0,
            v: [0; 9],
            msr: 0,
        }
    }
}

impl Decoder {
    fn decode(&mut self, f: &Frame, out: &mut [i16; FRAME]) {
        let mut wt = [0i16; FRAME];
        for j in 0..4 {
            let erp = rpe_decode(f.xmaxc[j], f.mc[j], &f.xmc[j]);
            self.long_term_synthesis(f.nc[j], f.bc[j], &erp);
            wt[j * 40..j * 40 + 40].copy_from_slice(&self.drp[120..160]);
        }
        self.short_term_synthesis(&f.larc, &wt, out);
        // §4.3.5-4.3.7: de-emphasis, truncation and upscaling.
        for s in out.iter_mut() {
            self.msr = add(*s, mult_r(self.msr, 28_180));
            *s = add(self.msr, self.msr) & !7;
        }
    }

    /// §4.3.2: long-term synthesis filtering into `drp[120..160]`, then the shift.
    fn long_term_synthesis(&mut self, ncr: i16, bcr: i16, erp: &[i16; 40]) {
        let nr = if (40..=120).contains(&ncr) {
            ncr
        } else {
            self.nrp
        };
        self.nrp = nr;
        let brp = QLB[(bcr & 3) as usize];
        let nr = nr as usize;
        for (k, &e) in erp.iter().enumerate() {
            let drpp = mult_r(brp, self.drp[120 + k - nr]);
            self.drp[120 + k] = add(e, drpp);
        }
        self.drp.copy_within(40..160, 0);
    }

    /// §4.3.3-4.3.4: LAR decoding, interpolation over four segments and lattice synthesis.
    fn short_term_synthesis(&mut self, larc: &[i16; 8], wt: &[i16; FRAME], s: &mut [i16; FRAME]) {
        let cur = self.j;
        self.j ^= 1;
        let prev = self.j;
        for i in 0..8 {
            // (LARc + MIC) is in -32..=31, so the shift stays within 16 bits.
            let t = sub(add(larc[i], LAR_MIC[i]) << 10, LAR_B[i] << 1);
            let t = mult_r(LAR_INVA[i], t);
            self.larpp[cur][i] = add(t, t);
        }
        let (p, c) = (self.larpp[prev], self.larpp[cur]);
        let segments: [(usize, usize); 4] = [(0, 13), (13, 27), (27, 40), (40, 160)];
        for (seg, (start, end)) in segments.into_iter().enumerate() {
            let mut rp = [0i16; 8];
            for i in 0..8 {
                let larp = match seg {
                    0 => add(add(p[i] >> 2, c[i] >> 2), p[i] >> 1),
                    1 => add(p[i] >> 1, c[i] >> 1),
                    2 => add(add(p[i] >> 2, c[i] >> 2), c[i] >> 1),
                    _ => c[i],
                };
                rp[i] = lar_to_rp(larp);
            }
            for k in start..end {
                let mut sri = wt[k];
                for i in (0..8).rev() {
                    sri = sub(sri, mult_r(rp[i], self.v[i]));
                    self.v[i + 1] = add(self.v[i], mult_r(rp[i], sri));
                }
                self.v[0] = sri;
                s[k] = sri;
            }
        }
    }
}

/// §4.2.9.2: interpolated LAR to reflection coefficient.
fn lar_to_rp(larp: i16) -> i16 {
    let t = abs(larp);
    let r = if t < 11_059 {
        t << 1
    } else if t < 20_070 {
        t + 11_059
    } else {
        add(t >> 2, 26_112)
    };
    if larp < 0 { -r } else { r }
}

/// §4.3.1 / §4.2.16-4.2.17: APCM inverse quantization and RPE grid positioning.
fn rpe_decode(xmaxc: i16, mc: i16, xmc: &[i16; 13]) -> [i16; 40] {
    // §4.2.15: exponent and mantissa of xmaxc.
    let mut exp = if xmaxc > 15 { (xmaxc >> 3) - 1 } else { 0 };
    let mut mant = xmaxc - (exp << 3);
    if mant == 0 {
        exp = -4;
        mant = 7;
    } else {
        while mant <= 7 {
            mant = (mant << 1) | 1;
            exp -= 1;
        }
        mant -= 8;
    }
    let temp1 = FAC[(mant & 7) as usize];
    let temp2 = 6 - exp; // 0..=10 for xmaxc in 0..=63
    let temp3 = if temp2 >= 1 { 1i16 << (temp2 - 1) } else { 0 };
    let mut ep = [0i16; 40];
    let offset = (mc & 3) as usize;
    for (i, &x) in xmc.iter().enumerate() {
        let t = ((x << 1) - 7) << 12;
        let t = add(mult_r(temp1, t), temp3);
        ep[offset + 3 * i] = t >> temp2;
    }
    ep
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_like_the_standard() {
        assert_eq!(add(i16::MAX, 1), i16::MAX);
        assert_eq!(sub(i16::MIN, 1), i16::MIN);
        assert_eq!(mult_r(i16::MIN, i16::MIN), i16::MAX);
        assert_eq!(mult_r(16_384, 16_384), 8_192);
        assert_eq!(abs(i16::MIN), i16::MAX);
    }

    #[test]
    fn every_xmaxc_gives_a_shift_in_range() {
        for xmaxc in 0..64 {
            let ep = rpe_decode(xmaxc, 3, &[7; 13]);
            assert!(ep[3] >= 0, "{xmaxc}");
        }
    }

    /// A GSM WAV of `blocks` blocks of a fixed bit pattern, with a `fact` chunk.
    fn wav(blocks: usize) -> Vec<u8> {
        let data_len = blocks * BLOCK_BYTES;
        let mut w = b"RIFF".to_vec();
        w.extend_from_slice(&((4 + 28 + 12 + 8 + data_len) as u32).to_le_bytes());
        w.extend_from_slice(b"WAVEfmt \x14\0\0\0\x31\0\x01\0\x40\x1f\0\0\x59\x06\0\0");
        w.extend_from_slice(b"\x41\0\0\0\x02\0\x40\x01fact\x04\0\0\0");
        w.extend_from_slice(&((blocks * 320) as u32).to_le_bytes());
        w.extend_from_slice(b"data");
        w.extend_from_slice(&(data_len as u32).to_le_bytes());
        w.extend((0..data_len).map(|i| (i * 37 % 251) as u8));
        w
    }

    #[test]
    fn decodes_whole_blocks_and_refuses_cut_or_damaged_headers() {
        let good = wav(4);
        let audio = decode(&good, &Limits::default()).expect("valid");
        assert_eq!(audio.frames(), 4 * 320);
        // Cut anywhere after the header: truncated, never a shorter success.
        for cut in [good.len() - 1, good.len() - 65, good.len() - 100, 60] {
            let e = decode(&good[..cut], &Limits::default()).expect_err("cut");
            assert!(matches!(e, MediaError::Truncated { .. }), "cut {cut}: {e}");
        }
        // Header fields that are wrong name themselves.
        for (at, what) in [
            (22, "channels"),
            (32, "block align"),
            (38, "samples per block"),
        ] {
            let mut bad = good.clone();
            bad[at] ^= 0x04;
            let e = decode(&bad, &Limits::default()).expect_err(what);
            assert!(e.to_string().contains(what), "{what}: {e}");
        }
        // Any flip in the audio still decodes (every 260-bit pattern is a valid frame).
        let mut flipped = good.clone();
        for i in (60..good.len()).step_by(7) {
            flipped[i] ^= 0x80;
        }
        assert_eq!(
            decode(&flipped, &Limits::default())
                .expect("payload")
                .frames(),
            1280
        );
    }

    #[test]
    fn the_duration_cap_is_checked_before_decoding() {
        let limits = Limits {
            max_bytes: u64::MAX,
            max_duration_s: 0.1,
        };
        let e = decode(&wav(4), &limits).expect_err("over cap");
        assert!(
            matches!(
                e,
                MediaError::Limit {
                    limit: 800,
                    found: 1280,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn recognises_only_gsm_wav_headers() {
        let mut h = b"RIFF\0\0\0\0WAVEfmt \x14\0\0\0\x31\0\x01\0".to_vec();
        assert!(is_gsm_wav(&h));
        h[20] = 1;
        assert!(!is_gsm_wav(&h));
        assert!(!is_gsm_wav(b"RIFF"));
    }
}
