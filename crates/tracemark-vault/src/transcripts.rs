//! Transcripts (issue 13): stored sealed beside a recording's original, issued as one
//! marked text copy per recipient, and traced from quoted excerpts with the same proven
//! bound as audio. The marking itself is `tracemark_textmark`'s; this module stores the
//! text, draws the text code from the vault key and records what it did.
//!
//! The text code is independent of the audio code (its own seeds), so where a clip and
//! quotes from one recording are both traced, their per-recipient p-values combine by
//! Fisher's method ([`combine_p_values`]).

use std::path::Path;

use tracemark_store::{BlobKey, Draft, NewIssuance, NewRecording, NewTranscript, Stored};
use tracemark_tardos::{AccusationConfig, Biases, Codeword, Cutoff};
use tracemark_textmark::{MarkedTranscript, ReadPolicy, SITE_RULES_VERSION, SegmentStatus};
use tracemark_types::{
    Medium, PayloadBytes, Recipient, RecipientId, Recording, RecordingId, Sha256, TextFindings,
    TextSegment, TraceReport, Transcript, UnixMillis,
};

use tracemark_watermark::Payload;

use crate::VaultError;
use crate::issue::IssuedCopy;
use crate::vault::{Upload, Vault, unexpected};

/// The delivery label of a transcript copy (and the file extension it is written with).
pub const TEXT_FORMAT: &str = "txt";

/// The bias cutoff of the text code: balanced biases (every `p` within 0.45-0.55). A read
/// site is then worth ln 2 = 0.69 nats instead of the 0.40 of Tardos' arcsine biases, which
/// halves the quoted words a lone leaker's accusation needs (measured in
/// docs/benchmarks/textmark.md: 500 words named 97.7 % against 5.4 %); the price is a
/// weaker guarantee against coalitions that vote per site. The innocents' bound is exact
/// either way. docs/design/transcripts.md, "The bias cutoff is the integration's choice".
pub const TEXT_BIAS_CUTOFF: f64 = 0.45;

/// Fewest leak words aligned to a transcript for the leak to be said to come from it.
/// Alignment keeps only chains of at least three word 3-grams, so a match is already
/// five or more consecutive words; eight keeps a stock phrase ("I think we should") from
/// naming a recording. Identification only: the accusation's bound does not rest on it.
pub const MIN_MATCHED_WORDS: usize = 8;

/// Score functions per recipient in every accusation (`default_score_functions`): the
/// Bonferroni factor that makes one recipient's best p-value a valid p-value.
const SCORE_FUNCTIONS: f64 = 2.0;

/// Whether `bytes` are text rather than a media file: UTF-8 (a byte-order mark allowed),
/// no NUL or other control character but tab, line feed, form feed and carriage return,
/// and at least one letter. Media containers carry NULs or invalid UTF-8 in their
/// headers.
pub fn looks_like_text(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    !text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c'))
        && text.chars().any(char::is_alphabetic)
}

