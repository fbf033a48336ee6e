//! The variant sites of a transcript: where a transcriber's choice can differ without
//! changing a word that was said. The catalogue and its reasons are in
//! `docs/design/transcripts.md`; each kind below cites its rule there.

use crate::lists::{
    ABBREVIATIONS, FUNCTION, INTRO, LOWERABLE, NUMBER_WORDS, PHRASE_OPENERS, SPELLINGS, SUBJECTS,
    SUBORDINATORS, TENS, TITLES, UNIT_NOUNS,
};
use crate::text::Words;

/// What a site varies. Symbol `false` renders the first form named, `true` the second.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SiteKind {
    /// No comma / comma after a sentence-opening discourse word (`Well I` / `Well, I`).
    IntroComma,
    /// No comma / comma before `and`, `but`, `so` opening a clause with a subject
    /// (`Sisco and I think` / `Sisco, and I think`).
    ConjunctionComma,
    /// No comma / comma before a sentence-final `too` or `either`.
    TooComma,
    /// Full stop / semicolon between two sentences of one turn (`it. We` / `it; we`).
    StopSemicolon,
    /// Dash / comma inside a sentence (`to be—at least` / `to be, at least`).
    DashComma,
    /// Hyphen / space in a compound (`Four-Power` / `Four Power`).
    Hyphen,
    /// Capital / lower-case title after `the` (`the President` / `the president`).
    TitleCase,
    /// Spelled / numeric count before a noun (`three weeks` / `3 weeks`).
    Number,
    /// American / British spelling from a fixed list (`color` / `colour`).
    Spelling,
}

impl SiteKind {
    /// Whether the site changes a word once case and punctuation are set aside (these
    /// count against the 3 % budget of changed words).
    pub fn changes_a_word(self) -> bool {
        matches!(self, Self::Number | Self::Spelling)
    }

    /// Whether the site lies in the gap after its unit (else in the unit itself).
    pub fn is_boundary(self) -> bool {
        !matches!(self, Self::TitleCase | Self::Number | Self::Spelling)
    }

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::IntroComma => "intro-comma",
            Self::ConjunctionComma => "conjunction-comma",
            Self::TooComma => "too-comma",
            Self::StopSemicolon => "stop-semicolon",
            Self::DashComma => "dash-comma",
            Self::Hyphen => "hyphen",
            Self::TitleCase => "title-case",
            Self::Number => "number",
            Self::Spelling => "spelling",
        }
    }
}

/// One variant site.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Site {
    /// What it varies.
    pub kind: SiteKind,
    /// The unit it belongs to: for a boundary site the gap after this unit, else the unit.
    pub unit: usize,
    /// The symbol the original transcript itself carries.
    pub original: bool,
    /// For [`SiteKind::StopSemicolon`]: the next word is a name (or `I`, an acronym) and
    /// keeps its capital after a semicolon.
    pub keeps_capital: bool,
}

/// The value of a spelled or numeric count from 2 to 99 (`None` for anything else).
pub fn number_value(lower: &str) -> Option<u32> {
    if let Some(i) = NUMBER_WORDS.iter().position(|w| *w == lower) {
        return Some(i as u32 + 2);
    }
    if let Some(i) = TENS.iter().position(|w| *w == lower) {
        return Some(30 + 10 * i as u32);
    }
    let numeric =
        !lower.is_empty() && lower.len() <= 2 && lower.bytes().all(|b| b.is_ascii_digit());
    let value: u32 = if numeric {
        lower.parse().ok()?
    } else {
        return None;
    };
    let spelled =
        (2..=20).contains(&value) || (value.is_multiple_of(10) && (30..=90).contains(&value));
    (spelled && !lower.starts_with('0')).then_some(value)
}

/// The spelled form of a value [`number_value`] accepts.
fn spelled(value: u32) -> Option<&'static str> {
    match value {
        2..=20 => NUMBER_WORDS.get(value as usize - 2).copied(),
        30..=90 if value.is_multiple_of(10) => TENS.get(value as usize / 10 - 3).copied(),
        _ => None,
    }
}

/// The American form of a British spelling on the list, or of an American one itself.
pub fn american_of(lower: &str) -> Option<&'static str> {
    SPELLINGS
        .iter()
        .find(|(a, b)| *a == lower || *b == lower)
        .map(|(a, _)| *a)
}

/// Whether `lower` is a British form on the list.
pub fn is_british(lower: &str) -> bool {
    SPELLINGS.iter().any(|(_, b)| *b == lower)
}

fn lower(w: &str) -> String {
    w.chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c == '\u{2019}' { '\'' } else { c })
        .collect()
}

