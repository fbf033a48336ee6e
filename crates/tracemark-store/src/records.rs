//! Which log entries each record must have, and the canonical digest of each column.
//!
//! The write path ([`crate::sequence`]) and `log verify` both use these functions, so what
//! is written is exactly what is checked. A recording is covered by its
//! `RecordingIngested` entry (id, content hash, time) and by the latest `RecordStated`
//! entry for `("recordings", id)` (every column, as digests, with the fingerprint's); a
//! recipient by the latest `RecordStated` for `("recipients", id)` (vaults made before
//! statements existed: its `RecipientAdded` record hash until the upgrade statement);
//! issuances and traces by their `CopyIssued` and `TraceRecorded` entries, field by field.

use sha2::{Digest, Sha256 as Sha};
use tracemark_ledger::{Hash, Ident, LogEntry, Text, UnixMillis as LedgerMillis};
use tracemark_types::{
    Issuance, Recipient, Recording, TraceRow, Transcript, UnixMillis, looks_like_id,
};

use crate::StoreError;

/// The `recordings` table's name in statements.
pub const RECORDINGS: &str = "recordings";
/// The `recipients` table's name in statements.
pub const RECIPIENTS: &str = "recipients";
/// The `transcripts` table's name in statements (one row per recording, by its id).
pub const TRANSCRIPTS: &str = "transcripts";
/// Cap on a verdict as logged.
pub const MAX_VERDICT_BYTES: usize = 4000;

fn invalid(what: &'static str, reason: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        what,
        reason: reason.into(),
    }
}

fn ident(s: &str) -> Result<Ident, StoreError> {
    Ok(Ident::try_new(s)?)
}

/// A recipient name: 1 to 200 printable characters after trimming, and never in the
/// syntax of an id (`r-7`, `rec-...`, `t-...`, `i-3`), so a name cannot be read as an id.
pub fn check_recipient_name(name: &str) -> Result<String, StoreError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
        return Err(invalid(
            "recipient name",
            "must be 1 to 200 printable characters",
        ));
    }
    if looks_like_id(name) {
        return Err(invalid(
            "recipient name",
            format!("{name:?} has the form of an id; choose a name that does not"),
        ));
    }
    Ok(name.to_string())
}

/// An e-mail address: up to 320 bytes, one `@`, no whitespace or control characters.
pub fn check_email(email: &str) -> Result<String, StoreError> {
    let e = email.trim();
    let parts: Vec<&str> = e.split('@').collect();
    if e.len() > 320
        || parts.len() != 2
        || parts.iter().any(|p| p.is_empty())
        || e.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(invalid("e-mail", format!("{e:?} is not an address")));
    }
    Ok(e.to_string())
}

/// A recording title: 1 to 500 printable characters after trimming.
pub fn check_title(title: &str) -> Result<String, StoreError> {
    let t = title.trim();
    if t.is_empty() || t.len() > 500 || t.chars().any(char::is_control) {
        return Err(invalid("title", "must be 1 to 500 printable characters"));
    }
    Ok(t.to_string())
}

/// `SHA-256("tracemark/v1/column" 0 table 0 row 0 column 0 value)`.
pub fn column_digest(table: &str, row: &str, column: &str, value: &[u8]) -> Hash {
    let mut h = Sha::new();
    for part in [
        b"tracemark/v1/column".as_slice(),
        table.as_bytes(),
        row.as_bytes(),
        column.as_bytes(),
    ] {
        h.update(part);
        h.update([0]);
    }
    h.update(value);
    Hash(h.finalize().into())
}

fn opt_text(v: Option<&str>) -> Vec<u8> {
    match v {
        None => vec![0],
        Some(s) => {
            let mut out = vec![1];
            out.extend_from_slice(s.as_bytes());
            out
        }
    }
}

