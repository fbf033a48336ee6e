//! Tracing a leak: identify the recording by its fingerprint, map which parts are genuine,
//! read the codeword symbols over the genuine parts with the original, score every issued
//! codeword and accuse only below the proven false-accusation bound.

use serde_json::{Value, json};
use tracemark_dsp::{AudioBuffer, resample};
use tracemark_fingerprint::{MapOptions, SegmentStatus, authenticity_map, fingerprint};
use tracemark_tardos::{AccusationConfig, Observations, accuse_any, default_score_functions};
use tracemark_watermark::{detect_blind, detect_informed_segments};

use crate::VaultError;
use crate::db::{self, Recording, TraceRow};
use crate::vault::{Vault, fingerprint_id, hex, sha256, trace_entry};

/// The default bound on the probability of accusing any innocent recipient.
pub const DEFAULT_BOUND: f64 = 1e-6;

/// One stretch of the leak in the report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSegment {
    /// `genuine` or `unmatched`.
    pub genuine: bool,
    /// Start in the leak, seconds.
    pub leak_start_s: f64,
    /// End in the leak, seconds.
    pub leak_end_s: f64,
    /// Matching stretch of the original.
    pub original: Option<(f64, f64)>,
}

/// One recipient's standing.
#[derive(Debug, Clone, PartialEq)]
pub struct RecipientStanding {
    /// Recipient id.
    pub id: String,
    /// Recipient name.
    pub name: String,
    /// Tardos score under `score_function`.
    pub score: f64,
    /// Which score gave this recipient's smallest bound: `symmetric` or
    /// `log-likelihood mu=...` (both are tested and counted; see `tracemark_tardos::accuse_any`).
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
    pub id: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// SHA-256 of the leaked file.
    pub leak_sha256: [u8; 32],
    /// Leak duration, seconds.
    pub leak_duration_s: f64,
    /// The identified recording.
    pub recording: Option<Recording>,
    /// How it was identified: `fingerprint`, `blind-watermark` or `none`.
    pub identified_by: &'static str,
    /// Original seconds per leak second.
    pub speed: Option<f64>,
    /// The authenticity map.
    pub segments: Vec<ReportSegment>,
    /// Stretches of the original missing from the leak.
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

    /// The report as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "trace_id": self.id,
            "created_at_ms": self.created_at,
            "verdict": self.verdict(),
            "leak": { "sha256": hex(&self.leak_sha256), "duration_s": self.leak_duration_s },
            "recording": self.recording.as_ref().map(|r| json!({
                "id": r.id, "title": r.title, "sha256": hex(&r.sha256), "duration_s": r.duration_s,
            })),
            "identified_by": self.identified_by,
            "speed": self.speed,
            "accused": self.accused().map(|s| json!({
                "recipient": s.name, "recipient_id": s.id, "p_value": s.corrected_p_value, "score": s.score,
            })).collect::<Vec<_>>(),
            "recipients": self.standings.iter().map(|s| json!({
                "recipient": s.name, "recipient_id": s.id, "score": s.score,
                "score_function": s.score_function, "p_value_uncorrected": s.p_value, "p_value": s.corrected_p_value,
                "accused": s.accused, "blind_payload_match": s.payload_match,
            })).collect::<Vec<_>>(),
            "segments": self.segments.iter().map(|s| {
                let mut o = json!({
                    "status": if s.genuine { "genuine" } else { "unmatched" },
                    "leak_start_s": s.leak_start_s, "leak_end_s": s.leak_end_s,
                });
                if let Some((a, b)) = s.original {
                    o["original_start_s"] = json!(a);
                    o["original_end_s"] = json!(b);
                }
                o
            }).collect::<Vec<_>>(),
            "missing": self.missing.iter().map(|(a, b)| json!({"original_start_s": a, "original_end_s": b})).collect::<Vec<_>>(),
            "watermark": { "p_value": self.watermark_p_value, "payload": self.payload, "slots_observed": self.slots_observed },
            "false_accusation_bound": self.bound,
            "hypotheses_corrected_for": self.tests,
        })
    }
}