/// A gap of spaces with at most one leading comma: `Some(has_comma)`.
pub(crate) fn plain_gap(gap: &str) -> Option<bool> {
    let rest = gap.strip_prefix(',');
    let spaces = rest.unwrap_or(gap);
    (!spaces.is_empty() && spaces.chars().all(|c| c == ' ')).then_some(rest.is_some())
}

/// A gap of one full stop and spaces (no line break).
fn stop_gap(gap: &str) -> bool {
    gap.strip_prefix('.')
        .is_some_and(|s| !s.is_empty() && s.chars().all(|c| c == ' '))
}

/// An inner dash: an em or en dash or `--`, with optional spaces, no line break.
fn dash_gap(gap: &str) -> bool {
    matches!(gap.trim_matches(' '), "\u{2014}" | "\u{2013}" | "--")
}

fn ends_sentence(gap: &str) -> bool {
    gap.contains(['.', '?', '!', ':', '\n', '\u{2026}'])
}

struct Finder<'a> {
    w: &'a Words,
    lower: Vec<String>,
    /// Words written only with a capital, and somewhere inside a sentence: names,
    /// `I`, acronyms.
    names: std::collections::HashSet<String>,
}

impl Finder<'_> {
    fn n(&self) -> usize {
        self.lower.len()
    }

    fn is_label(&self, k: usize) -> bool {
        self.w.units()[k].label
    }

    fn sentence_start(&self, k: usize) -> bool {
        if k == 0 || self.is_label(k - 1) {
            return true;
        }
        let gap = self.w.gap_after(k - 1);
        ends_sentence(gap)
            && !(stop_gap(gap) && ABBREVIATIONS.contains(&self.lower[k - 1].as_str()))
    }

    /// Units since the sentence began, counting `k`.
    fn sentence_position(&self, k: usize) -> usize {
        let mut j = k;
        while !self.sentence_start(j) {
            j -= 1;
        }
        k - j + 1
    }

    /// Whether the sentence starting at `k` runs for at least `len` units.
    fn runs_for(&self, k: usize, len: usize) -> bool {
        (k..k + len)
            .all(|j| j < self.n() && !self.is_label(j) && (j == k || !self.sentence_start(j)))
    }

    fn is_capitalised(&self, k: usize) -> bool {
        self.w
            .word(k)
            .chars()
            .next()
            .is_some_and(char::is_uppercase)
    }

    fn intro(&self, k: usize, sites: &[Site]) -> bool {
        let next_ok = k + 1 < self.n() && !self.is_label(k + 1);
        let opens = self.sentence_start(k)
            || sites.last().is_some_and(|s| {
                s.kind == SiteKind::IntroComma
                    && s.unit + 1 == k
                    && self.lower[k - 1] == self.lower[k]
            });
        opens
            && next_ok
            && INTRO.contains(&self.lower[k].as_str())
            && plain_gap(self.w.gap_after(k)).is_some()
    }

    fn conjunction(&self, k: usize) -> bool {
        if k + 2 >= self.n() || self.is_label(k) || self.sentence_position(k) < 3 {
            return false;
        }
        let subject = self.lower[k + 2].split('\'').next().unwrap_or("");
        let conj = self.lower[k + 1].as_str();
        let clause = ["and", "but", "so", "or"].contains(&conj)
            && (SUBJECTS.contains(&subject) || self.is_name(k + 2));
        let subordinate = (SUBORDINATORS.contains(&conj) && self.lower[k + 2] != "of")
            || (conj == "even" && ["though", "if"].contains(&self.lower[k + 2].as_str()));
        (clause || subordinate)
            && !self.is_label(k + 2)
            && plain_gap(self.w.gap_after(k)).is_some()
            && plain_gap(self.w.gap_after(k + 1)) == Some(false)
    }

    fn is_name(&self, k: usize) -> bool {
        self.is_capitalised(k) && self.names.contains(&self.lower[k])
    }

    /// The comma closing an introductory phrase that the original writes: the sentence
    /// opens with a [`PHRASE_OPENERS`] word and this is its first comma, two to six
    /// words in, with a word after it.
    fn phrase(&self, k: usize) -> bool {
        let pos = self.sentence_position(k);
        if !(2..=6).contains(&pos) || k + 1 >= self.n() || self.is_label(k + 1) {
            return false;
        }
        let start = k + 1 - pos;
        PHRASE_OPENERS.contains(&self.lower[start].as_str())
            && plain_gap(self.w.gap_after(k)) == Some(true)
            && (start..k).all(|j| plain_gap(self.w.gap_after(j)) == Some(false))
    }

    fn too(&self, k: usize) -> bool {
        k + 1 < self.n()
            && !self.is_label(k)
            && ["too", "either"].contains(&self.lower[k + 1].as_str())
            && plain_gap(self.w.gap_after(k)).is_some()
            && self
                .w
                .gap_after(k + 1)
                .trim_start()
                .starts_with(['.', '?', '!'])
    }

    fn stop_semicolon(&self, k: usize) -> bool {
        if k + 1 >= self.n() || self.is_label(k) || !stop_gap(self.w.gap_after(k)) {
            return false;
        }
        if ABBREVIATIONS.contains(&self.lower[k].as_str()) {
            return false;
        }
        self.is_capitalised(k + 1)
            && !self.is_label(k + 1)
            && self.sentence_position(k) >= 2
            && self.runs_for(k + 1, 2)
    }

    /// Whether the word after a full stop keeps its capital after a semicolon: `I`, a
    /// name, an acronym, or a word that is neither a safe lower-case opener
    /// ([`LOWERABLE`]) nor written in lower case elsewhere in the transcript.
    fn keeps_capital(&self, k: usize, common: &std::collections::HashSet<String>) -> bool {
        let first = self.lower[k].split('\'').next().unwrap_or("");
        let letters = || self.w.word(k).chars().filter(|c| c.is_alphabetic());
        let acronym = letters().count() > 1 && letters().all(char::is_uppercase);
        first == "i"
            || acronym
            || self.names.contains(&self.lower[k])
            || !LOWERABLE.contains(&first) && !common.contains(&self.lower[k])
    }

    fn dash(&self, k: usize) -> bool {
        k + 1 < self.n()
            && !self.is_label(k)
            && !self.is_label(k + 1)
            && dash_gap(self.w.gap_after(k))
    }

    fn hyphen(&self, k: usize) -> bool {
        const NOISES: &[&str] = &["uh", "huh", "um", "mm", "hmm", "er", "ah"];
        if k + 1 >= self.n() || self.is_label(k) {
            return false;
        }
        let alphabetic =
            |j: usize| self.w.word(j).chars().all(char::is_alphabetic) && self.lower[j].len() >= 2;
        let joined = self.w.gap_after(k) == "-"
            && alphabetic(k)
            && alphabetic(k + 1)
            && !NOISES.contains(&self.lower[k].as_str())
            && !NOISES.contains(&self.lower[k + 1].as_str());
        let open_modifier = k + 2 < self.n()
            && number_value(&self.lower[k]).is_some()
            && UNIT_NOUNS.contains(&self.lower[k + 1].as_str())
            && self.w.gap_after(k) == " "
            && self.w.gap_after(k + 1) == " "
            && self.noun_like(k + 2);
        joined || open_modifier
    }

    fn noun_like(&self, k: usize) -> bool {
        !self.is_label(k)
            && self
                .w
                .word(k)
                .chars()
                .all(|c| c.is_alphabetic() && c.is_lowercase())
            && !FUNCTION.contains(&self.lower[k].as_str())
    }

    fn title(&self, k: usize, sites: &[Site]) -> bool {
        let word = self.lower[k].trim_end_matches("'s");
        if k == 0 || !TITLES.contains(&word) || !self.is_capitalised(k) || self.sentence_start(k) {
            return false;
        }
        if self.w.word(k).chars().skip(1).any(char::is_uppercase) {
            return false;
        }
        let after_the =
            self.lower[k - 1] == "the" && plain_gap(self.w.gap_after(k - 1)) == Some(false);
        let after_title = sites
            .last()
            .is_some_and(|s| s.kind == SiteKind::TitleCase && s.unit + 1 == k)
            && self.w.gap_after(k - 1) == " ";
        let named = k + 1 < self.n()
            && self.w.gap_after(k) == " "
            && self.is_capitalised(k + 1)
            && !TITLES.contains(&self.lower[k + 1].as_str());
        (after_the || after_title) && !named
    }

    fn number(&self, k: usize) -> bool {
        k > 0
            && k + 1 < self.n()
            && number_value(&self.lower[k]).is_some()
            && !self.sentence_start(k)
            && !self.is_capitalised(k)
            && plain_gap(self.w.gap_after(k - 1)).is_some()
            && self.w.gap_after(k) == " "
            && self.noun_like(k + 1)
    }
}

