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
    /// Every issued recipient, most suspicious first.
    pub standings: Vec<RecipientStanding>,
    /// Hypotheses the p-values are corrected for.
    pub tests: f64,
    /// The bound applied.
    pub bound: f64,
}

/// The JSON shape, field for field.
#[derive(Serialize, Deserialize)]
struct Json {
    trace_id: TraceId,
    created_at_ms: UnixMillis,
    verdict: String,
    leak: LeakJson,
    recording: Option<RecordingJson>,
    identified_by: String,
    speed: Option<f64>,
    accused: Vec<AccusedJson>,
    recipients: Vec<StandingJson>,
    segments: Vec<SegmentJson>,
    missing: Vec<MissingJson>,
    watermark: WatermarkJson,
    false_accusation_bound: f64,
    hypotheses_corrected_for: f64,
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
}

#[derive(Serialize, Deserialize)]
struct SegmentJson {
    status: String,
    leak_start_s: f64,
    leak_end_s: f64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    original_start_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    original_end_s: Option<f64>,
}

#[derive(Serialize, Deserialize)]
struct MissingJson {
    original_start_s: f64,
    original_end_s: f64,
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
        let Some(rec) = &self.recording else {
            return "The leak matches no recording in this vault; nobody is accused.".into();
        };
        let accused: Vec<String> = self
            .accused()
            .map(|s| format!("{} (p <= {:.1e})", s.name, s.corrected_p_value))
            .collect();
        if accused.is_empty() {
            format!(
                "The leak comes from recording {} \"{}\", but the evidence does not reach the false-accusation bound of {:.0e} for any recipient; nobody is accused.",
                rec.id, rec.title, self.bound
            )
        } else {
            format!(
                "The leak comes from recording {} \"{}\" and from the copy of {}; the chance that an innocent recipient is accused is at most {:.0e}.",
                rec.id,
                rec.title,
                accused.join(" and "),
                self.bound
            )
        }
    }

    fn json(&self) -> Json {
        Json {
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
                })
                .collect(),
            segments: self
                .segments
                .iter()
                .map(|s| SegmentJson {
                    status: if s.genuine { "genuine" } else { "unmatched" }.into(),
                    leak_start_s: s.leak_start_s,
                    leak_end_s: s.leak_end_s,
                    original_start_s: s.original.map(|o| o.0),
                    original_end_s: s.original.map(|o| o.1),
                })
                .collect(),
            missing: self
                .missing
                .iter()
                .map(|&(a, b)| MissingJson {
                    original_start_s: a,
                    original_end_s: b,
                })
                .collect(),
            watermark: WatermarkJson {
                p_value: self.watermark_p_value,
                payload: self.payload.clone(),
                slots_observed: self.slots_observed,
            },
            false_accusation_bound: self.bound,
            hypotheses_corrected_for: self.tests,
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
            segments: j
                .segments
                .into_iter()
                .map(|s| ReportSegment {
                    genuine: s.status == "genuine",
                    leak_start_s: s.leak_start_s,
                    leak_end_s: s.leak_end_s,
                    original: s.original_start_s.zip(s.original_end_s),
                })
                .collect(),
            missing: j
                .missing
                .into_iter()
                .map(|m| (m.original_start_s, m.original_end_s))
                .collect(),
            watermark_p_value: j.watermark.p_value,
            payload: j.watermark.payload,
            slots_observed: j.watermark.slots_observed,
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
                })
                .collect(),
            tests: j.hypotheses_corrected_for,
            bound: j.false_accusation_bound,
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
            }],
            tests: 100.0,
            bound: 1e-6,
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
    }
}
