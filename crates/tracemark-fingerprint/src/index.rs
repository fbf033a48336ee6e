//! The searchable index: recordings' fingerprints and the landmark hash table over them.

use std::collections::HashMap;

use crate::FingerprintError;
use crate::hash::{Family, Hypothesis, Pair, hash, hypotheses, pairs};
use crate::peaks::{Fingerprint, SAMPLE_RATE_HZ, TICK_SAMPLES};
use crate::stats::poisson_tail;

/// Offset histogram bin, ticks: one 16 ms frame. A match is counted in a window of three
/// bins (48 ms) to absorb the frame jitter of peaks in re-encoded audio.
pub(crate) const BIN_TICKS: i64 = 4;
/// A candidate is reported as a match only when its chance probability, corrected for every
/// recording, speed hypothesis and offset tried, is below this (one false identification
/// per million queries of unrelated audio, under the Poisson model of chance hits).
pub const MATCH_MAX_FALSE_P: f64 = 1e-6;
/// ... and when at least this many distinct hashes agree (guards the Poisson model where
/// hits are few and clustered, e.g. repeated tones).
pub const MATCH_MIN_HASHES: u32 = 10;
/// A match under the identity hypothesis at or below this corrected false-match
/// probability ends the search there ([`Index::query`]): a million times below
/// [`MATCH_MAX_FALSE_P`], so a clip that merely passes the match test is still searched
/// under every speed and tempo, and the best-fitting one is found.
pub const EARLY_MATCH_P: f64 = 1e-12;
/// Recordings whose hits get a fitted line, by window count: twice the candidates
/// returned, so the ranking by inliers has room to reorder them.
const FITTED_CANDIDATES: usize = 2 * MAX_CANDIDATES;
/// Candidates returned by [`Index::query`].
const MAX_CANDIDATES: usize = 10;
/// Inlier tolerance around the fitted time line, ticks (+/-32 ms).
const INLIER_TICKS: f32 = 8.0;

/// Hasher for the hash table's keys, which are already well-mixed landmark hashes: one
/// multiply (Fibonacci hashing, Knuth TAOCP vol. 3, 6.4) instead of SipHash, whose
/// flooding resistance buys nothing for keys an attacker cannot choose per bucket.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, key: u32) {
        self.0 = u64::from(key).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type KeyMap<V> = HashMap<u32, V, std::hash::BuildHasherDefault<KeyHasher>>;

/// Seconds per tick.
pub(crate) const TICK_S: f64 = TICK_SAMPLES as f64 / SAMPLE_RATE_HZ as f64;

/// One stored posting: which recording, and the anchor time in it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Posting {
    pub rec: u32,
    pub tick: u32,
}

/// A hash match between a clip pair and a stored pair.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hit {
    /// Anchor time in the clip, ticks.
    pub q_tick: u32,
    /// Pair span in the clip, ticks.
    pub q_span: f32,
    /// Anchor time in the original, ticks.
    pub o_tick: u32,
}

/// How the leak's time axis relates to the original's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// Resampled: time and pitch scaled together (tape speed).
    Speed,
    /// Time-stretched with pitch kept (tempo).
    Tempo,
    /// Pitch-shifted with time kept.
    Pitch,
}

/// One ranked answer of [`Index::query`].
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The recording.
    pub recording_id: u64,
    /// Distinct clip hashes consistent with the fitted time mapping: the ranking score.
    pub score: u32,
    /// Where leak time 0 falls in the original, seconds (may be negative).
    pub offset_s: f64,
    /// Original seconds per leak second (1.05: the leak plays 5 % fast).
    pub speed: f64,
    /// Whether the pitch moved with the speed, was kept, or moved alone.
    pub change: Change,
    /// Original Hz per leak Hz under the winning hypothesis (1 / `speed` for a speed
    /// change, 1 for a tempo change; a pitch shift up by a semitone gives 2^(-1/12)).
    pub freq_scale: f64,
    /// Consistent hashes in the best 48 ms offset window (the statistic tested).
    pub window_hashes: u32,
    /// How many the best window would hold by chance (Poisson mean for an unrelated clip).
    pub expected_by_chance: f64,
    /// Probability that an unrelated clip yields a window this full anywhere in the index,
    /// under any hypothesis (Poisson tail, Bonferroni-corrected).
    pub false_match_p: f64,
}