/// Finds the sites of `words`, in text order, at most one per gap and one per word.
/// Word-changing sites ([`SiteKind::changes_a_word`]) are thinned evenly to at most
/// 3 % of the words, the budget of issue 13.
pub fn find(words: &Words) -> Vec<Site> {
    let mut f = Finder {
        w: words,
        lower: (0..words.units().len())
            .map(|k| lower(words.word(k)))
            .collect(),
        names: Default::default(),
    };
    let mut common = std::collections::HashSet::new();
    for k in 0..f.n() {
        if !f.is_capitalised(k) {
            common.insert(f.lower[k].clone());
        } else if !f.sentence_start(k) && !f.is_label(k) {
            f.names.insert(f.lower[k].clone());
        }
    }
    f.names.retain(|n| !common.contains(n));
    let mut sites: Vec<Site> = Vec::new();
    for k in 0..f.n() {
        if f.is_label(k) {
            continue;
        }
        let word_kind = if f.title(k, &sites) {
            Some(SiteKind::TitleCase)
        } else if f.number(k) {
            Some(SiteKind::Number)
        } else if american_of(&f.lower[k]).is_some() {
            Some(SiteKind::Spelling)
        } else {
            None
        };
        if let Some(kind) = word_kind {
            sites.push(Site {
                kind,
                unit: k,
                original: original_word_symbol(kind, &f.lower[k], words.word(k)),
                keeps_capital: false,
            });
        }
        let gap_kind = [
            (f.intro(k, &sites), SiteKind::IntroComma),
            (f.conjunction(k), SiteKind::ConjunctionComma),
            (f.phrase(k), SiteKind::IntroComma),
            (f.too(k), SiteKind::TooComma),
            (f.stop_semicolon(k), SiteKind::StopSemicolon),
            (f.dash(k), SiteKind::DashComma),
            (f.hyphen(k), SiteKind::Hyphen),
        ]
        .into_iter()
        .find_map(|(hit, kind)| hit.then_some(kind));
        if let Some(kind) = gap_kind {
            sites.push(Site {
                kind,
                unit: k,
                original: original_gap_symbol(kind, words.gap_after(k)),
                keeps_capital: kind == SiteKind::StopSemicolon && f.keeps_capital(k + 1, &common),
            });
        }
    }
    thin_word_changes(
        sites,
        f.lower.len() - words.units().iter().filter(|u| u.label).count(),
    )
}

