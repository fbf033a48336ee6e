//! The bench's world: the recording, two vaults that issued it (the 1,000-copy vault
//! under test and a 100-copy one used for collusion and as "another vault"), the leaked
//! copies rendered on demand, and the leak transformations.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use tempfile::TempDir;
use tracemark_backends::Location;
use tracemark_dsp::{AudioBuffer, SampleRate};
use tracemark_media::{EncodeOptions, Format, Limits, decode_bytes, decode_file, encode_bytes};
use tracemark_tardos::{Biases, Codeword, Cutoff};
use tracemark_vault::{DEFAULT_BOUND, Delivery, Recording, Secret, TraceReport, Vault};
use tracemark_watermark::symbol_count;

/// Copies are issued as WAV: no lossy step at issue time, the leak's codec comes after.
const WAV: Delivery = Delivery::of(Format::Wav);

/// A vault with one recording issued to `names.len()` recipients.
pub struct IssuedVault {
    _dir: TempDir,
    dir: PathBuf,
    pub vault: Vault,
    pub recording: Recording,
    pub names: Vec<String>,
    /// Wall seconds per issued copy (embed + WAV encode + transaction).
    pub issue_s_per_copy: f64,
    copies: HashMap<usize, AudioBuffer>,
}

impl IssuedVault {
    /// A new vault in a temporary directory: `recording` ingested as FLAC, `n` recipients
    /// named `{prefix}0000`..., each issued a WAV copy (bytes dropped: copies are
    /// re-rendered deterministically when a trial needs one).
    pub fn create(original: &AudioBuffer, prefix: &str, n: usize) -> Result<Self> {
        let dir = tempfile::tempdir().context("temporary vault directory")?;
        let path = dir.path().to_path_buf();
        let vault = Location::embedded(&path).init()?;
        let flac = encode_bytes(original, Format::Flac, &EncodeOptions::default())?;
        let recording = vault.ingest(&flac, "call.flac", "call-en-8k, first 120 s")?;
        let names: Vec<String> = (0..n).map(|i| format!("{prefix}{i:04}")).collect();
        for name in &names {
            vault.add_recipient(name, None)?;
        }
        let start = Instant::now();
        for batch in names.chunks(20) {
            vault.issue(recording.id.as_str(), batch, WAV, |_, _| {})?;
        }
        let issue_s_per_copy = start.elapsed().as_secs_f64() / n.max(1) as f64;
        Ok(Self {
            _dir: dir,
            dir: path,
            vault,
            recording,
            names,
            issue_s_per_copy,
            copies: HashMap::new(),
        })
    }

    /// Recipient `i`'s marked copy (rendered again by `Vault::issue`, which returns the
    /// same bytes and logs nothing new), cached.
    pub fn copy(&mut self, i: usize) -> Result<AudioBuffer> {
        if let Some(c) = self.copies.get(&i) {
            return Ok(c.clone());
        }
        let issued = self.vault.issue(
            self.recording.id.as_str(),
            &self.names[i..=i],
            WAV,
            |_, _| {},
        )?;
        let Some(first) = issued.first() else {
            bail!("issue returned no copy for {}", self.names[i]);
        };
        if !first.reissued {
            bail!("{} had no issuance yet", self.names[i]);
        }
        let audio = decode(&first.bytes, "wav")?;
        self.copies.insert(i, audio.clone());
        Ok(audio)
    }

    /// Indices of the copies rendered so far.
    pub fn cached(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.copies.keys().copied().collect();
        v.sort_unstable();
        v
    }

    /// Traces leaked file bytes at the default bound.
    pub fn trace(&mut self, leak: &Leak) -> Result<TraceReport> {
        Ok(self
            .vault
            .trace(&leak.bytes, &leak.file_name, DEFAULT_BOUND)?)
    }

    /// The vault's secret, read from its directory (for the scoring-level simulation).
    pub fn secret(&self) -> Result<Secret> {
        Ok(Secret::read(&self.dir.join("secret.key"))?)
    }

    /// The recording's code biases, derived as `tracemark-vault` derives them (one per
    /// 80 ms slot, HKDF label `tracemark/v1/tardos/biases/<id>`). Checked against the
    /// vault's own scores in `innocents::check_replica`.
    pub fn biases(&self, secret: &Secret) -> Result<Biases> {
        let r = &self.recording;
        let slots = symbol_count(
            (r.duration_s * f64::from(r.sample_rate)).round() as usize,
            r.sample_rate,
        )?;
        let seed = secret.derive(&format!("tracemark/v1/tardos/biases/{}", r.id));
        Ok(Biases::draw(&seed, slots, Cutoff::default())?)
    }

