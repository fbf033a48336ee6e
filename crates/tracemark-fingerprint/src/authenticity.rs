//! The authenticity map: which stretches of a leak match which stretch of the original,
//! which match nothing, and which parts of the original the leak skips.
//!
//! Method: the whole leak is first matched against the original to fix the speed (or
//! tempo) factor. Every hash hit under that factor then carries an offset (original time
//! minus scaled leak time). One-second windows, a quarter second apart, each vote for
//! their most common offset; consecutive windows that agree form a run; a run's edges are
//! the first anchor and the last target of its own consistent hits, which is finer than
//! the windows. Windows with too few landmarks (silence) vote for nothing and do not break
//! runs. A run needs [`MATCH_MIN_HASHES`] distinct hashes in all, as a whole clip does. Gaps between runs shorter than [`MapOptions::min_unmatched_s`] are split between
//! their neighbours; longer ones are unmatched. Stretches of the original between matched
//! stretches that no segment covers, at least [`MapOptions::min_missing_s`] long, are
//! missing.

use crate::hash::{Family, Hypothesis, Pair, hypotheses, pairs};
use crate::index::{BIN_TICKS, Candidate, Change, Hit, Index, MATCH_MIN_HASHES, TICK_S};
use crate::peaks::{Fingerprint, TICKS_PER_HOP};
use crate::stats::poisson_tail;

/// Window length, ticks: one second (250 ticks of 4 ms).
const WINDOW_TICKS: u32 = 250;
/// Window hop, ticks: a quarter second.
const WINDOW_HOP_TICKS: u32 = 62;
/// A window with fewer clip pairs than this (~5 % of the usual ~150/s) holds no evidence.
const MIN_WINDOW_PAIRS: usize = 8;
/// A window matches when at least this many distinct hashes agree on one offset...
const MIN_WINDOW_HASHES: u32 = 4;
/// ... and that many would arise by chance anywhere in the original with probability below
/// this (Poisson tail, corrected for the offsets tried).
const MAX_WINDOW_FALSE_P: f64 = 1e-3;
/// Hits within this many ticks (+/-40 ms) of a run's offset belong to it: frame jitter plus
/// the local drift of a tempo change.
const OFFSET_TOLERANCE_TICKS: f64 = 10.0;

/// Whether a stretch of the leak matches the original.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SegmentStatus {
    /// Matches the original at a consistent offset.
    Genuine,
    /// Matches nothing: inserted, synthesised, from elsewhere, or too quiet to tell.
    Unmatched,
}

/// One stretch of the leak.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Genuine or unmatched.
    pub status: SegmentStatus,
    /// Start in the leak, seconds.
    pub leak_start_s: f64,
    /// End in the leak, seconds.
    pub leak_end_s: f64,
    /// For genuine segments, the matching stretch of the original, seconds.
    pub original: Option<(f64, f64)>,
    /// Distinct hashes supporting a genuine segment (0 for unmatched ones).
    pub hashes: u32,
}

/// A stretch of the original, between matched stretches, that the leak does not contain.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Missing {
    /// Start in the original, seconds.
    pub original_start_s: f64,
    /// End in the original, seconds.
    pub original_end_s: f64,
}

/// Result of [`authenticity_map`].
#[derive(Debug, Clone, PartialEq)]
pub struct AuthenticityMap {
    /// The leak, covered end to end in order.
    pub segments: Vec<Segment>,
    /// Cuts: parts of the original skipped between matched stretches.
    pub missing: Vec<Missing>,
    /// Original seconds per leak second, when anything matched.
    pub speed: Option<f64>,
    /// Speed (pitch moved) or tempo (pitch kept), when anything matched.
    pub change: Option<Change>,
}

/// Resolution settings of [`authenticity_map`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapOptions {
    /// Unmatched gaps shorter than this (seconds) are split between their genuine
    /// neighbours: pauses and sparse landmarks make shorter gaps unreliable.
    pub min_unmatched_s: f64,
    /// Uncovered stretches of the original shorter than this (seconds) are not reported.
    pub min_missing_s: f64,
}

