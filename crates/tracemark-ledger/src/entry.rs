//! Log entries and their canonical, versioned binary encoding.
//!
//! Encoding, version 1:
//!
//! ```text
//! entry  = version:u8 (0x01) | kind:u8 | field*      (fields fixed per kind, in order)
//! field  = length:u32 big-endian | bytes
//! ```
//!
//! Every entry starts with the `time` field (8 bytes, i64 big-endian Unix milliseconds),
//! followed by the kind's fields in the order of the [`LogEntry`] variant. Hashes are 32
//! bytes; identifiers and text are UTF-8. Each value has exactly one encoding, so equal
//! entries have equal leaf hashes. Decoding rejects unknown versions and kinds, wrong
//! fixed lengths, oversize fields, invalid UTF-8 and trailing bytes. Kind tags are never
//! reused; a new kind gets a new tag, and an incompatible change gets a new version.

use std::fmt;

use crate::LedgerError as Error;
use crate::merkle::{Hash, leaf_hash};

/// Current entry encoding version.
pub const ENTRY_VERSION: u8 = 0x01;
/// Cap on an encoded entry.
pub const MAX_ENTRY_BYTES: usize = 16 * 1024;
/// Cap on an identifier field.
pub const MAX_IDENT_BYTES: usize = 128;
/// Cap on a free-text field.
pub const MAX_TEXT_BYTES: usize = 4096;

/// A moment, as milliseconds since the Unix epoch (UTC). Passed in by the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixMillis(pub i64);

/// An identifier (recording, recipient, trace, format, actor...): 1 to 128 bytes of
/// UTF-8 without whitespace or control characters.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ident(String);

impl Ident {
    /// Checks the identifier rules.
    pub fn try_new(s: impl Into<String>) -> Result<Self, Error> {
        let s = s.into();
        if s.len() > MAX_IDENT_BYTES {
            return Err(Error::LimitExceeded {
                what: "identifier",
                actual: s.len(),
                limit: MAX_IDENT_BYTES,
            });
        }
        if s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::InvalidField {
                field: "identifier",
                reason: "must be non-empty, without whitespace or control characters",
            });
        }
        Ok(Self(s))
    }

    /// The identifier.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Free text (e.g. a verdict summary): up to 4096 bytes of UTF-8, no control characters
/// other than newline.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text(String);