    /// Recipient `id`'s codeword, derived as `tracemark-vault` derives it.
    pub fn codeword(&self, secret: &Secret, biases: &Biases, recipient_id: &str) -> Codeword {
        let seed = secret.derive(&format!(
            "tracemark/v1/tardos/codeword/{}/{recipient_id}",
            self.recording.id
        ));
        Codeword::draw(&seed, biases)
    }
}

/// A leaked file as it reaches the investigator.
pub struct Leak {
    pub bytes: Vec<u8>,
    pub file_name: String,
    /// The audio as decoded by the bench (for the informed re-extraction).
    pub audio: AudioBuffer,
}

/// What happens to a clip before it is leaked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// Lossless (FLAC).
    Flac,
    /// MP3 at this bit rate, kbit/s.
    Mp3(u32),
    /// Opus at this bit rate, kbit/s.
    Opus(u32),
    /// 8 kHz telephone band (300-3400 Hz), then MP3 at this bit rate.
    PhoneMp3(u32),
}

impl Channel {
    /// Short label for tables.
    pub fn label(self) -> String {
        match self {
            Self::Flac => "FLAC".into(),
            Self::Mp3(k) => format!("MP3 {k}k"),
            Self::Opus(k) => format!("Opus {k}k"),
            Self::PhoneMp3(k) => format!("phone band + MP3 {k}k"),
        }
    }

    /// Applies the channel and returns the leaked file.
    pub fn leak(self, audio: &AudioBuffer) -> Result<Leak> {
        let (input, format, kbps) = match self {
            Self::Flac => (audio.clone(), Format::Flac, None),
            Self::Mp3(k) => (audio.clone(), Format::Mp3, Some(k)),
            Self::Opus(k) => (audio.clone(), Format::Opus, Some(k)),
            Self::PhoneMp3(k) => (
                tracemark_attacks::telephone_band(audio)?,
                Format::Mp3,
                Some(k),
            ),
        };
        let bytes = encode_bytes(&input, format, &EncodeOptions { bitrate_kbps: kbps })?;
        let ext = format.extension();
        let audio = decode(&bytes, ext)?;
        Ok(Leak {
            bytes,
            file_name: format!("leak.{ext}"),
            audio,
        })
    }
}

/// Decodes file bytes.
pub fn decode(bytes: &[u8], ext: &str) -> Result<AudioBuffer> {
    Ok(decode_bytes(bytes, Some(ext), &Limits::default())?)
}

/// `[start_s, start_s + len_s)` of `audio`.
pub fn clip(audio: &AudioBuffer, start_s: f64, len_s: f64) -> AudioBuffer {
    let rate = f64::from(audio.rate().hz());
    let a = ((start_s * rate) as usize).min(audio.frames());
    let b = (((start_s + len_s) * rate) as usize).clamp(a, audio.frames());
    audio.slice(a, b)
}

/// Mono samples as a buffer at `rate`.
pub fn mono(rate: SampleRate, samples: Vec<f32>) -> Result<AudioBuffer> {
    Ok(AudioBuffer::mono(rate, samples)?)
}

/// The copies averaged sample by sample (mono).
pub fn average(copies: &[AudioBuffer]) -> Result<AudioBuffer> {
    let Some(first) = copies.first() else {
        bail!("nothing to average");
    };
    let n = copies.iter().map(AudioBuffer::frames).min().unwrap_or(0);
    let w = 1.0 / copies.len() as f32;
    let mixed: Vec<Vec<f32>> = copies.iter().map(AudioBuffer::downmix).collect();
    let avg = (0..n)
        .map(|i| mixed.iter().map(|c| c[i]).sum::<f32>() * w)
        .collect();
    mono(first.rate(), avg)
}

/// Consecutive `segment_s` stretches taken from the copies in turn (mono).
pub fn interleave(copies: &[AudioBuffer], segment_s: f64) -> Result<AudioBuffer> {
    let Some(first) = copies.first() else {
        bail!("nothing to interleave");
    };
    let seg = (segment_s * f64::from(first.rate().hz())) as usize;
    let n = copies.iter().map(AudioBuffer::frames).min().unwrap_or(0);
    let mixed: Vec<Vec<f32>> = copies.iter().map(AudioBuffer::downmix).collect();
    let out = (0..n)
        .map(|i| mixed[(i / seg.max(1)) % mixed.len()][i])
        .collect();
    mono(first.rate(), out)
}

/// A corpus file, decoded, mono, resampled to `rate_hz`.
pub fn corpus_mono(corpus: &Path, file: &str, rate_hz: u32) -> Result<AudioBuffer> {
    let path = corpus.join(file);
    let audio = decode_file(&path, &Limits::default())
        .with_context(|| format!("decoding {}", path.display()))?;
    let samples = tracemark_dsp::resample(&audio.downmix(), audio.rate().hz(), rate_hz)?;
    mono(SampleRate::try_new(rate_hz)?, samples)
}
