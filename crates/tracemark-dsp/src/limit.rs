//! A look-ahead peak limiter for an *added* signal: it scales what is added to a host (a
//! watermark's difference signal), never the host itself, so that `host + gain * added`
//! stays within a ceiling.
//!
//! Design: the standard look-ahead limiter built from a sliding-window minimum of the gain
//! each sample needs, then a smoothing filter whose support is no wider than that window, so
//! the smoothed gain can never exceed what any sample needs (no overshoot, no hard clip). This
//! is the construction described by G. Luff, "Designing a straightforward limiter"
//! (Signalsmith Audio, 2022: peak-hold over the look-ahead, then cascaded box filters), and
//! the look-ahead principle of D. Giannoulis, M. Massberg and J. D. Reiss, "Digital dynamic
//! range compressor design: a tutorial and analysis", J. Audio Eng. Soc. 60(6), 2012, §4.
//! audiowmark (`src/limiter.cc`) runs a look-ahead limiter on its whole output; here only the
//! added part is attenuated, so the host keeps every sample it had.
//!
//! Why it holds: let `r[n]` be the gain sample `n` needs. With `h[j] = min r[j-W..=j+W]` and
//! `s[n]` a weighted mean of `h[n-W..=n+W]` (non-negative weights summing to 1), every `j` in
//! that range has `n` inside its own window, so `h[j] <= r[n]` and hence `s[n] <= r[n]`.
//! Far from any overshoot (more than `2W` samples) `r = h = s = 1`: the added signal is
//! untouched there.

/// Default ceiling below full scale: -0.1 dBFS (`10^(-0.1/20)`), the usual headroom a
/// mastering limiter leaves for the next stage's rounding and dither.
pub const CEILING_DBFS: f64 = -0.1;

/// What the limiter did.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LimitReport {
    /// The ceiling applied (linear): the host's own peak or [`CEILING_DBFS`], whichever is
    /// lower. Host samples already above it are kept, and the added signal may not push them
    /// further out.
    pub ceiling: f32,
    /// Sample frames where `host + added` would have gone past the ceiling.
    pub overshoot_frames: usize,
    /// Sample frames whose added signal was attenuated at all (the overshoots and the smooth
    /// ramps around them).
    pub attenuated_frames: usize,
    /// The smallest gain applied (1.0 when the limiter never engaged).
    pub min_gain: f32,
    /// Energy of the added signal after limiting over its energy before (1.0 when untouched).
    pub energy_kept: f64,
}

/// The default ceiling for a host whose peak is `host_peak`: the lower of that peak and
/// [`CEILING_DBFS`].
pub fn ceiling_for(host_peak: f32) -> f32 {
    let ceiling = 10f64.powf(CEILING_DBFS / 20.0) as f32;
    host_peak.min(ceiling)
}

/// Returns `host + gain * added` (one `Vec` per channel, `added` reused for the result),
/// with `gain` chosen so that every output sample lies within `max(ceiling, |host|)`: the
/// added signal is attenuated smoothly over `half_window` samples either side of a would-be
/// overshoot and left exactly as it is elsewhere. The gain is shared by all channels (a
/// linked limiter), so the channels keep their balance and any downmix keeps the same added
/// signal. Deterministic: no state beyond the arguments.
///
/// ```
/// use tracemark_dsp::limit::add_limited;
/// let host = vec![vec![0.0, 0.9, 0.95, 0.9, 0.0, 0.0, 0.0, 0.0]];
/// let (out, report) = add_limited(&host, vec![vec![0.1; 8]], 0.95, 1);
/// assert!(out[0].iter().all(|y| y.abs() <= 0.95));
/// assert_eq!(out[0][2], 0.95); // the peak gets no mark
/// assert_eq!(out[0][7], 0.1); // more than 2 x 1 samples from any overshoot: untouched
/// assert!(report.min_gain < 1.0);
/// ```
///
/// Each `added[c]` is cut or zero-padded to the length of `host[c]`; channels beyond the
/// shorter of the two lists are dropped.
pub fn add_limited(
    host: &[Vec<f32>],
    mut added: Vec<Vec<f32>>,
    ceiling: f32,
    half_window: usize,
) -> (Vec<Vec<f32>>, LimitReport) {
    added.truncate(host.len());
    for (d, x) in added.iter_mut().zip(host) {
        d.resize(x.len(), 0.0);
    }
    let len = host.iter().map(Vec::len).min().unwrap_or(0);
    let mut report = LimitReport {
        ceiling,
        min_gain: 1.0,
        energy_kept: 1.0,
        ..LimitReport::default()
    };
    let need = needed_gains(host, &added, ceiling, len);
    report.overshoot_frames = need.iter().filter(|&&g| g < 1.0).count();
    let gains = if report.overshoot_frames == 0 {
        Vec::new()
    } else {
        smooth_below(&need, half_window)
    };
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for (x, d) in host.iter().zip(added.iter_mut()) {
        let (mut b, mut a) = (Energy::default(), Energy::default());
        b.add_run(0, d);
        if gains.is_empty() {
            a = b;
        }
        for (n, (x, d)) in x.iter().zip(d.iter_mut()).enumerate() {
            let g = gains.get(n).copied().unwrap_or(1.0);
            if !gains.is_empty() {
                a.add_at(n as u64, (g * f64::from(*d)).powi(2));
            }
            *d = limited_sum(*x, *d, g, ceiling);
        }
        before.push(b);
        after.push(a);
    }
    report.attenuated_frames = gains.iter().filter(|&&g| g < 1.0).count();
    report.min_gain = gains.iter().copied().fold(1.0f64, f64::min) as f32;
    report.energy_kept = energy_kept(&before, &after);
    (added, report)
}

