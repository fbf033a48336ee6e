//! Reading a leak: which sites it shows, in which form, and which of its words the
//! transcript contains.

use crate::align::{self, Run};
use crate::sites::{self, Site, SiteKind};
use crate::text::Words;
use crate::{Error, MarkedTranscript};

/// Soft value given to a site read in one form: `+READ_SOFT_VALUE` for symbol 1,
/// `-READ_SOFT_VALUE` for symbol 0. Chosen so that the single-leaker log-likelihood
/// score, at the amplitude tardos estimates from these values
/// (`mu = sqrt(z^2 - 1) = 1.40`), weighs a read site as a hard read that is wrong with
/// probability 1 %: `2 mu z = 4.8 ~ ln(0.99 / 0.01) = 4.6`. One misread costs a leaker
/// that much and no more; the false-accusation bound holds for any value.
pub const READ_SOFT_VALUE: f32 = 1.72;

/// What the leak shows of one site.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SiteState {
    /// The leak does not quote the site (or quotes it with a word missing beside it).
    Unseen,
    /// The leak quotes the site, but in a form that retyping or a house style could have
    /// produced from either symbol, or that no symbol gives (an elision, a misspelt
    /// word, two quotes that disagree): no evidence.
    Erased,
    /// The leak shows the form of this symbol.
    Read(bool),
}

/// How much the leak may have been normalised since it left its recipient.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ReadPolicy {
    /// Quoted or republished text: forms that a house style or an editor produces
    /// (lower-case titles, AP numbers, hyphenated compounds, one spelling convention
    /// throughout, a question mark restored on a question) are erasures.
    #[default]
    Quoted,
    /// The recipient's file itself, unedited: every form is evidence.
    Verbatim,
}

/// Whether a leak word is in the transcript.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SegmentStatus {
    /// The words are in the transcript, at `original_start_word..original_end_word`.
    Genuine {
        /// First whitespace token of the transcript (0-based).
        original_start_word: usize,
        /// One past the last whitespace token of the transcript.
        original_end_word: usize,
    },
    /// The words are in no transcript.
    Unmatched,
}

/// A run of leak tokens with one status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Genuine or unmatched.
    pub status: SegmentStatus,
    /// First whitespace token of the leak (0-based).
    pub leak_start_word: usize,
    /// One past the last whitespace token of the leak.
    pub leak_end_word: usize,
    /// Whether the segment lies inside quotation marks in the leak. Unmatched words
    /// outside quotes are the writer's own prose; inside quotes they are words put in
    /// the speakers' mouths that the transcript does not contain.
    pub quoted: bool,
}

/// Everything read from one leak against one transcript.
#[derive(Clone, Debug, PartialEq)]
pub struct LeakReading {
    states: Vec<SiteState>,
    segments: Vec<Segment>,
    matched_words: usize,
    leak_words: usize,
}

impl LeakReading {
    /// One state per site of the transcript, in site order.
    pub fn states(&self) -> &[SiteState] {
        &self.states
    }

    /// The leak's tokens in order, each in exactly one segment.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Leak words aligned to the transcript.
    pub fn matched_words(&self) -> usize {
        self.matched_words
    }

    /// Whitespace tokens of the leak.
    pub fn leak_words(&self) -> usize {
        self.leak_words
    }

    /// Sites read in one form.
    pub fn read_sites(&self) -> usize {
        self.states
            .iter()
            .filter(|s| matches!(s, SiteState::Read(_)))
            .count()
    }

    /// Sites seen but erased.
    pub fn erased_sites(&self) -> usize {
        self.states
            .iter()
            .filter(|s| **s == SiteState::Erased)
            .count()
    }

    /// The readings as tardos observations: one slot per site, `+-READ_SOFT_VALUE`
    /// where read, unobserved (cells = 0) elsewhere.
    ///
    /// # Errors
    /// [`Error::Tardos`] beyond tardos' slot limit.
    pub fn observations(&self) -> Result<tracemark_tardos::Observations, Error> {
        let (soft, cells) = self
            .states
            .iter()
            .map(|s| match s {
                SiteState::Read(true) => (READ_SOFT_VALUE, 1),
                SiteState::Read(false) => (-READ_SOFT_VALUE, 1),
                _ => (0.0, 0),
            })
            .unzip();
        Ok(tracemark_tardos::Observations::try_new(soft, cells)?)
    }
}

