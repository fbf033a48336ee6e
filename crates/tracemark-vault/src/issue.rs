//! Issuing marked copies: one Tardos codeword per (recording, recipient), embedded with
//! the vault's watermark key, encoded, hashed and logged.

use std::io::{Cursor, Read, Seek, SeekFrom, Write};

use tracemark_media::{
    AudioStream, EncodeOptions, Format, Limits, MediaError, SampleChoice, SampleFormat, SampleRate,
    SharedBytes, StreamEncoder, open_stream_bytes, open_stream_source,
};
use tracemark_store::{Draft, NewIssuance, Stored};
use tracemark_tardos::{Biases, Codeword, Cutoff};
use tracemark_types::{Issuance, PayloadBytes, Recipient, RecipientId, Recording, Sha256};
use tracemark_watermark::{
    AbEmbedder, AbLayout, EmbedParams, Embedder, Message, Payload, Survey, SurveyResult,
    WatermarkKey, symbol_count,
};

use crate::VaultError;
use crate::vault::{Vault, unexpected};

/// The delivery label of an issuance that assigns a recipient their codeword and renders
/// no file (`issue --all --no-copies`): its `copy_sha256` is the codeword's commitment, the
/// one thing issued. A copy rendered later ([`Vault::render`]) is an issuance of its own,
/// in its file format, with the file's hash.
pub const CODEWORD_FORMAT: &str = "codeword";

/// Copies assembled in one pass over the original ([`AbEmbedder`]): each holds its
/// encoder's state while the pass runs.
const ASSEMBLY_GROUP: usize = 128;

/// Up to this many recipients, [`Vault::logged_payloads`] looks each one up rather than
/// reading every issuance of the recording (100,000 rows for a wide distribution).
const FEW_LOOKUPS: usize = 64;

/// Recipients per transaction when assigning codewords in bulk: one signed checkpoint per
/// batch, and an interruption loses at most the batch in flight (re-running skips what
/// was stored).
pub const CODEWORD_BATCH: usize = 2_000;

/// What [`Vault::assign_codewords`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assigned {
    /// Recipients given a codeword now.
    pub assigned: usize,
    /// Recipients who had one already (nothing logged for them).
    pub already: usize,
}

/// An original opened for marking copies: its file bytes (shared by every copy's thread,
/// never decoded whole) and what the block embedder's first pass learnt from them.
///
/// Each copy decodes the bytes again, block by block, through the watermark crate's
/// second pass (`Embedder`) into a block-by-block encoder: what a copy holds is the
/// decoder's and the embedder's state, never a signal of the recording's length; the
/// encoded file goes to the copy's output as it is made ([`Vault::issue_into`]). The
/// samples are bit for bit `embed`'s (the watermark crate's
/// `streaming_embedder_matches_embed_bit_for_bit`) and the file byte for byte
/// `encode_bytes_as`'s of them, in the original's sample format where the delivery
/// follows it (`a_streamed_copy_is_the_whole_signal_path_byte_for_byte` below).
pub(crate) struct Marking {
    /// The recording, named in a decoding error ([`VaultError::StoredMedia`]).
    recording: String,
    source: Original,
    format_hint: String,
    limits: Limits,
    survey: SurveyResult,
    rate: SampleRate,
    channels: usize,
    /// The original's samples, which a lossless copy follows unless asked otherwise.
    source_format: Option<SampleFormat>,
}

/// Where an original's file is read from by each pass.
pub(crate) enum Original {
    /// Opened whole (an original sealed whole), shared by every pass.
    Bytes(SharedBytes),
    /// Sealed in chunks and already checked against its hash: each pass reads it from
    /// the blob store a chunk at a time.
    Sealed(crate::sealed::SealedBlob),
}

impl Original {
    /// A stream over the original, decoded as `format`.
    pub(crate) fn stream(&self, format: &str, limits: &Limits) -> Result<AudioStream, MediaError> {
        match self {
            Self::Bytes(bytes) => open_stream_bytes(bytes.clone(), Some(format), limits),
            Self::Sealed(sealed) => {
                open_stream_source(Box::new(sealed.clone()), Some(format), limits)
            }
        }
    }
}

impl Marking {
    /// Opens recording `recording`'s original file (in its stored `format`) and runs the
    /// first pass over it. A decoding error is [`VaultError::StoredMedia`].
    pub(crate) fn open(
        recording: &str,
        source: Original,
        format: &str,
        limits: &Limits,
    ) -> Result<Self, VaultError> {
        let stored = |source| VaultError::StoredMedia {
            recording: recording.to_string(),
            source,
        };
        let mut stream = source.stream(format, limits).map_err(stored)?;
        let (rate, channels) = (stream.rate(), stream.channel_count());
        let source_format = stream.source_format();
        let mut survey = Survey::new(rate, channels)?;
        while let Some(block) = stream.next_block().map_err(stored)? {
            survey.push(&slices(block))?;
        }
        Ok(Self {
            recording: recording.to_string(),
            source,
            format_hint: format.to_string(),
            limits: *limits,
            survey: survey.finish()?,
            rate,
            channels,
            source_format,
        })
    }

    /// One copy marked with `message` under `key`, encoded for `delivery` into `out`
    /// (empty), which is given back positioned at the file's end.
    pub(crate) fn copy<W: Read + Write + Seek>(
        &self,
        key: &WatermarkKey,
        message: &Message<'_>,
        delivery: Delivery,
        out: W,
    ) -> Result<W, VaultError> {
        let stored = |source| VaultError::StoredMedia {
            recording: self.recording.clone(),
            source,
        };
        let mut stream = self
            .source
            .stream(&self.format_hint, &self.limits)
            .map_err(stored)?;
        let mut embedder =
            Embedder::new(self.survey.clone(), key, message, &EmbedParams::default())?;
        let mut encoder = StreamEncoder::with_output(
            out,
            delivery.format,
            self.rate,
            self.channels,
            self.source_format,
            &EncodeOptions {
                bitrate_kbps: delivery.bitrate_kbps,
            },
            delivery.samples,
        )?;
        let mut out = vec![Vec::new(); self.channels];
        while let Some(block) = stream.next_block().map_err(stored)? {
            embedder.push(&slices(block), &mut out)?;
            encoder.push(&out)?;
            out.iter_mut().for_each(Vec::clear);
        }
        embedder.finish(&mut out)?;
        encoder.push(&out)?;
        Ok(encoder.finish_output()?)
    }

