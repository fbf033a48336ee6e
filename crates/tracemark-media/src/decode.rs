//! Decoding: content sniffing, the symphonia path, and the public entry points.

use std::fs::File;
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::Path;

use symphonia::core::codecs::audio::well_known::CODEC_ID_OPUS;
use symphonia::core::codecs::audio::{AudioCodecParameters, AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;
use tracemark_dsp::{AudioBuffer, SampleFormat};

use crate::collect::{Collector, check_channels, check_rate};
use crate::{Limits, MediaError, opus};

/// Bytes read up front to recognise Ogg Opus: a 27-byte Ogg page header, up to 255 lacing
/// values, then the 8-byte `OpusHead` magic (RFC 3533 §6, RFC 7845 §5.1).
pub(crate) const SNIFF_LEN: usize = 27 + 255 + 8;

/// Decodes an in-memory file into planar `f32` audio.
///
/// The container is recognised by content; `hint_ext` (e.g. `"mp3"`) only speeds up probing.
/// Reads WAV (integer and float PCM, A-law, mu-law, IMA ADPCM, GSM 06.10), AIFF, FLAC, MP3,
/// Ogg Vorbis, Ogg Opus, AAC and ALAC in MP4/M4A/MOV, CAF, Matroska/WebM (Vorbis, Opus,
/// AAC), and AMR-NB/AMR-WB in `.amr` files or 3GP, at 8 to 96 kHz with 1 to 16 channels. In a video file the first audio track is decoded.
///
/// Opus is decoded at the rate its header records as the original input rate when that is an
/// Opus rate (8, 12, 16, 24, 48 kHz); otherwise at 48 kHz and resampled to the recorded rate
/// if it lies within 8 to 96 kHz (as `opusdec` does), else returned at 48 kHz.
///
/// # Errors
/// A [`MediaError`] for empty, non-audio, corrupt or truncated input (a stream that ends before
/// the length its header declares is [`MediaError::Truncated`]), for rates or channel counts
/// out of range, and [`MediaError::Limit`] as soon as `limits` is exceeded. Decoding is strict:
/// one undecodable packet fails the whole file rather than silently dropping audio.
pub fn decode_bytes(
    bytes: &[u8],
    hint_ext: Option<&str>,
    limits: &Limits,
) -> Result<AudioBuffer, MediaError> {
    check_size(bytes.len() as u64, limits)?;
    let sniff = &bytes[..bytes.len().min(SNIFF_LEN)];
    if opus::is_ogg_opus(sniff) {
        return guarded(|| opus::decode(Cursor::new(bytes), limits));
    }
    if crate::flac::is_flac(sniff) {
        return guarded(|| crate::flac::decode(Cursor::new(bytes), limits));
    }
    if crate::gsm::is_gsm_wav(sniff) {
        return guarded(|| crate::gsm::decode(bytes, limits));
    }
    if crate::amr::is_amr(sniff) {
        return guarded(|| crate::amr::decode(bytes, limits));
    }
    // An ISO BMFF file with an AMR track (3GP); any other is left to symphonia.
    if crate::amr_3gp::is_iso_bmff(sniff)
        && let Some(result) = guarded(|| Ok(crate::amr_3gp::decode(bytes, limits)))?
    {
        return result;
    }
    precheck_wav(sniff)?;
    let moov = crate::amr_3gp::is_iso_bmff(sniff)
        .then(|| crate::mp4_edit::moov(bytes))
        .flatten();
    let open_ended = is_live_matroska(sniff);
    guarded(|| {
        decode_symphonia(
            Box::new(Cursor::new(bytes)),
            hint_ext,
            moov,
            open_ended,
            limits,
        )
    })
}

/// Decodes a file into planar `f32` audio; every error names `path`.
///
/// The file is streamed, not read whole into memory. See [`decode_bytes`] for formats and
/// errors; the extension is only a hint.
pub fn decode_file(path: &Path, limits: &Limits) -> Result<AudioBuffer, MediaError> {
    decode_file_inner(path, limits).map_err(|e| e.with_path(path))
}

fn decode_file_inner(path: &Path, limits: &Limits) -> Result<AudioBuffer, MediaError> {
    let mut file = File::open(path).map_err(MediaError::io)?;
    let len = file.metadata().map_err(MediaError::io)?.len();
    check_size(len, limits)?;
    let mut sniff = Vec::with_capacity(SNIFF_LEN);
    (&mut file)
        .take(SNIFF_LEN as u64)
        .read_to_end(&mut sniff)
        .map_err(MediaError::io)?;
    file.seek(SeekFrom::Start(0)).map_err(MediaError::io)?;
    let hint = path.extension().and_then(|e| e.to_str());
    if opus::is_ogg_opus(&sniff) {
        return guarded(|| opus::decode(std::io::BufReader::new(file), limits));
    }
    if crate::flac::is_flac(&sniff) {
        return guarded(|| crate::flac::decode(std::io::BufReader::new(file), limits));
    }
    let (gsm, amr) = (crate::gsm::is_gsm_wav(&sniff), crate::amr::is_amr(&sniff));
    if crate::amr_3gp::is_3gp(&sniff) {
        // A 3GP may hold AMR, which symphonia cannot read, and its sample tables point
        // anywhere in the file: read it whole (within max_bytes). Other MP4s are streamed.
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(MediaError::io)?;
        return decode_bytes(&bytes, hint, limits);
    }
    if gsm || amr {
        // Read whole: its size is already within `limits.max_bytes`.
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(MediaError::io)?;
        return guarded(|| {
            if gsm {
                crate::gsm::decode(&bytes, limits)
            } else {
                crate::amr::decode(&bytes, limits)
            }
        });
    }
    precheck_wav(&sniff)?;
    let moov = if crate::amr_3gp::is_iso_bmff(&sniff) {
        let moov = crate::mp4_edit::read_moov(&mut file, limits.max_bytes);
        file.seek(SeekFrom::Start(0)).map_err(MediaError::io)?;
        moov
    } else {
        None
    };
    let open_ended = is_live_matroska(&sniff);
    guarded(|| decode_symphonia(Box::new(file), hint, moov.as_deref(), open_ended, limits))
}

pub(crate) fn check_size(len: u64, limits: &Limits) -> Result<(), MediaError> {
    if len == 0 {
        return Err(MediaError::Empty { path: None });
    }
    if len > limits.max_bytes {
        return Err(MediaError::Limit {
            path: None,
            what: "input size (bytes)",
            limit: limits.max_bytes,
            found: len,
        });
    }
    Ok(())
}

/// Whether `head` is Matroska/WebM whose Segment has the reserved "unknown" size (RFC 9559
/// §6.2: a VINT whose value bits are all ones), as live writers such as browsers'
/// MediaRecorder leave it: such a stream has no declared end, so symphonia's end-of-input
/// error after its last block is the stream's end.
pub(crate) fn is_live_matroska(head: &[u8]) -> bool {
    if !head.starts_with(&[0x1a, 0x45, 0xdf, 0xa3]) {
        return false;
    }
    let Some(at) = head.windows(4).position(|w| w == [0x18, 0x53, 0x80, 0x67]) else {
        return false;
    };
    let Some(&first) = head.get(at + 4) else {
        return false;
    };
    // The VINT's length is the position of the first set bit of its first byte.
    let len = first.leading_zeros() as usize + 1;
    let Some(size) = head.get(at + 4..at + 4 + len).filter(|_| len <= 8) else {
        return false;
    };
    // The value bits of the first byte follow the marker bit (none for an 8-byte VINT).
    let value_mask = 0xffu8.checked_shr(len as u32).unwrap_or(0);
    size[0] & value_mask == value_mask && size[1..].iter().all(|&b| b == 0xff)
}

/// Whether `e` is the input ending.
pub(crate) fn is_eof(e: &SymError) -> bool {
    matches!(e, SymError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof)
}

/// Maps a symphonia error met after `frame` decoded frames.
pub(crate) fn map_sym(e: SymError, frame: u64) -> MediaError {
    match e {
        SymError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            MediaError::Truncated {
                path: None,
                decoded: frame,
                declared: 0,
            }
        }
        SymError::IoError(io) => MediaError::io(io),
        SymError::DecodeError(msg) => MediaError::corrupt(frame, msg),
        SymError::LimitError(msg) => {
            MediaError::corrupt(frame, format!("decoder safety limit reached: {msg}"))
        }
        SymError::Unsupported(msg) => MediaError::Unsupported {
            path: None,
            what: msg.to_string(),
        },
        SymError::ResetRequired => MediaError::Unsupported {
            path: None,
            what: "stream changes its parameters mid-stream (chained or spliced stream)".into(),
        },
        other => MediaError::corrupt(frame, other.to_string()),
    }
}