impl Candidate {
    /// Whether the evidence names this recording: see [`MATCH_MAX_FALSE_P`] and
    /// [`MATCH_MIN_HASHES`].
    pub fn is_match(&self) -> bool {
        self.false_match_p <= MATCH_MAX_FALSE_P && self.window_hashes >= MATCH_MIN_HASHES
    }
}

/// A fingerprint index over recordings. Serialise with [`Index::to_bytes`].
#[derive(Debug, Clone, Default)]
pub struct Index {
    pub(crate) recordings: Vec<(u64, Fingerprint)>,
    by_id: HashMap<u64, u32>,
    postings: KeyMap<Vec<Posting>>,
}

impl Index {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a recording's fingerprint under `recording_id`.
    pub fn add(
        &mut self,
        recording_id: u64,
        fingerprint: Fingerprint,
    ) -> Result<(), FingerprintError> {
        if self.by_id.contains_key(&recording_id) {
            return Err(FingerprintError::DuplicateRecording { id: recording_id });
        }
        let rec = u32::try_from(self.recordings.len()).map_err(|_| FingerprintError::Limit {
            what: "recordings in one index",
            limit: u64::from(u32::MAX),
            found: self.recordings.len() as u64,
        })?;
        let identity = hypotheses()[0];
        for pair in pairs(&fingerprint) {
            if let Some(key) = hash(&pair, &identity) {
                self.postings.entry(key).or_default().push(Posting {
                    rec,
                    tick: pair.anchor_tick,
                });
            }
        }
        self.by_id.insert(recording_id, rec);
        self.recordings.push((recording_id, fingerprint));
        Ok(())
    }

    /// Number of recordings.
    pub fn len(&self) -> usize {
        self.recordings.len()
    }

    /// Whether the index holds no recording.
    pub fn is_empty(&self) -> bool {
        self.recordings.is_empty()
    }

    /// Number of stored hashes (postings).
    pub fn hash_count(&self) -> usize {
        self.postings.values().map(Vec::len).sum()
    }

    /// The fingerprint stored for `recording_id`.
    pub fn fingerprint(&self, recording_id: u64) -> Option<&Fingerprint> {
        let &rec = self.by_id.get(&recording_id)?;
        self.recordings.get(rec as usize).map(|(_, fp)| fp)
    }

    /// Ranks the recordings a clip may come from, best first (at most ten, each with at
    /// least two consistent hashes). Check [`Candidate::is_match`] on the first.
    ///
    /// Most leaks keep their speed, so the identity hypothesis is searched first; when it
    /// alone already names a recording at a false-match probability of at most
    /// [`EARLY_MATCH_P`] (corrected, like every candidate, for all the hypotheses and
    /// offsets the full search would test) and the line fitted through its hits runs at
    /// speed 1 (within 0.2 %, half a speed step), that ranking is returned without searching
    /// the other hypotheses, whose cost grows with the postings of every recording.
    pub fn query(&self, clip: &Fingerprint) -> Vec<Candidate> {
        let clip_pairs = pairs(clip);
        let hyps = hypotheses();
        let tests = self.tests(clip, &hyps);
        let identity = self.rank(clip, &clip_pairs, &hyps, 0..1, tests);
        // The fitted line must agree that the clip runs at the original's speed (within
        // half a speed step): a changed speed or tempo that still left matching hashes is
        // searched in full, so its kind and factor are the best hypothesis's.
        if identity.first().is_some_and(|c| {
            c.is_match() && c.false_match_p <= EARLY_MATCH_P && (c.speed - 1.0).abs() <= 0.002
        }) {
            return identity;
        }
        self.rank(clip, &clip_pairs, &hyps, 0..hyps.len(), tests)
    }

    /// [`Index::query`] without the early end: every hypothesis searched (for tests and
    /// benchmarks that compare the two).
    #[doc(hidden)]
    pub fn query_exhaustive(&self, clip: &Fingerprint) -> Vec<Candidate> {
        let clip_pairs = pairs(clip);
        let hyps = hypotheses();
        let tests = self.tests(clip, &hyps);
        self.rank(clip, &clip_pairs, &hyps, 0..hyps.len(), tests)
    }

