//! Each recording's detection reference: the original's mono mix at the detector's rate
//! (8 kHz), stored sealed in chunks of [`CHUNK_BLOCKS`] of the mark's 8 s blocks, and the
//! whole recording's [`ReferenceLevels`] in a header. A trace reads the chunks its
//! fingerprint-matched stretches cover (plus margins) and detects against that excerpt
//! (`tracemark_watermark::detect_informed_excerpt`): its work and memory grow with the
//! clip, not with the recording, and it never decodes the original (issue 15 item 2).
//!
//! The mix is the one `to_detect_rate` makes of the decoded original (the same downmix,
//! the same resampler), so a trace reads exactly what it read against the whole original.
//! Written at ingest, from the 8 kHz signal the fingerprint is computed from; a recording
//! ingested before references existed gets its reference built from its original at its
//! first trace. Derived data, not evidence: each blob is sealed (XChaCha20-Poly1305) with
//! the recording's content hash, the part and the chunk's number as associated data, so
//! a reference cannot be altered, swapped between recordings or reordered without the
//! vault's key, and it can always be rebuilt from the original.

use tracemark_store::BlobKey;
use tracemark_types::{Recording, RecordingId, Sha256};
use tracemark_watermark::{DETECT_RATE, LevelMeter, OriginalExcerpt, ReferenceLevels};

use crate::{Vault, VaultError};

/// Blocks of the mark (8 s each, `tracemark_watermark::layout::BLOCK_PAIRS`) per chunk:
/// 64 s, 2 MB of `f32` at 8 kHz.
pub(crate) const CHUNK_BLOCKS: usize = 8;

/// Seconds per block of the mark: 200 pairs of 40 ms frames (docs/design/watermark.md).
const BLOCK_S: usize = 8;

/// Samples per chunk at the detection rate.
const CHUNK_SAMPLES: usize = CHUNK_BLOCKS * BLOCK_S * DETECT_RATE as usize;

/// Recordings up to this long (seconds) are read whole by a trace: the finding's power
/// simulation marks them whole, as a copy is (`finding::WHOLE_EMBED_S`), and reading
/// 10 minutes at 8 kHz costs little.
pub(crate) const READ_WHOLE_S: f64 = 600.0;

/// Seconds read either side of the matched stretches: the alignment's global fit and
/// local search need the clip's material inside the excerpt, with room for the speed the
/// fingerprint map may have misjudged.
const MARGIN_S: f64 = 4.0;

/// The header's first bytes: format and version.
const MAGIC: &[u8; 8] = b"tmref\x00\x00\x01";

/// A stretch of a recording's reference, owned (see [`OriginalExcerpt`]).
pub(crate) struct Excerpt {
    pub samples: Vec<f32>,
    pub first_block: usize,
    pub levels: ReferenceLevels,
    /// Whether the excerpt is the whole recording.
    pub whole: bool,
}

impl Excerpt {
    pub fn view(&self) -> OriginalExcerpt<'_> {
        OriginalExcerpt {
            samples: &self.samples,
            first_block: self.first_block,
            levels: self.levels,
        }
    }
}

/// The header: magic, levels, total samples.
fn header_bytes(levels: ReferenceLevels, samples: u64) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&levels.to_bytes());
    out.extend_from_slice(&samples.to_le_bytes());
    out
}

fn parse_header(bytes: &[u8], what: &str) -> Result<(ReferenceLevels, u64), VaultError> {
    let bad = |reason: &str| VaultError::Invalid {
        what: "detection reference",
        reason: format!("{what}: {reason}"),
    };
    if bytes.len() != MAGIC.len() + 16 + 8 || &bytes[..MAGIC.len()] != MAGIC {
        return Err(bad("not a version 1 header"));
    }
    let mut levels = [0u8; 16];
    levels.copy_from_slice(&bytes[8..24]);
    let mut samples = [0u8; 8];
    samples.copy_from_slice(&bytes[24..32]);
    let levels = ReferenceLevels::from_bytes(levels).ok_or_else(|| bad("levels out of range"))?;
    Ok((levels, u64::from_le_bytes(samples)))
}

