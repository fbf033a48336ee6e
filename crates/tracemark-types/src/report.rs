//! The trace report and its one JSON shape (what `tracemark trace --json` prints, what the
//! log commits to, what the server answers).

use serde::{Deserialize, Serialize};

use crate::{RecipientId, Recording, Sha256, TraceId, UnixMillis};

/// One stretch of the leak.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSegment {
    /// `genuine` (matches the original) or `unmatched`.
    pub genuine: bool,
    /// Start in the leak, seconds.
    pub leak_start_s: f64,
    /// End in the leak, seconds.
    pub leak_end_s: f64,
    /// The matching stretch of the original, seconds.
    pub original: Option<(f64, f64)>,
}

/// One run of a leaked text's whitespace tokens with one status (issue 13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextSegment {
    /// In the transcript (`genuine`) or in none (`unmatched`).
    pub genuine: bool,
    /// Inside quotation marks in the leak: unmatched and quoted is words put in the
    /// speakers' mouths; unmatched and unquoted is the writer's own prose.
    pub quoted: bool,
    /// First token of the leak, 0-based.
    pub leak_start_word: usize,
    /// One past the last token of the leak.
    pub leak_end_word: usize,
    /// The transcript's tokens, half-open, for genuine runs.
    pub original: Option<(usize, usize)>,
}

/// What tracing a leaked text found in one transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct TextFindings {
    /// SHA-256 of the leaked text.
    pub leak_sha256: Sha256,
    /// Whitespace tokens in the leak.
    pub leak_words: usize,
    /// Leak tokens aligned to the transcript.
    pub matched_words: usize,
    /// Variant sites of the transcript (its code's length).
    pub sites: usize,
    /// Sites read in the leak.
    pub sites_read: usize,
    /// Sites seen in the leak in a form a normalisation could have produced (erasures).
    pub sites_erased: usize,
    /// The leak's tokens, genuine or unmatched, in order.
    pub segments: Vec<TextSegment>,
    /// Transcript token ranges left out inside the quotes (elisions), half-open.
    pub missing: Vec<(usize, usize)>,
    /// When nobody is accused: an estimate of how many more quoted words an accusation
    /// would need (a lower bound: a lone leaker, clean reads).
    pub more_words_needed: Option<usize>,
}

/// What a trace read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Medium {
    /// A clip's audio.
    #[default]
    Audio,
    /// Quoted text.
    Text,
    /// A clip and quoted text, their evidence combined.
    AudioAndText,
}

impl Medium {
    /// The JSON name: `audio`, `text` or `audio+text`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Audio => "audio",
            Self::Text => "text",
            Self::AudioAndText => "audio+text",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "text" => Self::Text,
            "audio+text" => Self::AudioAndText,
            _ => Self::Audio,
        }
    }
}

/// What a trace found when it comes to copies, in one word (issue 14): who, if anyone, the
/// evidence names, and when nobody, which of two things happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingKind {
    /// Someone is accused.
    Accused,
    /// The leak carries this vault's mark (the presence test rejects "no mark" at
    /// [`Finding::presence_level`]), but the evidence does not yet pin it on a copy.
    MarkedUnresolved,
    /// The leak matches a recording but carries no issued copy's mark.
    NoIssuedCopy,
    /// No recording of this vault was identified.
    UnknownRecording,
}

impl FindingKind {
    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accused => "accused",
            Self::MarkedUnresolved => "marked_unresolved",
            Self::NoIssuedCopy => "no_issued_copy",
            Self::UnknownRecording => "unknown_recording",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "accused" => Self::Accused,
            "marked_unresolved" => Self::MarkedUnresolved,
            "no_issued_copy" => Self::NoIssuedCopy,
            "unknown_recording" => Self::UnknownRecording,
            _ => return None,
        })
    }
}

/// The power of a "no issued copy" finding: of `trials` simulated issued copies pushed
/// through the channel estimated from the leak, `named` were named.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Power {
    /// `named / trials`.
    pub value: f64,
    /// The 95 % Wilson score interval's lower end.
    pub low: f64,
    /// Its upper end.
    pub high: f64,
    /// Simulated copies.
    pub trials: usize,
    /// Simulated copies named.
    pub named: usize,
}