    /// The candidates under the hypotheses `which`, their p-values corrected for `tests`.
    fn rank(
        &self,
        clip: &Fingerprint,
        clip_pairs: &[Pair],
        hyps: &[Hypothesis],
        which: std::ops::Range<usize>,
        tests: f64,
    ) -> Vec<Candidate> {
        let mut best: HashMap<u32, (u32, usize, i64, u64)> = HashMap::new();
        for hi in which {
            let h = &hyps[hi];
            let mut votes: Vec<(u32, i64, u32)> = Vec::new();
            for pair in clip_pairs {
                let Some(key) = hash(pair, h) else { continue };
                let q = (pair.anchor_tick as f32 * h.time_scale).round() as i64;
                for p in self.postings.get(&key).into_iter().flatten() {
                    let offset = i64::from(p.tick) - q;
                    votes.push((p.rec, offset.div_euclid(BIN_TICKS), pair.anchor_tick));
                }
            }
            votes.sort_unstable();
            votes.dedup();
            for (rec, bin, hits) in best_bins(&votes) {
                let count = bin_count(&votes, rec, bin);
                let entry = best.entry(rec).or_insert((0, hi, bin, hits));
                if count > entry.0 {
                    *entry = (count, hi, bin, hits);
                }
            }
        }
        // Lines are fitted only for the recordings with the fullest windows (the match
        // test is on the window count): at hundreds of recording-hours nearly every
        // recording has two chance hits, and fitting each would cost more than the search.
        let mut best: Vec<(u32, (u32, usize, i64, u64))> = best
            .into_iter()
            .filter(|&(_, (count, ..))| count >= 2)
            .collect();
        best.sort_unstable_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(&b.0)));
        best.truncate(FITTED_CANDIDATES);
        let fitted: Vec<(u32, usize)> = best.iter().map(|&(rec, (_, hi, ..))| (rec, hi)).collect();
        let fitted_hits = self.candidate_hits(&fitted, clip_pairs, hyps);
        let mut out: Vec<Candidate> = best
            .into_iter()
            .map(|(rec, (count, hi, bin, hits))| {
                let (id, fp) = &self.recordings[rec as usize];
                let lambda = hits as f64 * 3.0 / self.offset_bins(fp, clip, &hyps[hi]).max(1.0);
                let p = (poisson_tail(u64::from(count), lambda) * tests).min(1.0);
                let fit = fit_line(rec, &fitted_hits, hyps, hi, bin);
                Candidate {
                    recording_id: *id,
                    score: fit.inliers,
                    offset_s: fit.offset_ticks * TICK_S,
                    speed: fit.slope,
                    change: match hyps[hi].family {
                        Family::Tempo => Change::Tempo,
                        Family::Pitch => Change::Pitch,
                        Family::Identity | Family::Speed => Change::Speed,
                    },
                    freq_scale: match hyps[hi].family {
                        Family::Speed => 1.0 / fit.slope,
                        _ => f64::from(hyps[hi].freq_scale),
                    },
                    window_hashes: count,
                    expected_by_chance: lambda,
                    false_match_p: p,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            b.score
                .cmp(&a.score)
                .then(a.false_match_p.total_cmp(&b.false_match_p))
                .then(a.recording_id.cmp(&b.recording_id))
        });
        out.truncate(MAX_CANDIDATES);
        out
    }

    /// Hypotheses tested by a full search: offset bins over every recording and every
    /// hypothesis (what each candidate's p-value is corrected for).
    fn tests(&self, clip: &Fingerprint, hyps: &[Hypothesis]) -> f64 {
        hyps.iter()
            .map(|h| {
                self.recordings
                    .iter()
                    .map(|(_, fp)| self.offset_bins(fp, clip, h))
                    .sum::<f64>()
            })
            .sum()
    }

    /// Offset bins a clip could occupy against one recording under `h`.
    fn offset_bins(&self, fp: &Fingerprint, clip: &Fingerprint, h: &Hypothesis) -> f64 {
        (f64::from(fp.ticks()) + f64::from(clip.ticks()) * f64::from(h.time_scale))
            / BIN_TICKS as f64
            + 1.0
    }

    /// Every hit of the clip's pairs on recording `rec` under `h`.
    pub(crate) fn hits(&self, rec: u32, clip_pairs: &[Pair], h: &Hypothesis) -> Vec<Hit> {
        let mut out = Vec::new();
        for pair in clip_pairs {
            let Some(key) = hash(pair, h) else { continue };
            for p in self.postings.get(&key).into_iter().flatten() {
                if p.rec == rec {
                    out.push(Hit {
                        q_tick: pair.anchor_tick,
                        q_span: pair.dt_ticks,
                        o_tick: p.tick,
                    });
                }
            }
        }
        out
    }

    /// The hits of each candidate `(rec, hi)` under every hypothesis its line is fitted
    /// with ([`fit_line`]: `hi` and its neighbours of the same family), by recording and
    /// hypothesis: one pass over the clip's postings per hypothesis for all candidates
    /// together, where a pass per candidate and hypothesis cost twenty times the search at
    /// a hundred recording-hours. Each list is in clip-pair order, as [`Self::hits`] gives.
    fn candidate_hits(
        &self,
        candidates: &[(u32, usize)],
        clip_pairs: &[Pair],
        hyps: &[Hypothesis],
    ) -> HashMap<(u32, usize), Vec<Hit>> {
        let mut wanted: Vec<usize> = candidates
            .iter()
            .flat_map(|&(_, hi)| fit_hypotheses(hyps, hi))
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let recs: KeyMap<()> = candidates.iter().map(|&(rec, _)| (rec, ())).collect();
        let mut out: HashMap<(u32, usize), Vec<Hit>> = HashMap::new();
        for gi in wanted {
            let g = &hyps[gi];
            for pair in clip_pairs {
                let Some(key) = hash(pair, g) else { continue };
                for p in self.postings.get(&key).into_iter().flatten() {
                    if recs.contains_key(&p.rec) {
                        out.entry((p.rec, gi)).or_default().push(Hit {
                            q_tick: pair.anchor_tick,
                            q_span: pair.dt_ticks,
                            o_tick: p.tick,
                        });
                    }
                }
            }
        }
        out
    }
}

