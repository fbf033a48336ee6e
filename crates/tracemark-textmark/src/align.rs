//! Word alignment of a leak to a transcript: anchors of word 3-grams chained along
//! diagonals, the gaps between anchors aligned by dynamic programming, and each chain
//! extended at both ends by a local alignment that tolerates OCR-like misspellings.
//!
//! The cost is linear in the two texts plus the anchors' postings (3-grams that occur
//! more than [`MAX_POSTINGS`] times in the transcript are not used as anchors), so a
//! quote is aligned to a long transcript without a quadratic table.

use std::collections::HashMap;

use crate::text::{Words, key};

/// N-gram length of the anchors.
const ANCHOR: usize = 3;
/// 3-grams more frequent than this in the transcript ("I think that") anchor nothing.
pub const MAX_POSTINGS: usize = 32;
/// Anchors join one chain when at most this many leak words apart...
const CHAIN_GAP: usize = 10;
/// ...and on diagonals at most this far apart (elided or inserted words).
const CHAIN_DRIFT: usize = 4;
/// A chain needs this many anchors (5 consecutive words at least) to count.
const MIN_ANCHORS: usize = 3;
/// Unmatched leak words that split a genuine run.
const SPLIT_GAP: usize = 3;
/// Window of each extension step.
const EXTEND_WINDOW: usize = 16;

/// One leak word aligned to one transcript word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pair {
    /// Unit index in the leak.
    pub leak: usize,
    /// Unit index in the transcript.
    pub original: usize,
    /// Whether the two keys are equal (else a misspelling within the edit tolerance).
    pub exact: bool,
}

/// A run of leak words aligned to a run of transcript words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// The aligned pairs, in leak order (both indices increasing).
    pub pairs: Vec<Pair>,
}

struct Seq {
    units: Vec<usize>,
    ids: Vec<u32>,
    keys: Vec<String>,
}

fn sequence(words: &Words, vocab: &mut HashMap<String, u32>) -> Seq {
    let units: Vec<usize> = (0..words.units().len())
        .filter(|&k| !words.units()[k].label)
        .collect();
    let keys: Vec<String> = units.iter().map(|&k| key(words.word(k))).collect();
    let ids = keys
        .iter()
        .map(|k| {
            let next = vocab.len() as u32;
            *vocab.entry(k.clone()).or_insert(next)
        })
        .collect();
    Seq { units, ids, keys }
}

/// Levenshtein distance of two short words, `None` once above `max`.
fn edit_distance(a: &str, b: &str, max: usize) -> Option<usize> {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let sub = prev[j - 1] + usize::from(a[i - 1] != b[j - 1]);
            cur[j] = sub.min(prev[j] + 1).min(cur[j - 1] + 1);
        }
        prev = cur;
    }
    (prev[b.len()] <= max).then_some(prev[b.len()])
}

/// Match quality of two keys: 2 equal, 1 a misspelling (one edit from 4 letters, two
/// from 8), 0 different.
fn similarity(a: &str, b: &str) -> u8 {
    if a == b {
        return 2;
    }
    let len = a.chars().count().min(b.chars().count());
    let max = match len {
        0..=3 => return 0,
        4..=7 => 1,
        _ => 2,
    };
    u8::from(edit_distance(a, b, max).is_some())
}

#[derive(Clone, Copy)]
struct Chain {
    last_i: usize,
    last_j: usize,
    count: usize,
    id: usize,
}

