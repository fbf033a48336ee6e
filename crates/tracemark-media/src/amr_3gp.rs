//! AMR-NB / AMR-WB tracks of 3GP/MP4 files (what phones' voice recorders write), which
//! symphonia 0.6.1 does not know: the samples are gathered through the ISO BMFF sample tables
//! (ISO/IEC 14496-12 §8.7: `stsz`, `stsc`, `stco`/`co64`) and, since 3GPP TS 26.244 §6.8
//! stores each sample as AMR storage-format records without the magic, decoded as an `.amr`
//! file.

use tracemark_dsp::AudioBuffer;

use crate::{Limits, MediaError};

fn corrupt(reason: impl Into<String>) -> MediaError {
    MediaError::corrupt(0, format!("3GP AMR track: {}", reason.into()))
}

pub(crate) fn be32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

pub(crate) fn be64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from(be32(b, at)?) << 32 | u64::from(be32(b, at + 4)?))
}

/// The boxes in `data` as (type, body); a box running past the end is clipped to it.
pub(crate) fn boxes(data: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        let size = be32(data, at)? as usize;
        let kind: [u8; 4] = data.get(at + 4..at + 8)?.try_into().ok()?;
        let (header, size) = match size {
            0 => (8, data.len() - at),
            1 => (16, usize::try_from(be64(data, at + 8)?).ok()?),
            n => (8, n),
        };
        if size < header {
            return None;
        }
        let end = at.saturating_add(size).min(data.len());
        let body = data.get(at + header..end)?;
        at = end;
        Some((kind, body))
    })
}

pub(crate) fn child<'a>(data: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    boxes(data).find(|(k, _)| k == kind).map(|(_, b)| b)
}

/// Whether `head` starts with an ISO BMFF `ftyp` box (MP4, MOV, 3GP).
pub(crate) fn is_iso_bmff(head: &[u8]) -> bool {
    head.get(4..8) == Some(b"ftyp".as_slice())
}

/// Whether `head` is a 3GPP file: an `ftyp` whose major or a compatible brand is `3g..`
/// (TS 26.244 §5.4: 3gp4 to 3gp6, 3g2a and kin).
pub(crate) fn is_3gp(head: &[u8]) -> bool {
    let Some(len) = be32(head, 0).filter(|_| is_iso_bmff(head)) else {
        return false;
    };
    let ftyp = &head[8..(len as usize).clamp(8, head.len())];
    ftyp.chunks_exact(4).any(|brand| brand.starts_with(b"3g"))
}

/// The first AMR track's sample table: (variant magic, stbl body).
fn amr_track(file: &[u8]) -> Option<(&'static [u8], &[u8])> {
    let moov = child(file, b"moov")?;
    boxes(moov)
        .filter(|(k, _)| k == b"trak")
        .find_map(|(_, trak)| {
            let stbl = child(child(child(trak, b"mdia")?, b"minf")?, b"stbl")?;
            // stsd: version/flags, entry count, then sample entries (boxes).
            let stsd = child(stbl, b"stsd")?;
            let (kind, _) = boxes(stsd.get(8..)?).next()?;
            match &kind {
                b"samr" => Some((b"#!AMR\n".as_slice(), stbl)),
                b"sawb" => Some((b"#!AMR-WB\n".as_slice(), stbl)),
                _ => None,
            }
        })
}

/// Decodes the first AMR track of an ISO BMFF file, or `None` when it has none.
pub(crate) fn decode(file: &[u8], limits: &Limits) -> Option<Result<AudioBuffer, MediaError>> {
    let (magic, stbl) = amr_track(file)?;
    Some(gather(file, stbl, magic).and_then(|amr| crate::amr::decode(&amr, limits)))
}