/// Ones a stretch of would-be overshoots must be followed by before [`StreamLimiter`] settles
/// its gains, in units of the half window: far more than the `4w + 1` samples one overshoot
/// reaches (see [`StreamLimiter`]).
const SETTLE_WINDOWS: usize = 10;

/// [`add_limited`] for signals that arrive in pieces: push `host` and `added` frames in
/// lockstep with [`Self::push`], then [`Self::finish`]; the frames handed out are exactly, bit
/// for bit, those [`add_limited`] returns for the whole signals, and so is the report
/// (`energy_kept` is summed per channel and in four lanes by frame index, as [`add_limited`]
/// sums it, so in the same order for any channels and pieces).
///
/// Why it can stream: the gain is exactly 1 more than `2w` samples from every would-be
/// overshoot, and every gain is a function of the needs within `2w` of its frame alone
/// (`box_mean` sums each window exactly, in integers). So a stretch of overshoots followed by
/// `SETTLE_WINDOWS * w` ones is smoothed on its own, as [`add_limited`] smooths the whole
/// signal, and everything else passes with gain 1. Memory is one such stretch plus `2w`
/// frames and the last piece: bounded for any signal that ever stays clear of its ceiling
/// for `SETTLE_WINDOWS * w` samples (50 ms with embedding's 5 ms half window); a signal
/// that never does is held until it does, or ends.
#[derive(Debug, Clone)]
pub struct StreamLimiter {
    ceiling: f32,
    w: usize,
    /// Frames received and not yet handed out, from `head` on; the frame at `head` is
    /// absolute frame `base`.
    host: Vec<Vec<f32>>,
    added: Vec<Vec<f32>>,
    head: usize,
    base: u64,
    received: u64,
    /// Every frame before this one has its gain settled.
    settled: u64,
    /// Smoothed stretches not yet handed out: first frame and gains.
    smoothed: std::collections::VecDeque<(u64, Vec<f64>)>,
    /// The open stretch: first frame, last would-be overshoot, needs so far.
    open: Option<(u64, u64, Vec<f64>)>,
    report: LimitReport,
    before: Vec<Energy>,
    after: Vec<Energy>,
    /// The needs of the last piece.
    needs: Vec<f64>,
}

impl StreamLimiter {
    /// A limiter for `channels` channels, with [`add_limited`]'s `ceiling` and `half_window`.
    pub fn new(channels: usize, ceiling: f32, half_window: usize) -> Self {
        Self {
            ceiling,
            w: half_window,
            host: vec![Vec::new(); channels],
            added: vec![Vec::new(); channels],
            head: 0,
            base: 0,
            received: 0,
            settled: 0,
            smoothed: Default::default(),
            open: None,
            report: LimitReport {
                ceiling,
                min_gain: 1.0,
                energy_kept: 1.0,
                ..LimitReport::default()
            },
            before: vec![Energy::default(); channels],
            after: vec![Energy::default(); channels],
            needs: Vec::new(),
        }
    }