/// Class of the punctuation between two leak words, quotes and spaces set aside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Gap {
    Space,
    Comma,
    Stop,
    Semicolon,
    Exclamation,
    Question,
    Dash,
    Hyphen,
    Other,
}

/// Class of a leak gap. An elision, a paragraph break, or a quotation mark makes it
/// [`Gap::Other`]: the transcript's own sites never hold a quotation mark (a site's gap
/// is spaces and one punctuation mark), so a quote mark at a site means the writer's
/// punctuation meets the transcript's there (`at the time. "Early next year; I`, where
/// the prose's `time.` happens to precede the quote's first word), and the mark read
/// there may be the writer's.
///
/// A paragraph break is the transcript's own where `turn` says the leak's next word
/// follows a speaker label: the end of a turn.
fn classify(gap: &str, turn: bool) -> Gap {
    let quote_mark = |c: char| {
        matches!(
            c,
            '"' | '\u{201C}' | '\u{201D}' | '\u{2018}' | '\u{2019}' | '\''
        )
    };
    let elided = gap.contains("..") || gap.contains('\u{2026}');
    let paragraph = !turn && gap.matches('\n').count() > 1;
    if elided || paragraph || gap.chars().any(quote_mark) {
        return Gap::Other;
    }
    let core: String = gap.chars().filter(|c| !c.is_whitespace()).collect();
    match core.as_str() {
        "" => Gap::Space,
        "," => Gap::Comma,
        "." => Gap::Stop,
        ";" => Gap::Semicolon,
        "!" => Gap::Exclamation,
        "?" => Gap::Question,
        "\u{2014}" | "\u{2013}" | "--" | "---" => Gap::Dash,
        "-" if gap.chars().any(char::is_whitespace) => Gap::Dash,
        "-" => Gap::Hyphen,
        _ => Gap::Other,
    }
}

fn is_lower(word: &str) -> bool {
    word.chars().next().is_some_and(char::is_lowercase)
}

fn is_digits(word: &str) -> bool {
    word.bytes().all(|b| b.is_ascii_digit())
}

struct Reader<'a> {
    leak: &'a Words,
    policy: ReadPolicy,
    /// Whether the leak mixes American and British spellings from the list.
    mixed_spelling: bool,
}