fn columns(
    table: &str,
    row: &str,
    values: &[(&'static str, Vec<u8>)],
) -> Result<Vec<(Ident, Hash)>, StoreError> {
    values
        .iter()
        .map(|(c, v)| Ok((ident(c)?, column_digest(table, row, c, v))))
        .collect()
}

/// A recording's stated columns, in order. `fingerprint` is the stored fingerprint.
pub fn recording_columns(
    r: &Recording,
    fingerprint: &[u8],
) -> Result<Vec<(Ident, Hash)>, StoreError> {
    columns(
        RECORDINGS,
        r.id.as_str(),
        &[
            ("title", r.title.as_bytes().to_vec()),
            ("sha256", r.sha256.0.to_vec()),
            ("duration_s", r.duration_s.to_bits().to_be_bytes().to_vec()),
            ("sample_rate", r.sample_rate.to_be_bytes().to_vec()),
            ("channels", r.channels.to_be_bytes().to_vec()),
            ("format", r.format.as_bytes().to_vec()),
            ("ingested_at", r.ingested_at.0.to_be_bytes().to_vec()),
            ("fingerprint", Sha::digest(fingerprint).to_vec()),
        ],
    )
}

/// A recipient's stated columns, in order.
pub fn recipient_columns(r: &Recipient) -> Result<Vec<(Ident, Hash)>, StoreError> {
    columns(
        RECIPIENTS,
        r.id.as_str(),
        &[
            ("name", r.name.as_bytes().to_vec()),
            ("email", opt_text(r.email.as_deref())),
            ("created_at", r.created_at.0.to_be_bytes().to_vec()),
        ],
    )
}

/// A transcript's stated columns, in order.
pub fn transcript_columns(t: &Transcript) -> Result<Vec<(Ident, Hash)>, StoreError> {
    columns(
        TRANSCRIPTS,
        t.recording_id.as_str(),
        &[
            ("sha256", t.sha256.0.to_vec()),
            ("words", t.words.to_be_bytes().to_vec()),
            ("sites", t.sites.to_be_bytes().to_vec()),
            ("rules_version", t.rules_version.to_be_bytes().to_vec()),
            ("attached_at", t.attached_at.0.to_be_bytes().to_vec()),
        ],
    )
}

/// The statement of a transcript's columns at `time` (its only one: a transcript is
/// never changed).
pub fn transcript_statement(t: &Transcript, time: UnixMillis) -> Result<LogEntry, StoreError> {
    Ok(LogEntry::RecordStated {
        time: LedgerMillis(time.0),
        table: ident(TRANSCRIPTS)?,
        row: ident(t.recording_id.as_str())?,
        columns: transcript_columns(t)?,
    })
}

/// The statement of a recording's columns at `time`.
pub fn recording_statement(
    r: &Recording,
    fingerprint: &[u8],
    time: UnixMillis,
) -> Result<LogEntry, StoreError> {
    Ok(LogEntry::RecordStated {
        time: LedgerMillis(time.0),
        table: ident(RECORDINGS)?,
        row: ident(r.id.as_str())?,
        columns: recording_columns(r, fingerprint)?,
    })
}

/// The statement of a recipient's columns at `time`.
pub fn recipient_statement(r: &Recipient, time: UnixMillis) -> Result<LogEntry, StoreError> {
    Ok(LogEntry::RecordStated {
        time: LedgerMillis(time.0),
        table: ident(RECIPIENTS)?,
        row: ident(r.id.as_str())?,
        columns: recipient_columns(r)?,
    })
}

/// The `RecordingIngested` entry of a recording.
pub fn recording_entry(r: &Recording) -> Result<LogEntry, StoreError> {
    Ok(LogEntry::RecordingIngested {
        time: LedgerMillis(r.ingested_at.0),
        recording: ident(r.id.as_str())?,
        content_sha256: Hash(r.sha256.0),
    })
}

/// The canonical bytes of a recipient record as vaults before `RecordStated` hashed them
/// into `RecipientAdded` (id, name, e-mail, each length-prefixed).
pub fn legacy_recipient_record(r: &Recipient) -> Vec<u8> {
    let mut out = b"tracemark/v1/recipient\0".to_vec();
    for field in [
        r.id.as_str(),
        r.name.as_str(),
        r.email.as_deref().unwrap_or(""),
    ] {
        out.extend_from_slice(&(field.len() as u32).to_be_bytes());
        out.extend_from_slice(field.as_bytes());
    }
    out
}

/// The `RecipientAdded` entry a vault before `RecordStated` wrote for this recipient.
pub fn legacy_recipient_entry(r: &Recipient) -> Result<LogEntry, StoreError> {
    Ok(LogEntry::RecipientAdded {
        time: LedgerMillis(r.created_at.0),
        recipient: ident(r.id.as_str())?,
        record_sha256: Hash::sha256(&legacy_recipient_record(r)),
    })
}

/// The `CopyIssued` entry of an issuance.
pub fn issuance_entry(i: &Issuance) -> Result<LogEntry, StoreError> {
    Ok(LogEntry::CopyIssued {
        time: LedgerMillis(i.issued_at.0),
        recording: ident(i.recording_id.as_str())?,
        recipient: ident(i.recipient_id.as_str())?,
        codeword_commitment: i.codeword_commitment.0,
        format: ident(&i.format)?,
        copy_sha256: Hash(i.copy_sha256.0),
    })
}

/// The `TraceRecorded` entry of a trace.
pub fn trace_entry(t: &TraceRow) -> Result<LogEntry, StoreError> {
    Ok(LogEntry::TraceRecorded {
        time: LedgerMillis(t.created_at.0),
        trace: ident(t.id.as_str())?,
        leak_sha256: Hash(t.leak_sha256.0),
        verdict: Text::try_new(t.verdict.clone())?,
        report_sha256: Hash(t.report_sha256.0),
    })
}

/// The `users` table's name in statements.
pub const USERS: &str = "users";
/// The `tokens` table's name in statements.
pub const TOKENS: &str = "tokens";

/// A user's stated columns, in order (the password as the digest of its hash).
pub fn user_columns(u: &tracemark_types::User) -> Result<Vec<(Ident, Hash)>, StoreError> {
    columns(
        USERS,
        u.id.as_str(),
        &[
            ("name", u.name.as_bytes().to_vec()),
            ("role", u.role.as_str().as_bytes().to_vec()),
            ("password_hash", opt_text(u.password_hash.as_deref())),
            ("disabled", vec![u8::from(u.disabled)]),
            ("created_at", u.created_at.0.to_be_bytes().to_vec()),
        ],
    )
}

/// A token's stated columns, in order.
pub fn token_columns(t: &tracemark_types::ApiToken) -> Result<Vec<(Ident, Hash)>, StoreError> {
    let expires = match t.expires_at {
        None => vec![0],
        Some(e) => {
            let mut v = vec![1];
            v.extend_from_slice(&e.0.to_be_bytes());
            v
        }
    };
    columns(
        TOKENS,
        t.id.as_str(),
        &[
            ("user_id", t.user_id.as_str().as_bytes().to_vec()),
            ("secret_sha256", t.secret_sha256.0.to_vec()),
            ("expires_at", expires),
            ("revoked", vec![u8::from(t.revoked)]),
            ("created_at", t.created_at.0.to_be_bytes().to_vec()),
        ],
    )
}

/// The statement of a user's columns at `time`.
pub fn user_statement(u: &tracemark_types::User, time: UnixMillis) -> Result<LogEntry, StoreError> {
    Ok(LogEntry::RecordStated {
        time: LedgerMillis(time.0),
        table: ident(USERS)?,
        row: ident(u.id.as_str())?,
        columns: user_columns(u)?,
    })
}

/// The statement of a token's columns at `time`.
pub fn token_statement(
    t: &tracemark_types::ApiToken,
    time: UnixMillis,
) -> Result<LogEntry, StoreError> {
    Ok(LogEntry::RecordStated {
        time: LedgerMillis(time.0),
        table: ident(TOKENS)?,
        row: ident(t.id.as_str())?,
        columns: token_columns(t)?,
    })
}

/// A verdict cut to [`MAX_VERDICT_BYTES`] on a character boundary.
pub fn cut_verdict(verdict: &str) -> String {
    let mut end = verdict.len().min(MAX_VERDICT_BYTES);
    while !verdict.is_char_boundary(end) {
        end -= 1;
    }
    verdict[..end].to_string()
}

/// The columns of a row whose entry, re-derived from the row, differs from the stored
/// entry. Empty when they are equal; `["kind"]` when they are of different kinds.
pub fn differing_columns(derived: &LogEntry, stored: &LogEntry) -> Vec<String> {
    use LogEntry as E;
    let mut out = Vec::new();
    let mut cmp = |same: bool, column: &str| {
        if !same {
            out.push(column.to_string());
        }
    };
    match (derived, stored) {
        (
            E::RecordingIngested {
                time: t1,
                recording: r1,
                content_sha256: c1,
            },
            E::RecordingIngested {
                time: t2,
                recording: r2,
                content_sha256: c2,
            },
        ) => {
            cmp(t1 == t2, "ingested_at");
            cmp(r1 == r2, "id");
            cmp(c1 == c2, "sha256");
        }
        (
            E::CopyIssued {
                time: t1,
                recording: a1,
                recipient: b1,
                codeword_commitment: c1,
                format: f1,
                copy_sha256: s1,
            },
            E::CopyIssued {
                time: t2,
                recording: a2,
                recipient: b2,
                codeword_commitment: c2,
                format: f2,
                copy_sha256: s2,
            },
        ) => {
            cmp(t1 == t2, "issued_at");
            cmp(a1 == a2, "recording_id");
            cmp(b1 == b2, "recipient_id");
            cmp(c1 == c2, "codeword_commitment");
            cmp(f1 == f2, "format");
            cmp(s1 == s2, "copy_sha256");
        }
        (
            E::TraceRecorded {
                time: t1,
                trace: i1,
                leak_sha256: l1,
                verdict: v1,
                report_sha256: r1,
            },
            E::TraceRecorded {
                time: t2,
                trace: i2,
                leak_sha256: l2,
                verdict: v2,
                report_sha256: r2,
            },
        ) => {
            cmp(t1 == t2, "created_at");
            cmp(i1 == i2, "id");
            cmp(l1 == l2, "leak_sha256");
            cmp(v1 == v2, "verdict");
            cmp(r1 == r2, "report_sha256");
        }
        (
            E::RecordStated {
                table: ta,
                row: ra,
                columns: c1,
                ..
            },
            E::RecordStated {
                table: tb,
                row: rb,
                columns: c2,
                ..
            },
        ) => {
            cmp(ta == tb && ra == rb, "id");
            for (i, (name, digest)) in c1.iter().enumerate() {
                cmp(c2.get(i) == Some(&(name.clone(), *digest)), name.as_str());
            }
        }
        (
            E::RecipientAdded {
                time: t1,
                recipient: r1,
                record_sha256: h1,
            },
            E::RecipientAdded {
                time: t2,
                recipient: r2,
                record_sha256: h2,
            },
        ) => {
            cmp(t1 == t2, "created_at");
            cmp(r1 == r2, "id");
            cmp(h1 == h2, "name or email");
        }
        _ => out.push("kind".to_string()),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracemark_types::{RecordingId, Sha256};

    fn recording() -> Recording {
        let sha = Sha256::digest(b"call");
        Recording {
            id: RecordingId::from_content(&sha),
            title: "Call".into(),
            sha256: sha,
            duration_s: 60.0,
            sample_rate: 8000,
            channels: 1,
            format: "flac".into(),
            ingested_at: UnixMillis(7),
            log_index: 0,
        }
    }

    #[test]
    fn an_edited_column_is_named() -> Result<(), StoreError> {
        let r = recording();
        let stated = recording_statement(&r, b"fp", UnixMillis(7))?;
        let mut edited = r.clone();
        edited.title = "Another call".into();
        let derived = recording_statement(&edited, b"fp", UnixMillis(7))?;
        assert_eq!(differing_columns(&derived, &stated), vec!["title"]);
        let derived = recording_statement(&r, b"other fp", UnixMillis(7))?;
        assert_eq!(differing_columns(&derived, &stated), vec!["fingerprint"]);
        assert!(differing_columns(&stated, &stated).is_empty());
        Ok(())
    }

    #[test]
    fn names_in_id_syntax_are_refused() {
        for bad in [
            "r-2",
            " r-2 ",
            "rec-0123456789ab",
            "t-1",
            "i-4",
            "",
            "a\u{7}b",
        ] {
            assert!(check_recipient_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            check_recipient_name(" r-2 office ").ok().as_deref(),
            Some("r-2 office")
        );
    }

    #[test]
    fn emails_need_one_at_sign() {
        assert!(check_email("a@b").is_ok());
        for bad in ["ab", "a@@b", "@b", "a@", "a b@c"] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn verdicts_are_cut_on_character_boundaries() {
        let long = "é".repeat(3000);
        let cut = cut_verdict(&long);
        assert!(cut.len() <= MAX_VERDICT_BYTES && long.starts_with(&cut));
    }
}