    /// Feeds one piece: `host[c]` and `added[c]` are the next frames of channel `c`, all of
    /// one length (frames past the shortest slice are ignored). Appends the frames it
    /// completes to `out[c]`.
    pub fn push(&mut self, host: &[&[f32]], added: &[&[f32]], out: &mut [Vec<f32>]) {
        let channels = self.host.len();
        if host.len() < channels || added.len() < channels {
            return;
        }
        let frames = host[..channels]
            .iter()
            .chain(&added[..channels])
            .map(|s| s.len())
            .min()
            .unwrap_or(0);
        if self.open.is_none()
            && self.smoothed.is_empty()
            && (0..channels).all(|c| quiet(&host[c][..frames], &added[c][..frames], self.ceiling))
        {
            self.push_quiet(host, added, frames, out);
            return;
        }
        for c in 0..channels {
            self.host[c].extend_from_slice(&host[c][..frames]);
            self.added[c].extend_from_slice(&added[c][..frames]);
        }
        self.needs.clear();
        self.needs.resize(frames, 1.0);
        for c in 0..channels {
            for ((need, &x), &d) in self.needs.iter_mut().zip(host[c]).zip(added[c]) {
                *need = need.min(needed_gain(x, d, self.ceiling));
            }
        }
        let reach = (SETTLE_WINDOWS * self.w) as u64;
        let first = self.received;
        self.received += frames as u64;
        let needs = std::mem::take(&mut self.needs);
        let mut n = 0;
        while n < needs.len() {
            if self.open.is_none() {
                // Frames of gain 1 outside a stretch need nothing: skip to the next
                // would-be overshoot.
                match needs[n..].iter().position(|&need| need < 1.0) {
                    Some(k) => n += k,
                    None => break,
                }
            }
            let need = needs[n];
            let at = first + n as u64;
            n += 1;
            if need < 1.0 {
                self.report.overshoot_frames += 1;
                match &mut self.open {
                    Some((_, last, needs)) => {
                        *last = at;
                        needs.push(need);
                    }
                    None => {
                        let start = at.saturating_sub(2 * self.w as u64).max(self.settled);
                        self.settled = start;
                        let mut needs = vec![1.0; (at - start) as usize];
                        needs.push(need);
                        self.open = Some((start, at, needs));
                    }
                }
            } else if let Some((_, last, needs)) = &mut self.open {
                needs.push(1.0);
                if at > *last + reach {
                    self.close(at + 1);
                }
            }
        }
        self.needs = needs;
        if self.open.is_none() {
            self.settled = self
                .settled
                .max(self.received.saturating_sub(2 * self.w as u64));
        }
        self.hand_out(out);
    }

    /// [`Self::push`] of a piece in which no frame comes near the ceiling, while no stretch
    /// is open or waiting: every frame more than `2w` before its end is settled at gain 1.
    /// Those are handed out straight from the piece, and only the rest is kept, so most
    /// frames are never copied into the limiter's buffers. The frames and the report are
    /// those of the general path.
    fn push_quiet(
        &mut self,
        host: &[&[f32]],
        added: &[&[f32]],
        frames: usize,
        out: &mut [Vec<f32>],
    ) {
        let old = self.received;
        self.received += frames as u64;
        let settled = self
            .settled
            .max(self.received.saturating_sub(2 * self.w as u64));
        // The frames kept from earlier pieces first (all of gain 1: nothing is waiting).
        self.settled = settled.min(old);
        self.hand_out(out);
        self.settled = settled;
        // Then this piece's settled frames, straight through; `base` is now `old` if any.
        let direct = settled.saturating_sub(old) as usize;
        if direct > 0 {
            for c in 0..self.host.len() {
                pass_unity(
                    &host[c][..direct],
                    &added[c][..direct],
                    self.ceiling,
                    out.get_mut(c),
                    old,
                    &mut self.before[c],
                    &mut self.after[c],
                );
            }
            self.base = settled;
        }
        for c in 0..self.host.len() {
            self.host[c].extend_from_slice(&host[c][direct..frames]);
            self.added[c].extend_from_slice(&added[c][direct..frames]);
        }
    }