impl Text {
    /// Checks the text rules.
    pub fn try_new(s: impl Into<String>) -> Result<Self, Error> {
        let s = s.into();
        if s.len() > MAX_TEXT_BYTES {
            return Err(Error::LimitExceeded {
                what: "text field",
                actual: s.len(),
                limit: MAX_TEXT_BYTES,
            });
        }
        if s.chars().any(|c| c.is_control() && c != '\n') {
            return Err(Error::InvalidField {
                field: "text",
                reason: "must not hold control characters other than newline",
            });
        }
        Ok(Self(s))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One event in the log.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogEntry {
    /// A recording entered the vault. Kind tag 1.
    RecordingIngested {
        /// When.
        time: UnixMillis,
        /// Recording id.
        recording: Ident,
        /// SHA-256 of the original file as received.
        content_sha256: Hash,
    },
    /// A recipient was registered. Kind tag 2.
    RecipientAdded {
        /// When.
        time: UnixMillis,
        /// Recipient id.
        recipient: Ident,
        /// SHA-256 of the stored recipient record (keeps personal data out of the log).
        record_sha256: Hash,
    },
    /// A recipient's record changed. Kind tag 3.
    RecipientChanged {
        /// When.
        time: UnixMillis,
        /// Recipient id.
        recipient: Ident,
        /// SHA-256 of the new recipient record.
        record_sha256: Hash,
    },
    /// A marked copy was issued to a recipient. Kind tag 4.
    CopyIssued {
        /// When.
        time: UnixMillis,
        /// Recording id.
        recording: Ident,
        /// Recipient id.
        recipient: Ident,
        /// Commitment to the recipient's codeword (e.g. a keyed hash of it).
        codeword_commitment: [u8; 32],
        /// Delivery format, e.g. `flac`, `opus-16k`.
        format: Ident,
        /// SHA-256 of the delivered file.
        copy_sha256: Hash,
    },
    /// A leaked file was traced. Kind tag 5.
    TraceRecorded {
        /// When.
        time: UnixMillis,
        /// Trace id.
        trace: Ident,
        /// SHA-256 of the leaked file.
        leak_sha256: Hash,
        /// Short verdict, e.g. "accused r-17 p=3e-9".
        verdict: Text,
        /// SHA-256 of the trace report (JSON).
        report_sha256: Hash,
    },
    /// An evidence bundle was exported. Kind tag 6.
    EvidenceExported {
        /// When.
        time: UnixMillis,
        /// Trace id the bundle is about.
        trace: Ident,
        /// SHA-256 of the bundle.
        bundle_sha256: Hash,
    },
    /// Someone accessed a protected object. Kind tag 7.
    AccessRecorded {
        /// When.
        time: UnixMillis,
        /// Who.
        actor: Ident,
        /// What was accessed (recording, trace...).
        subject: Ident,
        /// Action, e.g. `download-original`.
        action: Ident,
    },
    /// A record's current column values, as one digest per column. Kind tag 8.
    ///
    /// Written when a record is created, when one of its columns changes (a renamed
    /// recording, a new e-mail address) and once when a vault is upgraded for records that
    /// earlier entries did not cover. The latest statement for a `(table, row)` is the
    /// record's authenticated state: `log verify` recomputes each column's digest and
    /// names the column that differs. Digests, not values, so the log holds no titles or
    /// personal data.
    RecordStated {
        /// When.
        time: UnixMillis,
        /// Table, e.g. `recordings`.
        table: Ident,
        /// Row id, e.g. `rec-0123456789ab`.
        row: Ident,
        /// `(column, digest)` pairs in the table's fixed column order, at most
        /// [`MAX_STATED_COLUMNS`].
        columns: Vec<(Ident, Hash)>,
    },
}

/// Cap on the columns of a [`LogEntry::RecordStated`].
pub const MAX_STATED_COLUMNS: usize = 64;

const TAG_RECORDING_INGESTED: u8 = 1;
const TAG_RECIPIENT_ADDED: u8 = 2;
const TAG_RECIPIENT_CHANGED: u8 = 3;
const TAG_COPY_ISSUED: u8 = 4;
const TAG_TRACE_RECORDED: u8 = 5;
const TAG_EVIDENCE_EXPORTED: u8 = 6;
const TAG_ACCESS_RECORDED: u8 = 7;
const TAG_RECORD_STATED: u8 = 8;

impl LogEntry {
    /// When the event happened.
    pub fn time(&self) -> UnixMillis {
        match self {
            Self::RecordingIngested { time, .. }
            | Self::RecipientAdded { time, .. }
            | Self::RecipientChanged { time, .. }
            | Self::CopyIssued { time, .. }
            | Self::TraceRecorded { time, .. }
            | Self::EvidenceExported { time, .. }
            | Self::AccessRecorded { time, .. }
            | Self::RecordStated { time, .. } => *time,
        }
    }

    /// Kind tag of the encoding.
    pub fn kind_tag(&self) -> u8 {
        match self {
            Self::RecordingIngested { .. } => TAG_RECORDING_INGESTED,
            Self::RecipientAdded { .. } => TAG_RECIPIENT_ADDED,
            Self::RecipientChanged { .. } => TAG_RECIPIENT_CHANGED,
            Self::CopyIssued { .. } => TAG_COPY_ISSUED,
            Self::TraceRecorded { .. } => TAG_TRACE_RECORDED,
            Self::EvidenceExported { .. } => TAG_EVIDENCE_EXPORTED,
            Self::AccessRecorded { .. } => TAG_ACCESS_RECORDED,
            Self::RecordStated { .. } => TAG_RECORD_STATED,
        }
    }

    /// Canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer(vec![ENTRY_VERSION, self.kind_tag()]);
        w.field(&self.time().0.to_be_bytes());
        match self {
            Self::RecordingIngested {
                recording,
                content_sha256,
                ..
            } => {
                w.field(recording.0.as_bytes());
                w.field(&content_sha256.0);
            }
            Self::RecipientAdded {
                recipient,
                record_sha256,
                ..
            }
            | Self::RecipientChanged {
                recipient,
                record_sha256,
                ..
            } => {
                w.field(recipient.0.as_bytes());
                w.field(&record_sha256.0);
            }
            Self::CopyIssued {
                recording,
                recipient,
                codeword_commitment,
                format,
                copy_sha256,
                ..
            } => {
                w.field(recording.0.as_bytes());
                w.field(recipient.0.as_bytes());
                w.field(codeword_commitment);
                w.field(format.0.as_bytes());
                w.field(&copy_sha256.0);
            }
            Self::TraceRecorded {
                trace,
                leak_sha256,
                verdict,
                report_sha256,
                ..
            } => {
                w.field(trace.0.as_bytes());
                w.field(&leak_sha256.0);
                w.field(verdict.0.as_bytes());
                w.field(&report_sha256.0);
            }
            Self::EvidenceExported {
                trace,
                bundle_sha256,
                ..
            } => {
                w.field(trace.0.as_bytes());
                w.field(&bundle_sha256.0);
            }
            Self::AccessRecorded {
                actor,
                subject,
                action,
                ..
            } => {
                w.field(actor.0.as_bytes());
                w.field(subject.0.as_bytes());
                w.field(action.0.as_bytes());
            }
            Self::RecordStated {
                table,
                row,
                columns,
                ..
            } => {
                w.field(table.0.as_bytes());
                w.field(row.0.as_bytes());
                // The count is bounded by MAX_STATED_COLUMNS when decoded; an encoder
                // handed more writes them all and the decoder refuses the entry.
                w.field(&(columns.len() as u32).to_be_bytes());
                for (name, digest) in columns {
                    w.field(name.0.as_bytes());
                    w.field(&digest.0);
                }
            }
        }
        w.0
    }

    /// RFC 9162 leaf hash of the canonical encoding: the value the log's tree holds.
    pub fn leaf_hash(&self) -> Hash {
        leaf_hash(&self.encode())
    }

    /// Strict inverse of [`LogEntry::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_ENTRY_BYTES {
            return Err(Error::LimitExceeded {
                what: "log entry",
                actual: bytes.len(),
                limit: MAX_ENTRY_BYTES,
            });
        }
        let mut r = Reader { bytes, pos: 0 };
        let version = r.byte()?;
        if version != ENTRY_VERSION {
            return Err(Error::UnknownVersion {
                what: "log entry",
                version,
            });
        }
        let tag = r.byte()?;
        let time = UnixMillis(i64::from_be_bytes(r.fixed("time")?));
        let entry = match tag {
            TAG_RECORDING_INGESTED => Self::RecordingIngested {
                time,
                recording: r.ident("recording")?,
                content_sha256: r.hash("content_sha256")?,
            },
            TAG_RECIPIENT_ADDED => Self::RecipientAdded {
                time,
                recipient: r.ident("recipient")?,
                record_sha256: r.hash("record_sha256")?,
            },
            TAG_RECIPIENT_CHANGED => Self::RecipientChanged {
                time,
                recipient: r.ident("recipient")?,
                record_sha256: r.hash("record_sha256")?,
            },
            TAG_COPY_ISSUED => Self::CopyIssued {
                time,
                recording: r.ident("recording")?,
                recipient: r.ident("recipient")?,
                codeword_commitment: r.fixed("codeword_commitment")?,
                format: r.ident("format")?,
                copy_sha256: r.hash("copy_sha256")?,
            },
            TAG_TRACE_RECORDED => Self::TraceRecorded {
                time,
                trace: r.ident("trace")?,
                leak_sha256: r.hash("leak_sha256")?,
                verdict: r.text("verdict")?,
                report_sha256: r.hash("report_sha256")?,
            },
            TAG_EVIDENCE_EXPORTED => Self::EvidenceExported {
                time,
                trace: r.ident("trace")?,
                bundle_sha256: r.hash("bundle_sha256")?,
            },
            TAG_ACCESS_RECORDED => Self::AccessRecorded {
                time,
                actor: r.ident("actor")?,
                subject: r.ident("subject")?,
                action: r.ident("action")?,
            },
            TAG_RECORD_STATED => {
                let table = r.ident("table")?;
                let row = r.ident("row")?;
                let count = u32::from_be_bytes(r.fixed("column count")?) as usize;
                if count > MAX_STATED_COLUMNS {
                    return Err(Error::LimitExceeded {
                        what: "stated columns",
                        actual: count,
                        limit: MAX_STATED_COLUMNS,
                    });
                }
                let mut columns = Vec::with_capacity(count);
                for _ in 0..count {
                    columns.push((r.ident("column")?, r.hash("column digest")?));
                }
                Self::RecordStated {
                    time,
                    table,
                    row,
                    columns,
                }
            }
            tag => return Err(Error::UnknownTag { tag }),
        };
        if r.pos != bytes.len() {
            return Err(Error::TrailingBytes {
                what: "log entry",
                offset: r.pos,
                extra: bytes.len() - r.pos,
            });
        }
        Ok(entry)
    }
}