impl Vault {
    /// Traces a leaked file and records the trace in the log.
    pub fn trace(
        &mut self,
        bytes: &[u8],
        file_name: &str,
        bound: f64,
    ) -> Result<TraceReport, VaultError> {
        if !(bound > 0.0 && bound < 1.0) {
            return Err(VaultError::Invalid {
                what: "false-accusation bound",
                reason: format!("{bound} is not in (0, 1)"),
            });
        }
        let ext = std::path::Path::new(file_name)
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let leak = tracemark_media::decode_bytes(bytes, ext.as_deref(), &self.limits)?;
        let mut report = self.analyse(&leak, bound)?;
        report.leak_sha256 = sha256(bytes);
        let id = format!("t-{}", db::trace_count(&self.conn)? + 1);
        let json = report.to_json();
        let stored = self.write(|tx, next, now| {
            report.id = id.clone();
            report.created_at = now;
            let json_text = {
                let mut j = json.clone();
                j["trace_id"] = json!(id);
                j["created_at_ms"] = json!(now);
                j.to_string()
            };
            let mut verdict = report.verdict();
            verdict.truncate(4000);
            let row = TraceRow {
                id: id.clone(),
                leak_sha256: report.leak_sha256,
                verdict,
                report_sha256: sha256(json_text.as_bytes()),
                report_json: json_text,
                created_at: now,
                log_index: next,
            };
            db::insert_trace(tx, &row)?;
            let entry = trace_entry(&row)?;
            Ok((report, vec![entry]))
        })?;
        Ok(stored)
    }

    /// A stored trace: its row (with the JSON report exactly as logged).
    pub fn trace_row(&self, id: &str) -> Result<TraceRow, VaultError> {
        db::trace(&self.conn, id)?.ok_or_else(|| VaultError::NotFound {
            kind: "trace",
            name: id.to_string(),
        })
    }

    /// Every stored trace.
    pub fn traces(&self) -> Result<Vec<TraceRow>, VaultError> {
        db::traces(&self.conn)
    }