/// Maps a probe failure: anything the prober could not place is "not audio".
pub(crate) fn map_probe(e: SymError) -> MediaError {
    match e {
        SymError::Unsupported(msg) => MediaError::UnrecognisedFormat {
            path: None,
            reason: msg.to_string(),
        },
        SymError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            MediaError::UnrecognisedFormat {
                path: None,
                reason: "input ended while looking for a container header".into(),
            }
        }
        other => map_sym(other, 0),
    }
}

/// Checks the `fmt ` chunk of a RIFF/WAVE header found in `head` (the first bytes of the
/// input, where symphonia's prober also looks, junk prefix included) before symphonia parses
/// it: symphonia 0.6.1 computes `channels * (bits_per_sample / 8)` in `u16`
/// (wave/chunks.rs:100), which overflows, and panics in debug and fuzz builds, for hostile
/// headers (found by `cargo fuzz run decode`). Layout per the RIFF/WAVE spec: `RIFF` len
/// `WAVE`, then chunks of id, u32 LE length, body; the `fmt ` body holds format tag,
/// channels (offset 2), rate, byte rate, block align, bits per sample (offset 14), all LE.
pub(crate) fn precheck_wav(head: &[u8]) -> Result<(), MediaError> {
    let Some(riff) = head
        .windows(12)
        .position(|w| &w[..4] == b"RIFF" && &w[8..12] == b"WAVE")
    else {
        return Ok(());
    };
    let mut at = riff + 12;
    while let Some(hdr) = head.get(at..at + 8) {
        let len = u32::from_le_bytes([hdr[4], hdr[5], hdr[6], hdr[7]]) as usize;
        if &hdr[..4] == b"fmt " {
            let body = &head[at + 8..];
            if let Some(ch) = body.get(2..4) {
                check_channels(usize::from(u16::from_le_bytes([ch[0], ch[1]])))?;
            }
            if let Some(bits) = body.get(14..16).map(|b| u16::from_le_bytes([b[0], b[1]])) {
                // 64-bit float is the widest sample any WAVE codec defines.
                if bits > 64 {
                    return Err(MediaError::corrupt(
                        0,
                        format!("WAV fmt chunk declares {bits} bits per sample"),
                    ));
                }
            }
            return Ok(());
        }
        // Chunks are word-aligned (a pad byte follows odd lengths).
        at = at
            .saturating_add(8)
            .saturating_add(len)
            .saturating_add(len & 1);
    }
    Ok(())
}