    /// The copies marked with each of `codewords` (and `payload`) under `key`, each
    /// encoded for `delivery` into its output (empty) of `outs`, in one decoding of the
    /// original: its renderings run side by side ([`AbEmbedder`]) and each copy takes
    /// every sample from the rendering that agrees with its codeword there. Each file is
    /// the one [`Self::copy`] writes for the same message, byte for byte.
    pub(crate) fn assembled_copies<W: Read + Write + Seek>(
        &self,
        key: &WatermarkKey,
        payload: Payload,
        codewords: &[Vec<bool>],
        delivery: Delivery,
        outs: Vec<W>,
    ) -> Result<Vec<W>, VaultError> {
        let stored = |source| VaultError::StoredMedia {
            recording: self.recording.clone(),
            source,
        };
        let mut stream = self
            .source
            .stream(&self.format_hint, &self.limits)
            .map_err(stored)?;
        let mut ab = AbEmbedder::new(self.survey.clone(), key, payload, &EmbedParams::default())?;
        let mut encoders = outs
            .into_iter()
            .map(|out| {
                StreamEncoder::with_output(
                    out,
                    delivery.format,
                    self.rate,
                    self.channels,
                    self.source_format,
                    &EncodeOptions {
                        bitrate_kbps: delivery.bitrate_kbps,
                    },
                    delivery.samples,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = vec![Vec::new(); self.channels];
        let mut hand_out = |ab: &mut AbEmbedder| -> Result<(), VaultError> {
            for (symbols, encoder) in codewords.iter().zip(&mut encoders) {
                ab.assemble(symbols, &mut out)?;
                encoder.push(&out)?;
                out.iter_mut().for_each(Vec::clear);
            }
            ab.advance();
            Ok(())
        };
        while let Some(block) = stream.next_block().map_err(stored)? {
            ab.push(&slices(block))?;
            hand_out(&mut ab)?;
        }
        ab.finish()?;
        hand_out(&mut ab)?;
        Ok(encoders
            .into_iter()
            .map(StreamEncoder::finish_output)
            .collect::<Result<Vec<_>, _>>()?)
    }

    /// Whether copies of this recording can be assembled, and from how many renderings.
    pub(crate) fn renderings(&self) -> Option<usize> {
        AbLayout::new(self.rate)
            .ok()
            .filter(AbLayout::assembles)
            .map(|l| l.renderings())
    }
}

/// The SHA-256 of everything in `file`, read from its start; leaves it rewound.
fn hash_rewound<F: Read + Seek>(file: &mut F) -> std::io::Result<Sha256> {
    file.seek(SeekFrom::Start(0))?;
    let sha = crate::vault::sha256_of(&mut *file)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(sha)
}

/// How a set of copies is made ([`Vault::copy_plan`]).
pub(crate) struct CopyPlan<'r> {
    /// The recording's payload, which the assembled copies carry.
    pub shared: Payload,
    /// Copies assembled from the renderings, in groups of `group`.
    pub together: Vec<&'r Recipient>,
    /// Copies marked one by one, each with its payload.
    pub alone: Vec<(&'r Recipient, Payload)>,
    pub group: usize,
}

/// A marking thread's result; a panic in it is an error, not a panic of the caller.
fn joined<T>(h: std::thread::ScopedJoinHandle<'_, Result<T, VaultError>>) -> Result<T, VaultError> {
    h.join().unwrap_or_else(|_| {
        Err(VaultError::Invalid {
            what: "issue",
            reason: "a marking thread panicked".into(),
        })
    })
}

/// The issuance of a copy written to `file` (left rewound), for `recipient`.
fn copy_issuance<F: Read + Seek>(
    recording: &Recording,
    recipient: &Recipient,
    payload: Payload,
    codeword: &Codeword,
    delivery: Delivery,
    file: &mut F,
) -> Result<NewIssuance, VaultError> {
    let copy_sha256 =
        hash_rewound(file).map_err(copy_io(recipient, delivery.format.extension()))?;
    Ok(NewIssuance {
        recording_id: recording.id.clone(),
        recipient_id: recipient.id.clone(),
        payload: PayloadBytes(payload.bytes()),
        codeword_commitment: Sha256(codeword.commitment()),
        format: delivery.label(),
        copy_sha256,
    })
}

/// A copy's output failing, named as the copy it was for.
fn copy_io(recipient: &Recipient, extension: &str) -> impl Fn(std::io::Error) -> VaultError {
    let path = std::path::PathBuf::from(format!("<copy for {}>.{extension}", recipient.name));
    move |source| VaultError::Io {
        path: path.clone(),
        source,
    }
}

/// A decoded block as the embedder takes it.
fn slices(block: &[Vec<f32>]) -> Vec<&[f32]> {
    block.iter().map(Vec::as_slice).collect()
}

/// Refuses a copy rendered again whose hash is not the one `issued` records (the log says
/// what the recipient received; a different file must not be handed out as it).
pub(crate) fn check_reissued(
    issued: &Issuance,
    rendered: &Sha256,
    recipient: &Recipient,
) -> Result<(), VaultError> {
    if issued.copy_sha256 == *rendered {
        return Ok(());
    }
    Err(VaultError::CopyDiffers {
        recording: issued.recording_id.to_string(),
        recipient: recipient.name.clone(),
        format: issued.format.clone(),
        issued: issued.copy_sha256.to_string(),
        rendered: rendered.to_string(),
    })
}

/// Whether `r` is a transcript alone (ingested as text, no audio).
pub fn is_text_only(r: &Recording) -> bool {
    r.format == crate::TEXT_FORMAT && r.sample_rate == 0
}

/// One issued copy, written to the output [`Vault::issue_into`] was given for it.
#[derive(Debug)]
pub struct IssuedFile<F> {
    /// Who received it.
    pub recipient: Recipient,
    /// The stored issuance.
    pub issuance: Issuance,
    /// The file, rewound to its start; it holds exactly the bytes the issuance's
    /// `copy_sha256` names.
    pub file: F,
    /// File extension for the format.
    pub extension: &'static str,
    /// True when this recipient already had this copy (nothing new was logged).
    pub reissued: bool,
}

/// One issued copy, in memory.
#[derive(Debug, Clone)]
pub struct IssuedCopy {
    /// Who received it.
    pub recipient: Recipient,
    /// The stored issuance.
    pub issuance: Issuance,
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// File extension for the format.
    pub extension: &'static str,
    /// True when this recipient already had this copy (nothing new was logged).
    pub reissued: bool,
}

/// How copies are delivered.
///
/// A lossless copy's samples follow the original's unless asked otherwise
/// ([`SampleChoice::Source`]: a 16-bit WAV in gives a 16-bit WAV out, TPDF-dithered), and
/// the label recorded for each copy names what was written: `wav-s16`, `wav-s24`,
/// `flac-s16`, `flac-s24`... integers of that width, dithered; `wav-f32` 32-bit float; a
/// bare `flac` 16-bit FLAC rounded without dither, what an original FLAC cannot follow
/// gives (a lossy or floating-point one). A recorded label asked again for the same
/// original writes the same file. Releases before sample formats were followed recorded
/// `wav` (32-bit float) and `flac` (16-bit, undithered) whatever the original: asked again
/// for an integer original, those now give a copy of the original's samples, under its own
/// label, beside the old one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// File format.
    pub format: Format,
    /// Bit rate for lossy formats, kbit/s.
    pub bitrate_kbps: Option<u32>,
    /// The samples of a lossless copy (ignored by lossy formats).
    pub samples: SampleChoice,
}

impl Delivery {
    /// `format` at its default bit rate, its samples following the original's.
    pub const fn of(format: Format) -> Self {
        Self {
            format,
            bitrate_kbps: None,
            samples: SampleChoice::Source,
        }
    }

    /// The label recorded in the log, e.g. `flac`, `wav-s16` or `mp3-64k`: what
    /// [`Delivery::parse`] reads back. A delivery following the original's samples is
    /// labelled by its format alone until [`Delivery::settled`] for an original.
    pub fn label(&self) -> String {
        let name = self.format.extension();
        if !self.format.is_lossless() {
            return match self.bitrate_kbps {
                Some(k) => format!("{name}-{k}k"),
                None => name.to_string(),
            };
        }
        match self.samples {
            SampleChoice::Exactly(SampleFormat::Int { bits }) => format!("{name}-s{bits}"),
            SampleChoice::Exactly(SampleFormat::Float { bits }) => format!("{name}-f{bits}"),
            _ => name.to_string(),
        }
    }

    /// This delivery for an original whose samples are `source`: the samples it writes
    /// stated so that they no longer depend on the original ([`SampleChoice::settled`]),
    /// which is what its label records. An exact format the file format cannot store
    /// (`flac-f32`) is refused.
    pub fn settled(self, source: Option<SampleFormat>) -> Result<Self, VaultError> {
        let samples =
            self.samples
                .settled(source, self.format)
                .map_err(|e| VaultError::Invalid {
                    what: "delivery format",
                    reason: format!("{}: {e}", self.label()),
                })?;
        Ok(Self { samples, ..self })
    }
}

impl Delivery {
    /// Reads a delivery label: `wav` or `flac` (samples as the original's), either with a
    /// sample format (`wav-s16`, `wav-s24`, `wav-s32`, `wav-f32`, `flac-s16`, `flac-s24`:
    /// integers of 8 to 32 bits, or 32-bit float), `mp3`, `opus`, or a lossy format with
    /// its bit rate, `mp3-64k`, `opus-16k` (6 to 512 kbit/s).
    pub fn parse(label: &str) -> Result<Self, VaultError> {
        let invalid = |reason: String| VaultError::Invalid {
            what: "delivery format",
            reason,
        };
        let (name, rest) = match label.split_once('-') {
            Some((n, r)) => (n, Some(r)),
            None => (label, None),
        };
        let format = Format::from_extension(name)
            .filter(|_| !name.starts_with('.'))
            .ok_or_else(|| invalid(format!("{label:?}: use wav, flac, mp3 or opus")))?;
        let mut delivery = Self::of(format);
        match rest {
            None => {}
            Some(r) if format.is_lossless() => {
                let bad = || {
                    invalid(format!(
                        "{label:?}: {name} takes a sample format, e.g. {name}-s16, {name}-s24 or wav-f32"
                    ))
                };
                let (float, bits) = match r.as_bytes().first() {
                    Some(b's') => (false, &r[1..]),
                    Some(b'f') => (true, &r[1..]),
                    _ => return Err(bad()),
                };
                let bits = bits
                    .parse::<u8>()
                    .ok()
                    .filter(|_| bits.len() <= 2 && !bits.starts_with('0'))
                    .ok_or_else(bad)?;
                let samples = match (float, bits) {
                    (false, 8..=32) => SampleFormat::Int { bits },
                    (true, 32) => SampleFormat::Float { bits },
                    _ => return Err(bad()),
                };
                delivery.samples = SampleChoice::Exactly(samples);
                // Refuses what the format cannot store (flac-f32, flac-s32) now, not
                // once a copy is being made.
                delivery.settled(None)?;
            }
            Some(r) => {
                let k = r
                    .strip_suffix('k')
                    .and_then(|k| k.parse::<u32>().ok())
                    .filter(|k| (6..=512).contains(k))
                    .ok_or_else(|| {
                        invalid(format!(
                            "{label:?}: the bit rate is 6k to 512k, e.g. mp3-64k"
                        ))
                    })?;
                delivery.bitrate_kbps = Some(k);
            }
        }
        Ok(delivery)
    }
}

impl Vault {
    /// Marks and encodes one recipient's copy into `file` (empty); returns it rewound,
    /// and the issuance to record.
    #[allow(clippy::too_many_arguments)] // The issue loop's state, passed through.
    pub(crate) fn render_copy<F: Read + Write + Seek>(
        &self,
        original: &Marking,
        recording: &Recording,
        biases: &Biases,
        key: &WatermarkKey,
        recipient: &Recipient,
        payload: Payload,
        delivery: Delivery,
        file: F,
    ) -> Result<(F, NewIssuance), VaultError> {
        let delivery = delivery.settled(original.source_format)?;
        let codeword = self.codeword(recording, biases, &recipient.id);
        let symbols: Vec<bool> = codeword.symbols().collect();
        let mut file = original.copy(
            key,
            &Message {
                payload,
                symbols: Some(&symbols),
            },
            delivery,
            file,
        )?;
        let issuance = copy_issuance(
            recording, recipient, payload, &codeword, delivery, &mut file,
        )?;
        Ok((file, issuance))
    }

    /// Marks and encodes the copies of `recipients` (each with its file, empty) in one
    /// pass over the original, assembled from the recording's renderings
    /// ([`AbEmbedder`]): the same files, byte for byte, as [`Self::render_copy`] gives each
    /// with `payload`, which every one of them carries. Returns each file rewound, with the
    /// issuance to record, in order.
    #[allow(clippy::too_many_arguments)] // The issue loop's state, passed through.
    pub(crate) fn render_assembled<F: Read + Write + Seek>(
        &self,
        original: &Marking,
        recording: &Recording,
        biases: &Biases,
        key: &WatermarkKey,
        recipients: &[&Recipient],
        payload: Payload,
        delivery: Delivery,
        files: Vec<F>,
    ) -> Result<Vec<(F, NewIssuance)>, VaultError> {
        let delivery = delivery.settled(original.source_format)?;
        let codewords: Vec<Codeword> = recipients
            .iter()
            .map(|r| self.codeword(recording, biases, &r.id))
            .collect();
        let symbols: Vec<Vec<bool>> = codewords.iter().map(|c| c.symbols().collect()).collect();
        let files = original.assembled_copies(key, payload, &symbols, delivery, files)?;
        files
            .into_iter()
            .zip(recipients)
            .zip(&codewords)
            .map(|((mut file, recipient), codeword)| {
                let issuance =
                    copy_issuance(recording, recipient, payload, codeword, delivery, &mut file)?;
                Ok((file, issuance))
            })
            .collect()
    }

    /// How the copies of `recording` for `recipients` are made: which are assembled from
    /// the renderings, in groups of how many, and which are marked alone, with what payload.
    /// Copies that carry the recording's payload are assembled when there are at least as
    /// many of them as renderings (the files are the same either way); groups hold at least
    /// that many and at most [`ASSEMBLY_GROUP`], and there are at least `threads` of them
    /// where the copies allow, so each thread decodes the original once for its group.
    pub(crate) fn copy_plan<'r>(
        &self,
        original: &Marking,
        recording: &Recording,
        recipients: &'r [Recipient],
        threads: usize,
    ) -> Result<CopyPlan<'r>, VaultError> {
        let logged = self.logged_payloads(recording, recipients)?;
        let shared = self.recording_payload(recording);
        let payload_of = |r: &Recipient| logged.get(&r.id).copied().unwrap_or(shared);
        let (mut together, mut alone): (Vec<&Recipient>, Vec<(&Recipient, Payload)>) =
            (Vec::new(), Vec::new());
        for r in recipients {
            match payload_of(r) {
                p if p == shared => together.push(r),
                p => alone.push((r, p)),
            }
        }
        let renderings = original.renderings();
        let group = match renderings {
            Some(n) if self.assemble_copies && together.len() >= n => {
                let len = together.len();
                let count = len
                    .div_ceil(ASSEMBLY_GROUP)
                    .max(threads.max(1).min(len / n))
                    .max(1);
                len.div_ceil(count)
            }
            _ => {
                together.clear();
                alone = recipients.iter().map(|r| (r, payload_of(r))).collect();
                0
            }
        };
        Ok(CopyPlan {
            shared,
            together,
            alone,
            group,
        })
    }