impl Power {
    /// `named` of `trials`, with the 95 % Wilson score interval (Wilson, JASA 22(158),
    /// 1927; Brown, Cai and DasGupta, Stat. Sci. 16(2), 2001, recommend it over the
    /// normal interval at small `trials` and proportions near 0 or 1).
    pub fn from_counts(named: usize, trials: usize) -> Self {
        let (low, high) = wilson_interval(named, trials);
        Self {
            value: if trials == 0 {
                0.0
            } else {
                named as f64 / trials as f64
            },
            low,
            high,
            trials,
            named,
        }
    }
}

/// The 95 % Wilson score interval of `k` successes in `n` trials (`(0, 1)` for none).
pub fn wilson_interval(k: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let z = 1.959_963_984_540_054f64;
    let (n, p) = (n as f64, k as f64 / n as f64);
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denom;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// The audio analysis's finding (see [`TraceReport::finding`] for the one a report
/// states, which also weighs quoted text).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Finding {
    /// What the clip showed.
    pub kind: FindingKind,
    /// The level at which the presence test's p-value counts as "marked".
    pub presence_level: f64,
    /// With [`FindingKind::NoIssuedCopy`]: how often an issued copy through this channel
    /// would have been named.
    pub power: Option<Power>,
    /// With [`FindingKind::MarkedUnresolved`]: an estimate of how many more seconds of
    /// genuine audio through this channel an accusation would need.
    pub more_seconds_needed: Option<f64>,
}

/// One issued recipient's standing.
#[derive(Debug, Clone, PartialEq)]
pub struct RecipientStanding {
    /// Recipient id.
    pub id: RecipientId,
    /// Recipient name.
    pub name: String,
    /// Tardos score under `score_function`.
    pub score: f64,
    /// Which score function gave this recipient's smallest bound.
    pub score_function: String,
    /// Uncorrected p-value bound (Chernoff).
    pub p_value: f64,
    /// Bonferroni-corrected p-value bound.
    pub corrected_p_value: f64,
    /// Whether accused.
    pub accused: bool,
    /// Whether the blind payload of this recipient's copy was decoded from the leak.
    pub payload_match: bool,
    /// With both media: the audio evidence's p-value bound alone (functions corrected).
    pub p_value_audio: Option<f64>,
    /// With both media: the text evidence's p-value bound alone (functions corrected).
    pub p_value_text: Option<f64>,
}

/// Everything a trace found.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceReport {
    /// Trace id.
    pub id: TraceId,
    /// When.
    pub created_at: UnixMillis,
    /// SHA-256 of the leaked file.
    pub leak_sha256: Sha256,
    /// Leak duration, seconds.
    pub leak_duration_s: f64,
    /// The identified recording.
    pub recording: Option<Recording>,
    /// How it was identified: `fingerprint`, `blind-watermark` or `none`.
    pub identified_by: String,
    /// Original seconds per leak second.
    pub speed: Option<f64>,
    /// The authenticity map.
    pub segments: Vec<ReportSegment>,
    /// Stretches of the original missing from the leak, seconds.
    pub missing: Vec<(f64, f64)>,
    /// Watermark presence test over the genuine stretches: p-value bound.
    pub watermark_p_value: Option<f64>,
    /// Blind payload decoded, hex.
    pub payload: Option<String>,
    /// Codeword slots observed.
    pub slots_observed: usize,
    /// The accused and the recipients with the strongest evidence, most suspicious
    /// first (not every innocent: `recipients_scored` says how many were scored).
    pub standings: Vec<RecipientStanding>,
    /// Issued recipients scored.
    pub recipients_scored: usize,
    /// Hypotheses the p-values are corrected for.
    pub tests: f64,
    /// The bound applied.
    pub bound: f64,
    /// What was read.
    pub medium: Medium,
    /// What the quoted text showed, when text was traced.
    pub text: Option<TextFindings>,
    /// What the clip's audio showed about copies (absent in reports made before issue 14
    /// item 6, and for text alone: [`TraceReport::finding`] derives it then).
    pub finding: Option<Finding>,
}

