//! The stored form of an [`Index`]: versioned, little-endian, parsed strictly.
//!
//! ```text
//! magic     8 bytes  "TMFPIDX\0"
//! version   u16      FORMAT_VERSION
//! tick      u16      samples per tick (must equal TICK_SAMPLES)
//! rate      u32      sample rate, Hz (must equal SAMPLE_RATE_HZ)
//! count     u32      recordings (<= MAX_RECORDINGS)
//! count x { id u64, ticks u32, peaks u32 (<= MAX_PEAKS), peaks x { tick u32, quarter_hz u16 } }
//! ```
//! Peaks are strictly increasing by (tick, quarter_hz), lie within the recording and inside
//! the band; ids are unique; nothing follows the last recording. The hash table is rebuilt on
//! load, so the blob holds only peaks (6 bytes each) and cannot disagree with itself.

use crate::peaks::{BAND_HZ, Fingerprint, MAX_SAMPLES, Peak, SAMPLE_RATE_HZ, TICK_SAMPLES};
use crate::{FingerprintError, Index};

const MAGIC: &[u8; 8] = b"TMFPIDX\0";
/// Version written by this build; bump when the layout or the peak picker changes.
pub const FORMAT_VERSION: u16 = 1;
/// Most recordings one stored index may hold.
pub const MAX_RECORDINGS: u32 = 1 << 22;
/// Most peaks one recording may hold: 24 h at the density cap with margin (30/s x 2).
pub const MAX_PEAKS: u32 = 24 * 3600 * 60;
const MAX_TICKS: u32 = (MAX_SAMPLES / TICK_SAMPLES) as u32;
const PEAK_BYTES: usize = 6;

impl Index {
    /// Serialises the index (see the module docs of `wire` for the layout).
    pub fn to_bytes(&self) -> Vec<u8> {
        let peaks: usize = self.recordings.iter().map(|(_, f)| f.peaks().len()).sum();
        let mut out = Vec::with_capacity(20 + self.recordings.len() * 16 + peaks * PEAK_BYTES);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(TICK_SAMPLES as u16).to_le_bytes());
        out.extend_from_slice(&SAMPLE_RATE_HZ.to_le_bytes());
        out.extend_from_slice(&(self.recordings.len() as u32).to_le_bytes());
        for (id, fp) in &self.recordings {
            out.extend_from_slice(&id.to_le_bytes());
            out.extend_from_slice(&fp.ticks().to_le_bytes());
            out.extend_from_slice(&(fp.peaks().len() as u32).to_le_bytes());
            for p in fp.peaks() {
                out.extend_from_slice(&p.tick.to_le_bytes());
                out.extend_from_slice(&p.quarter_hz.to_le_bytes());
            }
        }
        out
    }

    /// Parses bytes written by [`Index::to_bytes`]. Never panics; allocation is bounded by
    /// the input length.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, FingerprintError> {
        let mut index = Index::new();
        for (id, fp) in Self::recordings_from_bytes(bytes)? {
            index.add(id, fp)?;
        }
        Ok(index)
    }

    /// The `(recording id, fingerprint)` pairs of bytes written by [`Index::to_bytes`],
    /// checked as strictly as [`Index::from_bytes`] checks them but without building the
    /// hash table: for merging stored indices into one without hashing every pair twice.
    pub fn recordings_from_bytes(
        bytes: &[u8],
    ) -> Result<Vec<(u64, Fingerprint)>, FingerprintError> {
        let mut r = Reader { bytes, pos: 0 };
        if r.take(MAGIC.len(), "magic")? != MAGIC {
            return Err(FingerprintError::BadMagic);
        }
        let version = r.u16("version")?;
        if version != FORMAT_VERSION {
            return Err(FingerprintError::UnsupportedVersion {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let at = r.pos;
        let (tick, rate) = (r.u16("tick size")?, r.u32("sample rate")?);
        if usize::from(tick) != TICK_SAMPLES || rate != SAMPLE_RATE_HZ {
            return Err(r.invalid(
                at,
                format!(
                    "tick {tick} samples at {rate} Hz, expected {TICK_SAMPLES} at {SAMPLE_RATE_HZ}"
                ),
            ));
        }
        let at = r.pos;
        let count = r.u32("recording count")?;
        if count > MAX_RECORDINGS {
            return Err(FingerprintError::Limit {
                what: "recordings in a stored index",
                limit: u64::from(MAX_RECORDINGS),
                found: u64::from(count),
            });
        }
        let _ = at;
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..count {
            let at = r.pos;
            let id = r.u64("recording id")?;
            let ticks = r.u32("recording length")?;
            if ticks > MAX_TICKS {
                return Err(r.invalid(
                    at + 8,
                    format!("recording length {ticks} ticks above {MAX_TICKS}"),
                ));
            }
            let n = r.u32("peak count")?;
            if n > MAX_PEAKS {
                return Err(FingerprintError::Limit {
                    what: "peaks in one recording",
                    limit: u64::from(MAX_PEAKS),
                    found: u64::from(n),
                });
            }
            let body = r.take(n as usize * PEAK_BYTES, "peaks")?;
            let peaks = parse_peaks(body, ticks, r.pos - body.len())?;
            if !seen.insert(id) {
                return Err(FingerprintError::Invalid {
                    offset: at,
                    reason: format!("recording {id} appears twice"),
                });
            }
            out.push((id, Fingerprint { peaks, ticks }));
        }
        if r.pos != bytes.len() {
            return Err(r.invalid(r.pos, format!("{} trailing bytes", bytes.len() - r.pos)));
        }
        Ok(out)
    }
}

fn parse_peaks(body: &[u8], ticks: u32, base: usize) -> Result<Vec<Peak>, FingerprintError> {
    let band = ((BAND_HZ.0 * 4.0) as u16)..=((BAND_HZ.1 * 4.0) as u16);
    let mut peaks: Vec<Peak> = Vec::with_capacity(body.len() / PEAK_BYTES);
    for (i, chunk) in body.chunks_exact(PEAK_BYTES).enumerate() {
        let offset = base + i * PEAK_BYTES;
        let peak = Peak {
            tick: u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]),
            quarter_hz: u16::from_le_bytes([chunk[4], chunk[5]]),
        };
        let reason = if peak.tick > ticks {
            Some(format!(
                "peak at tick {} past the recording's end {ticks}",
                peak.tick
            ))
        } else if !band.contains(&peak.quarter_hz) {
            Some(format!("peak at {} Hz outside the band", peak.hz()))
        } else if peaks.last().is_some_and(|last| *last >= peak) {
            Some("peaks out of order or repeated".to_owned())
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(FingerprintError::Invalid { offset, reason });
        }
        peaks.push(peak);
    }
    Ok(peaks)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], FingerprintError> {
        let rest = &self.bytes[self.pos..];
        if rest.len() < n {
            return Err(FingerprintError::Truncated {
                offset: self.pos,
                needed: n - rest.len(),
                what,
            });
        }
        self.pos += n;
        Ok(&rest[..n])
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], FingerprintError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, FingerprintError> {
        self.array(what).map(u16::from_le_bytes)
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, FingerprintError> {
        self.array(what).map(u32::from_le_bytes)
    }

    fn u64(&mut self, what: &'static str) -> Result<u64, FingerprintError> {
        self.array(what).map(u64::from_le_bytes)
    }

    fn invalid(&self, offset: usize, reason: String) -> FingerprintError {
        FingerprintError::Invalid { offset, reason }
    }
}