/// Runs a dependency decoder, turning a panic inside it into [`MediaError::Corrupt`].
///
/// Why this exists: our own code never panics on input, but symphonia 0.6.1 has arithmetic
/// that overflows on hostile headers (fuzzing found wave/chunks.rs:100; [`precheck_wav`] guards
/// that one). Release builds wrap such overflow silently; debug and fuzz builds panic, and a
/// library must not take its caller down for a malformed file. Everything the closure touches is
/// dropped on unwind and never observed again, so `AssertUnwindSafe` is sound. This does not
/// help under `panic = "abort"`, and the default panic hook still prints the message.
pub(crate) fn guarded<T>(f: impl FnOnce() -> Result<T, MediaError>) -> Result<T, MediaError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(MediaError::corrupt(
            0,
            format!("a decoder dependency panicked on this input ({what}); please report it"),
        ))
    })
}

/// A probed container's default audio track: the reader, the track's id, its declared
/// length in frames and its codec parameters.
pub(crate) type ProbedTrack<'s> = (
    Box<dyn FormatReader + 's>,
    u32,
    Option<u64>,
    AudioCodecParameters,
);

/// Probes `source` and takes its default audio track.
pub(crate) fn probe_audio_track<'s>(
    source: Box<dyn MediaSource + 's>,
    hint_ext: Option<&str>,
) -> Result<ProbedTrack<'s>, MediaError> {
    let mss = MediaSourceStream::new(source, Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = hint_ext {
        hint.with_extension(ext);
    }
    let format = symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(map_probe)?;
    let track =
        format
            .default_track(TrackType::Audio)
            .ok_or_else(|| MediaError::UnrecognisedFormat {
                path: None,
                reason: "the container has no audio track".into(),
            })?;
    let track_id = track.id;
    let declared = track.num_frames;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| MediaError::Unsupported {
            path: None,
            what: "the default track is not audio".into(),
        })?
        .clone();
    Ok((format, track_id, declared, params))
}