impl Default for MapOptions {
    fn default() -> Self {
        Self {
            min_unmatched_s: 1.0,
            min_missing_s: 1.5,
        }
    }
}

/// Maps which stretches of `leak` are genuine parts of `original` (both fingerprints of
/// 8 kHz audio), which are unmatched, and which parts of the original are missing.
pub fn authenticity_map(
    original: &Fingerprint,
    leak: &Fingerprint,
    options: &MapOptions,
) -> AuthenticityMap {
    let duration = leak.duration_s();
    let unmatched = |start: f64, end: f64| Segment {
        status: SegmentStatus::Unmatched,
        leak_start_s: start,
        leak_end_s: end,
        original: None,
        hashes: 0,
    };
    let mut index = Index::new();
    // A fresh index cannot hold a duplicate id.
    let _ = index.add(0, original.clone());
    // Every hypothesis, not the early end of `Index::query`: a pitch-shifted leak keeps
    // enough low-band hashes under the identity to name its recording, but its map needs
    // the pitch hypothesis that holds all of them.
    let Some(best) = index
        .query_exhaustive(leak)
        .into_iter()
        .next()
        .filter(|c| c.is_match())
    else {
        return AuthenticityMap {
            segments: vec![unmatched(0.0, duration)],
            missing: Vec::new(),
            speed: None,
            change: None,
        };
    };
    let leak_pairs = pairs(leak);
    let hits = hits_near(&index, &leak_pairs, &best);
    let windows = window_votes(&leak_pairs, &hits, best.speed, leak, original);
    let runs = runs(&windows);
    let mut spans: Vec<Span> = runs
        .iter()
        .filter_map(|run| span(run, &hits, best.speed))
        .filter(|s| s.hashes >= MATCH_MIN_HASHES)
        .collect();
    spans.sort_by(|a, b| a.start.total_cmp(&b.start));
    resolve_overlaps(&mut spans);

    let mut segments = Vec::new();
    let mut cursor = 0.0;
    let mut previous: Option<usize> = None;
    for mut s in spans {
        let gap = s.start - cursor;
        if gap >= options.min_unmatched_s {
            segments.push(unmatched(cursor, s.start));
        } else if let Some(p) = previous {
            let mid = 0.5 * (cursor + s.start);
            let prev: &mut Segment = &mut segments[p];
            prev.leak_end_s = mid;
            s.start = mid;
        } else {
            s.start = 0.0;
        }
        previous = Some(segments.len());
        segments.push(Segment {
            status: SegmentStatus::Genuine,
            leak_start_s: s.start,
            leak_end_s: s.end,
            original: Some((s.offset_s, s.offset_s)),
            hashes: s.hashes,
        });
        cursor = s.end;
    }
    if duration - cursor >= options.min_unmatched_s || previous.is_none() {
        segments.push(unmatched(cursor, duration));
    } else if let Some(p) = previous {
        segments[p].leak_end_s = duration;
    }
    // Original times follow from each segment's final leak edges and its own offset.
    for seg in &mut segments {
        if let Some((offset, _)) = seg.original {
            seg.original = Some((
                offset + best.speed * seg.leak_start_s,
                offset + best.speed * seg.leak_end_s,
            ));
        }
    }
    let segments = merge_continuous(segments);
    let missing = missing(&segments, options.min_missing_s);
    AuthenticityMap {
        segments,
        missing,
        speed: Some(best.speed),
        change: Some(best.change),
    }
}