impl Reader<'_> {
    /// The state of a gap site whose words are the leak's units `leak_unit` and `next`
    /// (speaker labels, and only they, between them).
    fn gap(&self, site: &Site, leak_unit: usize, next: usize) -> SiteState {
        let read = |b: bool| SiteState::Read(b);
        let quoted = self.policy == ReadPolicy::Quoted;
        let turn = next > leak_unit + 1;
        let comma_site = matches!(
            site.kind,
            SiteKind::IntroComma
                | SiteKind::ConjunctionComma
                | SiteKind::TooComma
                | SiteKind::VocativeComma
                | SiteKind::TagComma
        );
        match (site.kind, classify(self.leak.gap_after(leak_unit), turn)) {
            (_, Gap::Comma) if comma_site => read(true),
            (_, Gap::Space) if comma_site => read(false),
            (SiteKind::StopSemicolon | SiteKind::StopComma | SiteKind::Exclamation, Gap::Stop) => {
                read(false)
            }
            (SiteKind::StopSemicolon, Gap::Semicolon) => read(true),
            (SiteKind::StopComma, Gap::Comma) => read(true),
            (SiteKind::Exclamation, Gap::Exclamation) => read(true),
            // An editor may put the question mark back on a question; only the full
            // stop, which no normalisation writes there, is evidence in a quote.
            (SiteKind::QuestionStop, Gap::Question) if !quoted => read(false),
            (SiteKind::QuestionStop, Gap::Stop) => read(true),
            (SiteKind::DashComma, Gap::Dash) => read(false),
            (SiteKind::DashComma, Gap::Comma) => read(true),
            (SiteKind::Hyphen, Gap::Space) => read(true),
            (SiteKind::Hyphen, Gap::Hyphen) if !quoted => read(false),
            _ => SiteState::Erased,
        }
    }

    fn word(&self, site: &Site, leak_unit: usize) -> SiteState {
        let word = self.leak.word(leak_unit);
        let quoted = self.policy == ReadPolicy::Quoted;
        let lower = word.to_lowercase();
        match site.kind {
            SiteKind::TitleCase => {
                let opens = leak_unit == 0 || {
                    let before = self.leak.gap_after(leak_unit - 1);
                    before.contains(['.', '?', '!', ':', '"', '\u{201C}', '\n'])
                };
                let shouting = word
                    .chars()
                    .filter(|c| c.is_alphabetic())
                    .all(char::is_uppercase);
                if is_lower(word) {
                    if quoted {
                        SiteState::Erased
                    } else {
                        SiteState::Read(true)
                    }
                } else if opens || shouting {
                    SiteState::Erased
                } else {
                    SiteState::Read(false)
                }
            }
            SiteKind::Number => {
                let Some(value) = sites::number_value(&lower) else {
                    return SiteState::Erased;
                };
                let numeral = is_digits(word);
                // AP style: spell out one to nine, numerals from 10 (AP Stylebook, "numerals").
                let ap_form = value >= 10;
                if quoted && numeral == ap_form {
                    SiteState::Erased
                } else {
                    SiteState::Read(numeral)
                }
            }
            SiteKind::Spelling => {
                if sites::american_of(&lower).is_none() || quoted && !self.mixed_spelling {
                    SiteState::Erased
                } else {
                    SiteState::Read(sites::is_british(&lower))
                }
            }
            _ => SiteState::Erased,
        }
    }
}

fn merge(old: SiteState, new: SiteState) -> SiteState {
    match (old, new) {
        (SiteState::Unseen, n) => n,
        (o, SiteState::Unseen) => o,
        (SiteState::Read(a), SiteState::Read(b)) if a == b => old,
        (SiteState::Read(_), SiteState::Erased) => old,
        (SiteState::Erased, SiteState::Read(_)) => new,
        _ => SiteState::Erased,
    }
}

/// Reads `leak` against `marked` (see [`MarkedTranscript::read`]).
pub(crate) fn read(
    marked: &MarkedTranscript,
    leak: &str,
    policy: ReadPolicy,
) -> Result<LeakReading, Error> {
    let leak = Words::parse(leak)?;
    let runs = align::align(marked.words(), &leak);
    let n_orig = marked.words().units().len();
    let mut to_leak: Vec<Option<(usize, bool)>> = vec![None; n_orig];
    let mut states = vec![SiteState::Unseen; marked.sites().len()];
    let (mut american, mut british) = (false, false);
    for k in 0..leak.units().len() {
        let lower = leak.word(k).to_lowercase();
        if sites::american_of(&lower).is_some() {
            if sites::is_british(&lower) {
                british = true
            } else {
                american = true
            }
        }
    }
    let reader = Reader {
        leak: &leak,
        policy,
        mixed_spelling: american && british,
    };
    for run in &runs {
        for p in &run.pairs {
            to_leak[p.original] = Some((p.leak, p.exact));
        }
        let lo = run.pairs.iter().map(|p| p.original).min().unwrap_or(0);
        let hi = run.pairs.iter().map(|p| p.original).max().unwrap_or(0);
        let first = marked.sites().partition_point(|s| s.unit < lo);
        let last = marked.sites().partition_point(|s| s.unit <= hi);
        for (s, site) in marked.sites().iter().enumerate().take(last).skip(first) {
            let Some((i, exact)) = to_leak[site.unit] else {
                continue;
            };
            let state = if site.kind.is_boundary() {
                let after = (site.unit + 1..n_orig).find(|&k| !marked.words().units()[k].label);
                match after.and_then(|k| to_leak[k]) {
                    Some((next, _)) if next > i && (i + 1..next).all(|u| leak.units()[u].label) => {
                        reader.gap(site, i, next)
                    }
                    _ => continue,
                }
            } else if exact {
                reader.word(site, i)
            } else {
                SiteState::Erased
            };
            states[s] = merge(states[s], state);
        }
        for p in &run.pairs {
            to_leak[p.original] = None;
        }
    }
    let matched_words = runs.iter().map(|r| r.pairs.len()).sum();
    Ok(LeakReading {
        states,
        segments: segments(marked.words(), &leak, &runs),
        matched_words,
        leak_words: leak.token_count(),
    })
}