/// Checks a track's rate, channels and declared length (refusing a length over the cap
/// before anything is decoded) and makes its decoder; returns the checked rate with it.
pub(crate) fn checked_decoder(
    params: &AudioCodecParameters,
    declared: Option<u64>,
    limits: &Limits,
) -> Result<(tracemark_dsp::SampleRate, Box<dyn AudioDecoder>), MediaError> {
    let rate = params
        .sample_rate
        .ok_or_else(|| MediaError::corrupt(0, "the stream does not declare a sample rate"))?;
    let checked_rate = check_rate(rate)?;
    if let Some(ch) = &params.channels {
        check_channels(ch.count())?;
    }
    let max_frames = limits.max_frames(rate);
    if let Some(d) = declared.filter(|&d| d > max_frames) {
        return Err(MediaError::Limit {
            path: None,
            what: "declared duration (sample frames)",
            limit: max_frames,
            found: d,
        });
    }
    let decoder = symphonia::default::get_codecs()
        .make_audio_decoder(params, &AudioDecoderOptions::default())
        .map_err(|e| map_sym(e, 0))?;
    Ok((checked_rate, decoder))
}

/// `moov` is the body of an MP4/MOV file's `moov` box, when there is one: its edit list is
/// applied to the decoded track (see `src/mp4_edit.rs`). `open_ended` says the stream
/// declares no end (see [`is_live_matroska`]): the end of the input is then its end, not a
/// truncation.
fn decode_symphonia<'s>(
    source: Box<dyn MediaSource + 's>,
    hint_ext: Option<&str>,
    moov: Option<&[u8]>,
    open_ended: bool,
    limits: &Limits,
) -> Result<AudioBuffer, MediaError> {
    let (mut format, track_id, declared, params) = probe_audio_track(source, hint_ext)?;
    if params.codec == CODEC_ID_OPUS {
        let head = params.extra_data.clone().unwrap_or_default();
        return crate::opus_demuxed::decode(format.as_mut(), track_id, &head, open_ended, limits);
    }
    let (rate, mut decoder) = checked_decoder(&params, declared, limits)?;
    let rate = rate.hz();

    let mut out: Option<Collector> = None;
    let mut scratch: Vec<Vec<f32>> = Vec::new();
    loop {
        let done = out.as_ref().map_or(0, Collector::frames);
        let packet = match format.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(e) if open_ended && is_eof(&e) => break,
            Err(e) => return Err(map_sym(e, done)),
        };
        if packet.track_id != track_id {
            continue;
        }
        let buf = decoder.decode(&packet).map_err(|e| map_sym(e, done))?;
        let frames = buf.frames();
        if frames == 0 {
            continue;
        }
        let spec = buf.spec();
        if spec.rate() != rate {
            return Err(MediaError::corrupt(
                done,
                format!(
                    "sample rate changed mid-stream from {rate} to {}",
                    spec.rate()
                ),
            ));
        }
        let collector = match &mut out {
            Some(c) => c,
            None => out.insert(Collector::new(rate, spec.channels().count(), limits)?),
        };
        collector.check_total(done + frames as u64)?;
        if spec.channels().count() != collector.channels() {
            return Err(MediaError::corrupt(
                done,
                "channel count changed mid-stream",
            ));
        }
        buf.copy_to_vecs_planar(&mut scratch);
        collector.push_planar(&scratch, frames)?;
    }
    let collector = out.ok_or(MediaError::NoAudio { path: None })?;
    if let Some(d) = declared.filter(|&d| collector.frames() < d) {
        return Err(MediaError::Truncated {
            path: None,
            decoded: collector.frames(),
            declared: d,
        });
    }
    let audio = collector.finish()?.with_source_format(pcm_format(&params));
    match moov.and_then(|m| crate::mp4_edit::edit(m, track_id)) {
        Some(edit) => crate::mp4_edit::apply(&edit, audio),
        None => Ok(audio),
    }
}