    fn analyse(&self, leak: &AudioBuffer, bound: f64) -> Result<TraceReport, VaultError> {
        let mut report = TraceReport {
            id: String::new(),
            created_at: 0,
            leak_sha256: [0; 32],
            leak_duration_s: leak.duration_s(),
            recording: None,
            identified_by: "none",
            speed: None,
            segments: vec![ReportSegment {
                genuine: false,
                leak_start_s: 0.0,
                leak_end_s: leak.duration_s(),
                original: None,
            }],
            missing: Vec::new(),
            watermark_p_value: None,
            payload: None,
            slots_observed: 0,
            standings: Vec::new(),
            tests: 0.0,
            bound,
        };
        let recordings = self.recordings()?;
        let narrow = resample(
            &leak.downmix(),
            leak.rate().hz(),
            tracemark_fingerprint::SAMPLE_RATE_HZ,
        )?;
        let leak_fp = fingerprint(&narrow)?;
        let index = self.fingerprint_index()?;
        let key = self.secret.watermark_key();

        // Which recording? The fingerprint first; failing that, a blind payload.
        let by_fingerprint = index
            .query(&leak_fp)
            .into_iter()
            .find(|c| c.is_match())
            .and_then(|c| {
                recordings
                    .iter()
                    .find(|r| fingerprint_id(&r.id) == c.recording_id)
                    .cloned()
            });
        let recording = match by_fingerprint {
            Some(r) => {
                report.identified_by = "fingerprint";
                r
            }
            None => {
                let blind = detect_blind(leak, &key)?;
                let Some(payload) = blind.payload else {
                    return Ok(report);
                };
                let issued = db::issuances(&self.conn)?;
                let Some(i) = issued.iter().find(|i| i.payload == payload.bytes()) else {
                    return Ok(report);
                };
                report.identified_by = "blind-watermark";
                report.payload = Some(payload.to_hex());
                self.recording(&i.recording_id)?
            }
        };
        let original = self.original(&recording)?;
        let Some(original_fp) = index.fingerprint(fingerprint_id(&recording.id)) else {
            return Err(VaultError::Invalid {
                what: "fingerprint index",
                reason: format!("{} is not indexed", recording.id),
            });
        };
        let map = authenticity_map(original_fp, &leak_fp, &MapOptions::default());
        report.speed = map.speed;
        report.segments = map
            .segments
            .iter()
            .map(|s| ReportSegment {
                genuine: s.status == SegmentStatus::Genuine,
                leak_start_s: s.leak_start_s,
                leak_end_s: s.leak_end_s,
                original: s.original.map(|(a, b)| (a.max(0.0), b.max(0.0))),
            })
            .collect();
        report.missing = map
            .missing
            .iter()
            .map(|m| (m.original_start_s, m.original_end_s))
            .collect();
        let genuine: Vec<(f64, f64)> = report
            .segments
            .iter()
            .filter(|s| s.genuine)
            .map(|s| (s.leak_start_s, s.leak_end_s))
            .collect();
        report.recording = Some(recording.clone());

        // Read the codeword symbols over the genuine stretches.
        let detection = if genuine.is_empty() {
            None
        } else {
            detect_informed_segments(leak, &original, &key, &genuine).ok()
        };
        let biases = self.biases(&recording)?;
        let (mut soft, mut cells) = (vec![0.0f32; biases.len()], vec![0u32; biases.len()]);
        if let Some(d) = &detection {
            report.watermark_p_value = Some(d.p_value);
            if let Some(p) = d.payload {
                report.payload = Some(p.to_hex());
            }
            for s in d.symbols.iter().filter(|s| s.slot < biases.len()) {
                soft[s.slot] = s.z;
                cells[s.slot] = s.cells;
            }
        }
        report.slots_observed = cells.iter().filter(|&&c| c > 0).count();

        // Score every recipient this recording was issued to.
        let issued = db::issuances_of(&self.conn, &recording.id)?;
        let mut recipient_ids: Vec<String> =
            issued.iter().map(|i| i.recipient_id.clone()).collect();
        recipient_ids.sort();
        recipient_ids.dedup();
        if recipient_ids.is_empty() {
            return Ok(report);
        }
        let names = self.recipients()?;
        let codewords: Vec<_> = recipient_ids
            .iter()
            .map(|r| self.codeword(&recording, &biases, r))
            .collect();
        let observations = Observations::try_new(soft, cells)?;
        let config =
            AccusationConfig::new(bound)?.with_recordings_tested(recordings.len().max(1) as u64);
        let functions = default_score_functions(&observations);
        let verdict = accuse_any(&observations, &biases, &functions, &codewords, &config)?;
        report.tests = verdict.tests;
        report.bound = verdict.bound;
        let accused: Vec<usize> = verdict.accused.iter().map(|a| a.index).collect();
        let mut standings: Vec<RecipientStanding> = verdict
            .scores
            .iter()
            .map(|s| {
                let id = &recipient_ids[s.index];
                let payload_match = report.payload.as_deref().is_some_and(|p| {
                    issued
                        .iter()
                        .any(|i| &i.recipient_id == id && hex(&i.payload) == p)
                });
                RecipientStanding {
                    id: id.clone(),
                    name: names
                        .iter()
                        .find(|n| &n.id == id)
                        .map(|n| n.name.clone())
                        .unwrap_or_else(|| id.clone()),
                    score: s.score,
                    score_function: s.function.to_string(),
                    p_value: s.tail.bound(),
                    corrected_p_value: s.corrected,
                    accused: accused.contains(&s.index),
                    payload_match,
                }
            })
            .collect();
        standings.sort_by(|a, b| {
            a.corrected_p_value
                .total_cmp(&b.corrected_p_value)
                .then(b.score.total_cmp(&a.score))
        });
        report.standings = standings;
        Ok(report)
    }
}
