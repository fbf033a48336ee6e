//! The engine-level commands: keygen, embed, detect.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::json;
use tracemark_dsp::AudioBuffer;
use tracemark_media::{
    AudioStream, EncodeOptions, Format, Limits, MediaError, SampleChoice, StreamEncoder,
    WavStreamWriter, decode_file, open_stream,
};
use tracemark_watermark::{
    EmbedParams, Embedder, Message, Survey, WatermarkKey, detect_blind,
    detect_blind_searching_speed, detect_informed,
};

pub(crate) fn keygen(path: &Path) -> Result<()> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
    let key = WatermarkKey::from_bytes(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).with_context(|| {
        format!(
            "creating key file {} (it must not exist yet)",
            path.display()
        )
    })?;
    use std::io::Write;
    writeln!(file, "{}", key.to_hex()).with_context(|| format!("writing {}", path.display()))?;
    println!("wrote key {} to {}", key.id_hex(), path.display());
    Ok(())
}

pub(crate) fn read_key(path: &Path) -> Result<WatermarkKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading key file {}", path.display()))?;
    WatermarkKey::from_hex(&text).with_context(|| format!("key file {}", path.display()))
}

pub(crate) fn decode(path: &Path) -> Result<AudioBuffer> {
    Ok(decode_file(path, &Limits::default())?)
}

/// `tracemark embed`: marks `input` into `output` in two passes over the input (see
/// `tracemark_watermark::Survey`), block by block, so that memory stays bounded whatever
/// the recording's length: a WAV copy is written as it is marked, other formats are
/// encoded as it is marked (`StreamEncoder`) into the output file. The bytes are those of
/// `tracemark_watermark::embed` followed by `tracemark_media::encode_file`. Decoding runs on a thread of its own, ahead of the
/// marking, and so does writing a WAV copy.
pub(crate) fn embed(
    key: &WatermarkKey,
    message: &Message<'_>,
    params: &EmbedParams,
    bitrate: Option<u32>,
    input: &Path,
    output: &Path,
) -> Result<()> {
    let format = output_format(output)?;
    let limits = Limits::default();
    let marking = || format!("marking {}", input.display());
    let stream = open_stream(input, &limits)?;
    let mut survey = Survey::new(stream.rate(), stream.channel_count()).with_context(marking)?;
    read_ahead(stream, |next| {
        while let Some(block) = next()? {
            survey.push(&planes(&block)).with_context(marking)?;
        }
        Ok(())
    })?;
    let survey = survey.finish().with_context(marking)?;
    let stream = open_stream(input, &limits)?;
    let (rate, channels, source) = (
        stream.rate(),
        stream.channel_count(),
        stream.source_format(),
    );
    if (rate, channels) != (survey.rate(), survey.channels()) {
        bail!("{} changed while it was being marked", input.display());
    }
    let mut embedder = Embedder::new(survey, key, message, params).with_context(marking)?;
    if format != Format::Wav {
        // Encoded block by block as marked (byte for byte `encode_bytes_as`) straight into
        // the partial file, so neither the marked signal nor the compressed file is held.
        return via_partial(output, |partial| {
            let io = || format!("writing {}", partial.display());
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(partial)
                .with_context(io)?;
            let mut encoder = StreamEncoder::with_output(
                file,
                format,
                rate,
                channels,
                source,
                &EncodeOptions {
                    bitrate_kbps: bitrate,
                },
                SampleChoice::Source,
            )?;
            let mut marked = vec![Vec::new(); channels];
            read_ahead(stream, |next| {
                while let Some(block) = next()? {
                    embedder
                        .push(&planes(&block), &mut marked)
                        .with_context(marking)?;
                    encoder.push(&marked)?;
                    marked.iter_mut().for_each(Vec::clear);
                }
                Ok(())
            })?;
            embedder.finish(&mut marked).with_context(marking)?;
            encoder.push(&marked)?;
            encoder.finish_output()?;
            Ok(())
        });
    }
    let writer = |partial: &Path| WavStreamWriter::create(partial, rate, channels, source);
    via_partial(output, |partial| {
        write_behind(writer(partial)?, |write| {
            read_ahead(stream, |next| {
                while let Some(block) = next()? {
                    let mut marked = vec![Vec::with_capacity(block[0].len()); channels];
                    embedder
                        .push(&planes(&block), &mut marked)
                        .with_context(marking)?;
                    write(marked)?;
                }
                let mut marked = vec![Vec::new(); channels];
                embedder.finish(&mut marked).with_context(marking)?;
                write(marked)
            })
        })
    })
}