/// Associated data of one part of a reference: the recording's hash and the part.
fn context(sha: &Sha256, part: &str) -> Vec<u8> {
    let mut c = sha.0.to_vec();
    c.extend_from_slice(b"/reference/");
    c.extend_from_slice(part.as_bytes());
    c
}

/// Writes a recording's reference as its 8 kHz mono mix arrives: each chunk sealed and
/// stored as soon as it is full, the levels metered on the way ([`LevelMeter`], bit for
/// bit [`ReferenceLevels::measure`]'s of the whole), the header last (a reference without
/// a header is rebuilt). Holds one chunk (2 MB), never the mix. A file that fails to
/// decode part-way leaves the chunks stored so far unreferenced, as an original sealed
/// before its row is (blobs are write-once): no more than a successful ingest of the file
/// would have stored, and the same bytes again overwrite them.
pub(crate) struct ReferenceWriter<'v> {
    vault: &'v Vault,
    id: RecordingId,
    sha: Sha256,
    chunk: Vec<f32>,
    stored: usize,
    samples: u64,
    meter: LevelMeter,
}

impl<'v> ReferenceWriter<'v> {
    pub(crate) fn new(vault: &'v Vault, id: &RecordingId, sha: &Sha256) -> Self {
        Self {
            vault,
            id: id.clone(),
            sha: *sha,
            chunk: Vec::with_capacity(CHUNK_SAMPLES),
            stored: 0,
            samples: 0,
            meter: LevelMeter::new(),
        }
    }

    /// Appends the next samples of the mix.
    pub(crate) fn push(&mut self, mut samples: &[f32]) -> Result<(), VaultError> {
        self.meter.push(samples);
        self.samples += samples.len() as u64;
        while !samples.is_empty() {
            let take = (CHUNK_SAMPLES - self.chunk.len()).min(samples.len());
            self.chunk.extend_from_slice(&samples[..take]);
            samples = &samples[take..];
            if self.chunk.len() == CHUNK_SAMPLES {
                self.store_chunk()?;
            }
        }
        Ok(())
    }

    /// Stores the last chunk and the header.
    pub(crate) fn finish(mut self) -> Result<(), VaultError> {
        if !self.chunk.is_empty() {
            self.store_chunk()?;
        }
        let header = header_bytes(self.meter.finish(), self.samples);
        let v = self.vault;
        let sealed = v.secret.seal(&header, &context(&self.sha, "header"))?;
        v.blobs.put(&BlobKey::reference_header(&self.id), &sealed)?;
        Ok(())
    }

    fn store_chunk(&mut self) -> Result<(), VaultError> {
        let n = self.stored;
        let bytes: Vec<u8> = self.chunk.iter().flat_map(|x| x.to_le_bytes()).collect();
        let v = self.vault;
        let sealed = v.secret.seal(&bytes, &context(&self.sha, &n.to_string()))?;
        v.blobs
            .put(&BlobKey::reference_chunk(&self.id, n), &sealed)?;
        self.chunk.clear();
        self.stored += 1;
        Ok(())
    }
}

