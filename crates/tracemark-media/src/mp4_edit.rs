//! The MP4/MOV edit list (ISO/IEC 14496-12 §8.6.6 `elst`), which symphonia 0.6.1 parses but
//! does not apply: AAC encoders put 1024 or more priming samples before the audio and an edit
//! that skips them (and trims the padding after it), and ffmpeg honours it. Applied here to the
//! decoded audio so that durations and timing match the file's presentation.

use std::io::{Read, Seek, SeekFrom};

use tracemark_dsp::AudioBuffer;

use crate::MediaError;
use crate::amr_3gp::{be32, be64, boxes, child};

/// The presentation of one track: skip `skip` media-timescale units, then keep `keep`
/// movie-timescale units (all of the rest when `None`).
#[derive(Debug, PartialEq)]
pub(crate) struct Edit {
    skip: u64,
    media_timescale: u32,
    keep: Option<u64>,
    movie_timescale: u32,
}

/// The timescale field of an `mvhd` or `mdhd` full box (§8.2.2, §8.4.2): after version and
/// flags, 4-byte creation and modification times in version 0, 8-byte ones in version 1.
fn timescale(full_box: &[u8]) -> Option<u32> {
    let at = if *full_box.first()? == 1 { 20 } else { 12 };
    be32(full_box, at).filter(|&t| t > 0)
}

/// The edit of track `track_id` (its `tkhd` track_ID, which symphonia uses as the track id),
/// from the body of a `moov` box; `None` without an edit list or with one this does not model
/// (several non-empty edits, rate changes).
pub(crate) fn edit(moov: &[u8], track_id: u32) -> Option<Edit> {
    let movie_timescale = timescale(child(moov, b"mvhd")?)?;
    let trak = boxes(moov)
        .filter(|(k, _)| k == b"trak")
        .map(|(_, t)| t)
        .find(|t| {
            child(t, b"tkhd").and_then(|h| be32(h, if h.first() == Some(&1) { 20 } else { 12 }))
                == Some(track_id)
        })?;
    let media_timescale = timescale(child(child(trak, b"mdia")?, b"mdhd")?)?;
    let elst = child(child(trak, b"edts")?, b"elst")?;
    let v1 = *elst.first()? == 1;
    let count = be32(elst, 4)? as usize;
    let width = if v1 { 20 } else { 12 };
    // Empty edits (media_time -1) only delay the start; the first real one says what plays.
    let mut real = (0..count.min(elst.len() / width)).filter_map(|i| {
        let at = 8 + i * width;
        let (duration, media_time) = if v1 {
            (be64(elst, at)?, be64(elst, at + 8)? as i64)
        } else {
            (
                u64::from(be32(elst, at)?),
                i64::from(be32(elst, at + 4)? as i32),
            )
        };
        (media_time >= 0).then_some((duration, media_time as u64))
    });
    let (duration, skip) = real.next()?;
    if real.next().is_some() {
        return None;
    }
    Some(Edit {
        skip,
        media_timescale,
        keep: (duration > 0).then_some(duration),
        movie_timescale,
    })
}

/// The body of the top-level `moov` box of `bytes`.
pub(crate) fn moov(bytes: &[u8]) -> Option<&[u8]> {
    child(bytes, b"moov")
}

/// Reads the top-level `moov` box of a file by seeking over the other boxes; at most `max`
/// bytes. Leaves the position anywhere: the caller seeks back.
pub(crate) fn read_moov<R: Read + Seek>(r: &mut R, max: u64) -> Option<Vec<u8>> {
    let mut at = 0u64;
    loop {
        r.seek(SeekFrom::Start(at)).ok()?;
        let mut header = [0u8; 16];
        r.read_exact(&mut header[..8]).ok()?;
        let mut size = u64::from(be32(&header, 0)?);
        let is_moov = &header[4..8] == b"moov";
        let mut head_len = 8;
        if size == 1 {
            r.read_exact(&mut header[8..]).ok()?;
            size = be64(&header, 8)?;
            head_len = 16;
        }
        if is_moov {
            let body = size.checked_sub(head_len).filter(|&b| b <= max)?;
            let mut out = Vec::new();
            r.take(body).read_to_end(&mut out).ok()?;
            return Some(out);
        }
        if size < head_len {
            return None; // size 0 (to the end) or malformed: no moov after it
        }
        at = at.checked_add(size)?;
    }
}

/// `audio` trimmed by `edit` (both counts converted to sample frames, rounded down).
pub(crate) fn apply(edit: &Edit, audio: AudioBuffer) -> Result<AudioBuffer, MediaError> {
    let rate = u64::from(audio.rate().hz());
    let frames = audio.frames() as u64;
    let skip = (u128::from(edit.skip) * u128::from(rate) / u128::from(edit.media_timescale))
        .min(u128::from(frames)) as u64;
    let keep = edit.keep.map_or(frames - skip, |d| {
        (u128::from(d) * u128::from(rate) / u128::from(edit.movie_timescale))
            .min(u128::from(frames - skip)) as u64
    });
    if skip == 0 && keep == frames {
        return Ok(audio);
    }
    if keep == 0 {
        return Err(MediaError::NoAudio { path: None });
    }
    let (start, end) = (skip as usize, (skip + keep) as usize);
    let planes = audio
        .channels()
        .iter()
        .map(|p| p[start..end].to_vec())
        .collect();
    AudioBuffer::try_new(audio.rate(), planes).map_err(MediaError::buffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(body);
        b
    }

    fn moov_with(elst: &[u8]) -> Vec<u8> {
        let v0 = |ts: u32| [&[0u8; 12][..], &ts.to_be_bytes(), &[0; 8]].concat();
        let tkhd = [&[0u8; 12][..], &2u32.to_be_bytes(), &[0; 8]].concat();
        let trak = [
            bx(b"tkhd", &tkhd),
            bx(b"edts", &bx(b"elst", elst)),
            bx(b"mdia", &bx(b"mdhd", &v0(16_000))),
        ]
        .concat();
        [bx(b"mvhd", &v0(1_000)), bx(b"trak", &trak)].concat()
    }

    #[test]
    fn reads_the_priming_skip_and_the_kept_duration() {
        // One edit: 10 s (movie scale 1000) from media time 1024 (scale 16000).
        let elst = [0u32, 1, 10_000, 1024, 0x0001_0000]
            .map(u32::to_be_bytes)
            .concat();
        let moov = moov_with(&elst);
        let e = edit(&moov, 2).expect("edit");
        assert_eq!(e.skip, 1024);
        assert_eq!(e.keep, Some(10_000));
        assert_eq!(edit(&moov, 1), None, "another track");
        let rate = tracemark_dsp::SampleRate::try_new(16_000).expect("rate");
        let audio = AudioBuffer::mono(rate, vec![0.5; 161_792]).expect("audio");
        assert_eq!(apply(&e, audio).expect("trim").frames(), 160_000);
        // A cut elst is ignored, not an error and not a panic.
        assert_eq!(edit(&moov_with(&elst[..10]), 2), None);
    }

    #[test]
    fn finds_moov_after_mdat_by_seeking() {
        let mut file = bx(b"ftyp", b"isom\0\0\0\0");
        file.extend(bx(b"mdat", &[0; 100]));
        file.extend(bx(b"moov", b"body"));
        let mut c = std::io::Cursor::new(&file);
        assert_eq!(read_moov(&mut c, 1 << 20).as_deref(), Some(&b"body"[..]));
        assert_eq!(read_moov(&mut c, 2), None, "over the cap");
        assert_eq!(
            read_moov(&mut std::io::Cursor::new(&file[..50]), 1 << 20),
            None
        );
    }
}