/// The track's samples in order, after `magic`.
fn gather(file: &[u8], stbl: &[u8], magic: &[u8]) -> Result<Vec<u8>, MediaError> {
    let table = |kind: &[u8; 4]| {
        child(stbl, kind)
            .ok_or_else(|| corrupt(format!("no {} box", String::from_utf8_lossy(kind))))
    };
    let stsz = table(b"stsz")?;
    let fixed = be32(stsz, 4).ok_or_else(|| corrupt("stsz is cut short"))?;
    let count = be32(stsz, 8).ok_or_else(|| corrupt("stsz is cut short"))? as usize;
    // Every AMR sample holds at least its one-octet record header.
    if count > file.len() {
        return Err(corrupt(format!(
            "{count} samples declared in a {}-byte file",
            file.len()
        )));
    }
    let size_of = |i: usize| -> Result<usize, MediaError> {
        if fixed != 0 {
            return Ok(fixed as usize);
        }
        be32(stsz, 12 + 4 * i)
            .map(|s| s as usize)
            .ok_or_else(|| corrupt("stsz table is cut short"))
    };
    let offsets: Vec<u64> = if let Ok(stco) = table(b"stco") {
        let n = be32(stco, 4).unwrap_or(0) as usize;
        (0..n)
            .map_while(|i| be32(stco, 8 + 4 * i).map(u64::from))
            .collect()
    } else {
        let co64 = table(b"co64")?;
        let n = be32(co64, 4).unwrap_or(0) as usize;
        (0..n).map_while(|i| be64(co64, 8 + 8 * i)).collect()
    };
    let stsc = table(b"stsc")?;
    let runs: Vec<(u32, u32)> = (0..be32(stsc, 4).unwrap_or(0) as usize)
        .map_while(|i| Some((be32(stsc, 8 + 12 * i)?, be32(stsc, 12 + 12 * i)?)))
        .collect();
    let mut out = magic.to_vec();
    let mut sample = 0usize;
    for (c, &offset) in offsets.iter().enumerate() {
        let chunk = c as u32 + 1;
        let per_chunk = runs
            .iter()
            .rev()
            .find(|(first, _)| *first <= chunk)
            .map_or(0, |r| r.1);
        let mut at = usize::try_from(offset).map_err(|_| corrupt("chunk offset out of range"))?;
        for _ in 0..per_chunk {
            if sample == count {
                break;
            }
            let size = size_of(sample)?;
            let bytes = at
                .checked_add(size)
                .and_then(|end| file.get(at..end))
                .ok_or(MediaError::Truncated {
                    path: None,
                    decoded: 0,
                    declared: 0,
                })?;
            // Samples never overlap in a valid file, so the track is never longer than it.
            if out.len() + size > file.len() + magic.len() {
                return Err(corrupt(
                    "sample table references more bytes than the file holds",
                ));
            }
            out.extend_from_slice(bytes);
            at += size;
            sample += 1;
        }
    }
    if sample < count {
        return Err(corrupt(format!(
            "chunk tables place {sample} of {count} samples"
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal 3GP: ftyp, mdat with `frames` 4.75 kbit/s AMR-NB records, and a moov whose
    /// one track points at them in one chunk.
    fn file(frames: u32) -> Vec<u8> {
        fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
            let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
            b.extend_from_slice(kind);
            b.extend_from_slice(body);
            b
        }
        let mut f = bx(b"ftyp", b"3gp4\0\0\0\0isom3gp4");
        let records: Vec<u8> = (0..frames * 13)
            .map(|i| if i % 13 == 0 { 0x04 } else { i as u8 })
            .collect();
        let data_at = f.len() as u32 + 8;
        f.extend(bx(b"mdat", &records));
        let full = |rest: &[u8]| [&[0u8; 4][..], rest].concat();
        let stsd = bx(
            b"stsd",
            &full(&[&1u32.to_be_bytes()[..], &bx(b"samr", &[0; 28])].concat()),
        );
        let stsz = bx(
            b"stsz",
            &full(&[13u32.to_be_bytes(), frames.to_be_bytes()].concat()),
        );
        let stsc = bx(
            b"stsc",
            &full(&[1u32, 1, frames, 1].map(u32::to_be_bytes).concat()),
        );
        let stco = bx(
            b"stco",
            &full(&[1u32, data_at].map(u32::to_be_bytes).concat()),
        );
        let stbl = bx(b"stbl", &[stsd, stsz, stsc, stco].concat());
        let trak = bx(b"trak", &bx(b"mdia", &bx(b"minf", &stbl)));
        f.extend(bx(b"moov", &trak));
        f
    }

    #[test]
    fn gathers_the_amr_track_and_refuses_cut_or_lying_tables() {
        let good = file(5);
        assert!(is_3gp(&good));
        let audio = decode(&good, &Limits::default())
            .expect("amr track")
            .expect("decodes");
        assert_eq!((audio.rate().hz(), audio.frames()), (8_000, 800));
        // Cut inside the moov: the sample table is missing or short, an error either way.
        for cut in [good.len() - 1, good.len() - 20, good.len() - 60] {
            if let Some(r) = decode(&good[..cut], &Limits::default()) {
                assert!(r.is_err(), "cut {cut}");
            }
        }
        // A sample count the chunk table cannot place.
        let mut lying = good.clone();
        let at = lying.windows(4).position(|w| w == b"stsz").expect("stsz") + 12;
        lying[at..at + 4].copy_from_slice(&6u32.to_be_bytes());
        let e = decode(&lying, &Limits::default())
            .expect("track")
            .expect_err("6 of 5");
        assert!(e.to_string().contains("5 of 6"), "{e}");
        // An offset past the end of the file.
        let mut past = good.clone();
        let at = past.windows(4).position(|w| w == b"stco").expect("stco") + 12;
        past[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        let e = decode(&past, &Limits::default())
            .expect("track")
            .expect_err("past end");
        assert!(matches!(e, MediaError::Truncated { .. }), "{e}");
    }
}