fn original_word_symbol(kind: SiteKind, lower: &str, word: &str) -> bool {
    match kind {
        SiteKind::TitleCase => !word.chars().next().is_some_and(char::is_uppercase),
        SiteKind::Number => lower.bytes().all(|b| b.is_ascii_digit()),
        _ => is_british(lower),
    }
}

fn original_gap_symbol(kind: SiteKind, gap: &str) -> bool {
    match kind {
        SiteKind::StopSemicolon | SiteKind::DashComma => false,
        SiteKind::Hyphen => gap != "-",
        _ => gap.starts_with(','),
    }
}

fn thin_word_changes(sites: Vec<Site>, words: usize) -> Vec<Site> {
    let budget = words * 3 / 100;
    let changing = sites.iter().filter(|s| s.kind.changes_a_word()).count();
    if changing <= budget {
        return sites;
    }
    // Keep changing site r when floor(r * budget / changing) steps up: evenly spread.
    let mut r = 0usize;
    sites
        .into_iter()
        .filter(|s| {
            if !s.kind.changes_a_word() {
                return true;
            }
            let keep = (r + 1) * budget / changing > r * budget / changing;
            r += 1;
            keep
        })
        .collect()
}

fn with_first(word: &str, upper: bool) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(c) if upper => c.to_uppercase().chain(chars).collect(),
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The word of a word site in the form of `symbol`.
pub(crate) fn word_form(site: &Site, word: &str, symbol: bool) -> String {
    let lower = lower(word);
    let capital = word.chars().next().is_some_and(char::is_uppercase);
    match site.kind {
        SiteKind::TitleCase => with_first(word, !symbol),
        SiteKind::Number => {
            let value = number_value(&lower).unwrap_or(0);
            let form = if symbol {
                value.to_string()
            } else {
                spelled(value).unwrap_or(word).to_owned()
            };
            with_first(&form, capital)
        }
        _ => {
            let pair = SPELLINGS.iter().find(|(a, b)| *a == lower || *b == lower);
            let form = pair.map_or(lower.as_str(), |(a, b)| if symbol { b } else { a });
            with_first(form, capital)
        }
    }
}