/// Aligns `leak` to `original`: the genuine runs, in leak order, disjoint in the leak.
pub fn align(original: &Words, leak: &Words) -> Vec<Run> {
    let mut vocab = HashMap::new();
    let o = sequence(original, &mut vocab);
    let l = sequence(leak, &mut vocab);
    if o.ids.len() < ANCHOR || l.ids.len() < ANCHOR {
        return Vec::new();
    }
    let mut postings: HashMap<&[u32], Vec<usize>> = HashMap::new();
    for j in 0..=o.ids.len() - ANCHOR {
        postings.entry(&o.ids[j..j + ANCHOR]).or_default().push(j);
    }
    // Chain anchors in leak order; each anchor joins the longest compatible open chain.
    let mut chains: Vec<Chain> = Vec::new();
    let mut anchors: Vec<Vec<(usize, usize)>> = Vec::new();
    for i in 0..=l.ids.len() - ANCHOR {
        // Chains that can no longer grow are closed (their anchors stay in `anchors`), so
        // the open list stays short however long the texts are.
        chains.retain(|c| c.last_i + CHAIN_GAP >= i);
        let Some(js) = postings.get(&l.ids[i..i + ANCHOR]) else {
            continue;
        };
        if js.len() > MAX_POSTINGS {
            continue;
        }
        for &j in js {
            let fits = |c: &Chain| {
                c.last_i < i
                    && i <= c.last_i + CHAIN_GAP
                    && j > c.last_j
                    && (j as i64 - i as i64).abs_diff(c.last_j as i64 - c.last_i as i64) as usize
                        <= CHAIN_DRIFT
            };
            let best = chains
                .iter_mut()
                .filter(|c| fits(c))
                .max_by_key(|c| c.count);
            match best {
                Some(c) => {
                    c.last_i = i;
                    c.last_j = j;
                    c.count += 1;
                    anchors[c.id].push((i, j));
                }
                None => {
                    chains.push(Chain {
                        last_i: i,
                        last_j: j,
                        count: 1,
                        id: anchors.len(),
                    });
                    anchors.push(vec![(i, j)]);
                }
            }
        }
    }
    // Strongest chains first; a chain overlapping a stronger one in the leak is dropped.
    let mut order: Vec<usize> = (0..anchors.len())
        .filter(|&c| anchors[c].len() >= MIN_ANCHORS)
        .collect();
    order.sort_by_key(|&c| (std::cmp::Reverse(anchors[c].len()), anchors[c][0].0));
    let mut taken: Vec<(usize, usize)> = Vec::new();
    let mut kept: Vec<Vec<(usize, usize, bool)>> = Vec::new();
    for c in order {
        // Where a stronger chain holds some of these leak words (two quotes joined at an
        // elision share an anchor's tail), keep the longest piece outside it.
        let piece = free_piece(&anchors[c], &taken);
        if piece.len() < MIN_ANCHORS {
            continue;
        }
        taken.push((piece[0].0, piece[piece.len() - 1].0 + ANCHOR));
        kept.push(fill_chain(piece, &o, &l));
    }
    kept.sort_by_key(|p| p[0].0);
    // A chain's last anchor may reach into the next chain's first words: cut it there.
    for r in 1..kept.len() {
        let next_start = kept[r][0].0;
        kept[r - 1].retain(|p| p.0 < next_start);
    }
    kept.retain(|p| !p.is_empty());
    // Extend each chain towards its neighbours, never into them.
    let mut runs = Vec::new();
    for r in 0..kept.len() {
        let left_limit = if r == 0 {
            0
        } else {
            kept[r - 1].last().map_or(0, |p| p.0 + 1)
        };
        let right_limit = kept.get(r + 1).map_or(l.ids.len(), |p| p[0].0);
        let mut pairs = extend_left(&kept[r], left_limit, &o, &l);
        pairs.extend_from_slice(&kept[r]);
        let tail = extend_right(&kept[r], right_limit, &o, &l);
        pairs.extend(tail);
        // Unaligned leak words between two quotation marks' worth of text (`," he said, "`)
        // are the writer's, however few.
        let quoted_break = |a: usize, b: usize| {
            b > a + 1 && {
                let (from, to) = (leak.units()[l.units[a]].end, leak.units()[l.units[b]].start);
                leak.text()[from..to].contains(['"', '\u{201C}', '\u{201D}'])
            }
        };
        for run in split(&pairs, quoted_break) {
            runs.push(Run {
                pairs: run
                    .iter()
                    .map(|&(i, j, exact)| Pair {
                        leak: l.units[i],
                        original: o.units[j],
                        exact,
                    })
                    .collect(),
            });
        }
    }
    runs
}

/// The longest run of consecutive `anchors` whose leak words lie outside every `taken`
/// span.
fn free_piece<'a>(anchors: &'a [(usize, usize)], taken: &[(usize, usize)]) -> &'a [(usize, usize)] {
    let free = |&(i, _): &(usize, usize)| !taken.iter().any(|&(a, b)| i + ANCHOR > a && i < b);
    let (mut best, mut start) = (0..0, 0);
    for k in 0..=anchors.len() {
        if k == anchors.len() || !free(&anchors[k]) {
            if k - start > best.len() {
                best = start..k;
            }
            start = k + 1;
        }
    }
    &anchors[best]
}