/// Writes `output` through `write`, which writes the file beside it ([`partial_path`]),
/// then renames it into place: a failure never leaves a partial copy under the output's
/// name, and the partial file is removed.
fn via_partial(output: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let partial = partial_path(output);
    let written = write(&partial).and_then(|()| {
        std::fs::rename(&partial, output)
            .with_context(|| format!("moving {} to {}", partial.display(), output.display()))
    });
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written
}

/// Frames per block handed from the decoding thread (0.7 s at 44.1 kHz).
const READ_BLOCK: usize = 1 << 15;
/// Blocks in flight between two threads.
const IN_FLIGHT: usize = 4;

type Block = Vec<Vec<f32>>;

/// Decodes `stream` on a thread of its own, in blocks of about [`READ_BLOCK`] frames, and
/// runs `consume` with a function that returns them in order (`None` at the end).
fn read_ahead<T>(
    mut stream: AudioStream,
    consume: impl FnOnce(&mut dyn FnMut() -> Result<Option<Block>>) -> Result<T>,
) -> Result<T> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Block, MediaError>>(IN_FLIGHT);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let fresh = |n: usize| vec![Vec::with_capacity(2 * READ_BLOCK); n];
            let mut pending = fresh(stream.channel_count());
            loop {
                let message = match stream.next_block() {
                    Ok(Some(block)) => {
                        for (p, b) in pending.iter_mut().zip(block) {
                            p.extend_from_slice(b);
                        }
                        if pending[0].len() < READ_BLOCK {
                            continue;
                        }
                        Ok(std::mem::replace(&mut pending, fresh(block.len())))
                    }
                    Ok(None) if pending[0].is_empty() => return,
                    Ok(None) => Ok(std::mem::take(&mut pending)),
                    Err(e) => Err(e),
                };
                let last = message.is_err() || pending.is_empty();
                // A closed channel: the consumer stopped early.
                if tx.send(message).is_err() || last {
                    return;
                }
            }
        });
        let mut next = || -> Result<Option<Block>> {
            match rx.recv() {
                Ok(Ok(block)) => Ok(Some(block)),
                Ok(Err(e)) => Err(e.into()),
                Err(_) => Ok(None),
            }
        };
        let result = consume(&mut next);
        // Unblocks the decoding thread if `consume` stopped early.
        drop(rx);
        result
    })
}

/// Runs `produce` with a function that hands marked blocks to `writer` on a thread of its
/// own, then finishes the file.
fn write_behind(
    mut writer: WavStreamWriter,
    produce: impl FnOnce(&mut dyn FnMut(Block) -> Result<()>) -> Result<()>,
) -> Result<()> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Block>(IN_FLIGHT);
    std::thread::scope(|scope| {
        let handle = scope.spawn(move || -> Result<(), MediaError> {
            for block in rx {
                writer.write(&block)?;
            }
            writer.finish()
        });
        let mut write = |block: Block| -> Result<()> {
            // A closed channel: the writer stopped, and its error is the one to report.
            tx.send(block)
                .map_err(|_| anyhow::anyhow!("the WAV writer stopped"))
        };
        let produced = produce(&mut write);
        drop(tx);
        let wrote = match handle.join() {
            Ok(result) => result.map_err(anyhow::Error::from),
            Err(_) => Err(anyhow::anyhow!("the WAV writing thread panicked")),
        };
        wrote.and(produced)
    })
}

/// One block's channels as slices.
fn planes(block: &[Vec<f32>]) -> Vec<&[f32]> {
    block.iter().map(Vec::as_slice).collect()
}

/// `.NAME.partial` beside `output`.
fn partial_path(output: &Path) -> std::path::PathBuf {
    let name = output
        .file_name()
        .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
    output.with_file_name(format!(".{name}.partial"))
}

fn output_format(path: &Path) -> Result<Format> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let Some(format) = Format::from_extension(ext) else {
        bail!(
            "cannot tell the output format of {}: use .wav, .flac, .mp3 or .opus",
            path.display()
        );
    };
    Ok(format)
}