struct Writer(Vec<u8>);

impl Writer {
    fn field(&mut self, bytes: &[u8]) {
        // Field sizes are bounded by the Ident/Text caps, far below u32::MAX.
        self.0
            .extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        self.0.extend_from_slice(bytes);
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let rest = &self.bytes[self.pos..];
        if rest.len() < n {
            return Err(Error::Truncated {
                what: "log entry",
                offset: self.pos,
                needed: n - rest.len(),
            });
        }
        self.pos += n;
        Ok(&rest[..n])
    }

    fn byte(&mut self) -> Result<u8, Error> {
        Ok(self.take(1)?[0])
    }

    fn field(&mut self, max: usize) -> Result<&'a [u8], Error> {
        let len_bytes = self.take(4)?;
        let len = u32::from_be_bytes([len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]]);
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if len > max {
            return Err(Error::LimitExceeded {
                what: "log entry field",
                actual: len,
                limit: max,
            });
        }
        self.take(len)
    }

    fn fixed<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], Error> {
        self.field(N)?.try_into().map_err(|_| Error::InvalidField {
            field,
            reason: "wrong length for a fixed-size field",
        })
    }

    fn hash(&mut self, field: &'static str) -> Result<Hash, Error> {
        Ok(Hash(self.fixed(field)?))
    }

    fn utf8(&mut self, field: &'static str, max: usize) -> Result<String, Error> {
        let raw = self.field(max)?;
        std::str::from_utf8(raw)
            .map(str::to_owned)
            .map_err(|_| Error::InvalidField {
                field,
                reason: "not UTF-8",
            })
    }

    fn ident(&mut self, field: &'static str) -> Result<Ident, Error> {
        Ident::try_new(self.utf8(field, MAX_IDENT_BYTES)?)
    }

    fn text(&mut self, field: &'static str) -> Result<Text, Error> {
        Text::try_new(self.utf8(field, MAX_TEXT_BYTES)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issued() -> Result<LogEntry, Error> {
        Ok(LogEntry::CopyIssued {
            time: UnixMillis(1_760_000_000_000),
            recording: Ident::try_new("rec-1")?,
            recipient: Ident::try_new("alice")?,
            codeword_commitment: [9; 32],
            format: Ident::try_new("flac")?,
            copy_sha256: Hash::sha256(b"copy"),
        })
    }

    #[test]
    fn encoding_layout_is_version_tag_then_length_prefixed_fields() -> Result<(), Error> {
        let bytes = issued()?.encode();
        assert_eq!(&bytes[..2], &[ENTRY_VERSION, 4]);
        assert_eq!(&bytes[2..6], &[0, 0, 0, 8]);
        assert_eq!(&bytes[6..14], &1_760_000_000_000i64.to_be_bytes());
        assert_eq!(&bytes[14..18], &[0, 0, 0, 5]);
        assert_eq!(&bytes[18..23], b"rec-1");
        assert_eq!(LogEntry::decode(&bytes)?, issued()?);
        Ok(())
    }

    #[test]
    fn record_statements_round_trip_and_cap_their_columns() -> Result<(), Error> {
        let stated = LogEntry::RecordStated {
            time: UnixMillis(1_760_000_000_000),
            table: Ident::try_new("recordings")?,
            row: Ident::try_new("rec-0123456789ab")?,
            columns: vec![
                (Ident::try_new("title")?, Hash::sha256(b"Call")),
                (Ident::try_new("format")?, Hash::sha256(b"flac")),
            ],
        };
        let bytes = stated.encode();
        assert_eq!(LogEntry::decode(&bytes)?, stated);
        assert_eq!(bytes[1], 8, "kind tag 8");
        let too_many = LogEntry::RecordStated {
            time: UnixMillis(0),
            table: Ident::try_new("t")?,
            row: Ident::try_new("r")?,
            columns: (0..=MAX_STATED_COLUMNS)
                .map(|i| Ok((Ident::try_new(format!("c{i}"))?, Hash([0; 32]))))
                .collect::<Result<_, Error>>()?,
        };
        assert!(matches!(
            LogEntry::decode(&too_many.encode()),
            Err(Error::LimitExceeded { .. })
        ));
        // A column count larger than the bytes that follow is refused, not allocated.
        let mut lying = LogEntry::RecordStated {
            time: UnixMillis(0),
            table: Ident::try_new("t")?,
            row: Ident::try_new("r")?,
            columns: vec![],
        }
        .encode();
        let n = lying.len();
        lying[n - 4..].copy_from_slice(&40u32.to_be_bytes());
        assert!(matches!(
            LogEntry::decode(&lying),
            Err(Error::Truncated { .. })
        ));
        Ok(())
    }

    #[test]
    fn decode_rejects_trailing_unknown_and_oversize() -> Result<(), Error> {
        let mut bytes = issued()?.encode();
        bytes.push(0);
        assert!(matches!(
            LogEntry::decode(&bytes),
            Err(Error::TrailingBytes { .. })
        ));
        let mut v2 = issued()?.encode();
        v2[0] = 2;
        assert!(matches!(
            LogEntry::decode(&v2),
            Err(Error::UnknownVersion { .. })
        ));
        let mut tag = issued()?.encode();
        tag[1] = 200;
        assert!(matches!(
            LogEntry::decode(&tag),
            Err(Error::UnknownTag { tag: 200 })
        ));
        let mut huge = vec![ENTRY_VERSION, 1, 0, 0, 0, 8];
        huge.extend_from_slice(&[0; 8]);
        huge.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            LogEntry::decode(&huge),
            Err(Error::LimitExceeded { .. })
        ));
        assert!(matches!(
            LogEntry::decode(&vec![0; MAX_ENTRY_BYTES + 1]),
            Err(Error::LimitExceeded { .. })
        ));
        Ok(())
    }

    #[test]
    fn identifiers_and_text_are_checked() {
        assert!(Ident::try_new("").is_err());
        assert!(Ident::try_new("a b").is_err());
        assert!(Ident::try_new("x".repeat(129)).is_err());
        assert!(Text::try_new("two\nlines").is_ok());
        assert!(Text::try_new("tab\there").is_err());
    }
}
