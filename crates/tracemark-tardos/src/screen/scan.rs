//! One caller's share of a [`Screen`]'s work: the recipients it scored, the few kept for
//! exact figures, and the shortlist they make.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::{Screen, Shortlist};
use crate::Error;
use crate::accuse::{RecipientScore, by_strength, figures, is_accused, keep_stronger};
use crate::code::Codeword;
use crate::prf::{StreamBlocks, unit};

/// A recipient kept for exact figures: its index and its score under each function.
#[derive(Clone, Debug)]
struct Kept {
    index: usize,
    scores: Box<[f64]>,
}

/// A high scorer under one function, ordered weakest first (lowest score, then highest
/// index) so that a max-heap's top is the one to drop.
#[derive(Clone, Debug)]
struct Leader {
    score: f64,
    kept: Kept,
}

impl Leader {
    fn weakness(&self, other: &Self) -> Ordering {
        other
            .score
            .total_cmp(&self.score)
            .then(self.kept.index.cmp(&other.kept.index))
    }
}

impl PartialEq for Leader {
    fn eq(&self, other: &Self) -> bool {
        self.weakness(other) == Ordering::Equal
    }
}

impl Eq for Leader {}

impl PartialOrd for Leader {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Leader {
    fn cmp(&self, other: &Self) -> Ordering {
        self.weakness(other)
    }
}

/// Recipients scored so far by one caller of a [`Screen`].
#[derive(Clone, Debug)]
pub struct Scan<'a> {
    screen: &'a Screen,
    scored: usize,
    rejected: usize,
    /// Stream blocks drawn by `push_seed`.
    blocks: u64,
    /// Recipients above a cut under some function.
    kept: Vec<Kept>,
    /// Per function, the `top` highest scorers.
    leaders: Vec<BinaryHeap<Leader>>,
    buffer: Vec<f64>,
    /// The symbols being scored, bit `k` for observed slot `k`.
    bits: Vec<u64>,
    /// [`Scan::push_seed`]'s per-function `(cut, weakest leader's score)`.
    limits: Vec<(f64, f64)>,
    /// The symbol stream's blocks, rekeyed for each recipient.
    symbols: StreamBlocks,
}

impl<'a> Scan<'a> {
    /// An empty scan of `screen`.
    pub(super) fn new(screen: &'a Screen) -> Self {
        let n = screen.models.len();
        Self {
            screen,
            scored: 0,
            rejected: 0,
            blocks: 0,
            kept: Vec::new(),
            leaders: vec![BinaryHeap::new(); n],
            buffer: vec![0.0; n],
            bits: vec![0; screen.slots.len().div_ceil(64)],
            limits: vec![(0.0, 0.0); n],
            symbols: StreamBlocks::new(b"symbol", &[0; 32]),
        }
    }

    /// Scores recipient `index`'s codeword (drawn on at least the observed slots, e.g.
    /// by [`Codeword::draw_slots`]). Each index in `0..recipients` must be pushed once,
    /// in any order and into any scan.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when the codeword's length differs from the code's;
    /// [`Error::RecipientOutOfRange`] for an index outside `0..recipients`.
    pub fn push(&mut self, index: usize, codeword: &Codeword) -> Result<(), Error> {
        let screen = self.screen;
        if codeword.len() != screen.len {
            return Err(Error::LengthMismatch {
                what: "codeword",
                expected: screen.len,
                found: codeword.len(),
            });
        }
        self.check(index)?;
        screen.gather(codeword, &mut self.bits);
        screen.score_into(&self.bits, &mut self.buffer);
        self.keep(index);
        Ok(())
    }

    /// [`Scan::push`] of `Codeword::draw_slots(seed, biases, observed slots)`, without
    /// making the codeword: the observed slots' symbols are drawn (exactly as
    /// [`Codeword::draw`] draws them) straight into the sums, so the cost is the
    /// observed slots', whatever the recording's length.
    ///
    /// # Errors
    /// [`Error::RecipientOutOfRange`] for an index outside `0..recipients`.
    ///
    /// Early rejection: the blocks are drawn heaviest first, and once the symbols drawn
    /// so far and the most the others could add (plus a rounding margin) keep the score
    /// under every function at or below its cut and below this scan's `top`-th highest,
    /// the recipient can be neither accused nor leading, and the rest is not drawn.
    pub fn push_seed(&mut self, index: usize, seed: &[u8; 32]) -> Result<(), Error> {
        let screen = self.screen;
        self.check(index)?;
        let n = screen.models.len();
        // Per function, the score every outcome must stay below for the recipient to be
        // rejected: at most the cut, and under the weakest leader (none: top == 0); no
        // rejection while a heap has room.
        let room = screen.top > 0 && self.leaders.iter().any(|h| h.len() < screen.top);
        for (f, limit) in self.limits.iter_mut().enumerate() {
            let weakest = self.leaders[f].peek().map_or(f64::INFINITY, |l| l.score);
            *limit = (screen.cuts[f], weakest);
        }
        let blocks = &mut self.symbols;
        blocks.rekey(seed);
        self.bits.fill(0);
        self.buffer.fill(0.0);
        for (j, (block, ks)) in screen.order.iter().enumerate() {
            let bytes = blocks.block(*block);
            self.blocks += 1;
            for k in ks.clone() {
                let at = screen.slots[k] % 4 * 8;
                let mut w = [0u8; 8];
                w.copy_from_slice(&bytes[at..at + 8]);
                let bit = usize::from(unit(u64::from_le_bytes(w)) < screen.p[k]);
                self.bits[k / 64] |= (bit as u64) << (k % 64);
                let row = &screen.terms[k * n * 2..(k + 1) * n * 2];
                for (a, t) in self.buffer.iter_mut().zip(row.chunks_exact(2)) {
                    *a += t[bit];
                }
            }
            let rest = &screen.rest[j * n..(j + 1) * n];
            let rejected = !room
                && self.buffer.iter().enumerate().all(|(f, &drawn)| {
                    let most = drawn + rest[f] + screen.margins[f];
                    let (cut, weakest) = self.limits[f];
                    most <= cut && most < weakest
                });
            if rejected {
                self.scored += 1;
                self.rejected += 1;
                return Ok(());
            }
        }
        screen.score_into(&self.bits, &mut self.buffer);
        self.keep(index);
        Ok(())
    }