impl Vault {
    /// The reference's levels and length, building the reference from the original when
    /// it has none (a recording ingested before references existed).
    fn reference_header(&self, r: &Recording) -> Result<(ReferenceLevels, u64), VaultError> {
        let what = format!("{}'s detection reference", r.id);
        let key = BlobKey::reference_header(&r.id);
        let sealed = match self.blobs.get(&key)? {
            Some(s) => s,
            None => {
                let mut writer = ReferenceWriter::new(self, &r.id, &r.sha256);
                // Read a chunk at a time where it was sealed in chunks.
                let stored = |source| VaultError::StoredMedia {
                    recording: r.id.to_string(),
                    source,
                };
                let stream = self
                    .original_source(r)?
                    .stream(&r.format, &self.limits)
                    .map_err(stored)?;
                self.stream_mix(stream, |piece| writer.push(piece))
                    .map_err(|e| match e {
                        VaultError::Media(source) => stored(source),
                        other => other,
                    })?;
                writer.finish()?;
                self.blobs.get(&key)?.ok_or_else(|| VaultError::NotFound {
                    kind: "detection reference",
                    name: key.as_str().to_string(),
                })?
            }
        };
        let header = self
            .secret
            .open(sealed, &context(&r.sha256, "header"), &what)?;
        parse_header(&header, &what)
    }

    /// The reference over original seconds `from_s..to_s` widened by the margin (the whole
    /// recording when it is at most `read_whole_s` long, [`READ_WHOLE_S`] for a trace):
    /// from the start of a block, read chunk by chunk.
    pub(crate) fn reference_excerpt(
        &self,
        r: &Recording,
        from_s: f64,
        to_s: f64,
        read_whole_s: f64,
    ) -> Result<Excerpt, VaultError> {
        let (levels, total) = self.reference_header(r)?;
        let total = usize::try_from(total).map_err(|_| VaultError::Invalid {
            what: "detection reference",
            reason: "longer than this machine can address".into(),
        })?;
        let rate = DETECT_RATE as f64;
        let block_samples = BLOCK_S * DETECT_RATE as usize;
        let whole = total as f64 / rate <= read_whole_s;
        let (first_block, end) = if whole {
            (0, total)
        } else {
            let from = ((from_s - MARGIN_S).max(0.0) * rate) as usize;
            let to = (((to_s + MARGIN_S).max(0.0) * rate).ceil() as usize).min(total);
            (from.min(total) / block_samples, to)
        };
        let start = first_block * block_samples;
        let end = end.max(start);
        let mut samples = Vec::with_capacity(end - start);
        let what = format!("{}'s detection reference", r.id);
        for n in start / CHUNK_SAMPLES..end.div_ceil(CHUNK_SAMPLES) {
            let key = BlobKey::reference_chunk(&r.id, n);
            let sealed = self.blobs.get(&key)?.ok_or_else(|| VaultError::NotFound {
                kind: "detection reference chunk",
                name: key.as_str().to_string(),
            })?;
            let bytes = self
                .secret
                .open(sealed, &context(&r.sha256, &n.to_string()), &what)?;
            let chunk_start = n * CHUNK_SAMPLES;
            let expected = CHUNK_SAMPLES.min(total - chunk_start.min(total));
            if bytes.len() != expected * 4 {
                return Err(VaultError::Invalid {
                    what: "detection reference",
                    reason: format!("{what}: chunk {n} holds {} bytes", bytes.len()),
                });
            }
            let lo = start.max(chunk_start) - chunk_start;
            let hi = end.min(chunk_start + expected) - chunk_start;
            samples.extend(
                bytes[lo * 4..hi * 4]
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            );
        }
        Ok(Excerpt {
            samples,
            first_block,
            levels,
            whole: whole || (first_block == 0 && end == total),
        })
    }
}