/// The gap of a boundary site in the form of `symbol`, from the original gap.
pub(crate) fn gap_form(site: &Site, gap: &str, symbol: bool) -> String {
    match site.kind {
        SiteKind::StopSemicolon => {
            if symbol {
                gap.replacen('.', ";", 1)
            } else {
                gap.to_owned()
            }
        }
        SiteKind::DashComma => {
            if symbol {
                ", ".to_owned()
            } else {
                gap.to_owned()
            }
        }
        SiteKind::Hyphen => {
            if symbol {
                " ".to_owned()
            } else {
                "-".to_owned()
            }
        }
        _ => {
            let bare = gap.trim_start_matches(',');
            let bare = if bare.is_empty() { " " } else { bare };
            if symbol {
                format!(",{bare}")
            } else {
                bare.to_owned()
            }
        }
    }
}

/// The case of the word after a stop/semicolon site in the form of `symbol`.
pub(crate) fn after_stop_form(site: &Site, word: &str, symbol: bool) -> String {
    with_first(word, !symbol || site.keeps_capital)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A paragraph of 100 words without sites, so that the 3 % budget allows three
    /// word-changing sites.
    pub(crate) fn padding() -> String {
        format!("\n\nP: {}we met.", "we met them at noon ".repeat(24))
    }

    fn kinds(text: &str) -> Vec<(SiteKind, String)> {
        let w = Words::parse(&format!("{text}{}", padding())).expect("small");
        find(&w)
            .into_iter()
            .map(|s| (s.kind, w.word(s.unit).to_owned()))
            .collect()
    }

    #[test]
    fn discourse_words_conjunctions_and_final_too_are_comma_sites() {
        let found = kinds("K: Well, I had a long talk with Sisco and I think we made it too.\n");
        assert_eq!(
            found,
            [
                (SiteKind::IntroComma, "Well".to_owned()),
                (SiteKind::ConjunctionComma, "Sisco".to_owned()),
                (SiteKind::TooComma, "it".to_owned()),
            ]
        );
    }

    #[test]
    fn sentence_joins_lower_common_openers_and_keep_names_capitalised() {
        let text = format!(
            "K: I talked with Bill. He is working on it. Dobrynin called me. Right. Exactly.{}",
            padding()
        );
        let w = Words::parse(&text).expect("small");
        let joins: Vec<(String, bool)> = find(&w)
            .into_iter()
            .filter(|s| s.kind == SiteKind::StopSemicolon)
            .map(|s| (w.word(s.unit).to_owned(), s.keeps_capital))
            .collect();
        // `Right.` and `Exactly.` are one-word sentences: neither is joined.
        assert_eq!(joins, [("Bill".to_owned(), false), ("it".to_owned(), true)]);
        assert!(
            kinds("K: I saw Mr. Rogers today about it.")
                .iter()
                .all(|(k, _)| *k != SiteKind::StopSemicolon)
        );
    }

    #[test]
    fn titles_numbers_dashes_and_hyphens_are_found() {
        let found = kinds(
            "P: the President said—so the Four-Power talks took three weeks, a three minute conversation.",
        );
        let kinds_only: Vec<SiteKind> = found.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            kinds_only,
            [
                SiteKind::TitleCase,
                SiteKind::DashComma,
                SiteKind::Hyphen,
                SiteKind::Number,
                SiteKind::Number,
                SiteKind::Hyphen
            ]
        );
        // A title before a name is not a site; nor is `one`, nor a sentence-opening number.
        assert!(kinds("P: the President Nixon said one thing.").is_empty());
        assert!(kinds("P: Three weeks passed.").is_empty());
    }

    #[test]
    fn numbers_and_spellings_have_both_forms() {
        assert_eq!(number_value("seventy"), Some(70));
        assert_eq!(number_value("70"), Some(70));
        assert_eq!(number_value("170"), None);
        assert_eq!(number_value("07"), None);
        assert_eq!(number_value("one"), None);
        let site = Site {
            kind: SiteKind::Number,
            unit: 0,
            original: false,
            keeps_capital: false,
        };
        assert_eq!(word_form(&site, "seventy", true), "70");
        assert_eq!(word_form(&site, "70", false), "seventy");
        let site = Site {
            kind: SiteKind::Spelling,
            unit: 0,
            original: false,
            keeps_capital: false,
        };
        assert_eq!(word_form(&site, "Colour", false), "Color");
        assert_eq!(word_form(&site, "color", true), "colour");
    }

    #[test]
    fn word_changing_sites_are_thinned_to_three_percent() {
        let text = format!("P: {}", "we saw two cars then ".repeat(40));
        let w = Words::parse(&text).expect("small");
        let sites = find(&w);
        let changing = sites.iter().filter(|s| s.kind.changes_a_word()).count();
        assert_eq!(changing, 200 * 3 / 100);
    }
}