/// The anchors' words, and the words between consecutive anchors aligned by DP.
fn fill_chain(anchors: &[(usize, usize)], o: &Seq, l: &Seq) -> Vec<(usize, usize, bool)> {
    let mut pairs: Vec<(usize, usize, bool)> = Vec::new();
    let push = |pairs: &mut Vec<(usize, usize, bool)>, p: (usize, usize, bool)| {
        if pairs.last().is_none_or(|q| p.0 > q.0 && p.1 > q.1) {
            pairs.push(p);
        }
    };
    for (n, &(i, j)) in anchors.iter().enumerate() {
        if let Some(&(li, lj, _)) = pairs.last()
            && n > 0
        {
            let (li, lj) = (li + 1, lj + 1);
            if i > li && j > lj {
                for p in global(o, l, li..i, lj..j) {
                    push(&mut pairs, p);
                }
            }
        }
        for t in 0..ANCHOR {
            push(&mut pairs, (i + t, j + t, true));
        }
    }
    pairs
}

/// Needleman-Wunsch over two short ranges: matches (exact or misspelt) kept.
fn global(
    o: &Seq,
    l: &Seq,
    li: std::ops::Range<usize>,
    oj: std::ops::Range<usize>,
) -> Vec<(usize, usize, bool)> {
    let (n, m) = (li.len(), oj.len());
    let score = |a: usize, b: usize| match similarity(&l.keys[li.start + a], &o.keys[oj.start + b])
    {
        2 => 2i32,
        1 => 1,
        _ => -2,
    };
    let mut t = vec![vec![0i32; m + 1]; n + 1];
    for (a, row) in t.iter_mut().enumerate() {
        row[0] = -(a as i32);
    }
    for (b, cell) in t[0].iter_mut().enumerate() {
        *cell = -(b as i32);
    }
    for a in 1..=n {
        for b in 1..=m {
            t[a][b] = (t[a - 1][b - 1] + score(a - 1, b - 1))
                .max(t[a - 1][b] - 1)
                .max(t[a][b - 1] - 1);
        }
    }
    let (mut a, mut b, mut out) = (n, m, Vec::new());
    while a > 0 && b > 0 {
        let s = score(a - 1, b - 1);
        if t[a][b] == t[a - 1][b - 1] + s {
            if s > 0 {
                out.push((li.start + a - 1, oj.start + b - 1, s == 2));
            }
            a -= 1;
            b -= 1;
        } else if t[a][b] == t[a - 1][b] - 1 {
            a -= 1;
        } else {
            b -= 1;
        }
    }
    out.reverse();
    out
}

/// Local extension from a fixed start: the best-scoring prefix alignment of
/// `l[i..]` against `o[j..]` (steps of `dir`), window by window.
fn extend(
    o: &Seq,
    l: &Seq,
    mut i: isize,
    mut j: isize,
    dir: isize,
    limit: usize,
) -> Vec<(usize, usize, bool)> {
    let mut out = Vec::new();
    loop {
        let in_leak = |a: isize| {
            a >= 0
                && (a as usize) < l.ids.len()
                && if dir > 0 {
                    (a as usize) < limit
                } else {
                    a as usize >= limit
                }
        };
        let in_orig = |b: isize| b >= 0 && (b as usize) < o.ids.len();
        let n = (0..EXTEND_WINDOW as isize)
            .take_while(|&a| in_leak(i + dir * a))
            .count();
        let m = (0..EXTEND_WINDOW as isize)
            .take_while(|&b| in_orig(j + dir * b))
            .count();
        if n == 0 || m == 0 {
            return out;
        }
        let at = |a: usize, b: usize| {
            let (li, oj) = (
                (i + dir * a as isize) as usize,
                (j + dir * b as isize) as usize,
            );
            similarity(&l.keys[li], &o.keys[oj])
        };
        let score = |s: u8| match s {
            2 => 2i32,
            1 => 1,
            _ => -3,
        };
        let mut t = vec![vec![i32::MIN / 2; m + 1]; n + 1];
        t[0][0] = 0;
        for a in 0..=n {
            for b in 0..=m {
                if a > 0 && b > 0 {
                    t[a][b] = t[a][b].max(t[a - 1][b - 1] + score(at(a - 1, b - 1)));
                }
                if a > 0 {
                    t[a][b] = t[a][b].max(t[a - 1][b] - 3);
                }
                if b > 0 {
                    t[a][b] = t[a][b].max(t[a][b - 1] - 3);
                }
            }
        }
        let (mut ba, mut bb) = (0, 0);
        for a in 0..=n {
            for b in 0..=m {
                if t[a][b] > t[ba][bb] {
                    (ba, bb) = (a, b);
                }
            }
        }
        if ba == 0 {
            return out;
        }
        let (mut a, mut b, mut step) = (ba, bb, Vec::new());
        while a > 0 || b > 0 {
            if a > 0 && b > 0 && t[a][b] == t[a - 1][b - 1] + score(at(a - 1, b - 1)) {
                let s = at(a - 1, b - 1);
                if s > 0 {
                    step.push((
                        (i + dir * (a as isize - 1)) as usize,
                        (j + dir * (b as isize - 1)) as usize,
                        s == 2,
                    ));
                }
                a -= 1;
                b -= 1;
            } else if a > 0 && t[a][b] == t[a - 1][b] - 3 {
                a -= 1;
            } else {
                b -= 1;
            }
        }
        step.reverse();
        out.extend(step);
        if ba < n || n < EXTEND_WINDOW {
            return out;
        }
        i += dir * ba as isize;
        j += dir * bb as isize;
    }
}

