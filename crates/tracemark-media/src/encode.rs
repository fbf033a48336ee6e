//! Encoding to WAV, FLAC and MP3, and the public entry points for every format.

use std::path::Path;

use tracemark_dsp::AudioBuffer;

use crate::{EncodeOptions, Format, MediaError, WavSample, encode_wav, opus};

/// Encodes `audio` into an in-memory file of `format`, at the input's rate and channel count
/// wherever the format allows.
///
/// | format | what is written | why |
/// |---|---|---|
/// | WAV | 32-bit IEEE float (`WAVE_FORMAT_IEEE_FLOAT`) | bit-exact for `f32` buffers: no quantisation touches a watermark |
/// | FLAC | 16-bit integer, rounded, clamped to ±1 | FLAC has no float; 16-bit rounding noise sits near −101 dBFS, some 60 dB below any watermark on audible material. Not 24-bit: flacenc 0.5 caps the Rice parameter at 14 (RICE1 only, RFC 9639 §9.2.7.1), which 24-bit residuals overflow: a 120 s 8 kHz call came out at 71 MB, 37 times its WAV |
/// | MP3 | LAME CBR, joint stereo, with a LAME/Info tag | the tag lets decoders trim encoder delay and padding (gapless), so durations are kept |
/// | Opus | Ogg Opus, 20 ms frames, `Application::Audio`, gapless end-trim | see below |
///
/// MP3 accepts the MPEG rates 8, 11.025, 12, 16, 22.05, 24, 32, 44.1 and 48 kHz and 1 or 2
/// channels; default bitrate 128 kb/s per channel, capped for the stream at 320 (MPEG-1
/// rates), 160 (MPEG-2) or 64 kb/s (MPEG-2.5 rates). Opus codes 8/12/16/24/48 kHz input at its own rate and
/// resamples anything else to 48 kHz ([`tracemark_dsp::resample`]) while recording the original rate
/// in the header; 1 to 8 channels; default 64 kb/s per channel.
///
/// # Errors
/// [`MediaError::EncodeSampleRate`], [`MediaError::EncodeChannels`] or
/// [`MediaError::EncodeBitrate`] when the format cannot carry the input as asked;
/// [`MediaError::Encode`] when the encoder itself fails.
pub fn encode_bytes(
    audio: &AudioBuffer,
    format: Format,
    opts: &EncodeOptions,
) -> Result<Vec<u8>, MediaError> {
    match format {
        Format::Wav => encode_wav(audio, WavSample::Float32),
        Format::Flac => encode_flac(audio),
        Format::Mp3 => encode_mp3(audio, opts),
        Format::Opus => opus::encode(audio, opts),
    }
}

/// Encodes `audio` as [`encode_bytes`] does and writes it to `path` (created or truncated).
///
/// # Errors
/// As [`encode_bytes`], plus [`MediaError::Io`] naming `path` if the write fails.
pub fn encode_file(
    audio: &AudioBuffer,
    path: &Path,
    format: Format,
    opts: &EncodeOptions,
) -> Result<(), MediaError> {
    let bytes = encode_bytes(audio, format, opts)?;
    std::fs::write(path, bytes).map_err(|e| MediaError::io(e).with_path(path))
}

/// Bits per sample of the FLAC files written (see the table above for why not 24).
pub(crate) const FLAC_BITS: usize = 16;
/// Full scale of 16-bit PCM: 2^15.
const FULL_SCALE_16: f32 = 32_768.0;

/// Converts to 16-bit integer PCM, clamping to the representable range.
pub(crate) fn to_i16(x: f32) -> i32 {
    (x * FULL_SCALE_16)
        .round()
        .clamp(-FULL_SCALE_16, FULL_SCALE_16 - 1.0) as i32
}