pub(crate) fn blind_report(
    clip: &AudioBuffer,
    key: &WatermarkKey,
    search_speed: bool,
) -> Result<serde_json::Value> {
    let d = if search_speed {
        detect_blind_searching_speed(clip, key)?
    } else {
        detect_blind(clip, key)?
    };
    Ok(json!({
        "mode": "blind",
        "detected": d.detected,
        "payload": d.payload.map(|p| p.to_hex()),
        "p_value": d.p_value,
        "z": d.z,
        "hypotheses": d.hypotheses,
        "block_offset_s": d.block_offset_s,
        "speed": d.speed,
        "scale_kind": format!("{:?}", d.scale_kind).to_lowercase(),
        "key_id": key.id_hex(),
    }))
}

pub(crate) fn informed_report(
    clip: &AudioBuffer,
    original: &AudioBuffer,
    key: &WatermarkKey,
) -> Result<serde_json::Value> {
    let d = detect_informed(clip, original, key)?;
    let covered = d.symbols.iter().filter(|s| s.cells > 0).count();
    Ok(json!({
        "mode": "informed",
        "detected": d.detected,
        "payload": d.payload.map(|p| p.to_hex()),
        "p_value": d.p_value,
        "z": d.z,
        "alignment": {
            "offset_s": d.alignment.offset_s,
            "scale": d.alignment.scale,
            "kind": format!("{:?}", d.alignment.kind).to_lowercase(),
            "freq_scale": d.alignment.freq_scale,
            "score": d.alignment.score,
        },
        "slots_observed": covered,
        "key_id": key.id_hex(),
    }))
}

pub(crate) fn print_report(report: &serde_json::Value, json: bool) {
    if json {
        println!("{report}");
        return;
    }
    let detected = report["detected"].as_bool().unwrap_or(false);
    let p = report["p_value"].as_f64().unwrap_or(1.0);
    let mode = report["mode"].as_str().unwrap_or("");
    if detected {
        match report["payload"].as_str() {
            Some(payload) => {
                println!("{mode}: mark found, payload {payload} (false-alarm probability {p:.2e})")
            }
            None => println!(
                "{mode}: mark found but the payload did not decode (false-alarm probability {p:.2e})"
            ),
        }
    } else {
        println!(
            "{mode}: no mark of this key found (best false-alarm probability {p:.2e}, threshold 1e-9)"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracemark_media::{SampleFormat, decode_bytes, encode_bytes};
    use tracemark_watermark::Payload;

    /// The committed excerpt of a real call (assets/), as `tracemark embed`'s input.
    fn excerpt() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/call-en-8k-excerpt.flac")
    }

    #[test]
    fn streamed_embed_writes_the_bytes_of_embed_then_encode() {
        let dir = tempfile::tempdir().expect("tempdir");
        let call = decode_file(&excerpt(), &Limits::default()).expect("excerpt");
        let wide = tracemark_dsp::resample(&call.channels()[0], 8_000, 44_100).expect("44.1k");
        let wide = AudioBuffer::mono(
            tracemark_dsp::SampleRate::try_new(44_100).expect("rate"),
            wide,
        )
        .expect("buffer")
        .with_source_format(Some(SampleFormat::Int { bits: 16 }));
        let wav = dir.path().join("call-44k.wav");
        std::fs::write(
            &wav,
            encode_bytes(&wide, Format::Wav, &EncodeOptions::default()).expect("encode"),
        )
        .expect("write");
        let key = WatermarkKey::from_bytes([3; 32]);
        let message = Message {
            payload: Payload::from_hex("00000000cafef00d").expect("payload"),
            symbols: None,
        };
        let params = EmbedParams::default();
        for (input, out) in [
            (excerpt(), "from-flac.wav"),
            (wav, "from-wav.wav"),
            (excerpt(), "copy.flac"),
            (excerpt(), "copy.mp3"),
            (excerpt(), "copy.opus"),
        ] {
            let output = dir.path().join(out);
            embed(&key, &message, &params, None, &input, &output).expect("streamed embed");
            let original = decode_file(&input, &Limits::default()).expect("decode");
            let marked =
                tracemark_watermark::embed(&original, &key, &message, &params).expect("embed");
            let format = output_format(&output).expect("format");
            let want = encode_bytes(&marked, format, &EncodeOptions::default()).expect("encode");
            let got = std::fs::read(&output).expect("read");
            assert!(
                got == want,
                "{}: bytes differ from embed + encode",
                output.display()
            );
            assert!(decode_bytes(&got, None, &Limits::default()).is_ok());
        }
        // Nothing is left beside the outputs.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names.len(), 6, "the input WAV and five copies: {names:?}");
    }
}