fn extend_right(
    pairs: &[(usize, usize, bool)],
    limit: usize,
    o: &Seq,
    l: &Seq,
) -> Vec<(usize, usize, bool)> {
    let Some(&(i, j, _)) = pairs.last() else {
        return Vec::new();
    };
    extend(o, l, i as isize + 1, j as isize + 1, 1, limit)
}

fn extend_left(
    pairs: &[(usize, usize, bool)],
    limit: usize,
    o: &Seq,
    l: &Seq,
) -> Vec<(usize, usize, bool)> {
    let Some(&(i, j, _)) = pairs.first() else {
        return Vec::new();
    };
    let mut out = extend(o, l, i as isize - 1, j as isize - 1, -1, limit);
    out.reverse();
    out
}

/// Splits pairs wherever [`SPLIT_GAP`] or more leak words in a row are unaligned, or
/// where `breaks(previous, next)` (leak sequence positions) says so.
fn split(
    pairs: &[(usize, usize, bool)],
    breaks: impl Fn(usize, usize) -> bool,
) -> Vec<Vec<(usize, usize, bool)>> {
    let mut out: Vec<Vec<(usize, usize, bool)>> = Vec::new();
    for &p in pairs {
        let joins = |q: &(usize, usize, bool)| p.0 - q.0 <= SPLIT_GAP && !breaks(q.0, p.0);
        match out.last_mut() {
            Some(run) if run.last().is_some_and(joins) => run.push(p),
            _ => out.push(vec![p]),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGINAL: &str = "K: Well, I had a long talk with Sisco and I think we made some progress today.\n\nP: Good.\n\nK: They were going to make a public statement tomorrow condemning the Israeli position.";

    fn leak_to_original(leak: &str) -> Vec<(String, String)> {
        let (o, l) = (
            Words::parse(ORIGINAL).expect("small"),
            Words::parse(leak).expect("small"),
        );
        align(&o, &l)
            .iter()
            .flat_map(|r| {
                r.pairs
                    .iter()
                    .map(|p| (l.word(p.leak).to_owned(), o.word(p.original).to_owned()))
            })
            .collect()
    }

    #[test]
    fn a_retyped_quote_with_a_misspelling_aligns_word_for_word() {
        let pairs = leak_to_original(
            "He said: \"I had a lomg talk with Sisco, and I think we made some progress.\"",
        );
        let leak: Vec<&str> = pairs.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(
            leak,
            [
                "I", "had", "a", "lomg", "talk", "with", "Sisco", "and", "I", "think", "we",
                "made", "some", "progress"
            ]
        );
        assert!(
            pairs
                .iter()
                .all(|(l, o)| l == o || (l == "lomg" && o == "long"))
        );
    }

    #[test]
    fn prose_around_a_quote_and_across_speaker_turns_is_not_aligned() {
        let pairs = leak_to_original(
            "Reporters learned that \"we made some progress today. Good. They were going to make a public statement\" said the aide.",
        );
        let leak: Vec<&str> = pairs.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(leak.first(), Some(&"we"));
        assert_eq!(leak.last(), Some(&"statement"));
        assert_eq!(leak.len(), 14);
    }

    #[test]
    fn misspellings_within_tolerance_match() {
        assert_eq!(similarity("progress", "progres"), 1);
        assert_eq!(similarity("talk", "talc"), 1);
        assert_eq!(similarity("and", "ant"), 0);
        assert_eq!(similarity("statement", "settlement"), 0);
    }
}