/// The JSON shape, field for field.
#[derive(Serialize, Deserialize)]
struct Json {
    #[serde(default)]
    medium: String,
    trace_id: TraceId,
    created_at_ms: UnixMillis,
    verdict: String,
    leak: LeakJson,
    recording: Option<RecordingJson>,
    identified_by: String,
    speed: Option<f64>,
    accused: Vec<AccusedJson>,
    /// Older reports listed every recipient and had no count.
    #[serde(default)]
    recipients_scored: Option<usize>,
    recipients: Vec<StandingJson>,
    segments: Vec<SegmentJson>,
    missing: Vec<MissingJson>,
    watermark: WatermarkJson,
    false_accusation_bound: f64,
    hypotheses_corrected_for: f64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    text: Option<TextJson>,
    /// Issue 14 item 6; older reports have none of these.
    #[serde(default)]
    finding: Option<String>,
    #[serde(default)]
    finding_statement: Option<String>,
    #[serde(default)]
    power: Option<f64>,
    #[serde(default)]
    power_interval: Option<(f64, f64)>,
    #[serde(default)]
    power_trials: Option<usize>,
    #[serde(default)]
    power_named: Option<usize>,
    #[serde(default)]
    presence_level: Option<f64>,
    #[serde(default)]
    more_seconds_needed: Option<f64>,
}

#[derive(Serialize, Deserialize)]
struct TextJson {
    sha256: Sha256,
    words: usize,
    matched_words: usize,
    sites: usize,
    sites_read: usize,
    sites_erased: usize,
    more_words_needed: Option<usize>,
}

#[derive(Serialize, Deserialize)]
struct LeakJson {
    sha256: Sha256,
    duration_s: f64,
}

#[derive(Serialize, Deserialize)]
struct RecordingJson {
    id: crate::RecordingId,
    title: String,
    sha256: Sha256,
    duration_s: f64,
}

#[derive(Serialize, Deserialize)]
struct AccusedJson {
    recipient: String,
    recipient_id: RecipientId,
    p_value: f64,
    score: f64,
}

#[derive(Serialize, Deserialize)]
struct StandingJson {
    recipient: String,
    recipient_id: RecipientId,
    score: f64,
    score_function: String,
    p_value_uncorrected: f64,
    p_value: f64,
    accused: bool,
    blind_payload_match: bool,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    p_value_audio: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    p_value_text: Option<f64>,
}

/// An audio segment has the `_s` fields, a text segment the `_word` fields and `quoted`.
#[derive(Serialize, Deserialize, Default)]
struct SegmentJson {
    status: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    leak_start_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    leak_end_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    original_start_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    original_end_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    leak_start_word: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    leak_end_word: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    original_start_word: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    original_end_word: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    quoted: Option<bool>,
}

/// Audio: `_s` fields; text: `_word` fields.
#[derive(Serialize, Deserialize, Default)]
struct MissingJson {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    original_start_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    original_end_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    original_start_word: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    original_end_word: Option<usize>,
}

#[derive(Serialize, Deserialize)]
struct WatermarkJson {
    p_value: Option<f64>,
    payload: Option<String>,
    slots_observed: usize,
}

/// The presence test's level for "the leak carries this vault's mark" (issue 14 item 6):
/// the watermark's p-value is a proven bound (docs/design/watermark.md section 5), so a
/// leak without the mark is called marked with probability at most this.
pub const PRESENCE_LEVEL: f64 = 1e-3;

impl TraceReport {
    /// What the report finds about copies: accused; marked but unresolved; no issued
    /// copy's mark; or no recording. Audio keeps what the analysis found; quoted text
    /// counts as marked when any of its variant sites was read.
    pub fn finding(&self) -> FindingKind {
        if self.recording.is_none() {
            return FindingKind::UnknownRecording;
        }
        if self.accused().next().is_some() {
            return FindingKind::Accused;
        }
        let audio = self
            .finding
            .map(|f| f.kind)
            .filter(|k| matches!(k, FindingKind::MarkedUnresolved | FindingKind::NoIssuedCopy));
        let present = self
            .watermark_p_value
            .is_some_and(|p| p <= self.presence_level());
        let audio_marked = audio.map_or(present, |k| k == FindingKind::MarkedUnresolved);
        let text_marked = self.text.as_ref().is_some_and(|t| t.sites_read > 0);
        let marked = match self.medium {
            Medium::Audio => audio_marked,
            Medium::Text => text_marked,
            Medium::AudioAndText => audio_marked || text_marked,
        };
        if marked {
            FindingKind::MarkedUnresolved
        } else {
            FindingKind::NoIssuedCopy
        }
    }