fn encode_flac(audio: &AudioBuffer) -> Result<Vec<u8>, MediaError> {
    use flacenc::component::BitRepr;
    use flacenc::error::Verify;

    let channels = audio.channel_count();
    // FLAC carries 1 to 8 channels (RFC 9639 §9.1.3).
    if channels > 8 {
        return Err(MediaError::EncodeChannels {
            format: Format::Flac,
            count: channels,
            max: 8,
        });
    }
    let err = |reason: String| MediaError::Encode {
        format: Format::Flac,
        reason,
    };
    let mut interleaved = Vec::with_capacity(audio.frames() * channels);
    for i in 0..audio.frames() {
        interleaved.extend(audio.channels().iter().map(|ch| to_i16(ch[i])));
    }
    let config = flacenc::config::Encoder::default()
        .into_verified()
        .map_err(|(_, e)| err(format!("config: {e:?}")))?;
    let source = flacenc::source::MemSource::from_samples(
        &interleaved,
        channels,
        FLAC_BITS,
        audio.rate().hz() as usize,
    );
    let stream = flacenc::encode_with_fixed_block_size(&config, source, config.block_size)
        .map_err(|e| err(format!("{e:?}")))?;
    let mut sink = flacenc::bitsink::ByteSink::new();
    stream.write(&mut sink).map_err(|e| err(format!("{e:?}")))?;
    let mut bytes = sink.as_slice().to_vec();
    fix_streaminfo_min_block(&mut bytes);
    Ok(bytes)
}

/// flacenc 0.5 records the (shorter) last block as STREAMINFO's minimum block size, but
/// RFC 9639 §8.2 defines that field "excluding the last block". Strict readers (symphonia)
/// then see min != max, treat the stream as variable-blocksize, and reject its fixed-blocksize
/// frame headers. Every block but the last has the configured size, so min = max is correct.
/// It can also record a minimum frame size above the maximum, which claxon rightly rejects;
/// both frame sizes are set to 0, "unknown", which RFC 9639 §8.2 allows.
fn fix_streaminfo_min_block(bytes: &mut [u8]) {
    // "fLaC", then a metadata block header whose type (low 7 bits) is 0 = STREAMINFO;
    // min block size is at bytes 8..10, max at 10..12, min frame size at 12..15 and max
    // frame size at 15..18 (RFC 9639 §8.1, §8.2).
    if bytes.len() >= 18 && &bytes[..4] == b"fLaC" && bytes[4] & 0x7f == 0 {
        let (head, max) = bytes.split_at_mut(10);
        head[8..10].copy_from_slice(&max[..2]);
        bytes[12..18].fill(0);
    }
}

/// Sample rates MPEG audio defines (ISO/IEC 11172-3, 13818-3, and the MPEG-2.5 extension).
const MP3_RATES: [u32; 9] = [
    8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000,
];

fn mp3_bitrate(kbps: u32) -> Option<mp3lame_encoder::Bitrate> {
    use mp3lame_encoder::Bitrate as B;
    Some(match kbps {
        8 => B::Kbps8,
        16 => B::Kbps16,
        24 => B::Kbps24,
        32 => B::Kbps32,
        40 => B::Kbps40,
        48 => B::Kbps48,
        64 => B::Kbps64,
        80 => B::Kbps80,
        96 => B::Kbps96,
        112 => B::Kbps112,
        128 => B::Kbps128,
        160 => B::Kbps160,
        192 => B::Kbps192,
        224 => B::Kbps224,
        256 => B::Kbps256,
        320 => B::Kbps320,
        _ => return None,
    })
}

/// Default MP3 bitrate: 128 kb/s per channel, capped by what the MPEG version allows
/// (MPEG-1 ≤ 320, MPEG-2 ≤ 160, MPEG-2.5 ≤ 64 kb/s for the whole stream).
fn mp3_default_kbps(rate: u32, channels: usize) -> u32 {
    let wanted = 128 * channels as u32;
    let cap = match rate {
        32_000.. => 320,
        16_000.. => 160,
        _ => 64,
    };
    wanted.min(cap)
}