/// The sample format of a linear-PCM track (WAV, AIFF, CAF, PCM in MP4 or Matroska): the
/// valid bits the container declares, else the width the codec names. `None` for everything
/// else: a lossy codec has no sample format to keep, and A-law, mu-law and ADPCM store 8 or
/// 4-bit codes for about 13 bits of audio, which an 8-bit copy would lose.
pub(crate) fn pcm_format(params: &AudioCodecParameters) -> Option<SampleFormat> {
    use symphonia::core::codecs::audio::well_known as w;
    let id = params.codec;
    if (w::CODEC_ID_PCM_F32LE..=w::CODEC_ID_PCM_F32BE_PLANAR).contains(&id) {
        return Some(SampleFormat::Float { bits: 32 });
    }
    if (w::CODEC_ID_PCM_F64LE..=w::CODEC_ID_PCM_F64BE_PLANAR).contains(&id) {
        return Some(SampleFormat::Float { bits: 64 });
    }
    // The integer codecs come in groups of four (LE, LE planar, BE, BE planar) per width,
    // signed 32/24/16 then 8 (two ids), then unsigned 32/24/16 then 8.
    let width = if (w::CODEC_ID_PCM_S32LE..=w::CODEC_ID_PCM_S32BE_PLANAR).contains(&id)
        || (w::CODEC_ID_PCM_U32LE..=w::CODEC_ID_PCM_U32BE_PLANAR).contains(&id)
    {
        32
    } else if (w::CODEC_ID_PCM_S24LE..=w::CODEC_ID_PCM_S24BE_PLANAR).contains(&id)
        || (w::CODEC_ID_PCM_U24LE..=w::CODEC_ID_PCM_U24BE_PLANAR).contains(&id)
    {
        24
    } else if (w::CODEC_ID_PCM_S16LE..=w::CODEC_ID_PCM_S16BE_PLANAR).contains(&id)
        || (w::CODEC_ID_PCM_U16LE..=w::CODEC_ID_PCM_U16BE_PLANAR).contains(&id)
    {
        16
    } else if [
        w::CODEC_ID_PCM_S8,
        w::CODEC_ID_PCM_S8_PLANAR,
        w::CODEC_ID_PCM_U8,
        w::CODEC_ID_PCM_U8_PLANAR,
    ]
    .contains(&id)
    {
        8
    } else {
        return None;
    };
    let bits = params
        .bits_per_sample
        .filter(|&b| (1..=width).contains(&b))
        .unwrap_or(width);
    // At most 32, so the narrowing cannot wrap.
    Some(SampleFormat::Int { bits: bits as u8 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_unknown_size_segment_is_live() {
        let ebml = [0x1a, 0x45, 0xdf, 0xa3, 0x80];
        let with_size = |size: &[u8]| [&ebml[..], &[0x18, 0x53, 0x80, 0x67], size].concat();
        assert!(is_live_matroska(&with_size(&[
            0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
        ])));
        assert!(is_live_matroska(&with_size(&[0xff])));
        assert!(!is_live_matroska(&with_size(&[
            0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe
        ])));
        assert!(!is_live_matroska(&with_size(&[0x81])));
        assert!(!is_live_matroska(&with_size(&[0x00])));
        assert!(!is_live_matroska(b"RIFF"));
    }

    #[test]
    fn empty_input_is_empty_not_a_panic() {
        assert!(matches!(
            decode_bytes(&[], None, &Limits::default()),
            Err(MediaError::Empty { path: None })
        ));
    }

    #[test]
    fn byte_cap_is_checked_before_parsing() {
        let limits = Limits {
            max_bytes: 3,
            ..Limits::default()
        };
        assert!(matches!(
            decode_bytes(b"RIFFxxxx", None, &limits),
            Err(MediaError::Limit {
                limit: 3,
                found: 8,
                ..
            })
        ));
    }

    #[test]
    fn text_is_not_audio() {
        let e = decode_bytes(
            b"hello, this is not audio at all",
            Some("wav"),
            &Limits::default(),
        )
        .expect_err("text");
        assert!(matches!(e, MediaError::UnrecognisedFormat { .. }), "{e}");
    }

    #[test]
    fn fuzz_crash_riff_after_junk_with_44101_channels_is_a_clean_error() {
        // Minimised from fuzz artifact crash-74648929: two junk bytes, then a WAV whose fmt
        // chunk declares 44101 channels (symphonia 0.6.1 overflows u16 on it).
        let mut bytes = vec![0xff, 0xf2];
        bytes.extend_from_slice(b"RIFF\xc6\x25\0\0WAVEfmt \x10\0\0\0\x01\0\x45\xac");
        bytes.extend_from_slice(&[0x80, 0x3e, 0, 0, 0, 0x7d, 0, 0, 2, 0, 16, 0]);
        bytes.extend_from_slice(b"data\x04\0\0\0\0\0\0\0");
        let e = decode_bytes(&bytes, None, &Limits::default()).expect_err("hostile");
        assert!(
            matches!(e, MediaError::Channels { count: 44_101, .. }),
            "{e}"
        );
    }

    #[test]
    fn wav_with_absurd_bits_per_sample_is_corrupt() {
        let mut bytes = b"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0\x01\0\x02\0".to_vec();
        bytes.extend_from_slice(&[0x40, 0x1f, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
        bytes.extend_from_slice(b"data\0\0\0\0");
        let e = decode_bytes(&bytes, None, &Limits::default()).expect_err("hostile");
        assert!(matches!(e, MediaError::Corrupt { .. }), "{e}");
    }

    #[test]
    fn a_panicking_dependency_becomes_a_corrupt_error() {
        let r: Result<(), MediaError> = guarded(|| panic!("boom"));
        assert!(matches!(r, Err(MediaError::Corrupt { reason, .. }) if reason.contains("boom")));
    }

    #[test]
    fn missing_file_error_names_the_path() {
        let p = Path::new("/nonexistent/tracemark/x.flac");
        let e = decode_file(p, &Limits::default()).expect_err("missing");
        assert_eq!(e.path(), Some(p));
        assert!(e.to_string().contains("/nonexistent/tracemark/x.flac"));
    }
}