/// Hits under every hypothesis of the identified family within 0.6 % of its time and
/// frequency scales, each once.
fn hits_near(index: &Index, leak_pairs: &[Pair], best: &Candidate) -> Vec<Hit> {
    let found = Hypothesis {
        time_scale: best.speed as f32,
        freq_scale: best.freq_scale as f32,
        family: match best.change {
            Change::Tempo => Family::Tempo,
            Change::Pitch => Family::Pitch,
            _ => Family::Speed,
        },
    };
    let mut hits: Vec<Hit> = hypotheses()
        .iter()
        .filter(|h| h.near(&found, 1.006))
        .flat_map(|h| index.hits(0, leak_pairs, h))
        .collect();
    hits.sort_by_key(|h| (h.q_tick, h.o_tick));
    hits.dedup_by_key(|h| (h.q_tick, h.o_tick));
    hits
}

fn offset_of(hit: &Hit, speed: f64) -> f64 {
    f64::from(hit.o_tick) - speed * f64::from(hit.q_tick)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Vote {
    Silent,
    Unmatched,
    Offset(f64),
}

fn window_votes(
    leak_pairs: &[Pair],
    hits: &[Hit],
    speed: f64,
    leak: &Fingerprint,
    original: &Fingerprint,
) -> Vec<(u32, Vote)> {
    let offset_bins =
        (f64::from(original.ticks()) + f64::from(leak.ticks()) * speed) / BIN_TICKS as f64 + 1.0;
    let mut out = Vec::new();
    let mut start = 0u32;
    loop {
        let end = start + WINDOW_TICKS;
        let in_window = |t: u32| t >= start && t < end;
        let pair_count = leak_pairs
            .iter()
            .filter(|p| in_window(p.anchor_tick))
            .count();
        let window: Vec<&Hit> = hits.iter().filter(|h| in_window(h.q_tick)).collect();
        let vote = if pair_count < MIN_WINDOW_PAIRS {
            Vote::Silent
        } else {
            best_offset(&window, speed, offset_bins)
        };
        out.push((start, vote));
        if end >= leak.ticks() {
            break;
        }
        start += WINDOW_HOP_TICKS;
    }
    out
}

/// The most supported offset among a window's hits, if it beats chance.
fn best_offset(window: &[&Hit], speed: f64, offset_bins: f64) -> Vote {
    let mut offsets: Vec<(i64, u32)> = window
        .iter()
        .map(|h| {
            (
                (offset_of(h, speed) / BIN_TICKS as f64).floor() as i64,
                h.q_tick,
            )
        })
        .collect();
    offsets.sort_unstable();
    offsets.dedup();
    let mut best = (0u32, 0i64);
    for &(bin, _) in &offsets {
        let mut anchors: Vec<u32> = offsets
            .iter()
            .filter(|(b, _)| (b - bin).abs() <= 1)
            .map(|&(_, q)| q)
            .collect();
        anchors.sort_unstable();
        anchors.dedup();
        if anchors.len() as u32 > best.0 {
            best = (anchors.len() as u32, bin);
        }
    }
    let lambda = offsets.len() as f64 * 3.0 / offset_bins;
    let p = poisson_tail(u64::from(best.0), lambda) * offset_bins;
    if best.0 < MIN_WINDOW_HASHES || p > MAX_WINDOW_FALSE_P {
        return Vote::Unmatched;
    }
    let centre = (best.1 * BIN_TICKS) as f64 + BIN_TICKS as f64 / 2.0;
    let close: Vec<f64> = window
        .iter()
        .map(|h| offset_of(h, speed))
        .filter(|o| (o - centre).abs() <= 1.5 * BIN_TICKS as f64)
        .collect();
    Vote::Offset(close.iter().sum::<f64>() / close.len().max(1) as f64)
}

/// Consecutive agreeing windows: (offset, first window start, last window start, windows).
#[derive(Debug, Clone, Copy)]
struct Run {
    offset: f64,
    first: u32,
    last: u32,
    windows: u32,
}

fn runs(windows: &[(u32, Vote)]) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    let mut current: Option<Run> = None;
    for &(start, vote) in windows {
        match vote {
            Vote::Silent => {}
            Vote::Offset(o)
                if current.is_some_and(|r| (o - r.offset).abs() <= OFFSET_TOLERANCE_TICKS) =>
            {
                if let Some(r) = current.as_mut() {
                    r.offset = (r.offset * f64::from(r.windows) + o) / f64::from(r.windows + 1);
                    r.last = start;
                    r.windows += 1;
                }
            }
            other => {
                out.extend(current.take());
                if let Vote::Offset(o) = other {
                    current = Some(Run {
                        offset: o,
                        first: start,
                        last: start,
                        windows: 1,
                    });
                }
            }
        }
    }
    out.extend(current);
    out.retain(|r| r.windows >= 2);
    out
}