    /// The recording's code biases (one per 80 ms slot).
    pub(crate) fn biases(&self, r: &Recording) -> Result<Biases, VaultError> {
        let slots = symbol_count(
            (r.duration_s * f64::from(r.sample_rate)).round() as usize,
            r.sample_rate,
        )?;
        let seed = self
            .secret
            .derive(&format!("tracemark/v1/tardos/biases/{}", r.id));
        Biases::draw(&seed, slots, Cutoff::default()).map_err(|e| VaultError::Invalid {
            what: "code length",
            reason: e.to_string(),
        })
    }

    /// The codeword of `recipient` for `r`.
    pub(crate) fn codeword(
        &self,
        r: &Recording,
        biases: &Biases,
        recipient: &RecipientId,
    ) -> Codeword {
        Codeword::draw(&self.codeword_seed(r, recipient), biases)
    }

    /// The seed `recipient`'s codeword for `r` is drawn from (what a scan of many
    /// recipients draws each codeword from, on the observed slots only).
    pub(crate) fn codeword_seed(&self, r: &Recording, recipient: &RecipientId) -> [u8; 32] {
        self.secret.derive(&format!(
            "tracemark/v1/tardos/codeword/{}/{recipient}",
            r.id
        ))
    }

    /// The blind payload of every copy of `r` issued since copies are assembled
    /// (`tracemark_watermark::ab`): one per recording, so that copies differ in their
    /// codeword alone. It names the recording; the codeword names the copy.
    pub(crate) fn recording_payload(&self, r: &Recording) -> Payload {
        self.derived_payload(&format!("tracemark/v1/vault/recording-payload/{}", r.id))
    }