    /// How many recipients [`Scan::push_seed`] rejected before drawing all their
    /// observed slots.
    pub fn rejected_early(&self) -> usize {
        self.rejected
    }

    /// How many stream blocks [`Scan::push_seed`] drew, over all its recipients (at
    /// most [`Screen::blocks`] each).
    pub fn blocks_drawn(&self) -> u64 {
        self.blocks
    }

    fn check(&self, index: usize) -> Result<(), Error> {
        if index >= self.screen.recipients {
            return Err(Error::RecipientOutOfRange {
                index,
                recipients: self.screen.recipients,
            });
        }
        Ok(())
    }

    /// Records the scores in `buffer` as recipient `index`'s.
    fn keep(&mut self, index: usize) {
        let screen = self.screen;
        self.scored += 1;
        let kept = || Kept {
            index,
            scores: self.buffer.clone().into_boxed_slice(),
        };
        if self.buffer.iter().zip(&screen.cuts).any(|(s, c)| s > c) {
            self.kept.push(kept());
        }
        for (heap, &score) in self.leaders.iter_mut().zip(&self.buffer) {
            let new = Leader {
                score,
                kept: Kept {
                    index,
                    scores: Box::new([]),
                },
            };
            let enters =
                heap.len() < screen.top || heap.peek().is_some_and(|weakest| new < *weakest);
            if enters {
                heap.push(Leader {
                    score,
                    kept: kept(),
                });
                if heap.len() > screen.top {
                    heap.pop();
                }
            }
        }
    }

    /// Both scans' recipients, as if one scan had scored them all.
    pub fn merge(mut self, other: Self) -> Self {
        self.scored += other.scored;
        self.rejected += other.rejected;
        self.blocks += other.blocks;
        self.kept.extend(other.kept);
        for (heap, theirs) in self.leaders.iter_mut().zip(other.leaders) {
            heap.extend(theirs);
            while heap.len() > self.screen.top {
                heap.pop();
            }
        }
        self
    }

    /// Computes the kept recipients' figures exactly as
    /// [`accuse_any`](crate::accuse_any) does (each recipient under every function, the
    /// smallest bound kept) and returns the accused and the leading.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless exactly `recipients` codewords were pushed.
    pub fn finish(self) -> Result<Shortlist, Error> {
        let screen = self.screen;
        if self.scored != screen.recipients {
            return Err(Error::LengthMismatch {
                what: "scored recipients",
                expected: screen.recipients,
                found: self.scored,
            });
        }
        let mut kept: Vec<Kept> = self.kept;
        kept.extend(self.leaders.into_iter().flatten().map(|l| l.kept));
        kept.sort_by_key(|k| k.index);
        kept.dedup_by_key(|k| k.index);
        let ln_tests = screen.tests.ln();
        let mut ranked: Vec<RecipientScore> = kept
            .iter()
            .filter_map(|k| {
                let mut each = screen
                    .models
                    .iter()
                    .zip(k.scores.iter())
                    .map(|(m, &s)| figures(m, k.index, s, ln_tests));
                let first = each.next()?;
                Some(each.fold(first, |mut best, new| {
                    keep_stronger(&mut best, new);
                    best
                }))
            })
            .collect();
        ranked.sort_by(by_strength);
        let accused = ranked
            .iter()
            .filter(|r| is_accused(r.tail.ln_bound, screen.tests, screen.bound))
            .copied()
            .collect();
        ranked.retain(|r| r.tail.ln_bound < 0.0);
        ranked.truncate(screen.top);
        Ok(Shortlist {
            accused,
            leading: ranked,
            recipients: screen.recipients,
            tests: screen.tests,
            bound: screen.bound,
        })
    }
}