/// A run's extent in the leak, seconds, from its own hits.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: f64,
    end: f64,
    /// Original time of leak time 0 under this run's offset, seconds.
    offset_s: f64,
    hashes: u32,
}

fn span(run: &Run, hits: &[Hit], speed: f64) -> Option<Span> {
    let lo = run.first.saturating_sub(WINDOW_TICKS);
    let hi = run.last + 2 * WINDOW_TICKS;
    let own: Vec<&Hit> = hits
        .iter()
        .filter(|h| h.q_tick >= lo && h.q_tick < hi)
        .filter(|h| (offset_of(h, speed) - run.offset).abs() <= OFFSET_TOLERANCE_TICKS)
        .collect();
    let start = own.iter().map(|h| h.q_tick).min()?;
    let end = own
        .iter()
        .map(|h| f64::from(h.q_tick) + f64::from(h.q_span))
        .fold(0.0, f64::max);
    let mut anchors: Vec<u32> = own.iter().map(|h| h.q_tick).collect();
    anchors.dedup();
    // Anchor times are frame centres; half a hop either side covers the frames themselves.
    let half_hop = f64::from(TICKS_PER_HOP) / 2.0;
    Some(Span {
        start: ((f64::from(start) - half_hop).max(0.0)) * TICK_S,
        end: (end + half_hop) * TICK_S,
        offset_s: run.offset * TICK_S,
        hashes: anchors.len() as u32,
    })
}

/// Where spans overlap in the leak, the boundary goes to the middle of the overlap; a span
/// swallowed by a stronger one is dropped.
fn resolve_overlaps(spans: &mut Vec<Span>) {
    let mut i = 0;
    while i + 1 < spans.len() {
        let (a, b) = (spans[i], spans[i + 1]);
        if b.end <= a.end {
            let drop = if b.hashes > a.hashes { i } else { i + 1 };
            spans.remove(drop);
            continue;
        }
        if b.start < a.end {
            let mid = 0.5 * (b.start + a.end);
            spans[i].end = mid;
            spans[i + 1].start = mid;
        }
        i += 1;
    }
}

/// Joins neighbouring genuine segments whose original stretches continue each other (a run
/// broken by one noisy window), within a tenth of a second.
fn merge_continuous(segments: Vec<Segment>) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::with_capacity(segments.len());
    for seg in segments {
        if let (Some(last), Some((start, end))) = (out.last_mut(), seg.original)
            && let Some((last_start, last_end)) = last.original
            && (start - last_end).abs() < 0.1
        {
            last.leak_end_s = seg.leak_end_s;
            last.original = Some((last_start, end));
            last.hashes += seg.hashes;
            continue;
        }
        out.push(seg);
    }
    out
}

/// Gaps, at least `min_s` long, in the original's coverage between its first and last
/// matched instants.
fn missing(segments: &[Segment], min_s: f64) -> Vec<Missing> {
    let mut covered: Vec<(f64, f64)> = segments.iter().filter_map(|s| s.original).collect();
    covered.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = Vec::new();
    let mut reach = f64::NEG_INFINITY;
    for (start, end) in covered {
        if reach.is_finite() && start - reach >= min_s {
            out.push(Missing {
                original_start_s: reach,
                original_end_s: start,
            });
        }
        reach = reach.max(end);
    }
    out
}
