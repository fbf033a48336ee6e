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

impl TraceReport {
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