    /// The blind payload a copy of `r` for `recipient` carried when payloads were drawn per
    /// copy: still the payload of every copy of `r` for a recipient first issued it then.
    pub(crate) fn copy_payload(&self, r: &Recording, recipient: &RecipientId) -> Payload {
        self.derived_payload(&format!("tracemark/v1/vault/payload/{}/{recipient}", r.id))
    }

    fn derived_payload(&self, label: &str) -> Payload {
        let d = self.secret.derive(label);
        let mut b = [0u8; 8];
        b.copy_from_slice(&d[..8]);
        Payload::from_bytes(b)
    }

    /// The payload each of `recipients` already issued `r` carries, where it is not the
    /// recording's (all of a recipient's issuances of `r` carry one payload): the
    /// recipient's own, from when payloads were drawn per copy. For a few recipients each is
    /// looked up by that payload (an indexed query); for many, every issuance of `r` is
    /// read once.
    pub(crate) fn logged_payloads(
        &self,
        r: &Recording,
        recipients: &[Recipient],
    ) -> Result<std::collections::HashMap<RecipientId, Payload>, VaultError> {
        let shared = self.recording_payload(r);
        let mut out = std::collections::HashMap::new();
        if recipients.len() <= FEW_LOOKUPS {
            for recipient in recipients {
                let own = self.copy_payload(r, &recipient.id);
                let held = self
                    .store
                    .issuances_by_payload(&PayloadBytes(own.bytes()))?
                    .iter()
                    .any(|i| i.recording_id == r.id && i.recipient_id == recipient.id);
                if held {
                    out.insert(recipient.id.clone(), own);
                }
            }
            return Ok(out);
        }
        for i in self.store.issuances_of(&r.id)? {
            let payload = Payload::from_bytes(i.payload.0);
            if payload != shared {
                out.entry(i.recipient_id).or_insert(payload);
            }
        }
        Ok(out)
    }