/// `bytes` as text, or an error naming `what` and why.
fn utf8<'a>(bytes: &'a [u8], what: &'static str) -> Result<&'a str, VaultError> {
    let text = std::str::from_utf8(bytes).map_err(|e| VaultError::Invalid {
        what,
        reason: format!(
            "not UTF-8 text (invalid byte at offset {}); save it as UTF-8 plain text",
            e.valid_up_to()
        ),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.contains('\0') {
        return Err(VaultError::Invalid {
            what,
            reason: "contains a NUL character; it is not plain text".into(),
        });
    }
    Ok(text)
}

fn text_error(what: &'static str, e: tracemark_textmark::Error) -> VaultError {
    VaultError::Invalid {
        what,
        reason: e.to_string(),
    }
}

/// Marks a transcript's text, refusing one with no words or no sites to mark.
fn marked(text: &str, what: &'static str) -> Result<MarkedTranscript, VaultError> {
    let m = MarkedTranscript::new(text).map_err(|e| text_error(what, e))?;
    if m.words().token_count() == 0 {
        return Err(VaultError::Invalid {
            what,
            reason: "has no words".into(),
        });
    }
    Ok(m)
}

/// Fisher's combination of two independent p-values (Fisher 1925, *Statistical Methods
/// for Research Workers*, §21.1): for independent uniform `U1`, `U2`,
/// `P(U1 U2 <= q) = q (1 - ln q)`, and for super-uniform p-values (each `P(p <= x) <= x`,
/// as the Chernoff bounds are) the same holds as an upper bound. So `q (1 - ln q)` with
/// `q = a b` is a valid p-value of the two together.
pub fn combine_p_values(a: f64, b: f64) -> f64 {
    let q = (a * b).clamp(0.0, 1.0);
    if q == 0.0 {
        0.0
    } else {
        (q * (1.0 - q.ln())).min(1.0)
    }
}

impl Vault {
    /// Ingests a media file with, optionally, its transcript (UTF-8 text): both sealed,
    /// the recording and the transcript's statement logged in one transaction. The same
    /// file again returns the stored recording; a transcript is attached if it had none.
    /// The file's bytes are the vault's to keep, as [`Vault::ingest_owned`] takes them.
    pub fn ingest_with_transcript(
        &self,
        bytes: Vec<u8>,
        file_name: &str,
        title: &str,
        transcript: Option<&[u8]>,
    ) -> Result<(Recording, Option<Transcript>), VaultError> {
        let Some(text_bytes) = transcript else {
            return Ok((self.ingest_owned(bytes, file_name, title)?, None));
        };
        let upload = Upload::Bytes(std::sync::Arc::new(bytes));
        self.ingest_upload_with_transcript(upload, file_name, title, text_bytes)
    }

    /// [`Vault::ingest_with_transcript`] of the media file at `path`, read from the disk
    /// as [`Vault::ingest_file`] reads it.
    pub fn ingest_file_with_transcript(
        &self,
        path: &Path,
        title: &str,
        transcript: Option<&[u8]>,
    ) -> Result<(Recording, Option<Transcript>), VaultError> {
        let Some(text_bytes) = transcript else {
            return Ok((self.ingest_file(path, title)?, None));
        };
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        self.ingest_upload_with_transcript(Upload::File(path), name, title, text_bytes)
    }

    fn ingest_upload_with_transcript(
        &self,
        upload: Upload<'_>,
        file_name: &str,
        title: &str,
        text_bytes: &[u8],
    ) -> Result<(Recording, Option<Transcript>), VaultError> {
        let text = utf8(text_bytes, "transcript")?;
        let marked = marked(text, "transcript")?;
        let (draft, id) = self.recording_draft(upload, file_name, title)?;
        let transcript = self.transcript_draft(&id, text, &marked)?;
        let (recording, transcript) =
            recording_and_transcript(self.append(vec![draft, transcript])?)?;
        Ok((recording, Some(transcript)))
    }

    /// Ingests a transcript alone, without audio: a text-only recording (format `txt`, no
    /// duration) whose transcript is itself.
    pub fn ingest_text(
        &self,
        bytes: &[u8],
        title: &str,
    ) -> Result<(Recording, Transcript), VaultError> {
        let title = tracemark_store::records::check_title(title)?;
        let text = utf8(bytes, "transcript")?;
        let marked = marked(text, "transcript")?;
        let sha = Sha256::digest(bytes);
        let id = RecordingId::from_content(&sha);
        self.blobs
            .put(&BlobKey::original(&id), &self.secret.seal(bytes, &sha.0)?)?;
        let recording = Draft::Recording {
            recording: NewRecording {
                id: id.clone(),
                title,
                sha256: sha,
                duration_s: 0.0,
                sample_rate: 0,
                channels: 0,
                format: TEXT_FORMAT.into(),
            },
            fingerprint: tracemark_fingerprint::Index::new().to_bytes(),
        };
        let transcript = self.transcript_draft(&id, text, &marked)?;
        recording_and_transcript(self.append(vec![recording, transcript])?)
    }

    /// Seals `text` as `id`'s transcript (before its row: a crash leaves at most an
    /// orphan blob) and returns the draft that records it.
    fn transcript_draft(
        &self,
        id: &RecordingId,
        text: &str,
        marked: &MarkedTranscript,
    ) -> Result<Draft, VaultError> {
        let sha = Sha256::digest(text.as_bytes());
        // A recording that has a transcript keeps its stored text: the store answers the
        // same text with the stored row and refuses a different one by name.
        if self.store.transcript(id)?.is_none() {
            self.blobs.put(
                &BlobKey::transcript(id),
                &self.secret.seal(text.as_bytes(), &sha.0)?,
            )?;
        }
        Ok(Draft::Transcript(new_transcript(id, sha, marked)))
    }

    /// The transcript of `r`, if it has one.
    pub fn transcript(&self, r: &RecordingId) -> Result<Option<Transcript>, VaultError> {
        Ok(self.store.transcript(r)?)
    }

    /// A transcript's text, decrypted and checked against its hash.
    pub fn transcript_text(&self, t: &Transcript) -> Result<String, VaultError> {
        let bytes = self.sealed_blob(
            &BlobKey::transcript(&t.recording_id),
            &t.sha256,
            "stored transcript",
            t.recording_id.as_str(),
        )?;
        String::from_utf8(bytes).map_err(|_| VaultError::Tampered {
            what: format!("transcript of {}", t.recording_id),
        })
    }

    /// A stored transcript, marked, checked against what its row says (site rules
    /// version, site count): a mismatch means the rules changed under issued copies.
    fn marked_transcript(&self, t: &Transcript) -> Result<MarkedTranscript, VaultError> {
        if t.rules_version != SITE_RULES_VERSION {
            return Err(VaultError::Invalid {
                what: "transcript",
                reason: format!(
                    "the transcript of {} was marked under site rules v{}; this build reads v{SITE_RULES_VERSION}",
                    t.recording_id, t.rules_version
                ),
            });
        }
        let m = marked(&self.transcript_text(t)?, "stored transcript")?;
        if m.sites().len() != t.sites as usize {
            return Err(VaultError::Invalid {
                what: "transcript",
                reason: format!(
                    "the transcript of {} has {} sites under these rules, but {} were recorded",
                    t.recording_id,
                    m.sites().len(),
                    t.sites
                ),
            });
        }
        Ok(m)
    }

    /// The text code's biases for `r` (one per site).
    fn text_biases(&self, r: &RecordingId, sites: usize) -> Result<Biases, VaultError> {
        let seed = self
            .secret
            .derive(&format!("tracemark/v1/textmark/biases/{r}"));
        let cutoff = Cutoff::try_new(TEXT_BIAS_CUTOFF).map_err(tardos_invalid)?;
        Biases::draw(&seed, sites, cutoff).map_err(tardos_invalid)
    }

    /// `recipient`'s text codeword for `r`.
    fn text_codeword(&self, r: &RecordingId, biases: &Biases, recipient: &RecipientId) -> Codeword {
        let seed = self
            .secret
            .derive(&format!("tracemark/v1/textmark/codeword/{r}/{recipient}"));
        Codeword::draw(&seed, biases)
    }

    /// Issues `recording`'s transcript to each recipient: one marked text each, logged as
    /// a `txt` issuance with its codeword's commitment (the same copy again logs nothing).
    pub(crate) fn issue_transcripts(
        &self,
        recording: &Recording,
        transcript: &Transcript,
        recipients: &[Recipient],
    ) -> Result<Vec<IssuedCopy>, VaultError> {
        let mut out = Vec::with_capacity(recipients.len());
        for (recipient, bytes, issuance) in self.text_copies(recording, transcript, recipients)? {
            let rendered = issuance.copy_sha256;
            let (issuance, existing) = match self.append_one(Draft::Issuance(issuance))? {
                Stored::Issuance { issuance, existing } => (issuance, existing),
                other => return Err(unexpected(&other)),
            };
            crate::issue::check_reissued(&issuance, &rendered, &recipient)?;
            out.push(IssuedCopy {
                recipient,
                issuance,
                bytes,
                extension: TEXT_FORMAT,
                reissued: existing,
            });
        }
        Ok(out)
    }

    /// Each recipient's marked transcript and the issuance that would record it.
    pub(crate) fn text_copies(
        &self,
        recording: &Recording,
        transcript: &Transcript,
        recipients: &[Recipient],
    ) -> Result<Vec<(Recipient, Vec<u8>, NewIssuance)>, VaultError> {
        let marked = self.marked_transcript(transcript)?;
        let biases = self.text_biases(&recording.id, marked.sites().len())?;
        let logged = self.logged_payloads(recording, recipients)?;
        let shared = self.recording_payload(recording);
        recipients
            .iter()
            .map(|r| {
                let payload = logged.get(&r.id).copied().unwrap_or(shared);
                let (bytes, issuance) =
                    self.render_transcript(recording, &marked, &biases, &r.id, payload)?;
                Ok((r.clone(), bytes, issuance))
            })
            .collect()
    }

    /// One recipient's transcript copy and the issuance that records it.
    fn render_transcript(
        &self,
        recording: &Recording,
        marked: &MarkedTranscript,
        biases: &Biases,
        recipient: &RecipientId,
        payload: Payload,
    ) -> Result<(Vec<u8>, NewIssuance), VaultError> {
        let codeword = self.text_codeword(&recording.id, biases, recipient);
        let symbols: Vec<bool> = codeword.symbols().collect();
        let text = marked
            .render(&symbols)
            .map_err(|e| text_error("transcript", e))?;
        let bytes = text.into_bytes();
        let issuance = NewIssuance {
            recording_id: recording.id.clone(),
            recipient_id: recipient.clone(),
            // Every issuance of a recording carries the recipient's payload (`log verify`
            // checks it), so a text copy names the same payload as the audio copies.
            payload: PayloadBytes(payload.bytes()),
            codeword_commitment: Sha256(codeword.commitment()),
            format: TEXT_FORMAT.into(),
            copy_sha256: Sha256::digest(&bytes),
        };
        Ok((bytes, issuance))
    }

    /// Traces a leaked text (quotes, an article, a retyped transcript) and records the
    /// trace in the log.
    pub fn trace_text(&self, bytes: &[u8], bound: f64) -> Result<TraceReport, VaultError> {
        let report = self.stamp(self.text_report(bytes, bound)?)?;
        self.record_trace(report)
    }

    /// Traces a clip and quoted text of the same recording together and records one
    /// trace: each recipient's audio and text p-values combine by Fisher's method (the
    /// codes are independent), corrected for every recipient of either medium and every
    /// recording.
    pub fn trace_clip_and_text(
        &self,
        clip: &[u8],
        file_name: &str,
        text: &[u8],
        bound: f64,
    ) -> Result<TraceReport, VaultError> {
        let audio = self.trace_report(clip.to_vec(), file_name, bound)?;
        let text = self.text_report(text, bound)?;
        let report = combine_reports(audio, text, self.recordings()?.len().max(1), bound)?;
        self.record_trace(report)
    }

    /// Analyses a leaked text into a report (no id, no time); records nothing.
    pub(crate) fn text_report(&self, bytes: &[u8], bound: f64) -> Result<TraceReport, VaultError> {
        crate::jobs::check_bound(bound)?;
        let leak = utf8(bytes, "leaked text")?;
        let leak_sha = Sha256::digest(bytes);
        let leak_words = leak.split_whitespace().count();
        let mut report = empty_report(bound, Medium::Text);
        report.leak_sha256 = leak_sha;
        report.text = Some(TextFindings {
            leak_sha256: leak_sha,
            leak_words,
            matched_words: 0,
            sites: 0,
            sites_read: 0,
            sites_erased: 0,
            segments: if leak_words == 0 {
                Vec::new()
            } else {
                vec![TextSegment {
                    genuine: false,
                    quoted: false,
                    leak_start_word: 0,
                    leak_end_word: leak_words,
                    original: None,
                }]
            },
            missing: Vec::new(),
            more_words_needed: None,
        });
        // Which transcript? The one the most leak words align to.
        let transcripts = self.store.transcripts()?;
        let mut best = None;
        for t in &transcripts {
            let m = self.marked_transcript(t)?;
            let reading = m
                .read(leak, ReadPolicy::Quoted)
                .map_err(|e| text_error("leaked text", e))?;
            let better =
                best.as_ref()
                    .is_none_or(|(_, _, r): &(_, _, tracemark_textmark::LeakReading)| {
                        reading.matched_words() > r.matched_words()
                    });
            if reading.matched_words() >= MIN_MATCHED_WORDS && better {
                best = Some((t, m, reading));
            }
        }
        let Some((transcript, marked, reading)) = best else {
            return Ok(report);
        };
        let recording = self.recording(transcript.recording_id.as_str())?;
        report.identified_by = "transcript".into();
        report.recording = Some(recording.clone());
        let segments: Vec<TextSegment> = reading
            .segments()
            .iter()
            .map(|s| TextSegment {
                genuine: matches!(s.status, SegmentStatus::Genuine { .. }),
                quoted: s.quoted,
                leak_start_word: s.leak_start_word,
                leak_end_word: s.leak_end_word,
                original: match s.status {
                    SegmentStatus::Genuine {
                        original_start_word,
                        original_end_word,
                    } => Some((original_start_word, original_end_word)),
                    SegmentStatus::Unmatched => None,
                },
            })
            .collect();
        let findings = TextFindings {
            leak_sha256: leak_sha,
            leak_words: reading.leak_words(),
            matched_words: reading.matched_words(),
            sites: marked.sites().len(),
            sites_read: reading.read_sites(),
            sites_erased: reading.erased_sites(),
            missing: elisions(&segments),
            segments,
            more_words_needed: None,
        };
        report.text = Some(findings);

        // Score every recipient the transcript was issued to.
        let recipient_ids = issued_to(&self.store.issuances_of(&recording.id)?, true);
        if recipient_ids.is_empty() {
            return Ok(report);
        }
        let biases = self.text_biases(&recording.id, marked.sites().len())?;
        let codewords: Vec<Codeword> = recipient_ids
            .iter()
            .map(|r| self.text_codeword(&recording.id, &biases, r))
            .collect();
        let config =
            AccusationConfig::new(bound)?.with_recordings_tested(transcripts.len().max(1) as u64);
        let verdict = tracemark_textmark::accuse(&reading, &biases, &codewords, &config)
            .map_err(|e| text_error("leaked text", e))?;
        if verdict.accused.is_empty()
            && let Some(t) = report.text.as_mut()
        {
            let needed = tracemark_textmark::words_needed(
                &reading,
                &biases,
                &verdict,
                marked.site_density(),
            );
            t.more_words_needed = Some(needed.more_words);
        }
        report.tests = verdict.tests;
        report.bound = verdict.bound;
        // The same shortlist as audio's: the accused and the leaders with any evidence.
        let mut leading: Vec<_> = verdict
            .scores
            .iter()
            .filter(|s| s.tail.bound() < 1.0)
            .cloned()
            .collect();
        leading.sort_by(|a, b| {
            a.corrected
                .total_cmp(&b.corrected)
                .then(a.index.cmp(&b.index))
        });
        leading.truncate(crate::trace::STANDINGS_SHOWN);
        let shortlist = tracemark_tardos::Shortlist {
            accused: verdict.accused.clone(),
            leading,
            recipients: recipient_ids.len(),
            tests: verdict.tests,
            bound: verdict.bound,
        };
        report.recipients_scored = shortlist.recipients;
        report.standings = self.standings(&shortlist, &recipient_ids, |_| false)?;
        Ok(report)
    }

    /// Gives a report a fresh trace id and the clock's time.
    pub(crate) fn stamp(&self, mut report: TraceReport) -> Result<TraceReport, VaultError> {
        let mut random = [0u8; 8];
        crate::secret::fill_random(&mut random)?;
        report.id = tracemark_types::TraceId::from_random(random);
        report.created_at = self.now();
        Ok(report)
    }
}

/// The rows a `[Draft::Recording, Draft::Transcript]` append stored.
fn recording_and_transcript(stored: Vec<Stored>) -> Result<(Recording, Transcript), VaultError> {
    let mut stored = stored.into_iter();
    let recording = match stored.next() {
        Some(Stored::Recording { recording, .. }) => recording,
        Some(other) => return Err(unexpected(&other)),
        None => return Err(nothing()),
    };
    match stored.next() {
        Some(Stored::Transcript { transcript, .. }) => Ok((recording, transcript)),
        Some(other) => Err(unexpected(&other)),
        None => Err(nothing()),
    }
}

fn nothing() -> VaultError {
    VaultError::Invalid {
        what: "store answer",
        reason: "the store returned fewer rows than drafts".into(),
    }
}

fn tardos_invalid(e: tracemark_tardos::Error) -> VaultError {
    VaultError::Invalid {
        what: "text code",
        reason: e.to_string(),
    }
}

fn new_transcript(id: &RecordingId, sha: Sha256, marked: &MarkedTranscript) -> NewTranscript {
    NewTranscript {
        recording_id: id.clone(),
        sha256: sha,
        words: u32::try_from(marked.words().token_count()).unwrap_or(u32::MAX),
        sites: u32::try_from(marked.sites().len()).unwrap_or(u32::MAX),
        rules_version: SITE_RULES_VERSION,
    }
}

/// The distinct recipients of `issuances` that received text (`text`) or audio copies.
pub(crate) fn issued_to(issuances: &[tracemark_types::Issuance], text: bool) -> Vec<RecipientId> {
    let mut ids: Vec<RecipientId> = issuances
        .iter()
        .filter(|i| (i.format == TEXT_FORMAT) == text)
        .map(|i| i.recipient_id.clone())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// A report that found nothing yet.
pub(crate) fn empty_report(bound: f64, medium: Medium) -> TraceReport {
    TraceReport {
        id: tracemark_types::TraceId::from_random([0; 8]),
        created_at: UnixMillis(0),
        leak_sha256: Sha256::default(),
        leak_duration_s: 0.0,
        recording: None,
        identified_by: "none".into(),
        speed: None,
        segments: Vec::new(),
        missing: Vec::new(),
        watermark_p_value: None,
        payload: None,
        slots_observed: 0,
        standings: Vec::new(),
        tests: 0.0,
        bound,
        medium,
        text: None,
        recipients_scored: 0,
        finding: None,
    }
}

/// Transcript words left out between two genuine runs of one quote (an elision, `...`):
/// consecutive genuine segments, with nothing but each other between them in the leak,
/// whose transcript ranges leave a gap.
fn elisions(segments: &[TextSegment]) -> Vec<(usize, usize)> {
    segments
        .windows(2)
        .filter_map(|w| {
            let (a, b) = (&w[0], &w[1]);
            let ((_, end), (start, _)) = (a.original?, b.original?);
            (a.leak_end_word == b.leak_start_word && a.quoted == b.quoted && start > end)
                .then_some((end, start))
        })
        .collect()
}

/// One report from a clip's and a text's: the same recording, each recipient's two
/// p-values combined (see [`combine_p_values`]).
fn combine_reports(
    audio: TraceReport,
    text: TraceReport,
    recordings: usize,
    bound: f64,
) -> Result<TraceReport, VaultError> {
    let mut out = audio;
    out.medium = Medium::AudioAndText;
    out.text = text.text;
    let (a_rec, t_rec) = (
        out.recording.as_ref().map(|r| r.id.clone()),
        text.recording.as_ref().map(|r| r.id.clone()),
    );
    match (&a_rec, &t_rec) {
        (Some(a), Some(t)) if a != t => {
            return Err(VaultError::Invalid {
                what: "clip and text",
                reason: format!(
                    "the clip comes from {a} and the text from {t}; trace them separately"
                ),
            });
        }
        (None, Some(_)) => {
            out.recording = text.recording;
            out.identified_by = text.identified_by;
        }
        _ => {}
    }
    if out.recording.is_none() {
        return Ok(out);
    }
    // Per recipient: each medium's best p-value, Bonferroni-corrected for its two score
    // functions, then Fisher's combination where a recipient had both.
    let mut by_id: std::collections::BTreeMap<RecipientId, tracemark_types::RecipientStanding> =
        std::collections::BTreeMap::new();
    let valid = |p: f64| (p * SCORE_FUNCTIONS).min(1.0);
    for mut s in out.standings.drain(..) {
        s.p_value_audio = Some(valid(s.p_value));
        by_id.insert(s.id.clone(), s);
    }
    for s in text.standings {
        let pt = valid(s.p_value);
        match by_id.get_mut(&s.id) {
            Some(e) => e.p_value_text = Some(pt),
            None => {
                let mut s = s;
                s.p_value_text = Some(pt);
                s.payload_match = false;
                by_id.insert(s.id.clone(), s);
            }
        }
    }
    // Every recipient either trace scored, not only those listed.
    let scored = out
        .recipients_scored
        .max(text.recipients_scored)
        .max(by_id.len());
    let tests = (scored * recordings) as f64;
    let mut standings: Vec<_> = by_id
        .into_values()
        .map(|mut s| {
            let p = match (s.p_value_audio, s.p_value_text) {
                (Some(a), Some(t)) => combine_p_values(a, t),
                (Some(p), None) | (None, Some(p)) => p,
                (None, None) => 1.0,
            };
            s.score_function = "fisher".into();
            s.p_value = p;
            s.corrected_p_value = (p * tests).min(1.0);
            s.accused = s.corrected_p_value <= bound;
            s
        })
        .collect();
    standings.sort_by(|a, b| {
        a.corrected_p_value
            .total_cmp(&b.corrected_p_value)
            .then(b.score.total_cmp(&a.score))
    });
    out.standings = standings;
    out.tests = tests;
    out.bound = bound;
    out.recipients_scored = scored;
    Ok(out)
}

/// Whether an uploaded file is to be ingested as a transcript alone: its content is text
/// ([`looks_like_text`]) and its name does not claim a media format (a file called
/// `song.mp3` that holds HTML is a bad upload, not a transcript).
pub fn is_transcript_upload(bytes: &[u8], file_name: &str) -> bool {
    !names_media_format(file_name) && looks_like_text(bytes)
}

/// Whether `file_name`'s extension names an audio or video format (so the file is never
/// taken for a transcript, whatever it holds).
pub fn names_media_format(file_name: &str) -> bool {
    const MEDIA: &[&str] = &[
        "wav", "wave", "flac", "mp3", "opus", "ogg", "oga", "m4a", "mp4", "mov", "mkv", "webm",
        "amr", "awb", "3gp", "aac", "aif", "aiff", "caf", "wma",
    ];
    Path::new(file_name)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| MEDIA.contains(&e.to_ascii_lowercase().as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fisher_matches_its_closed_form_and_stays_a_p_value() {
        assert_eq!(combine_p_values(1.0, 1.0), 1.0);
        assert_eq!(combine_p_values(0.0, 0.5), 0.0);
        let q: f64 = 1e-4 * 1e-3;
        assert!((combine_p_values(1e-4, 1e-3) - q * (1.0 - q.ln())).abs() < 1e-20);
        // Never below either factor's product, never above 1.
        for (a, b) in [(0.5, 0.5), (1e-9, 0.9), (0.01, 0.02)] {
            let c = combine_p_values(a, b);
            assert!(c >= a * b && c <= 1.0, "{a} {b} {c}");
        }
        // Monte Carlo: under the null, P(combined <= x) <= x.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut uniform = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let n = 200_000;
        let hits = (0..n)
            .filter(|_| combine_p_values(uniform(), uniform()) <= 0.01)
            .count();
        let rate = hits as f64 / n as f64;
        assert!((rate - 0.01).abs() < 0.0015, "rate {rate}");
    }

    #[test]
    fn text_is_told_from_media() {
        assert!(looks_like_text("K: Well, hello.\n".as_bytes()));
        assert!(looks_like_text("\u{feff}“Quoted” — text\r\n".as_bytes()));
        assert!(!looks_like_text(b"RIFF\x24\x00\x00\x00WAVEfmt "));
        assert!(!looks_like_text(b"ID3\x04\x00\x00\x00\x00\x00\x00"));
        assert!(!looks_like_text(b"OggS\x00\x02"));
        assert!(!looks_like_text(&[0xff, 0xfb, 0x90, 0x64]));
        assert!(!looks_like_text(b"12345 67890"));
        assert!(!looks_like_text(b""));
        assert!(is_transcript_upload(b"K: Hello.", "call.txt"));
        assert!(is_transcript_upload(b"K: Hello.", "call"));
        assert!(!is_transcript_upload(b"<html>not audio</html>", "song.MP3"));
    }

    #[test]
    fn elisions_are_gaps_between_adjacent_genuine_runs() {
        let seg = |a, b, o: Option<(usize, usize)>| TextSegment {
            genuine: o.is_some(),
            quoted: true,
            leak_start_word: a,
            leak_end_word: b,
            original: o,
        };
        let s = [
            seg(0, 10, Some((100, 110))),
            seg(10, 20, Some((130, 140))),
            seg(20, 25, None),
            seg(25, 30, Some((200, 205))),
        ];
        assert_eq!(elisions(&s), vec![(110, 130)]);
    }
}