/// Quote state of every leak token: inside `"..."` or `“...”`, nested quotes counted
/// (a quote of a transcript that itself quotes someone). A straight quote opens before a
/// token's first letter or digit and closes after it; a blank line closes every quote, as
/// a press quote continued over paragraphs reopens each one.
fn quoted_tokens(leak: &Words) -> Vec<bool> {
    let mut out = vec![false; leak.token_count()];
    let (mut depth, mut token, mut in_token, mut newlines) = (0usize, 0usize, false, 0usize);
    let mut word_begun = false;
    for c in leak.text().chars() {
        if c.is_whitespace() {
            if in_token {
                token += 1;
                in_token = false;
            }
            if c == '\n' {
                newlines += 1;
                if newlines >= 2 {
                    depth = 0;
                }
            }
            continue;
        }
        newlines = 0;
        if !in_token {
            word_begun = false;
        }
        in_token = true;
        let starts = !word_begun;
        word_begun |= c.is_alphanumeric();
        match c {
            '\u{201C}' => depth += 1,
            '"' if starts => depth += 1,
            '\u{201D}' | '"' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if let Some(q) = out.get_mut(token)
            && c.is_alphanumeric()
            && !*q
        {
            *q = depth > 0;
        }
    }
    out
}

fn segments(original: &Words, leak: &Words, runs: &[Run]) -> Vec<Segment> {
    let quoted = quoted_tokens(leak);
    let tokens = leak.token_count();
    // Per token: Some(run) if inside a genuine run's token span.
    let mut owner: Vec<Option<usize>> = vec![None; tokens];
    for (r, run) in runs.iter().enumerate() {
        let (Some(first), Some(last)) = (run.pairs.first(), run.pairs.last()) else {
            continue;
        };
        let (a, b) = (
            leak.units()[first.leak].token,
            leak.units()[last.leak].token,
        );
        for o in owner.iter_mut().take(b + 1).skip(a) {
            *o = Some(r);
        }
    }
    let mut out: Vec<Segment> = Vec::new();
    for t in 0..tokens {
        let status = match owner[t] {
            Some(r) => {
                let run = &runs[r];
                let first = run.pairs.first().map_or(0, |p| p.original);
                let last = run.pairs.last().map_or(0, |p| p.original);
                SegmentStatus::Genuine {
                    original_start_word: original.units()[first].token,
                    original_end_word: original.units()[last].token + 1,
                }
            }
            None => SegmentStatus::Unmatched,
        };
        let q = quoted[t];
        match out.last_mut() {
            Some(s)
                if s.status == status
                    && (s.quoted == q || matches!(status, SegmentStatus::Genuine { .. })) =>
            {
                s.leak_end_word = t + 1;
                s.quoted |= q;
            }
            _ => out.push(Segment {
                status,
                leak_start_word: t,
                leak_end_word: t + 1,
                quoted: q,
            }),
        }
    }
    inherit_quotes(&mut out, leak.text());
    out
}

/// An unmatched run between two genuine ones, with no quotation mark anywhere from the
/// end of the first to the start of the second, lies inside their quotation: words put in
/// the speakers' mouths even where straight quotes nested in the transcript's own quotes
/// left the quote marks ambiguous. Prose between two separate quotes always has a closing
/// and an opening mark in that stretch, so it stays unquoted.
fn inherit_quotes(segments: &mut [Segment], text: &str) {
    let spans = token_spans(text);
    let quote_mark = |c: char| matches!(c, '"' | '\u{201C}' | '\u{201D}');
    for k in 1..segments.len().saturating_sub(1) {
        let (before, here, after) = (segments[k - 1], segments[k], segments[k + 1]);
        let between_genuine = matches!(before.status, SegmentStatus::Genuine { .. })
            && here.status == SegmentStatus::Unmatched
            && matches!(after.status, SegmentStatus::Genuine { .. });
        if !between_genuine || !(before.quoted || after.quoted) {
            continue;
        }
        let from = spans[before.leak_end_word - 1].1;
        let to = spans[after.leak_start_word].0;
        // The genuine tokens' own trailing and leading marks count too.
        let from = text[spans[before.leak_end_word - 1].0..from]
            .rfind(char::is_alphanumeric)
            .map_or(from, |i| spans[before.leak_end_word - 1].0 + i + 1);
        let to = text[to..spans[after.leak_start_word].1]
            .find(char::is_alphanumeric)
            .map_or(to, |i| to + i);
        if !text[from..to].chars().any(quote_mark) {
            segments[k].quoted = true;
        }
    }
}

/// Byte span of every whitespace-separated token.
fn token_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, text.len()));
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MarkedTranscript;

    fn classify_in(gap: &str) -> Gap {
        classify(gap, false)
    }

    #[test]
    fn gaps_are_classified_with_quotes_and_retyped_dashes_set_aside() {
        assert_eq!(classify_in(", "), Gap::Comma);
        assert_eq!(
            classify_in(",\" "),
            Gap::Other,
            "a quote mark: maybe the writer's comma"
        );
        assert_eq!(classify_in(". \u{201C}"), Gap::Other);
        assert_eq!(classify_in(" "), Gap::Space);
        assert_eq!(classify_in(" -- "), Gap::Dash);
        assert_eq!(classify_in("--"), Gap::Dash);
        assert_eq!(classify_in(" - "), Gap::Dash);
        assert_eq!(classify_in("-"), Gap::Hyphen);
        assert_eq!(classify_in("; "), Gap::Semicolon);
        assert_eq!(classify_in(" ... "), Gap::Other);
        assert_eq!(classify_in(" \u{2026} "), Gap::Other);
        assert_eq!(classify_in(", -- "), Gap::Other);
    }

    #[test]
    fn a_quote_marks_its_tokens() {
        let w = Words::parse("He said \"we made it\" and “so did they” then.").expect("small");
        let nested =
            Words::parse("\"I told him, \"No.\" He left\" then \"\"now\".").expect("small");
        assert_eq!(
            quoted_tokens(&nested),
            [true, true, true, true, true, true, false, true]
        );
        assert_eq!(
            quoted_tokens(&w),
            [
                false, false, true, true, true, false, true, true, true, false
            ]
        );
    }

    #[test]
    fn prose_between_quotes_is_outside_them_and_words_inside_a_quote_are_not() {
        let marked = MarkedTranscript::new(
            "K: We made some progress today and then we talked about the plan for a long while.\n",
        )
        .expect("small");
        let statuses = |leak: &str| -> Vec<(bool, bool)> {
            let reading = marked.read(leak, ReadPolicy::Quoted).expect("small");
            reading
                .segments()
                .iter()
                .map(|s| (s.status != SegmentStatus::Unmatched, s.quoted))
                .collect()
        };
        // (genuine, quoted) per segment.
        assert_eq!(
            statuses(
                "\"We made some progress today\" he said. \"And then we talked about the plan\""
            ),
            [(true, true), (false, false), (true, true)]
        );
        // The inner straight quotes leave `never again` outside any quote by the marks
        // alone; between two genuine runs with no mark in between, it is inside.
        assert_eq!(
            statuses(
                "\"\"We made some progress today never again said anyone and then we talked about the plan\""
            ),
            [(true, true), (false, true), (true, true)]
        );
    }

    #[test]
    fn two_quotes_that_disagree_erase_the_site() {
        assert_eq!(
            merge(SiteState::Read(true), SiteState::Read(false)),
            SiteState::Erased
        );
        assert_eq!(
            merge(SiteState::Read(true), SiteState::Erased),
            SiteState::Read(true)
        );
        assert_eq!(
            merge(SiteState::Unseen, SiteState::Read(false)),
            SiteState::Read(false)
        );
    }
}