/// The hypotheses a line is fitted under for a candidate found under `hi`: `hi` and its
/// neighbours of the same family within one speed step (1.2 %), in the table's order.
fn fit_hypotheses(hyps: &[Hypothesis], hi: usize) -> impl Iterator<Item = usize> + '_ {
    let h = hyps[hi];
    hyps.iter()
        .enumerate()
        .filter(move |(_, g)| g.near(&h, FIT_STEP))
        .map(|(gi, _)| gi)
}

/// One step of the speed search, as a ratio.
const FIT_STEP: f32 = 1.012;

/// Least-squares line o = offset + slope * q through the hits near the best bin, under
/// the best hypothesis and its neighbours of the same family, refitted twice; `hits` by
/// recording and hypothesis ([`Index::candidate_hits`]).
pub(crate) fn fit_line(
    rec: u32,
    hits: &HashMap<(u32, usize), Vec<Hit>>,
    hyps: &[Hypothesis],
    hi: usize,
    bin: i64,
) -> LineFit {
    let h = hyps[hi];
    let hits: Vec<Hit> = fit_hypotheses(hyps, hi)
        .flat_map(|gi| hits.get(&(rec, gi)).into_iter().flatten().copied())
        .collect();
    let centre = (bin * BIN_TICKS + BIN_TICKS / 2) as f32;
    let mut fit = LineFit {
        offset_ticks: f64::from(centre),
        slope: f64::from(h.time_scale),
        inliers: 0,
    };
    for tolerance in [2.0 * INLIER_TICKS, INLIER_TICKS, INLIER_TICKS] {
        let inliers: Vec<(f64, f64)> = hits
            .iter()
            .map(|x| (f64::from(x.q_tick), f64::from(x.o_tick)))
            .filter(|&(q, o)| (o - fit.offset_ticks - fit.slope * q).abs() <= f64::from(tolerance))
            .collect();
        let mut distinct: Vec<u64> = inliers.iter().map(|&(q, _)| q as u64).collect();
        distinct.sort_unstable();
        distinct.dedup();
        fit.inliers = distinct.len() as u32;
        if let Some((a, b)) = least_squares(&inliers)
            && (0.85..1.18).contains(&b)
        {
            fit.offset_ticks = a;
            fit.slope = b;
        }
    }
    fit
}

/// Result of [`fit_line`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct LineFit {
    pub offset_ticks: f64,
    pub slope: f64,
    pub inliers: u32,
}

fn least_squares(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    if points.len() < 3 {
        return None;
    }
    let n = points.len() as f64;
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), &(x, y)| (a + x, b + y));
    let (mx, my) = (sx / n, sy / n);
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for &(x, y) in points {
        sxx += (x - mx) * (x - mx);
        sxy += (x - mx) * (y - my);
    }
    if sxx < 1e3 {
        // Hits span under ~0.1 s: keep the hypothesis's slope, fit the offset only.
        return None;
    }
    let b = sxy / sxx;
    Some((my - b * mx, b))
}

