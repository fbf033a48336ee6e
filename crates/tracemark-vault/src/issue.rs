//! Issuing marked copies: one Tardos codeword per (recording, recipient), embedded with
//! the vault's watermark key, encoded, hashed and logged.

use tracemark_dsp::AudioBuffer;
use tracemark_media::{EncodeOptions, Format, encode_bytes};
use tracemark_store::{Draft, NewIssuance, Stored};
use tracemark_tardos::{Biases, Codeword, Cutoff};
use tracemark_types::{Issuance, PayloadBytes, Recipient, RecipientId, Recording, Sha256};
use tracemark_watermark::{EmbedParams, Message, Payload, WatermarkKey, embed, symbol_count};

use crate::VaultError;
use crate::vault::{Vault, unexpected};

/// Whether `r` is a transcript alone (ingested as text, no audio).
pub fn is_text_only(r: &Recording) -> bool {
    r.format == crate::TEXT_FORMAT && r.sample_rate == 0
}

/// One issued copy.
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// File format.
    pub format: Format,
    /// Bit rate for lossy formats, kbit/s.
    pub bitrate_kbps: Option<u32>,
}

impl Delivery {
    /// The label recorded in the log, e.g. `flac` or `mp3-64k`.
    pub fn label(&self) -> String {
        match self.bitrate_kbps {
            Some(k) if !self.format.is_lossless() => format!("{}-{k}k", self.format.extension()),
            _ => self.format.extension().to_string(),
        }
    }
}

impl Delivery {
    /// Reads a delivery label: `wav`, `flac`, `mp3`, `opus`, or a lossy format with its
    /// bit rate, `mp3-64k`, `opus-16k` (6 to 512 kbit/s).
    pub fn parse(label: &str) -> Result<Self, VaultError> {
        let invalid = |reason: String| VaultError::Invalid {
            what: "delivery format",
            reason,
        };
        let (name, rate) = match label.split_once('-') {
            Some((n, r)) => (n, Some(r)),
            None => (label, None),
        };
        let format = Format::from_extension(name)
            .filter(|_| !name.starts_with('.'))
            .ok_or_else(|| invalid(format!("{label:?}: use wav, flac, mp3 or opus")))?;
        let bitrate_kbps = match rate {
            None => None,
            Some(_) if format.is_lossless() => {
                return Err(invalid(format!("{label:?}: {name} takes no bit rate")));
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
                Some(k)
            }
        };
        Ok(Self {
            format,
            bitrate_kbps,
        })
    }
}

impl Vault {
    /// Marks and encodes one recipient's copy; returns its bytes and the issuance to record.
    pub(crate) fn render_copy(
        &self,
        original: &AudioBuffer,
        recording: &Recording,
        biases: &Biases,
        key: &WatermarkKey,
        recipient: &RecipientId,
        delivery: Delivery,
    ) -> Result<(Vec<u8>, NewIssuance), VaultError> {
        let codeword = self.codeword(recording, biases, recipient);
        let symbols: Vec<bool> = codeword.symbols().collect();
        let payload = self.payload(recording, recipient);
        let marked = embed(
            original,
            key,
            &Message {
                payload,
                symbols: Some(&symbols),
            },
            &EmbedParams::default(),
        )?;
        let bytes = encode_bytes(
            &marked,
            delivery.format,
            &EncodeOptions {
                bitrate_kbps: delivery.bitrate_kbps,
            },
        )?;
        let issuance = NewIssuance {
            recording_id: recording.id.clone(),
            recipient_id: recipient.clone(),
            payload: PayloadBytes(payload.bytes()),
            codeword_commitment: Sha256(codeword.commitment()),
            format: delivery.label(),
            copy_sha256: Sha256::digest(&bytes),
        };
        Ok((bytes, issuance))
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
        let seed = self.secret.derive(&format!(
            "tracemark/v1/tardos/codeword/{}/{recipient}",
            r.id
        ));
        Codeword::draw(&seed, biases)
    }

    /// `recipient`'s codeword for `r` on `slots` only (every other slot reads 0): what
    /// scoring a leak that covers those slots needs, at a cost proportional to them.
    pub(crate) fn codeword_on(
        &self,
        r: &Recording,
        biases: &Biases,
        recipient: &RecipientId,
        slots: &[usize],
    ) -> Codeword {
        let seed = self.secret.derive(&format!(
            "tracemark/v1/tardos/codeword/{}/{recipient}",
            r.id
        ));
        Codeword::draw_slots(&seed, biases, slots)
    }

    /// The blind payload of `recipient`'s copy of `r`.
    pub(crate) fn payload(&self, r: &Recording, recipient: &RecipientId) -> Payload {
        let d = self
            .secret
            .derive(&format!("tracemark/v1/vault/payload/{}/{recipient}", r.id));
        let mut b = [0u8; 8];
        b.copy_from_slice(&d[..8]);
        Payload::from_bytes(b)
    }

    /// Issues `recording_id` to each recipient named (names, exactly; never ids): its
    /// audio in `delivery`'s format and, when it has a transcript, a marked text copy
    /// (extension `txt`) each; a text-only recording issues text alone. Each
    /// copy is recorded in its own transaction, so an interruption leaves every finished
    /// copy recorded and no half-recorded one. Issuing again returns the same copy
    /// (marking is deterministic) and logs nothing.
    pub fn issue(
        &self,
        recording_id: &str,
        names: &[String],
        delivery: Delivery,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<Vec<IssuedCopy>, VaultError> {
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
        let total = recipients.len();
        let mut out = Vec::with_capacity(total * 2);
        if !is_text_only(&recording) {
            let original = self.original(&recording)?;
            let biases = self.biases(&recording)?;
            let key = self.secret.watermark_key();
            for (n, recipient) in recipients.iter().enumerate() {
                progress(n, total);
                let (bytes, issuance) = self.render_copy(
                    &original,
                    &recording,
                    &biases,
                    &key,
                    &recipient.id,
                    delivery,
                )?;
                let draft = Draft::Issuance(issuance);
                let (issuance, existing) = match self.append_one(draft)? {
                    Stored::Issuance { issuance, existing } => (issuance, existing),
                    other => return Err(unexpected(&other)),
                };
                out.push(IssuedCopy {
                    recipient: recipient.clone(),
                    issuance,
                    bytes,
                    extension: delivery.format.extension(),
                    reissued: existing,
                });
            }
        }
        if let Some(t) = &transcript {
            out.extend(self.issue_transcripts(&recording, t, &recipients)?);
        }
        progress(total, total);
        Ok(out)
    }

    /// Every issuance of `recording_id`.
    pub fn issuances_of(&self, recording_id: &str) -> Result<Vec<Issuance>, VaultError> {
        let id = recording_id.parse()?;
        Ok(self.store.issuances_of(&id)?)
    }
}