impl Vault {
    /// Recording `r`'s mono mix at 8 kHz, whole (its detection reference: read without
    /// decoding the original; 115 MB an hour). For overviews such as a waveform.
    pub fn mono_mix_8k(&self, r: &Recording) -> Result<Vec<f32>, VaultError> {
        Ok(self
            .reference_excerpt(r, 0.0, r.duration_s, f64::INFINITY)?
            .samples)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::vault;
    use tracemark_media::{EncodeOptions, Format, encode_bytes};

    #[test]
    fn a_stretch_of_the_reference_is_the_originals_mix_there_and_is_rebuilt_when_missing() {
        // 140 s of read speech at 16 kHz (repeated where the corpus is absent), stereo
        // (so the downmix and the resampler both act): three chunks of 64 s.
        let speech =
            tracemark_testkit::corpus_or_excerpt("librivox-en-16k.flac", 140.0, (0.0, 60.0));
        let left: Vec<f32> = speech.channels()[0]
            .iter()
            .copied()
            .cycle()
            .take(140 * 16_000)
            .collect();
        let right: Vec<f32> = left.iter().rev().map(|x| 0.5 * x).collect();
        let stereo =
            tracemark_dsp::AudioBuffer::try_new(speech.rate(), vec![left, right]).expect("stereo");
        let bytes = encode_bytes(&stereo, Format::Flac, &EncodeOptions::default()).expect("flac");
        let dir = tempfile::tempdir().expect("tmp");
        let v = vault(dir.path());
        let r = v.ingest(&bytes, "speech.flac", "Speech").expect("ingest");
        let decoded = v.original(&r).expect("original");
        let mix = tracemark_dsp::resample(&decoded.downmix(), 16_000, DETECT_RATE).expect("mix");
        let rate = DETECT_RATE as usize;
        let total_s = mix.len() / rate;

        let check = |e: &Excerpt, first_block: usize, end_s: usize| {
            assert_eq!(e.first_block, first_block);
            let start = first_block * BLOCK_S * rate;
            let end = (end_s * rate).min(mix.len());
            assert_eq!(e.samples.len(), end - start);
            assert!(
                e.samples
                    .iter()
                    .zip(&mix[start..end])
                    .all(|(a, b)| a.to_bits() == b.to_bits())
            );
            assert_eq!(e.levels, ReferenceLevels::measure(&mix));
        };
        // Seconds 70-80 and the margin: from block 8 (64 s, chunk 1) to 84 s.
        let e = v.reference_excerpt(&r, 70.0, 80.0, 0.0).expect("excerpt");
        check(&e, 8, 84);
        assert!(!e.whole);
        // Across the chunk boundary at 128 s, to the end.
        let e = v.reference_excerpt(&r, 120.0, 200.0, 0.0).expect("excerpt");
        check(&e, 14, total_s + 1);
        // A short recording is read whole.
        let e = v
            .reference_excerpt(&r, 70.0, 80.0, READ_WHOLE_S)
            .expect("whole");
        check(&e, 0, total_s + 1);
        assert!(e.whole);

        // A vault from before references: rebuilt from the original at the first read.
        std::fs::remove_dir_all(dir.path().join("blobs/references")).expect("remove");
        check(
            &v.reference_excerpt(&r, 70.0, 80.0, 0.0).expect("rebuilt"),
            8,
            84,
        );

        // Chunks swapped on disk are refused: each is sealed with its number.
        let chunk = |n| {
            dir.path()
                .join(format!("blobs/references/{}/{n:06}.sealed", r.id))
        };
        let (a, b) = (
            std::fs::read(chunk(0)).expect("0"),
            std::fs::read(chunk(1)).expect("1"),
        );
        std::fs::write(chunk(0), &b).expect("write");
        std::fs::write(chunk(1), &a).expect("write");
        assert!(matches!(
            v.reference_excerpt(&r, 70.0, 80.0, 0.0),
            Err(VaultError::Tampered { .. })
        ));
    }

    #[test]
    fn headers_round_trip_and_refuse_other_bytes() {
        let levels = ReferenceLevels::from_bytes({
            let mut b = [0u8; 16];
            b[..8].copy_from_slice(&2.5f64.to_le_bytes());
            b[8..].copy_from_slice(&0.125f64.to_le_bytes());
            b
        })
        .expect("levels");
        let bytes = header_bytes(levels, 123_456);
        assert_eq!(parse_header(&bytes, "x").expect("parse"), (levels, 123_456));
        assert!(parse_header(&bytes[..20], "x").is_err());
        let mut other = bytes.clone();
        other[7] = 2;
        assert!(parse_header(&other, "x").is_err());
    }
}