/// Distinct clip anchors in bins bin-1..=bin+1 for `rec` (votes sorted, deduplicated).
fn bin_count(votes: &[(u32, i64, u32)], rec: u32, bin: i64) -> u32 {
    let lo = votes.partition_point(|v| (v.0, v.1) < (rec, bin - 1));
    let hi = votes.partition_point(|v| (v.0, v.1) <= (rec, bin + 1));
    let mut anchors: Vec<u32> = votes[lo..hi].iter().map(|v| v.2).collect();
    anchors.sort_unstable();
    anchors.dedup();
    anchors.len() as u32
}

/// For each recording with votes: the bin whose three-bin window is fullest (by raw vote
/// count; [`bin_count`] then counts distinct anchors), and the recording's total votes.
fn best_bins(votes: &[(u32, i64, u32)]) -> Vec<(u32, i64, u64)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < votes.len() {
        let rec = votes[i].0;
        let end = i + votes[i..].partition_point(|v| v.0 == rec);
        // Run-length counts per bin.
        let mut bins: Vec<(i64, u32)> = Vec::new();
        for v in &votes[i..end] {
            match bins.last_mut() {
                Some((b, c)) if *b == v.1 => *c += 1,
                _ => bins.push((v.1, 1)),
            }
        }
        let mut best = (0u32, bins[0].0);
        for (j, &(b, c)) in bins.iter().enumerate() {
            let mut sum = c;
            if j > 0 && bins[j - 1].0 == b - 1 {
                sum += bins[j - 1].1;
            }
            if j + 1 < bins.len() && bins[j + 1].0 == b + 1 {
                sum += bins[j + 1].1;
            }
            if sum > best.0 {
                best = (sum, b);
            }
        }
        out.push((rec, best.1, (end - i) as u64));
        i = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peaks::Peak;

    /// Random peaks over `seconds`, seeded.
    fn random(seed: u64, seconds: u32) -> Fingerprint {
        let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let ticks = seconds * 250;
        let peaks = (0..seconds * 30)
            .map(|_| Peak {
                tick: (next() % u64::from(ticks)) as u32,
                quarter_hz: (1200 + next() % (3100 * 4)) as u16,
            })
            .collect();
        Fingerprint::from_peaks(peaks, ticks)
    }

    /// The hits gathered for all candidates in one pass per hypothesis are, list by list
    /// and in order, what a pass per candidate and hypothesis finds.
    #[test]
    fn hits_gathered_for_all_candidates_are_each_candidates_own() {
        let mut index = Index::new();
        for r in 0..6 {
            index.add(r, random(r + 1, 120)).expect("add");
        }
        // A clip: 10 s of recording 2 from 30 s, and some of recording 4's peaks.
        let own = &index.recordings[2].1;
        let mut peaks: Vec<Peak> = own
            .peaks()
            .iter()
            .filter(|p| (7_500..10_000).contains(&p.tick))
            .map(|p| Peak {
                tick: p.tick - 7_500,
                quarter_hz: p.quarter_hz,
            })
            .collect();
        peaks.extend(index.recordings[4].1.peaks().iter().take(200).copied());
        let clip = Fingerprint::from_peaks(peaks, 2_500);
        let clip_pairs = pairs(&clip);
        let hyps = hypotheses();
        let candidates = [(2u32, 0usize), (4, 0), (1, hyps.len() / 2), (5, 7)];
        let gathered = index.candidate_hits(&candidates, &clip_pairs, &hyps);
        let mut lists = 0;
        for &(rec, hi) in &candidates {
            for gi in fit_hypotheses(&hyps, hi) {
                let own = index.hits(rec, &clip_pairs, &hyps[gi]);
                let got = gathered.get(&(rec, gi)).map_or(&[][..], Vec::as_slice);
                assert_eq!(got.len(), own.len(), "rec {rec}, hypothesis {gi}");
                for (a, b) in got.iter().zip(&own) {
                    assert_eq!((a.q_tick, a.o_tick), (b.q_tick, b.o_tick));
                    assert_eq!(a.q_span.to_bits(), b.q_span.to_bits());
                }
                lists += usize::from(!own.is_empty());
            }
        }
        assert!(lists >= 2, "the clip hits its recordings");
        // And the clip is still named.
        let found = index.query(&clip);
        assert_eq!(found.first().map(|c| c.recording_id), Some(2));
    }
}