    /// The level the presence test was held to.
    pub fn presence_level(&self) -> f64 {
        self.finding.map_or(PRESENCE_LEVEL, |f| f.presence_level)
    }

    /// With "no issued copy": how often an issued copy through the leak's channel would
    /// have been named (audio only).
    pub fn power(&self) -> Option<Power> {
        (self.finding() == FindingKind::NoIssuedCopy)
            .then(|| self.finding.and_then(|f| f.power))
            .flatten()
    }

    /// With "marked, unresolved": the estimate of more seconds of audio needed.
    pub fn more_seconds_needed(&self) -> Option<f64> {
        (self.finding() == FindingKind::MarkedUnresolved)
            .then(|| self.finding.and_then(|f| f.more_seconds_needed))
            .flatten()
    }

    /// The finding in one sentence.
    pub fn finding_statement(&self) -> String {
        match self.finding() {
            FindingKind::UnknownRecording => {
                "No recording of this vault was identified, so no copy can be named.".into()
            }
            FindingKind::Accused => {
                let names: Vec<&str> = self.accused().map(|s| s.name.as_str()).collect();
                format!(
                    "The leak carries the mark of the copy issued to {}.",
                    names.join(" and ")
                )
            }
            FindingKind::MarkedUnresolved => self.unresolved_statement(),
            FindingKind::NoIssuedCopy => self.no_copy_statement(),
        }
    }

    fn unresolved_statement(&self) -> String {
        let audio_marked = self.medium != Medium::Text
            && self
                .finding
                .is_some_and(|f| f.kind == FindingKind::MarkedUnresolved);
        if audio_marked || self.medium == Medium::Audio {
            let more = match self.more_seconds_needed() {
                Some(s) if s.is_finite() => format!(
                    ": about {:.0} more seconds of this recording through the same channel would be needed (an estimate)",
                    s.max(1.0).ceil()
                ),
                _ => String::new(),
            };
            format!(
                "The leak carries this vault's mark (presence p <= {:.1e}) but the evidence cannot yet pin it on a copy{more}.",
                self.watermark_p_value.unwrap_or(1.0)
            )
        } else {
            let more = match self.text.as_ref().and_then(|t| t.more_words_needed) {
                Some(n) if n > 0 => {
                    format!(": about {n} more quoted words would be needed (an estimate)")
                }
                _ => String::new(),
            };
            format!(
                "The quoted text shows {} of the transcript's variant sites, too few to pin it on a copy{more}.",
                self.text.as_ref().map_or(0, |t| t.sites_read)
            )
        }
    }

    fn no_copy_statement(&self) -> String {
        match self.power() {
            Some(p) if p.low >= 0.95 => format!(
                "The leak carries no issued copy's mark: it is the original recording or an intercept of it, not a recipient's copy; had it been any issued copy through the same channel, it would have been named with probability {:.3} ({:.3}-{:.3} over {} simulated copies).",
                p.value, p.low, p.high, p.trials
            ),
            Some(p) => format!(
                "The leak shows no issued copy's mark, but that is weak evidence that it is not a recipient's copy: had it been any issued copy through the same channel, it would have been named with probability only {:.2} ({:.2}-{:.2} over {} simulated copies).",
                p.value, p.low, p.high, p.trials
            ),
            None if self.medium == Medium::Text => {
                "The quoted words hold none of the transcript's variant sites, so they carry no copy's mark to attribute.".into()
            }
            None if self.recipients_scored == 0 => {
                "No copy of this recording has been issued, so the leak is not a recipient's copy.".into()
            }
            None => format!(
                "The leak carries no issued copy's mark (presence p = {:.2}); its power was not estimated.",
                self.watermark_p_value.unwrap_or(1.0)
            ),
        }
    }

    /// Accused recipients.
    pub fn accused(&self) -> impl Iterator<Item = &RecipientStanding> {
        self.standings.iter().filter(|s| s.accused)
    }