    /// Ends the input, hands out the remaining frames and returns what was done.
    pub fn finish(mut self, out: &mut [Vec<f32>]) -> LimitReport {
        self.close(self.received);
        self.settled = self.received;
        self.hand_out(out);
        self.report.energy_kept = energy_kept(&self.before, &self.after);
        self.report
    }

    /// Smooths the open stretch, up to `2w` frames past its last would-be overshoot.
    /// `received` frames have been seen so far.
    fn close(&mut self, received: u64) {
        let Some((start, last, mut needs)) = self.open.take() else {
            return;
        };
        let end = (last + 2 * self.w as u64 + 1).min(received);
        needs.truncate((end - start) as usize);
        let gains = smooth_below(&needs, self.w);
        self.settled = end;
        self.smoothed.push_back((start, gains));
    }

    /// Hands out every frame whose gain is settled.
    fn hand_out(&mut self, out: &mut [Vec<f32>]) {
        while self.base < self.settled {
            let (span_end, gains) = match self.smoothed.front() {
                Some((start, gains)) if *start <= self.base => {
                    let end = *start + gains.len() as u64;
                    (
                        end.min(self.settled),
                        Some(&gains[(self.base - start) as usize..]),
                    )
                }
                Some((start, _)) => ((*start).min(self.settled), None),
                None => (self.settled, None),
            };
            let n = (span_end - self.base) as usize;
            let (head, ceiling) = (self.head, self.ceiling);
            for c in 0..self.host.len() {
                let host = &self.host[c][head..head + n];
                let added = &self.added[c][head..head + n];
                let o = out.get_mut(c);
                match gains {
                    None => {
                        pass_unity(
                            host,
                            added,
                            ceiling,
                            o,
                            self.base,
                            &mut self.before[c],
                            &mut self.after[c],
                        );
                    }
                    Some(gains) => {
                        let mut sink = Vec::new();
                        let o = o.unwrap_or(&mut sink);
                        self.before[c].add_run(self.base, added);
                        for (k, ((&x, &d), &g)) in host.iter().zip(added).zip(gains).enumerate() {
                            self.after[c].add_at(self.base + k as u64, (g * f64::from(d)).powi(2));
                            o.push(limited_sum(x, d, g, ceiling));
                        }
                    }
                }
            }
            if let Some(gains) = gains {
                for &g in &gains[..n] {
                    if g < 1.0 {
                        self.report.attenuated_frames += 1;
                        self.report.min_gain = self.report.min_gain.min(g as f32);
                    }
                }
            }
            self.base = span_end;
            self.head += n;
            if let Some((start, gains)) = self.smoothed.front()
                && self.base >= *start + gains.len() as u64
            {
                self.smoothed.pop_front();
            }
        }
        // Keep the buffers short: drop what was handed out once it is most of them.
        let len = self.host.first().map_or(0, Vec::len);
        if self.head > 0 && self.head * 2 >= len {
            for v in self.host.iter_mut().chain(self.added.iter_mut()) {
                v.drain(..self.head);
            }
            self.head = 0;
        }
    }
}

/// Whether no frame of the piece comes near `ceiling`: `|x| + |d|` below `0.999 * ceiling`
/// everywhere, where [`needed_gain`] is 1 without a test of its own (a NaN is not near: its
/// need is 1 too). One pass that counts the frames that are near (no early exit, so it
/// vectorises).
fn quiet(host: &[f32], added: &[f32], ceiling: f32) -> bool {
    let near = 0.999 * ceiling;
    let loud: u32 = host
        .iter()
        .zip(added)
        .map(|(x, d)| u32::from(x.abs() + d.abs() >= near))
        .sum();
    loud == 0
}

/// Frames of gain 1, the first of them absolute frame `first`: `x + d` within the bound,
/// as `add_limited` computes it, appended to `out` (if given); the energies into `before`
/// and `after` (the same, at gain 1).
fn pass_unity(
    host: &[f32],
    added: &[f32],
    ceiling: f32,
    out: Option<&mut Vec<f32>>,
    first: u64,
    before: &mut Energy,
    after: &mut Energy,
) {
    if let Some(o) = out {
        o.extend(
            host.iter()
                .zip(added)
                .map(|(&x, &d)| limited_sum(x, d, 1.0, ceiling)),
        );
    }
    before.add_run(first, added);
    after.add_run(first, added);
}