fn encode_mp3(audio: &AudioBuffer, opts: &EncodeOptions) -> Result<Vec<u8>, MediaError> {
    use mp3lame_encoder::{Builder, DualPcm, FlushGap, MonoPcm, Quality};

    let rate = audio.rate().hz();
    let channels = audio.channel_count();
    if !MP3_RATES.contains(&rate) {
        return Err(MediaError::EncodeSampleRate {
            format: Format::Mp3,
            hz: rate,
            supported: "8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000",
        });
    }
    if channels > 2 {
        return Err(MediaError::EncodeChannels {
            format: Format::Mp3,
            count: channels,
            max: 2,
        });
    }
    let kbps = opts
        .bitrate_kbps
        .unwrap_or_else(|| mp3_default_kbps(rate, channels));
    let bitrate = mp3_bitrate(kbps).ok_or(MediaError::EncodeBitrate {
        format: Format::Mp3,
        kbps,
        valid: "8, 16, 24, 32, 40, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320",
    })?;
    let err = |what: &str, e: &dyn std::fmt::Debug| MediaError::Encode {
        format: Format::Mp3,
        reason: format!("{what}: {e:?}"),
    };
    let mut b = Builder::new().ok_or_else(|| err("LAME init", &"lame_init returned null"))?;
    b.set_num_channels(channels as u8)
        .map_err(|e| err("channels", &e))?;
    b.set_sample_rate(rate)
        .map_err(|e| err("sample rate", &e))?;
    b.set_brate(bitrate).map_err(|e| err("bitrate", &e))?;
    b.set_quality(Quality::Best)
        .map_err(|e| err("quality", &e))?;
    b.set_to_write_vbr_tag(true)
        .map_err(|e| err("LAME tag", &e))?;
    let mut enc = b.build().map_err(|e| err("LAME params", &e))?;

    let mut out = Vec::new();
    // Chunked so the output reservation stays small; LAME buffers internally.
    const CHUNK: usize = 1152 * 16;
    let frames = audio.frames();
    let mut start = 0;
    while start < frames {
        let end = (start + CHUNK).min(frames);
        out.reserve(mp3lame_encoder::max_required_buffer_size(end - start));
        let chs = audio.channels();
        let r = if channels == 1 {
            enc.encode_to_vec(MonoPcm(&chs[0][start..end]), &mut out)
        } else {
            let pcm = DualPcm {
                left: &chs[0][start..end],
                right: &chs[1][start..end],
            };
            enc.encode_to_vec(pcm, &mut out)
        };
        r.map_err(|e| err("encode", &e))?;
        start = end;
    }
    // LAME's flush needs up to 7200 bytes (lame.h, lame_encode_flush). `FlushGap` is
    // `lame_encode_flush`, which drains every buffered sample; the "nogap" variant keeps the
    // tail for a following track and would cut the end of ours.
    out.reserve(7_200);
    enc.flush_to_vec::<FlushGap>(&mut out)
        .map_err(|e| err("flush", &e))?;
    // LAME wrote a placeholder Info frame first; overwrite it with the final tag, which
    // carries the frame count and the encoder delay/padding used for gapless decoding.
    let mut tag = Vec::with_capacity(enc.lame_tag_size());
    if enc.lame_tag_encode_to_vec(&mut tag).is_some() {
        let at = enc.id3v2_tag_size();
        if let Some(dst) = out.get_mut(at..at + tag.len()) {
            dst.copy_from_slice(&tag);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn i16_conversion_clamps_and_rounds() {
        assert_eq!(to_i16(0.0), 0);
        assert_eq!(to_i16(1.0), 32_767);
        assert_eq!(to_i16(-1.0), -32_768);
        assert_eq!(to_i16(2.0), 32_767);
        assert_eq!(to_i16(0.5 / FULL_SCALE_16 * 3.0), 2);
    }

    #[test]
    fn mp3_defaults_respect_mpeg_version_caps() {
        assert_eq!(mp3_default_kbps(44_100, 2), 256);
        assert_eq!(mp3_default_kbps(16_000, 2), 160);
        assert_eq!(mp3_default_kbps(8_000, 1), 64);
        for (rate, ch) in [(8_000, 2), (16_000, 1), (48_000, 1)] {
            assert!(mp3_bitrate(mp3_default_kbps(rate, ch)).is_some());
        }
    }
}
