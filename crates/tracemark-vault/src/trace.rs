//! Tracing a leak: identify the recording by its fingerprint, map which parts are genuine,
//! read the codeword symbols over the genuine parts with the original, score every issued
//! codeword and accuse only below the proven false-accusation bound.

use tracemark_dsp::{AudioBuffer, SampleRate, resample};
use tracemark_fingerprint::{MapOptions, SegmentStatus, authenticity_map, fingerprint};
use tracemark_store::{Draft, Stored};
use tracemark_tardos::{
    AccusationConfig, Observations, Screen, Shortlist, default_score_functions,
};
use tracemark_types::{
    Medium, PayloadBytes, RecipientId, RecipientStanding, ReportSegment, Sha256, TraceId,
    TraceReport, TraceRow,
};
use tracemark_watermark::{DETECT_RATE, detect_blind_searching_speed, detect_informed_excerpt};

use crate::VaultError;
use crate::vault::{Vault, unexpected};

/// Recipients listed in a report besides the accused: the strongest evidence first, those
/// with a bound below 1. Every issued recipient is scored (`recipients_scored` says how
/// many); listing 100,000 innocents' figures would make the logged report megabytes.
pub const STANDINGS_SHOWN: usize = 50;

/// Screens the codewords drawn from `seeds` (recipient `i` from `seeds[i]`), split over
/// the available threads, each scanning a contiguous share; the merged shortlist is the
/// same however the work is split (tardos' property test).
pub(crate) fn screen_seeds(screen: &Screen, seeds: &[[u8; 32]]) -> Result<Shortlist, VaultError> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, 8);
    let share = seeds.len().div_ceil(threads).max(1);
    let scans: Vec<Result<tracemark_tardos::Scan<'_>, tracemark_tardos::Error>> =
        std::thread::scope(|scope| {
            let handles: Vec<_> = seeds
                .chunks(share)
                .enumerate()
                .map(|(k, chunk)| {
                    scope.spawn(move || {
                        let mut scan = screen.scan();
                        for (i, seed) in chunk.iter().enumerate() {
                            scan.push_seed(k * share + i, seed)?;
                        }
                        Ok(scan)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or(Err(tracemark_tardos::Error::InvalidParameter {
                            name: "scan thread",
                            value: 0.0,
                            reason: "a scoring thread panicked",
                        }))
                })
                .collect()
        });
    let mut merged = screen.scan();
    for scan in scans {
        merged = merged.merge(scan?);
    }
    Ok(merged.finish()?)
}

/// Bytes read from the start of a sealed leak to tell text from audio.
const TEXT_SNIFF: usize = 64 << 10;

/// The decoder's format hint: `file_name`'s extension, lower case.
fn hint(file_name: &str) -> Option<String> {
    std::path::Path::new(file_name)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
}

/// Whether a file that begins with `head` may be text by [`crate::looks_like_text`]:
/// `false` only when `head` already holds what makes the whole file fail it (a byte that is
/// not UTF-8, or a control character), so a file refused here is not text, whatever
/// follows. A character cut at the end of `head` is not held against it.
fn may_be_text(head: &[u8]) -> bool {
    let valid = match std::str::from_utf8(head) {
        Ok(text) => text,
        // Invalid bytes inside the head: not text. Only an incomplete last character
        // (`error_len` of `None`) may be completed by what follows.
        Err(e) if e.error_len().is_some() => return false,
        Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default(),
    };
    !valid
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c'))
}

/// The default bound on the probability of accusing any innocent recipient.
pub const DEFAULT_BOUND: f64 = 1e-6;

impl Vault {
    /// Traces a leaked file and records the trace in the log. A file that is text (by
    /// its content, see [`crate::looks_like_text`]) is traced as quoted text.
    pub fn trace(
        &self,
        bytes: &[u8],
        file_name: &str,
        bound: f64,
    ) -> Result<TraceReport, VaultError> {
        self.trace_owned(bytes.to_vec(), file_name, bound)
    }

    /// [`Vault::trace`] of bytes the vault may keep: the decoder reads them in place, so
    /// the leak is held once, with its 8 kHz mix (`trace` copies it first).
    pub fn trace_owned(
        &self,
        bytes: Vec<u8>,
        file_name: &str,
        bound: f64,
    ) -> Result<TraceReport, VaultError> {
        let report = self.trace_report(bytes, file_name, bound)?;
        self.record_trace(report)
    }

    /// [`Vault::trace`] of a file on the disk, never held: hashed a buffer at a time, then
    /// decoded from the file block by block into its 8 kHz mix (the only thing a trace
    /// reads of the leak), then hashed again, and refused if it changed in between (the
    /// report names the file by that hash). A file that may be text (its first bytes are)
    /// is read whole and traced as [`Vault::trace`] traces it. The format is told by the
    /// path's extension and the content; errors name the file `file_name`.
    pub fn trace_file(
        &self,
        path: &std::path::Path,
        file_name: &str,
        bound: f64,
    ) -> Result<TraceReport, VaultError> {
        use std::io::Read;
        crate::jobs::check_bound(bound)?;
        let open = || std::fs::File::open(path).map_err(VaultError::io(path));
        let mut head = Vec::new();
        open()?
            .take(TEXT_SNIFF as u64)
            .read_to_end(&mut head)
            .map_err(VaultError::io(path))?;
        if may_be_text(&head) {
            let bytes = std::fs::read(path).map_err(VaultError::io(path))?;
            return self.trace_owned(bytes, file_name, bound);
        }
        let sha = crate::vault::file_sha256(path)?;
        // A decoding error names the file as the caller knows it, not the path read.
        let renamed = |e: VaultError| match e {
            VaultError::Media(m) => VaultError::Media(m.renamed(std::path::Path::new(file_name))),
            other => other,
        };
        let stream =
            tracemark_media::open_stream(path, &self.limits).map_err(|e| renamed(e.into()))?;
        let report = self.audio_report(stream, sha, bound).map_err(renamed)?;
        if crate::vault::file_sha256(path)? != sha {
            return Err(VaultError::Invalid {
                what: "leak",
                reason: format!(
                    "{} changed while it was being traced; trace it again once it is complete",
                    path.display()
                ),
            });
        }
        self.record_trace(report)
    }

    /// Records a finished report in the log.
    pub(crate) fn record_trace(&self, report: TraceReport) -> Result<TraceReport, VaultError> {
        match self
            .store
            .append(
                report.created_at,
                vec![self.trace_draft(&report)],
                &self.signer,
            )?
            .pop()
        {
            Some(Stored::Trace(_)) => Ok(report),
            Some(other) => Err(unexpected(&other)),
            None => Err(VaultError::Invalid {
                what: "store answer",
                reason: "the store returned nothing for the trace".into(),
            }),
        }
    }

    /// Analyses a leaked file (named `file_name`, a hint only) into a report with a fresh
    /// trace id and the clock's time; records nothing. Text is traced as text.
    pub(crate) fn trace_report(
        &self,
        bytes: Vec<u8>,
        file_name: &str,
        bound: f64,
    ) -> Result<TraceReport, VaultError> {
        crate::jobs::check_bound(bound)?;
        if crate::looks_like_text(&bytes) {
            return self.stamp(self.text_report(&bytes, bound)?);
        }
        let leak_sha256 = Sha256::digest(&bytes);
        let ext = hint(file_name);
        let stream = tracemark_media::open_stream_bytes(bytes, ext.as_deref(), &self.limits)?;
        self.audio_report(stream, leak_sha256, bound)
    }

    /// [`Vault::trace_report`] of an uploaded leak sealed in chunks (its hash `sha`
    /// checked), read a chunk at a time: the file is never held, only its 8 kHz mix. A leak
    /// that may be text (its first bytes are) is read whole and traced as
    /// `trace_report` traces it.
    pub(crate) fn trace_report_sealed(
        &self,
        mut sealed: crate::sealed::SealedBlob,
        sha: &Sha256,
        file_name: &str,
        bound: f64,
    ) -> Result<TraceReport, VaultError> {
        use std::io::{Read, Seek, SeekFrom};
        crate::jobs::check_bound(bound)?;
        let io = |source| VaultError::Io {
            path: std::path::PathBuf::from(format!("<uploaded leak {file_name}>")),
            source,
        };
        let mut head = Vec::new();
        (&mut sealed)
            .take(TEXT_SNIFF as u64)
            .read_to_end(&mut head)
            .map_err(io)?;
        sealed.seek(SeekFrom::Start(0)).map_err(io)?;
        if may_be_text(&head) {
            let mut bytes = Vec::new();
            sealed.read_to_end(&mut bytes).map_err(io)?;
            return self.trace_report(bytes, file_name, bound);
        }
        let ext = hint(file_name);
        let stream =
            tracemark_media::open_stream_source(Box::new(sealed), ext.as_deref(), &self.limits)?;
        self.audio_report(stream, *sha, bound)
    }

    /// The report of a leak that is audio, decoded from `stream`.
    fn audio_report(
        &self,
        stream: tracemark_media::AudioStream,
        leak_sha256: Sha256,
        bound: f64,
    ) -> Result<TraceReport, VaultError> {
        // Everything a trace reads of the leak is its 8 kHz mono mix (the fingerprint, both
        // detectors and the finding's simulation bring the leak there first, and a mono
        // 8 kHz buffer is its own mix): the file is decoded block by block straight into
        // it, never held at its own rate and channels (a 4-hour 96 kHz stereo upload would
        // be 11 GB of samples; its mix is 460 MB).
        let mut mix = Vec::new();
        let (frames, rate, _) = self.stream_mix(stream, |piece| {
            mix.extend_from_slice(piece);
            Ok(())
        })?;
        let leak = AudioBuffer::mono(SampleRate::try_new(DETECT_RATE)?, mix)?;
        let mut report = self.analyse(&leak, frames as f64 / f64::from(rate), bound)?;
        report.leak_sha256 = leak_sha256;
        self.stamp(report)
    }

    /// The standings of a shortlist: the accused and the leading recipients (those
    /// with any evidence, strongest first, at most [`STANDINGS_SHOWN`] besides the
    /// accused), most suspicious first.
    pub(crate) fn standings(
        &self,
        shortlist: &Shortlist,
        recipient_ids: &[RecipientId],
        payload_match: impl Fn(&RecipientId) -> bool,
    ) -> Result<Vec<RecipientStanding>, VaultError> {
        let names: std::collections::HashMap<RecipientId, String> = self
            .recipients()?
            .into_iter()
            .map(|r| (r.id, r.name))
            .collect();
        let accused: std::collections::HashSet<usize> =
            shortlist.accused.iter().map(|a| a.index).collect();
        let mut seen = std::collections::HashSet::new();
        let mut standings: Vec<RecipientStanding> = shortlist
            .accused
            .iter()
            .chain(&shortlist.leading)
            .filter(|s| seen.insert(s.index))
            .map(|s| {
                let id = &recipient_ids[s.index];
                RecipientStanding {
                    id: id.clone(),
                    name: names.get(id).cloned().unwrap_or_else(|| id.to_string()),
                    score: s.score,
                    score_function: s.function.to_string(),
                    p_value: s.tail.bound(),
                    corrected_p_value: s.corrected,
                    accused: accused.contains(&s.index),
                    payload_match: payload_match(id),
                    p_value_audio: None,
                    p_value_text: None,
                }
            })
            .collect();
        standings.sort_by(|a, b| {
            a.corrected_p_value
                .total_cmp(&b.corrected_p_value)
                .then(b.score.total_cmp(&a.score))
        });
        Ok(standings)
    }

    /// The draft that records `report`.
    pub(crate) fn trace_draft(&self, report: &TraceReport) -> Draft {
        Draft::Trace {
            id: report.id.clone(),
            leak_sha256: report.leak_sha256,
            verdict: report.verdict(),
            report_json: report.to_json_string(),
        }
    }

    /// A stored trace: its row (with the JSON report exactly as logged).
    pub fn trace_row(&self, id: &str) -> Result<TraceRow, VaultError> {
        let parsed: TraceId = id.parse()?;
        self.store
            .trace(&parsed)?
            .ok_or_else(|| VaultError::NotFound {
                kind: "trace",
                name: id.to_string(),
            })
    }

    /// Every stored trace.
    pub fn traces(&self) -> Result<Vec<TraceRow>, VaultError> {
        Ok(self.store.traces()?)
    }

    /// The report on `leak`, audio of `leak_duration_s` seconds in the file (a trace hands
    /// its 8 kHz mono mix; any rate and channels give the same report).
    fn analyse(
        &self,
        leak: &AudioBuffer,
        leak_duration_s: f64,
        bound: f64,
    ) -> Result<TraceReport, VaultError> {
        let mut report = crate::transcripts::empty_report(bound, Medium::Audio);
        report.leak_duration_s = leak_duration_s;
        report.segments = vec![ReportSegment {
            genuine: false,
            leak_start_s: 0.0,
            leak_end_s: leak_duration_s,
            original: None,
        }];
        let recordings = self.recordings()?;
        let leak_fp = match (leak.rate().hz(), leak.channels()) {
            // The mix a trace hands is the fingerprint's signal as it is.
            (tracemark_fingerprint::SAMPLE_RATE_HZ, [mono]) => fingerprint(mono)?,
            _ => fingerprint(&resample(
                &leak.downmix(),
                leak.rate().hz(),
                tracemark_fingerprint::SAMPLE_RATE_HZ,
            )?)?,
        };
        let index = self.fingerprint_index_of(recordings.len())?;
        let key = self.secret.watermark_key();

        // Which recording? The fingerprint first; failing that, a blind payload.
        let by_fingerprint = index
            .query(&leak_fp)
            .into_iter()
            .find(|c| c.is_match())
            .and_then(|c| {
                recordings
                    .iter()
                    .find(|r| r.id.number() == c.recording_id)
                    .cloned()
            });
        let recording = match by_fingerprint {
            Some(r) => {
                report.identified_by = "fingerprint".into();
                r
            }
            None => {
                let blind = detect_blind_searching_speed(leak, &key)?;
                let Some(payload) = blind.payload else {
                    return Ok(report);
                };
                let issued = self
                    .store
                    .issuances_by_payload(&PayloadBytes(payload.bytes()))?;
                let Some(i) = issued
                    .iter()
                    .find(|i| i.format != crate::transcripts::TEXT_FORMAT)
                else {
                    return Ok(report);
                };
                report.identified_by = "blind-watermark".into();
                report.payload = Some(payload.to_hex());
                self.recording(i.recording_id.as_str())?
            }
        };
        let Some(original_fp) = index.fingerprint(recording.id.number()) else {
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

        // Read the codeword symbols over the genuine stretches, against the stretch of the
        // original they matched (the detection reference: never the whole recording).
        let matched: Vec<(f64, f64)> = report
            .segments
            .iter()
            .filter(|s| s.genuine)
            .filter_map(|s| s.original)
            .collect();
        let original = if genuine.is_empty() {
            None
        } else {
            let from = matched.iter().map(|m| m.0).fold(f64::INFINITY, f64::min);
            let to = matched.iter().map(|m| m.1).fold(0.0f64, f64::max);
            let (from, to) = if matched.is_empty() {
                (0.0, recording.duration_s)
            } else {
                (from, to)
            };
            Some(self.reference_excerpt(&recording, from, to, crate::reference::READ_WHOLE_S)?)
        };
        let detection = original
            .as_ref()
            .and_then(|o| detect_informed_excerpt(leak, &o.view(), &key, &genuine).ok());
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

        // Score every recipient this recording's audio was issued to.
        let issued = self.store.issuances_of(&recording.id)?;
        let recipient_ids = crate::transcripts::issued_to(&issued, false);
        if recipient_ids.is_empty() {
            return Ok(report);
        }
        // Every issued codeword is screened on the observed slots, drawn straight from its
        // seed (tardos' Screen: exact bounds for the accused and the leaders only), split
        // over the machine's threads.
        let observations = Observations::try_new(soft, cells)?;
        let config =
            AccusationConfig::new(bound)?.with_recordings_tested(recordings.len().max(1) as u64);
        let functions = default_score_functions(&observations);
        let screen = Screen::new(
            &observations,
            &biases,
            &functions,
            recipient_ids.len(),
            &config,
            STANDINGS_SHOWN,
        )?;
        let seeds: Vec<[u8; 32]> = recipient_ids
            .iter()
            .map(|r| self.codeword_seed(&recording, r))
            .collect();
        let shortlist = screen_seeds(&screen, &seeds)?;
        report.tests = shortlist.tests;
        report.bound = shortlist.bound;
        report.recipients_scored = shortlist.recipients;
        // Whose copies carry the decoded blind payload: one recipient, when payloads were
        // drawn per copy; since copies are assembled every copy of a recording carries the
        // recording's payload, which then tells nobody apart and marks no one.
        let shared = self.recording_payload(&recording).to_hex();
        let payload_holders: std::collections::HashSet<&RecipientId> = match &report.payload {
            Some(p) if *p != shared => issued
                .iter()
                .filter(|i| i.payload.to_hex() == *p)
                .map(|i| &i.recipient_id)
                .collect(),
            _ => std::collections::HashSet::new(),
        };
        let standings = self.standings(&shortlist, &recipient_ids, |id| {
            payload_holders.contains(id)
        })?;
        report.standings = standings;
        // Nobody accused: marked but unresolved, or no issued copy's mark and its power.
        let evidence = crate::finding::Evidence {
            leak,
            original: original.as_ref(),
            key: &key,
            biases: &biases,
            observations: &observations,
            recipients: recipient_ids.len(),
            bound,
            recordings: recordings.len().max(1) as u64,
            label: recording.id.to_string(),
        };
        report.finding = Some(crate::finding::audio_finding(&report, &evidence));
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::vault;
    use tracemark_media::{EncodeOptions, Format, Limits, decode_bytes, encode_bytes};

    /// `leak` stored as an upload is (sealed in chunks), and opened for its trace job.
    fn seal_leak(v: &Vault, leak: &[u8]) -> (crate::sealed::SealedBlob, Sha256) {
        let sha = Sha256::digest(leak);
        v.put_sealed(&tracemark_store::BlobKey::leak(&sha), leak, &sha)
            .expect("seal");
        let sealed = v
            .sealed_leak(&sha)
            .expect("open")
            .expect("sealed in chunks");
        (sealed, sha)
    }

    /// A trace reads a leak through its streamed 8 kHz mix; reading the whole decoded
    /// file at its own rate and channels gives the same report, field for field: for a
    /// stereo MP3 leak of a copy (someone accused) and of the unmarked original (nobody,
    /// with the finding's power).
    #[test]
    fn a_leak_read_as_its_streamed_mix_gives_the_report_of_the_whole_decoded_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let v = vault(dir.path());
        let names: Vec<String> = ["Ann", "Ben", "Cal"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        v.add_recipients(&names).expect("recipients");
        let speech =
            tracemark_testkit::corpus_or_excerpt("librivox-en-16k.flac", 60.0, (0.0, 60.0));
        let rate = speech.rate();
        let x = speech.downmix();
        let left: Vec<f32> = x.iter().map(|s| s * 0.9).collect();
        let right: Vec<f32> = (0..x.len())
            .map(|i| x[i.saturating_sub(40)] * 0.6)
            .collect();
        let stereo = AudioBuffer::try_new(rate, vec![left, right]).expect("stereo");
        let flac = encode_bytes(&stereo, Format::Flac, &EncodeOptions::default()).expect("flac");
        let rec = v.ingest(&flac, "talk.flac", "Talk").expect("ingest");
        let copies = v
            .issue(
                rec.id.as_str(),
                &names,
                crate::Delivery::parse("flac").expect("flac"),
                |_, _| {},
            )
            .expect("issue");
        let r = rate.hz() as usize;
        let mp3 = |audio: &AudioBuffer| {
            let cut = audio.slice(12 * r, 42 * r);
            encode_bytes(
                &cut,
                Format::Mp3,
                &EncodeOptions {
                    bitrate_kbps: Some(64),
                },
            )
            .expect("mp3")
        };
        let ben = decode_bytes(&copies[1].bytes, Some("flac"), &Limits::default()).expect("copy");
        for (leak, accused) in [(mp3(&ben), vec!["Ben"]), (mp3(&stereo), vec![])] {
            let streamed = v
                .trace_report(leak.clone(), "leak.mp3", 1e-6)
                .expect("trace");
            let whole = decode_bytes(&leak, Some("mp3"), &Limits::default()).expect("decode");
            assert_eq!(whole.channels().len(), 2);
            let mut read_whole = v
                .analyse(&whole, whole.duration_s(), 1e-6)
                .expect("analyse");
            read_whole.id = streamed.id.clone();
            read_whole.created_at = streamed.created_at;
            read_whole.leak_sha256 = streamed.leak_sha256;
            assert_eq!(
                streamed
                    .accused()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>(),
                accused
            );
            assert_eq!(streamed, read_whole);
            // An upload sealed in chunks, traced a chunk at a time: the same report.
            let (sealed, sha) = seal_leak(&v, &leak);
            let mut from_blob = v
                .trace_report_sealed(sealed, &sha, "leak.mp3", 1e-6)
                .expect("trace the sealed leak");
            from_blob.id = streamed.id.clone();
            from_blob.created_at = streamed.created_at;
            assert_eq!(from_blob, streamed);
        }
        // And a text upload is still traced as text.
        let text = b"Nothing in this article was said on the call.".to_vec();
        let (sealed, sha) = seal_leak(&v, &text);
        let mut from_blob = v
            .trace_report_sealed(sealed, &sha, "article.txt", 1e-6)
            .expect("trace the sealed text");
        let mut direct = v
            .trace_report(text, "article.txt", 1e-6)
            .expect("trace the text");
        from_blob.id = direct.id.clone();
        from_blob.created_at = direct.created_at;
        direct.leak_sha256 = from_blob.leak_sha256;
        assert_eq!(from_blob, direct);
    }

    #[test]
    fn a_head_is_refused_as_text_only_for_what_the_whole_file_would_fail_on() {
        assert!(may_be_text(b"Minutes of the call\n"));
        assert!(
            may_be_text(b"1234 5678"),
            "no letter yet: what follows may have one"
        );
        // "é" (c3 a9) cut after its first byte: the rest may complete it.
        assert!(may_be_text(b"caf\xc3"));
        assert!(
            !may_be_text(b"caf\xc3("),
            "an invalid sequence inside the head"
        );
        assert!(!may_be_text(b"RIFF\x24\x00\x00\x00WAVE"), "a NUL");
        assert!(!may_be_text(b"ID3\x04"), "a control character");
        assert!(!may_be_text(&[0xff, 0xfb, 0x90]), "not UTF-8");
        // Whatever follows a refused head, the whole file is not text.
        for head in [&b"caf\xc3("[..], b"ID3\x04", &[0xff, 0xfb]] {
            let whole = [head, b" and then plain words"].concat();
            assert!(!crate::looks_like_text(&whole));
        }
    }
}