/// A sum of energies kept in four lanes by absolute frame index modulo 4 and added up at the
/// end: the same value however the signal is cut into pieces (each lane sums its frames in
/// order), and four independent additions per step instead of one chain.
#[derive(Debug, Clone, Copy, Default)]
struct Energy([f64; 4]);

impl Energy {
    fn add_at(&mut self, frame: u64, e: f64) {
        self.0[(frame % 4) as usize] += e;
    }

    /// Adds `d[k]^2` for frame `first + k`.
    fn add_run(&mut self, first: u64, d: &[f32]) {
        let lead = (((4 - first % 4) % 4) as usize).min(d.len());
        for (k, &x) in d[..lead].iter().enumerate() {
            self.add_at(first + k as u64, f64::from(x).powi(2));
        }
        let rest = &d[lead..];
        let mut chunks = rest.chunks_exact(4);
        let mut lanes = self.0;
        for c in &mut chunks {
            for (lane, &x) in lanes.iter_mut().zip(c) {
                *lane += f64::from(x).powi(2);
            }
        }
        self.0 = lanes;
        let tail_first = first + (lead + rest.len() - chunks.remainder().len()) as u64;
        for (k, &x) in chunks.remainder().iter().enumerate() {
            self.add_at(tail_first + k as u64, f64::from(x).powi(2));
        }
    }

    fn total(&self) -> f64 {
        (self.0[0] + self.0[1]) + (self.0[2] + self.0[3])
    }
}

/// The report's `energy_kept` from per-channel sums, in channel order.
fn energy_kept(before: &[Energy], after: &[Energy]) -> f64 {
    let before = before.iter().map(Energy::total).fold(0.0, |s, e| s + e);
    let after = after.iter().map(Energy::total).fold(0.0, |s, e| s + e);
    if before > 0.0 { after / before } else { 1.0 }
}

/// `x + g * d`, as [`add_limited`] computes it, within `max(ceiling, |x|)`.
fn limited_sum(x: f32, d: f32, g: f64, ceiling: f32) -> f32 {
    let bound = ceiling.max(x.abs());
    let y = if g < 1.0 {
        (f64::from(x) + g * f64::from(d)) as f32
    } else {
        x + d
    };
    // A no-op but for the last ulp of rounding: every gain already keeps the exact sum within
    // the bound (see the module docs), and rounding to f32 may at most step onto the bound's
    // neighbour. `clamp` written out (`bound >= 0`, a NaN passes as through `clamp`): without
    // `clamp`'s check of its bounds, the loops over frames vectorise.
    if y > bound {
        bound
    } else if y < -bound {
        -bound
    } else {
        y
    }
}

/// The largest gain in `[0, 1]` that keeps `x + gain * d` within `max(ceiling, |x|)`.
fn needed_gain(x: f32, d: f32, ceiling: f32) -> f64 {
    // Well inside the ceiling no rounding can matter: the exact `|x| + |d|` is below
    // `(1 + 2^-24) * 0.999 * ceiling`, so `|x + d|` is below the ceiling, hence the bound.
    if x.abs() + d.abs() < 0.999 * ceiling {
        return 1.0;
    }
    let (x, d) = (f64::from(x), f64::from(d));
    let bound = f64::from(ceiling).max(x.abs());
    let y = x + d;
    let g = if y > bound {
        (bound - x) / d
    } else if y < -bound {
        (-bound - x) / d
    } else {
        return 1.0;
    };
    // `|x| <= bound`, so the gain lies in [0, 1); the clamp guards rounding only.
    g.clamp(0.0, 1.0)
}

/// The largest gain in `[0, 1]` for each frame that keeps every channel within its bound.
fn needed_gains(host: &[Vec<f32>], added: &[Vec<f32>], ceiling: f32, len: usize) -> Vec<f64> {
    let mut need = vec![1.0f64; len];
    for (x, d) in host.iter().zip(added) {
        for n in 0..len {
            need[n] = need[n].min(needed_gain(x[n], d[n], ceiling));
        }
    }
    need
}