    /// Issues `recording_id` to each recipient named (names, exactly; never ids): its
    /// audio in `delivery`'s format and, when it has a transcript, a marked text copy
    /// (extension `txt`) each; a text-only recording issues text alone. Each
    /// copy is recorded in its own transaction, so an interruption leaves every finished
    /// copy recorded and no half-recorded one. Issuing again returns the same copy
    /// (marking is deterministic) and logs nothing. Holds every copy: for many
    /// recipients, [`Vault::issue_each`] hands them over one at a time.
    pub fn issue(
        &self,
        recording_id: &str,
        names: &[String],
        delivery: Delivery,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<Vec<IssuedCopy>, VaultError> {
        let mut out = Vec::new();
        self.issue_each(recording_id, names, delivery, |done, total, copy| {
            progress(done, total);
            out.push(copy);
            Ok(())
        })?;
        Ok(out)
    }

    /// [`Vault::issue`], handing each copy to `each` (with the copies done and the total)
    /// as soon as it is recorded, so memory does not grow with the number of recipients.
    /// An error from `each` stops the issue; the copies recorded so far stay recorded.
    /// Each copy is held in memory while it is made: [`Vault::issue_into`] writes them to
    /// files instead.
    pub fn issue_each(
        &self,
        recording_id: &str,
        names: &[String],
        delivery: Delivery,
        mut each: impl FnMut(usize, usize, IssuedCopy) -> Result<(), VaultError>,
    ) -> Result<(), VaultError> {
        self.issue_into(
            recording_id,
            names,
            delivery,
            |_, _| Ok(Cursor::new(Vec::new())),
            |done, total, c| {
                each(
                    done,
                    total,
                    IssuedCopy {
                        recipient: c.recipient,
                        issuance: c.issuance,
                        bytes: c.file.into_inner(),
                        extension: c.extension,
                        reissued: c.reissued,
                    },
                )
            },
        )
    }

    /// [`Vault::issue_each`], writing each copy into an output of the caller's as it is
    /// encoded: `create(recipient, extension)` gives an empty file (a temporary file in
    /// the directory the copy will be moved into, say), and `each` gets it back, rewound,
    /// once the copy is recorded (and checked against what was issued before), to keep.
    /// Nothing of a copy is held in memory beyond the encoder's state, so memory depends
    /// neither on the recording's length nor on the number of recipients. A file whose
    /// copy fails is dropped, never handed to `each`.
    pub fn issue_into<F: Read + Write + Seek + Send>(
        &self,
        recording_id: &str,
        names: &[String],
        delivery: Delivery,
        mut create: impl FnMut(&Recipient, &'static str) -> Result<F, VaultError>,
        mut each: impl FnMut(usize, usize, IssuedFile<F>) -> Result<(), VaultError>,
    ) -> Result<(), VaultError> {
        let recording = self.recording(recording_id)?;
        let recipients: Vec<Recipient> = names
            .iter()
            .map(|n| self.recipient(n))
            .collect::<Result<_, _>>()?;
        if recipients.is_empty() {
            return Err(VaultError::Invalid {
                what: "recipient list",
                reason: "name at least one recipient".into(),
            });
        }
        let transcript = self.store.transcript(&recording.id)?;
        let text_only = is_text_only(&recording);
        let total =
            recipients.len() * (usize::from(!text_only) + usize::from(transcript.is_some()));
        let mut done = 0;
        if !text_only {
            let original = self.marking(&recording)?;
            let biases = self.biases(&recording)?;
            let key = self.secret.watermark_key();
            let extension = delivery.format.extension();
            let threads = self.issue_threads;
            let plan = self.copy_plan(&original, &recording, &recipients, threads)?;
            let (shared, together, alone, group) =
                (plan.shared, &plan.together, &plan.alone, plan.group);
            if !together.is_empty() {
                for groups in together.chunks(group * threads) {
                    let mut work = Vec::new();
                    for g in groups.chunks(group) {
                        let files = g
                            .iter()
                            .map(|r| create(r, extension))
                            .collect::<Result<Vec<F>, _>>()?;
                        work.push((g, files));
                    }
                    let results: Vec<Result<Vec<(F, NewIssuance)>, VaultError>> =
                        std::thread::scope(|scope| {
                            let handles: Vec<_> = work
                                .into_iter()
                                .map(|(g, files)| {
                                    let (original, recording, biases, key) =
                                        (&original, &recording, &biases, &key);
                                    scope.spawn(move || {
                                        self.render_assembled(
                                            original, recording, biases, key, g, shared, delivery,
                                            files,
                                        )
                                    })
                                })
                                .collect();
                            handles.into_iter().map(joined).collect()
                        });
                    for (g, copies) in groups.chunks(group).zip(results) {
                        for (recipient, (file, issuance)) in g.iter().zip(copies?) {
                            done += 1;
                            self.record_copy(
                                recipient, file, issuance, delivery, done, total, &mut each,
                            )?;
                        }
                    }
                }
            }
            // Copies are marked and encoded side by side, one per thread, each into its
            // own output, then recorded and handed over in order.
            let mut rendered = Vec::new();
            for chunk in alone.chunks(threads) {
                let files = chunk
                    .iter()
                    .map(|(r, _)| create(r, extension))
                    .collect::<Result<Vec<F>, _>>()?;
                rendered.clear();
                std::thread::scope(|scope| {
                    let handles: Vec<_> = chunk
                        .iter()
                        .zip(files)
                        .map(|(&(r, payload), file)| {
                            let (original, recording, biases, key) =
                                (&original, &recording, &biases, &key);
                            scope.spawn(move || {
                                self.render_copy(
                                    original, recording, biases, key, r, payload, delivery, file,
                                )
                            })
                        })
                        .collect();
                    rendered.extend(handles.into_iter().map(joined));
                });
                for ((recipient, _), copy) in chunk.iter().zip(rendered.drain(..)) {
                    let (file, issuance) = copy?;
                    done += 1;
                    self.record_copy(recipient, file, issuance, delivery, done, total, &mut each)?;
                }
            }
        }
        if let Some(t) = &transcript {
            for copy in self.issue_transcripts(&recording, t, &recipients)? {
                done += 1;
                let io = copy_io(&copy.recipient, copy.extension);
                let mut file = create(&copy.recipient, copy.extension)?;
                file.write_all(&copy.bytes)
                    .and_then(|()| file.seek(SeekFrom::Start(0)))
                    .map_err(io)?;
                each(
                    done,
                    total,
                    IssuedFile {
                        recipient: copy.recipient,
                        issuance: copy.issuance,
                        file,
                        extension: copy.extension,
                        reissued: copy.reissued,
                    },
                )?;
            }
        }
        Ok(())
    }

    /// Records one rendered copy and hands it to `each`.
    #[allow(clippy::too_many_arguments)] // The issue loop's state, passed through.
    fn record_copy<F>(
        &self,
        recipient: &Recipient,
        file: F,
        issuance: NewIssuance,
        delivery: Delivery,
        done: usize,
        total: usize,
        each: &mut impl FnMut(usize, usize, IssuedFile<F>) -> Result<(), VaultError>,
    ) -> Result<(), VaultError> {
        let rendered = issuance.copy_sha256;
        let (issuance, existing) = match self.append_one(Draft::Issuance(issuance))? {
            Stored::Issuance { issuance, existing } => (issuance, existing),
            other => return Err(unexpected(&other)),
        };
        check_reissued(&issuance, &rendered, recipient)?;
        each(
            done,
            total,
            IssuedFile {
                recipient: recipient.clone(),
                issuance,
                file,
                extension: delivery.format.extension(),
                reissued: existing,
            },
        )
    }

    /// Issues `recording_id` to every recipient (or those `names`) without rendering a
    /// copy: each gets the codeword commitment and payload logged (a `codeword` issuance),
    /// in transactions of [`CODEWORD_BATCH`]. Copies are rendered on demand by
    /// [`Vault::render`]; a trace scores these recipients like any other. Recipients who
    /// already have a codeword issuance are skipped.
    pub fn assign_codewords(
        &self,
        recording_id: &str,
        names: Option<&[String]>,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<Assigned, VaultError> {
        let recording = self.recording(recording_id)?;
        if is_text_only(&recording) {
            return Err(VaultError::Invalid {
                what: "recording",
                reason: format!(
                    "{} is a transcript alone; issue it with copies (text copies are small)",
                    recording.id
                ),
            });
        }
        let recipients = match names {
            Some(names) => names
                .iter()
                .map(|n| self.recipient(n))
                .collect::<Result<Vec<_>, _>>()?,
            None => self.recipients()?,
        };
        let issued = self.store.issuances_of(&recording.id)?;
        let have: std::collections::HashSet<&RecipientId> = issued
            .iter()
            .filter(|i| i.format == CODEWORD_FORMAT)
            .map(|i| &i.recipient_id)
            .collect();
        // A recipient issued a copy before keeps that copy's payload.
        let mut logged = std::collections::HashMap::new();
        for i in &issued {
            logged.entry(&i.recipient_id).or_insert(i.payload);
        }
        let shared = PayloadBytes(self.recording_payload(&recording).bytes());
        let todo: Vec<&Recipient> = recipients
            .iter()
            .filter(|r| !have.contains(&r.id))
            .collect();
        let biases = self.biases(&recording)?;
        let total = todo.len();
        for (n, batch) in todo.chunks(CODEWORD_BATCH).enumerate() {
            progress(n * CODEWORD_BATCH, total);
            let drafts = batch
                .iter()
                .map(|r| {
                    let codeword = self.codeword(&recording, &biases, &r.id);
                    let commitment = Sha256(codeword.commitment());
                    Draft::Issuance(NewIssuance {
                        recording_id: recording.id.clone(),
                        recipient_id: r.id.clone(),
                        payload: logged.get(&r.id).copied().unwrap_or(shared),
                        codeword_commitment: commitment,
                        format: CODEWORD_FORMAT.into(),
                        copy_sha256: commitment,
                    })
                })
                .collect();
            self.append(drafts)?;
        }
        progress(total, total);
        Ok(Assigned {
            assigned: total,
            already: recipients.len() - total,
        })
    }

    /// Renders the copies of recipients already issued `recording_id` (with or without a
    /// copy), in `delivery`'s format: the same marking as [`Vault::issue`], and the copy is
    /// logged as an issuance of that format the first time. Refuses a recipient who was
    /// never issued the recording, by name.
    pub fn render(
        &self,
        recording_id: &str,
        names: &[String],
        delivery: Delivery,
        each: impl FnMut(usize, usize, IssuedCopy) -> Result<(), VaultError>,
    ) -> Result<(), VaultError> {
        self.check_issued(recording_id, names)?;
        self.issue_each(recording_id, names, delivery, each)
    }

    /// [`Vault::render`], writing each copy into an output of the caller's as
    /// [`Vault::issue_into`] does.
    pub fn render_into<F: Read + Write + Seek + Send>(
        &self,
        recording_id: &str,
        names: &[String],
        delivery: Delivery,
        create: impl FnMut(&Recipient, &'static str) -> Result<F, VaultError>,
        each: impl FnMut(usize, usize, IssuedFile<F>) -> Result<(), VaultError>,
    ) -> Result<(), VaultError> {
        self.check_issued(recording_id, names)?;
        self.issue_into(recording_id, names, delivery, create, each)
    }

    /// Refuses, by name, a recipient never issued `recording_id`.
    fn check_issued(&self, recording_id: &str, names: &[String]) -> Result<(), VaultError> {
        let recording = self.recording(recording_id)?;
        let issued: std::collections::HashSet<RecipientId> = self
            .store
            .issuances_of(&recording.id)?
            .into_iter()
            .map(|i| i.recipient_id)
            .collect();
        for name in names {
            let r = self.recipient(name)?;
            if !issued.contains(&r.id) {
                return Err(VaultError::Invalid {
                    what: "recipient",
                    reason: format!(
                        "{name:?} was never issued {}; issue it first (`issue {} --to ...` or `--all --no-copies`)",
                        recording.id, recording.id
                    ),
                });
            }
        }
        Ok(())
    }

    /// Every issuance of `recording_id`.
    pub fn issuances_of(&self, recording_id: &str) -> Result<Vec<Issuance>, VaultError> {
        let id = recording_id.parse()?;
        Ok(self.store.issuances_of(&id)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use tracemark_media::{AudioBuffer, decode_bytes, encode_bytes, encode_bytes_as};

    /// The whole-signal path a copy took before copies streamed: decode the original
    /// whole, `embed`, `encode_bytes`.
    fn whole_signal_copy(
        bytes: &[u8],
        hint: &str,
        key: &WatermarkKey,
        message: &Message<'_>,
        delivery: Delivery,
    ) -> Vec<u8> {
        let audio = decode_bytes(bytes, Some(hint), &Limits::default()).expect("decode");
        let marked = tracemark_watermark::embed(&audio, key, message, &EmbedParams::default())
            .expect("embed");
        let marked = AudioBuffer::try_new(marked.rate(), marked.into_channels())
            .expect("buffer")
            .with_source_format(audio.source_format());
        encode_bytes_as(
            &marked,
            delivery.format,
            &EncodeOptions {
                bitrate_kbps: delivery.bitrate_kbps,
            },
            delivery.samples,
        )
        .expect("encode")
    }

    /// The committed demo call (real speech, 60 s at 8 kHz, FLAC), and a stereo 16 kHz FLAC
    /// of `seconds` made from it (the channels differ: other gains, 25 ms apart).
    fn demo_and_stereo(seconds: usize) -> (Vec<u8>, Vec<u8>) {
        let demo =
            std::fs::read(tracemark_testkit::excerpt_path()).expect("the committed demo call");
        let mono = decode_bytes(&demo, Some("flac"), &Limits::default()).expect("decode");
        let wide = tracemark_dsp::resample(&mono.channels()[0], 8_000, 16_000).expect("resample");
        let n = 16_000 * seconds;
        let stereo = AudioBuffer::try_new(
            SampleRate::try_new(16_000).expect("rate"),
            vec![
                wide[..n].iter().map(|x| x * 0.9).collect(),
                wide[400..n + 400].iter().map(|x| x * 0.6).collect(),
            ],
        )
        .expect("stereo");
        let stereo = encode_bytes(&stereo, Format::Flac, &EncodeOptions::default()).expect("flac");
        (demo, stereo)
    }

    #[test]
    fn a_streamed_copy_is_the_whole_signal_path_byte_for_byte() {
        // The committed demo call (real speech, 60 s at 8 kHz), and a stereo 16 kHz
        // recording made from it (the channels differ), each with a codeword and a
        // payload, as a copy is marked.
        let (demo, stereo) = demo_and_stereo(40);
        let key = WatermarkKey::from_bytes([3; 32]);
        for (bytes, rate) in [(&demo, 8_000), (&stereo, 16_000)] {
            let marking = Marking::open(
                "rec-test",
                Original::Bytes(bytes.clone().into()),
                "flac",
                &Limits::default(),
            )
            .expect("open");
            let n = symbol_count(marking.survey.frames() as usize, rate).expect("slots");
            let symbols: Vec<bool> = (0..n).map(|i| (i * 7 + 3) % 5 < 2).collect();
            let message = Message {
                payload: Payload::from_bytes([1, 2, 3, 4, 5, 6, 7, 8]),
                symbols: Some(&symbols),
            };
            for label in [
                "wav", "wav-f32", "wav-s24", "flac", "flac-s24", "mp3-64k", "opus-24k",
            ] {
                let delivery = Delivery::parse(label).expect("delivery");
                let streamed = marking
                    .copy(&key, &message, delivery, Cursor::new(Vec::new()))
                    .expect("copy")
                    .into_inner();
                let whole = whole_signal_copy(bytes, "flac", &key, &message, delivery);
                assert!(
                    streamed == whole,
                    "{rate} Hz {label}: {} streamed bytes differ from {} whole-path bytes",
                    streamed.len(),
                    whole.len()
                );
            }
        }
    }

    /// Copies assembled from the renderings, in one pass, are the copies marked one by
    /// one, byte for byte: on real speech at 8 kHz (mono) and 16 kHz (stereo), in a
    /// lossless float, a dithered integer and a lossy format, for more copies than there
    /// are renderings.
    #[test]
    fn assembled_copies_are_the_copies_marked_one_by_one_byte_for_byte() {
        let (demo, stereo) = demo_and_stereo(20);
        let key = WatermarkKey::from_bytes([5; 32]);
        let payload = Payload::from_bytes([8, 7, 6, 5, 4, 3, 2, 1]);
        for (bytes, rate) in [(&demo, 8_000), (&stereo, 16_000)] {
            let marking = Marking::open(
                "rec-test",
                Original::Bytes(bytes.clone().into()),
                "flac",
                &Limits::default(),
            )
            .expect("open");
            assert_eq!(
                marking.renderings(),
                Some(if rate == 8_000 { 4 } else { 8 })
            );
            let n = symbol_count(marking.survey.frames() as usize, rate).expect("slots");
            let codewords: Vec<Vec<bool>> = (0..9u64)
                .map(|c| {
                    let mut s = c.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
                    (0..n)
                        .map(|_| {
                            s ^= s << 13;
                            s ^= s >> 7;
                            s ^= s << 17;
                            s & 1 == 1
                        })
                        .collect()
                })
                .collect();
            for label in ["wav-f32", "flac-s24", "mp3-64k"] {
                let delivery = Delivery::parse(label).expect("delivery");
                let delivery = delivery.settled(marking.source_format).expect("settled");
                let outs = (0..codewords.len())
                    .map(|_| Cursor::new(Vec::new()))
                    .collect();
                let assembled = marking
                    .assembled_copies(&key, payload, &codewords, delivery, outs)
                    .expect("assembled");
                for (c, (symbols, out)) in codewords.iter().zip(assembled).enumerate() {
                    let message = Message {
                        payload,
                        symbols: Some(symbols),
                    };
                    let one = marking
                        .copy(&key, &message, delivery, Cursor::new(Vec::new()))
                        .expect("copy")
                        .into_inner();
                    assert!(
                        out.into_inner() == one,
                        "{rate} Hz {label}: assembled copy {c} differs from the one marked alone"
                    );
                }
            }
        }
    }

    /// A recipient issued a recording when payloads were drawn per copy keeps that payload:
    /// found by either lookup, marked alone with it (the copy it would have got before),
    /// while everyone else's copies are assembled with the recording's; the log verifies.
    #[test]
    fn a_recipient_issued_under_a_per_copy_payload_keeps_it() {
        let dir = tempfile::tempdir().expect("dir");
        let vault = crate::testing::vault(dir.path());
        let demo =
            std::fs::read(tracemark_testkit::excerpt_path()).expect("the committed demo call");
        let rec = vault.ingest(&demo, "call.flac", "Call").expect("ingest");
        let names: Vec<String> = (0..70).map(|i| format!("R{i:02}")).collect();
        vault.add_recipients(&names).expect("recipients");
        let recording = vault.recording(rec.id.as_str()).expect("recording");
        let old = vault.recipient("R03").expect("R03");
        let own = vault.copy_payload(&recording, &old.id);
        let shared = vault.recording_payload(&recording);
        assert_ne!(own, shared);
        // Its codeword issuance as a vault logged it before payloads were shared.
        let biases = vault.biases(&recording).expect("biases");
        let codeword = vault.codeword(&recording, &biases, &old.id);
        let commitment = Sha256(codeword.commitment());
        vault
            .append_one(Draft::Issuance(NewIssuance {
                recording_id: recording.id.clone(),
                recipient_id: old.id.clone(),
                payload: PayloadBytes(own.bytes()),
                codeword_commitment: commitment,
                format: CODEWORD_FORMAT.into(),
                copy_sha256: commitment,
            }))
            .expect("the old issuance");
        let everyone = vault.recipients().expect("all");
        assert!(everyone.len() > FEW_LOOKUPS);
        for set in [&everyone[..], std::slice::from_ref(&old)] {
            let logged = vault.logged_payloads(&recording, set).expect("logged");
            assert_eq!(logged.len(), 1, "{} recipients", set.len());
            assert_eq!(logged.get(&old.id), Some(&own));
        }
        let flac = Delivery::parse("flac").expect("flac");
        let mut copies = Vec::new();
        vault
            .issue_each(rec.id.as_str(), &names, flac, |_, _, c| {
                copies.push(c);
                Ok(())
            })
            .expect("issue");
        assert_eq!(copies.len(), 70);
        for c in &copies {
            let expected = if c.recipient.id == old.id {
                own
            } else {
                shared
            };
            assert_eq!(
                c.issuance.payload,
                PayloadBytes(expected.bytes()),
                "{}",
                c.recipient.name
            );
        }
        let theirs = copies
            .iter()
            .find(|c| c.recipient.id == old.id)
            .expect("R03's copy");
        let symbols: Vec<bool> = codeword.symbols().collect();
        let marking = vault.marking(&recording).expect("marking");
        let alone = marking
            .copy(
                &vault.secret.watermark_key(),
                &Message {
                    payload: own,
                    symbols: Some(&symbols),
                },
                flac.settled(marking.source_format).expect("settled"),
                Cursor::new(Vec::new()),
            )
            .expect("copy")
            .into_inner();
        assert!(
            theirs.bytes == alone,
            "R03's copy is not the one its own payload gives"
        );
        vault.verify_log().expect("the log verifies both payloads");
    }

    #[test]
    fn copies_issued_into_files_are_the_copies_issued_in_memory_and_named_by_their_hash() {
        let dir = tempfile::tempdir().expect("dir");
        let vault = crate::testing::vault(dir.path());
        let demo =
            std::fs::read(tracemark_testkit::excerpt_path()).expect("the committed demo call");
        let rec = vault.ingest(&demo, "call.flac", "Call").expect("ingest");
        let names = vec!["Ann".to_string(), "Ben".to_string(), "Cal".to_string()];
        vault.add_recipients(&names).expect("recipients");
        for label in ["flac", "wav", "mp3-64k", "opus-16k"] {
            let delivery = Delivery::parse(label).expect("delivery");
            let mut created = Vec::new();
            let mut files = Vec::new();
            vault
                .issue_into(
                    rec.id.as_str(),
                    &names,
                    delivery,
                    |r, ext| {
                        created.push((r.name.clone(), ext));
                        tempfile::tempfile().map_err(|source| VaultError::Io {
                            path: "tmp".into(),
                            source,
                        })
                    },
                    |_, _, mut c| {
                        let mut bytes = Vec::new();
                        c.file.read_to_end(&mut bytes).expect("read the copy back");
                        files.push((c.recipient.name, c.issuance, bytes, c.reissued));
                        Ok(())
                    },
                )
                .expect("issue into files");
            let ext = delivery.format.extension();
            let want: Vec<_> = names.iter().map(|n| (n.clone(), ext)).collect();
            assert_eq!(created, want, "{label}: one output per recipient, in order");
            let again = vault
                .issue(rec.id.as_str(), &names, delivery, |_, _| {})
                .expect("issue in memory");
            assert_eq!(files.len(), names.len());
            for ((name, issuance, bytes, reissued), copy) in files.iter().zip(&again) {
                assert!(!reissued, "{label} {name}: first issue");
                assert!(copy.reissued, "{label} {name}: the same copy again");
                assert_eq!(name, &copy.recipient.name);
                assert_eq!(
                    issuance.copy_sha256,
                    Sha256::digest(bytes),
                    "{label} {name}"
                );
                assert!(
                    bytes == &copy.bytes,
                    "{label} {name}: file and memory differ"
                );
            }
            assert!(
                files[0].2 != files[1].2,
                "{label}: copies differ by recipient"
            );
        }
    }

    #[test]
    fn a_lossless_copy_keeps_the_originals_samples_and_its_label_says_which() {
        let dir = tempfile::tempdir().expect("dir");
        let vault = crate::testing::vault(dir.path());
        let demo =
            std::fs::read(tracemark_testkit::excerpt_path()).expect("the committed demo call");
        let source = decode_bytes(&demo, Some("flac"), &Limits::default()).expect("decode");
        assert_eq!(
            source.source_format(),
            Some(SampleFormat::Int { bits: 16 }),
            "the demo call is 16-bit FLAC"
        );
        let rec = vault.ingest(&demo, "call.flac", "Call").expect("ingest");
        let names = vec!["Ann".to_string()];
        vault.add_recipients(&names).expect("recipients");
        let int = |bits| Some(SampleFormat::Int { bits });
        // (asked, recorded, the copy's samples as decoding reads them)
        let cases = [
            ("wav", "wav-s16", int(16)),
            ("flac", "flac-s16", int(16)),
            ("wav-s24", "wav-s24", int(24)),
            ("wav-f32", "wav-f32", Some(SampleFormat::Float { bits: 32 })),
            ("mp3-64k", "mp3-64k", None),
        ];
        for (asked, recorded, samples) in cases {
            let delivery = Delivery::parse(asked).expect("delivery");
            let copy = vault
                .issue(rec.id.as_str(), &names, delivery, |_, _| {})
                .expect("issue")
                .remove(0);
            assert_eq!(copy.issuance.format, recorded, "asked {asked}");
            let decoded = decode_bytes(&copy.bytes, Some(copy.extension), &Limits::default())
                .expect("the copy decodes");
            assert_eq!(decoded.source_format(), samples, "asked {asked}");
            // The recorded label writes the same file again.
            let again = vault
                .issue(
                    rec.id.as_str(),
                    &names,
                    Delivery::parse(recorded).expect("recorded label"),
                    |_, _| {},
                )
                .expect("issue again")
                .remove(0);
            assert!(again.reissued, "{recorded}: the same copy again");
            assert!(again.bytes == copy.bytes, "{recorded}: the same bytes");
            if let Some(SampleFormat::Int { bits: 16 }) = samples {
                // Same length of 16-bit samples as the 16-bit original: not larger.
                assert_eq!(decoded.frames(), source.frames(), "asked {asked}");
            }
        }
        let f32_flac = Delivery::parse("flac-f32").expect_err("FLAC holds no floats");
        assert!(f32_flac.to_string().contains("flac-f32"), "{f32_flac}");
        for bad in [
            "wav-16", "wav-s0", "wav-s33", "wav-s016", "wav-f64", "flac-s", "wav-64k",
        ] {
            let e = Delivery::parse(bad).expect_err(bad);
            assert!(e.to_string().contains(bad), "{bad}: {e}");
        }
    }
}