    /// The verdict in one sentence.
    pub fn verdict(&self) -> String {
        let (source, nothing) = match self.medium {
            Medium::Audio => (
                "The leak comes from recording",
                "The leak matches no recording in this vault",
            ),
            Medium::Text => (
                "The quoted text comes from the transcript of recording",
                "The text matches no transcript in this vault",
            ),
            Medium::AudioAndText => (
                "The clip and the quoted text come from recording",
                "Neither the clip nor the text matches a recording in this vault",
            ),
        };
        let Some(rec) = &self.recording else {
            return format!("{nothing}; nobody is accused.");
        };
        let accused: Vec<String> = self
            .accused()
            .map(|s| format!("{} (p <= {:.1e})", s.name, s.corrected_p_value))
            .collect();
        if accused.is_empty() {
            let more = match self.text.as_ref().and_then(|t| t.more_words_needed) {
                Some(n) if n > 0 => {
                    format!(" About {n} more quoted words would be needed for an accusation.")
                }
                _ => String::new(),
            };
            format!(
                "{source} {} \"{}\", but the evidence does not reach the false-accusation bound of {:.0e} for any recipient; nobody is accused.{more}",
                rec.id, rec.title, self.bound
            )
        } else {
            format!(
                "{source} {} \"{}\" and from the copy of {}; the chance that an innocent recipient is accused is at most {:.0e}.",
                rec.id,
                rec.title,
                accused.join(" and "),
                self.bound
            )
        }
    }

    fn json(&self) -> Json {
        let mut segments: Vec<SegmentJson> = self
            .segments
            .iter()
            .map(|s| SegmentJson {
                status: if s.genuine { "genuine" } else { "unmatched" }.into(),
                leak_start_s: Some(s.leak_start_s),
                leak_end_s: Some(s.leak_end_s),
                original_start_s: s.original.map(|o| o.0),
                original_end_s: s.original.map(|o| o.1),
                ..SegmentJson::default()
            })
            .collect();
        let mut missing: Vec<MissingJson> = self
            .missing
            .iter()
            .map(|&(a, b)| MissingJson {
                original_start_s: Some(a),
                original_end_s: Some(b),
                ..MissingJson::default()
            })
            .collect();
        if let Some(t) = &self.text {
            segments.extend(t.segments.iter().map(|s| SegmentJson {
                status: if s.genuine { "genuine" } else { "unmatched" }.into(),
                leak_start_word: Some(s.leak_start_word),
                leak_end_word: Some(s.leak_end_word),
                original_start_word: s.original.map(|o| o.0),
                original_end_word: s.original.map(|o| o.1),
                quoted: Some(s.quoted),
                ..SegmentJson::default()
            }));
            missing.extend(t.missing.iter().map(|&(a, b)| MissingJson {
                original_start_word: Some(a),
                original_end_word: Some(b),
                ..MissingJson::default()
            }));
        }
        Json {
            medium: self.medium.as_str().into(),
            trace_id: self.id.clone(),
            created_at_ms: self.created_at,
            verdict: self.verdict(),
            leak: LeakJson {
                sha256: self.leak_sha256,
                duration_s: self.leak_duration_s,
            },
            recording: self.recording.as_ref().map(|r| RecordingJson {
                id: r.id.clone(),
                title: r.title.clone(),
                sha256: r.sha256,
                duration_s: r.duration_s,
            }),
            identified_by: self.identified_by.clone(),
            speed: self.speed,
            accused: self
                .accused()
                .map(|s| AccusedJson {
                    recipient: s.name.clone(),
                    recipient_id: s.id.clone(),
                    p_value: s.corrected_p_value,
                    score: s.score,
                })
                .collect(),
            recipients_scored: Some(self.recipients_scored),
            recipients: self
                .standings
                .iter()
                .map(|s| StandingJson {
                    recipient: s.name.clone(),
                    recipient_id: s.id.clone(),
                    score: s.score,
                    score_function: s.score_function.clone(),
                    p_value_uncorrected: s.p_value,
                    p_value: s.corrected_p_value,
                    accused: s.accused,
                    blind_payload_match: s.payload_match,
                    p_value_audio: s.p_value_audio,
                    p_value_text: s.p_value_text,
                })
                .collect(),
            segments,
            missing,
            watermark: WatermarkJson {
                p_value: self.watermark_p_value,
                payload: self.payload.clone(),
                slots_observed: self.slots_observed,
            },
            false_accusation_bound: self.bound,
            hypotheses_corrected_for: self.tests,
            text: self.text.as_ref().map(|t| TextJson {
                sha256: t.leak_sha256,
                words: t.leak_words,
                matched_words: t.matched_words,
                sites: t.sites,
                sites_read: t.sites_read,
                sites_erased: t.sites_erased,
                more_words_needed: t.more_words_needed,
            }),
            finding: Some(self.finding().as_str().into()),
            finding_statement: Some(self.finding_statement()),
            power: self.power().map(|p| p.value),
            power_interval: self.power().map(|p| (p.low, p.high)),
            power_trials: self.power().map(|p| p.trials),
            power_named: self.power().map(|p| p.named),
            presence_level: Some(self.presence_level()),
            more_seconds_needed: self.more_seconds_needed(),
        }
    }