/// A smooth gain curve never above `need`: the sliding minimum over `2w + 1` samples, then a
/// triangular mean over the same span (two box filters of `w + 1`, one causal, one
/// anti-causal). Outside the signal the need is 1.
fn smooth_below(need: &[f64], w: usize) -> Vec<f64> {
    let len = need.len();
    // Padded by 2w on each side so the windows near the ends see the real needs.
    let pad = 2 * w;
    let mut padded = vec![1.0f64; len + 2 * pad];
    padded[pad..pad + len].copy_from_slice(need);
    let held = sliding_min(&padded, w);
    let first = box_mean(&held, w, false);
    let second = box_mean(&first, w, true);
    second[pad..pad + len]
        .iter()
        .zip(need)
        // Mathematically `0 <= second <= need`; the min and max only absorb the rounding of
        // the sums.
        .map(|(&s, &r)| s.min(r).max(0.0))
        .collect()
}

/// `out[j] = min x[j-w..=j+w]` (clamped to the slice), by a monotonic deque in O(n).
fn sliding_min(x: &[f64], w: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(x.len());
    let mut deque = std::collections::VecDeque::new();
    let mut next = 0;
    for j in 0..x.len() {
        while next < x.len() && next <= j + w {
            while deque.back().is_some_and(|&b: &usize| x[b] >= x[next]) {
                deque.pop_back();
            }
            deque.push_back(next);
            next += 1;
        }
        while deque.front().is_some_and(|&f| f + w < j) {
            deque.pop_front();
        }
        // The deque holds `j + w` (or the last index) at least, so it is never empty here.
        out.push(deque.front().map_or(1.0, |&f| x[f]));
    }
    out
}

/// Mean over `w + 1` samples: `x[j-w..=j]` (or `x[j..=j+w]` when `ahead`), with the value 1
/// beyond the ends (where the padded gain is 1). A window of ones gives exactly 1.
///
/// Each mean is a function of its window's values alone, bit for bit: the values (all in
/// `[0, 1]`) are summed as integers, `floor(x * 2^52)` (a coarser scale only for windows
/// of more than 2048 samples, so that the sum fits 64 bits), so the running sum is exact
/// and holds no rounding from values that have left the window. Wherever a stretch starts,
/// however long it is and whatever lies outside the window, the gain is the same; that is
/// what lets a copy be assembled from renderings that agree only near each sample
/// (`tracemark_watermark::ab`). (A running sum in `f64` carried the rounding of the whole
/// stretch.) Truncating never raises a mean, so the gain stays below the need.
fn box_mean(x: &[f64], w: usize, ahead: bool) -> Vec<f64> {
    let n = w + 1;
    // Bits the count of a window takes; the rest of 63 hold each value's fraction.
    let count_bits = usize::BITS - n.leading_zeros();
    let scale = (1u64 << (63 - count_bits).min(52)) as f64;
    // `as` truncates towards zero and saturates, so a value in [0, 1] becomes
    // floor(value * scale) (exact: the scale is a power of two), and anything else is
    // clamped into that range.
    let one = scale as u64;
    let at = |i: isize| -> u64 {
        if i < 0 || i as usize >= x.len() {
            one
        } else {
            (x[i as usize] * scale) as u64
        }
    };
    let (lo, hi): (isize, isize) = if ahead {
        (0, w as isize)
    } else {
        (-(w as isize), 0)
    };
    let mut sum: u64 = (lo..=hi).map(at).sum();
    let mut below = (lo..=hi).filter(|&i| at(i) < one).count();
    let mut out = Vec::with_capacity(x.len());
    for j in 0..x.len() as isize {
        out.push(if below == 0 {
            1.0
        } else {
            sum as f64 / scale / n as f64
        });
        let (enter, leave) = (at(j + 1 + hi), at(j + lo));
        below = below + usize::from(enter < one) - usize::from(leave < one);
        sum = sum + enter - leave;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_added_signal_that_fits_is_left_untouched() {
        let host = vec![vec![0.5f32; 100]];
        let (out, r) = add_limited(&host, vec![vec![0.01f32; 100]], 0.9, 10);
        assert!(out[0].iter().all(|&y| y == 0.5 + 0.01));
        assert_eq!((r.overshoot_frames, r.attenuated_frames), (0, 0));
        assert_eq!((r.min_gain, r.energy_kept), (1.0, 1.0));
    }

    #[test]
    fn only_frames_within_two_windows_of_an_overshoot_are_attenuated() {
        let mut host = vec![vec![0.1f32; 1_000]];
        host[0][500] = 0.95;
        let (out, r) = add_limited(&host, vec![vec![0.1f32; 1_000]], 0.95, 8);
        assert_eq!(r.overshoot_frames, 1);
        assert_eq!(r.attenuated_frames, 2 * 16 + 1);
        assert_eq!(out[0][500], 0.95, "the peak gets no added signal");
        let added: Vec<f32> = out[0].iter().zip(&host[0]).map(|(y, x)| y - x).collect();
        for (n, d) in added.iter().enumerate() {
            if n.abs_diff(500) > 16 {
                assert_eq!(
                    out[0][n],
                    0.1f32 + 0.1,
                    "frame {n} is far from the overshoot"
                );
                assert!((d - 0.1).abs() < 1e-6);
            }
        }
        // Smooth: a triangular kernel of w + 1 = 9 moves the gain by at most 1/9 per step
        // (plus the step of the held minimum itself, which the kernel spreads).
        for w in added.windows(2) {
            assert!((w[0] - w[1]).abs() <= 0.1 / 9.0 + 1e-6, "{w:?}");
        }
    }

    #[test]
    fn a_host_already_past_the_ceiling_is_kept_and_not_pushed_further() {
        let host = vec![vec![0.999f32, -0.999, 0.5]];
        let (out, r) = add_limited(&host, vec![vec![0.01, -0.01, 0.01]], 0.98, 0);
        assert_eq!(out[0][..2], [0.999, -0.999]);
        assert_eq!(out[0][2], 0.51);
        assert_eq!(r.overshoot_frames, 2);
    }

    #[test]
    fn the_gain_is_linked_across_channels() {
        let host = vec![vec![0.0f32, 0.97, 0.0], vec![0.0f32, 0.0, 0.0]];
        let (out, _) = add_limited(&host, vec![vec![0.02; 3], vec![0.02; 3]], 0.98, 0);
        assert_eq!(out[0][1], 0.98);
        assert!(
            (out[1][1] - 0.01).abs() < 1e-6,
            "the quiet channel follows: {}",
            out[1][1]
        );
    }

    #[test]
    fn sliding_min_matches_the_naive_window() {
        let x: Vec<f64> = (0..50).map(|i| ((i * 37) % 11) as f64).collect();
        for w in [0, 1, 3, 7] {
            let fast = sliding_min(&x, w);
            for (j, v) in fast.iter().enumerate() {
                let lo = j.saturating_sub(w);
                let hi = (j + w).min(x.len() - 1);
                let naive = x[lo..=hi].iter().copied().fold(f64::INFINITY, f64::min);
                assert_eq!(*v, naive, "w {w} j {j}");
            }
        }
    }

    /// Uniform noise in [-1, 1) from `seed` (xorshift64, Marsaglia 2003).
    fn noise(seed: u64) -> impl FnMut() -> f32 {
        let mut s = seed | 1;
        move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
        }
    }

    proptest! {
        /// A gain is a function of the needs within `2w` of its frame alone, to the bit:
        /// changing every need farther away, or cutting the signal there, leaves it as it
        /// was (what assembling a copy from renderings that agree only near each frame
        /// needs).
        #[test]
        fn a_gain_depends_on_the_needs_within_two_windows_alone(
            seed in any::<u64>(),
            w in 0usize..30,
            at in 0usize..400,
        ) {
            let mut next = noise(seed);
            let need: Vec<f64> = (0..400).map(|_| f64::from(next().abs().min(1.0))).collect();
            let mut other: Vec<f64> = (0..400).map(|_| f64::from(next().abs().min(1.0))).collect();
            let (lo, hi) = (at.saturating_sub(2 * w), (at + 2 * w).min(399));
            other[lo..=hi].copy_from_slice(&need[lo..=hi]);
            let g = smooth_below(&need, w)[at];
            prop_assert_eq!(smooth_below(&other, w)[at].to_bits(), g.to_bits());
            // Ones beyond the window (a stretch cut there, as the stream limiter cuts it).
            let mut ones = vec![1.0; 400];
            ones[lo..=hi].copy_from_slice(&need[lo..=hi]);
            prop_assert_eq!(smooth_below(&ones, w)[at].to_bits(), g.to_bits());
        }

        /// The stream limiter, fed in pieces of any sizes, gives `add_limited`'s samples
        /// bit for bit, and the same counts and least gain.
        #[test]
        fn the_stream_limiter_in_any_pieces_is_add_limited(
            seed in any::<u64>(),
            level in 0.3f32..1.0,
            mark in 0.001f32..0.3,
            w in 0usize..40,
            channels in 1usize..3,
            cuts in proptest::collection::vec(1usize..700, 1..12),
        ) {
            let mut next = noise(seed);
            let len = 3_000;
            // Loud bursts between quiet stretches, so stretches open and close.
            let host: Vec<Vec<f32>> = (0..channels)
                .map(|_| (0..len).map(|n| next() * if (n / 400) % 3 == 1 { level } else { 0.1 }).collect())
                .collect();
            let added: Vec<Vec<f32>> =
                (0..channels).map(|_| (0..len).map(|_| next() * mark).collect()).collect();
            let peak = host.iter().flatten().fold(0.0f32, |m, x| m.max(x.abs()));
            let ceiling = ceiling_for(peak);
            let (whole, r) = add_limited(&host, added.clone(), ceiling, w);
            let mut limiter = StreamLimiter::new(channels, ceiling, w);
            let mut out = vec![Vec::new(); channels];
            let (mut at, mut i) = (0, 0);
            while at < len {
                let n = cuts[i % cuts.len()].min(len - at);
                let h: Vec<&[f32]> = host.iter().map(|c| &c[at..at + n]).collect();
                let d: Vec<&[f32]> = added.iter().map(|c| &c[at..at + n]).collect();
                limiter.push(&h, &d, &mut out);
                at += n;
                i += 1;
            }
            let streamed = limiter.finish(&mut out);
            prop_assert!(out == whole, "samples differ");
            prop_assert_eq!(streamed.overshoot_frames, r.overshoot_frames);
            prop_assert_eq!(streamed.attenuated_frames, r.attenuated_frames);
            prop_assert_eq!(streamed.min_gain, r.min_gain);
            // Every gain is a function of its window alone, so the energies, summed in the
            // same lanes, are the same to the bit.
            prop_assert_eq!(streamed.energy_kept, r.energy_kept);
        }

        #[test]
        fn loud_hosts_never_pass_their_ceiling(
            seed in any::<u64>(),
            level in 0.5f32..1.0,
            mark in 0.001f32..0.2,
            w in 0usize..64,
            channels in 1usize..3,
        ) {
            let mut next = noise(seed);
            let host: Vec<Vec<f32>> =
                (0..channels).map(|_| (0..2_000).map(|_| next() * level).collect()).collect();
            let added: Vec<Vec<f32>> =
                (0..channels).map(|_| (0..2_000).map(|_| next() * mark).collect()).collect();
            let peak = host.iter().flatten().fold(0.0f32, |m, x| m.max(x.abs()));
            let ceiling = ceiling_for(peak);
            let (out, r) = add_limited(&host, added.clone(), ceiling, w);
            for ((x, d), y) in host.iter().zip(&added).zip(&out) {
                for ((x, d), y) in x.iter().zip(d).zip(y) {
                    prop_assert!(y.abs() <= ceiling.max(x.abs()));
                    prop_assert!(y.abs() <= peak);
                    // Never more than the mark, never the other way.
                    prop_assert!((y - x).abs() <= d.abs() + 1e-6);
                    prop_assert!((y - x) * d >= -1e-9);
                }
            }
            prop_assert!(r.min_gain >= 0.0 && r.min_gain <= 1.0);
            // Farther than 2w from every would-be overshoot, the sum is left exactly as is.
            let over: Vec<usize> = (0..2_000)
                .filter(|&n| host.iter().zip(&added).any(|(x, d)| {
                    (x[n] + d[n]).abs() > ceiling.max(x[n].abs())
                }))
                .collect();
            prop_assert_eq!(over.len(), r.overshoot_frames);
            for n in 0..2_000 {
                if over.iter().all(|&o| o.abs_diff(n) > 2 * w) {
                    for ((x, d), y) in host.iter().zip(&added).zip(&out) {
                        prop_assert_eq!(y[n], x[n] + d[n], "frame {}", n);
                    }
                }
            }
        }
    }
}