    /// The report as a JSON value.
    pub fn to_json(&self) -> serde_json::Value {
        // Invariant: every field is a string, number, bool or null; floats that are not
        // finite serialise as null, so this cannot fail.
        serde_json::to_value(self.json()).unwrap_or(serde_json::Value::Null)
    }

    /// The report as compact JSON text: the bytes the log commits to.
    pub fn to_json_string(&self) -> String {
        self.to_json().to_string()
    }

    /// Parses a stored report (the recording's stored fields beyond those in the JSON are
    /// left at their defaults: the JSON carries id, title, hash and duration).
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        let j: Json = serde_json::from_str(text)?;
        let finding = j
            .finding
            .as_deref()
            .and_then(FindingKind::parse)
            .map(|kind| Finding {
                kind,
                presence_level: j.presence_level.unwrap_or(PRESENCE_LEVEL),
                power: j.power.zip(j.power_interval).zip(j.power_trials).map(
                    |((value, (low, high)), trials)| Power {
                        value,
                        low,
                        high,
                        trials,
                        named: j
                            .power_named
                            .unwrap_or((value * trials as f64).round() as usize),
                    },
                ),
                more_seconds_needed: j.more_seconds_needed,
            });
        let mut segments = Vec::new();
        let mut text_segments = Vec::new();
        for s in j.segments {
            let genuine = s.status == "genuine";
            match (
                s.leak_start_s,
                s.leak_end_s,
                s.leak_start_word,
                s.leak_end_word,
            ) {
                (Some(a), Some(b), _, _) => segments.push(ReportSegment {
                    genuine,
                    leak_start_s: a,
                    leak_end_s: b,
                    original: s.original_start_s.zip(s.original_end_s),
                }),
                (_, _, Some(a), Some(b)) => text_segments.push(TextSegment {
                    genuine,
                    quoted: s.quoted.unwrap_or(false),
                    leak_start_word: a,
                    leak_end_word: b,
                    original: s.original_start_word.zip(s.original_end_word),
                }),
                _ => {
                    return Err(serde::de::Error::custom(
                        "a segment has neither leak_start_s/leak_end_s nor leak_start_word/leak_end_word",
                    ));
                }
            }
        }
        let mut missing = Vec::new();
        let mut text_missing = Vec::new();
        for m in j.missing {
            if let Some(seconds) = m.original_start_s.zip(m.original_end_s) {
                missing.push(seconds);
            } else if let Some(words) = m.original_start_word.zip(m.original_end_word) {
                text_missing.push(words);
            }
        }
        Ok(Self {
            id: j.trace_id,
            created_at: j.created_at_ms,
            leak_sha256: j.leak.sha256,
            leak_duration_s: j.leak.duration_s,
            recording: j.recording.map(|r| Recording {
                id: r.id,
                title: r.title,
                sha256: r.sha256,
                duration_s: r.duration_s,
                sample_rate: 0,
                channels: 0,
                format: String::new(),
                ingested_at: UnixMillis(0),
                log_index: 0,
            }),
            identified_by: j.identified_by,
            speed: j.speed,
            segments,
            missing,
            watermark_p_value: j.watermark.p_value,
            payload: j.watermark.payload,
            slots_observed: j.watermark.slots_observed,
            recipients_scored: j.recipients_scored.unwrap_or(j.recipients.len()),
            standings: j
                .recipients
                .into_iter()
                .map(|s| RecipientStanding {
                    id: s.recipient_id,
                    name: s.recipient,
                    score: s.score,
                    score_function: s.score_function,
                    p_value: s.p_value_uncorrected,
                    corrected_p_value: s.p_value,
                    accused: s.accused,
                    payload_match: s.blind_payload_match,
                    p_value_audio: s.p_value_audio,
                    p_value_text: s.p_value_text,
                })
                .collect(),
            tests: j.hypotheses_corrected_for,
            bound: j.false_accusation_bound,
            medium: Medium::parse(&j.medium),
            text: j.text.map(|t| TextFindings {
                leak_sha256: t.sha256,
                leak_words: t.words,
                matched_words: t.matched_words,
                sites: t.sites,
                sites_read: t.sites_read,
                sites_erased: t.sites_erased,
                segments: text_segments,
                missing: text_missing,
                more_words_needed: t.more_words_needed,
            }),
            finding,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RecordingId;

    #[test]
    fn p_values_survive_json_exactly() {
        // The service re-serialises stored reports; without serde_json's correctly
        // rounded parser (feature float_roundtrip) this p-value came back one ulp off.
        for x in [
            2.2274767609071837e-41f64,
            1.3364860565443096e-40,
            0.9997054589163188,
            1e-300,
            5e-324,
            0.1,
        ] {
            let text = serde_json::to_string(&x).expect("serialise");
            let back: f64 = serde_json::from_str(&text).expect("parse");
            assert_eq!(x.to_bits(), back.to_bits(), "{x:e} came back as {back:e}");
            let value: serde_json::Value = serde_json::from_str(&text).expect("parse");
            let again: f64 = serde_json::from_str(&value.to_string()).expect("parse");
            assert_eq!(x.to_bits(), again.to_bits(), "{x:e} via a Value");
        }
    }

    fn report() -> TraceReport {
        let sha = Sha256::digest(b"x");
        TraceReport {
            id: TraceId::from_random([1; 8]),
            created_at: UnixMillis(5),
            leak_sha256: sha,
            leak_duration_s: 10.0,
            recording: Some(Recording {
                id: RecordingId::from_content(&sha),
                title: "Call".into(),
                sha256: sha,
                duration_s: 60.0,
                sample_rate: 0,
                channels: 0,
                format: String::new(),
                ingested_at: UnixMillis(0),
                log_index: 0,
            }),
            identified_by: "fingerprint".into(),
            speed: Some(1.0),
            segments: vec![ReportSegment {
                genuine: true,
                leak_start_s: 0.0,
                leak_end_s: 10.0,
                original: Some((5.0, 15.0)),
            }],
            missing: vec![(1.0, 2.0)],
            watermark_p_value: Some(1e-9),
            payload: None,
            slots_observed: 120,
            standings: vec![RecipientStanding {
                id: RecipientId::from_number(2),
                name: "Bob".into(),
                score: 3.5,
                score_function: "symmetric".into(),
                p_value: 1e-12,
                corrected_p_value: 1e-10,
                accused: true,
                payload_match: false,
                p_value_audio: None,
                p_value_text: None,
            }],
            tests: 100.0,
            bound: 1e-6,
            medium: Medium::Audio,
            text: None,
            recipients_scored: 1,
            finding: Some(Finding {
                kind: FindingKind::Accused,
                presence_level: PRESENCE_LEVEL,
                power: None,
                more_seconds_needed: None,
            }),
        }
    }

    #[test]
    fn the_json_round_trips_and_names_the_accused() {
        let r = report();
        let text = r.to_json_string();
        let back = TraceReport::from_json(&text).expect("parses");
        assert_eq!(back, r);
        let v = r.to_json();
        assert_eq!(v["accused"][0]["recipient_id"], "r-2");
        assert_eq!(v["segments"][0]["original_start_s"], 5.0);
        assert_eq!(v["leak"]["sha256"], r.leak_sha256.to_hex());
        assert!(v["verdict"].as_str().unwrap_or("").contains("Bob"));
        assert_eq!(v["medium"], "audio");
        assert!(v["segments"][0].get("leak_start_word").is_none());
    }

    #[test]
    fn a_text_report_round_trips_with_word_segments() {
        let mut r = report();
        r.medium = Medium::Text;
        r.segments.clear();
        r.missing.clear();
        r.leak_duration_s = 0.0;
        r.standings[0].p_value_text = Some(1e-12);
        r.text = Some(TextFindings {
            leak_sha256: Sha256::digest(b"quote"),
            leak_words: 40,
            matched_words: 30,
            sites: 117,
            sites_read: 9,
            sites_erased: 1,
            segments: vec![
                TextSegment {
                    genuine: false,
                    quoted: false,
                    leak_start_word: 0,
                    leak_end_word: 10,
                    original: None,
                },
                TextSegment {
                    genuine: true,
                    quoted: true,
                    leak_start_word: 10,
                    leak_end_word: 40,
                    original: Some((100, 130)),
                },
            ],
            missing: vec![(120, 124)],
            more_words_needed: None,
        });
        let text = r.to_json_string();
        assert_eq!(TraceReport::from_json(&text).expect("parses"), r);
        let v = r.to_json();
        assert_eq!(v["medium"], "text");
        assert_eq!(v["segments"][1]["status"], "genuine");
        assert_eq!(v["segments"][1]["leak_start_word"], 10);
        assert_eq!(v["segments"][1]["original_end_word"], 130);
        assert_eq!(v["segments"][0]["quoted"], false);
        assert_eq!(v["missing"][0]["original_start_word"], 120);
        assert!(v["verdict"].as_str().unwrap_or("").contains("transcript"));
    }

    #[test]
    fn a_no_issued_copy_finding_round_trips_with_its_power() {
        let mut r = report();
        r.standings[0].accused = false;
        r.standings[0].corrected_p_value = 0.5;
        r.watermark_p_value = Some(0.4);
        r.finding = Some(Finding {
            kind: FindingKind::NoIssuedCopy,
            presence_level: PRESENCE_LEVEL,
            power: Some(Power::from_counts(99, 100)),
            more_seconds_needed: None,
        });
        let v = r.to_json();
        assert_eq!(v["finding"], "no_issued_copy");
        assert_eq!(v["power"], 0.99);
        assert_eq!(v["power_trials"], 100);
        assert!(v["more_seconds_needed"].is_null());
        assert!(
            v["finding_statement"]
                .as_str()
                .unwrap_or("")
                .contains("not a recipient's copy")
        );
        assert_eq!(
            TraceReport::from_json(&r.to_json_string()).expect("parses"),
            r
        );
    }

    #[test]
    fn an_old_report_without_a_finding_derives_it() {
        let mut v = report().to_json();
        if let Some(o) = v.as_object_mut() {
            for k in [
                "finding",
                "finding_statement",
                "power",
                "power_interval",
                "power_trials",
                "power_named",
                "presence_level",
                "more_seconds_needed",
            ] {
                o.remove(k);
            }
        }
        let back = TraceReport::from_json(&v.to_string()).expect("parses");
        assert_eq!(back.finding, None);
        assert_eq!(back.finding(), FindingKind::Accused);
        let mut unresolved = back.clone();
        unresolved.standings.clear();
        assert_eq!(unresolved.finding(), FindingKind::MarkedUnresolved);
        unresolved.watermark_p_value = Some(0.3);
        assert_eq!(unresolved.finding(), FindingKind::NoIssuedCopy);
        assert_eq!(unresolved.power(), None);
        unresolved.recording = None;
        assert_eq!(unresolved.finding(), FindingKind::UnknownRecording);
    }

    #[test]
    fn the_wilson_interval_matches_published_values() {
        // Brown, Cai and DasGupta (2001), and the closed form at k = n.
        let (lo, hi) = wilson_interval(100, 100);
        assert!((lo - 0.963).abs() < 5e-4 && hi == 1.0, "{lo} {hi}");
        let (lo, hi) = wilson_interval(5, 10);
        assert!(
            (lo - 0.2366).abs() < 5e-4 && (hi - 0.7634).abs() < 5e-4,
            "{lo} {hi}"
        );
        assert_eq!(wilson_interval(0, 0), (0.0, 1.0));
    }

    #[test]
    fn an_old_report_without_a_medium_is_audio() {
        let mut v = report().to_json();
        if let Some(o) = v.as_object_mut() {
            o.remove("medium");
        }
        let back = TraceReport::from_json(&v.to_string()).expect("parses");
        assert_eq!(back.medium, Medium::Audio);
        assert_eq!(back, report());
    }
}
