//! The variant sites of a transcript: where a transcriber's choice can differ without
//! changing a word that was said. The catalogue and its reasons are in
//! `docs/design/transcripts.md`; each kind below cites its rule there.

use crate::lists::{NUMBER_WORDS, SPELLINGS, TENS};
pub(crate) use crate::rules::find;

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
    /// No comma / comma setting off a name addressed (`Henry you have` / `Henry, you
    /// have`; `right now Henry.` / `right now, Henry.`).
    VocativeComma,
    /// No comma / comma before a question tag (`Dobrynin are you?` / `Dobrynin, are
    /// you?`).
    TagComma,
    /// Full stop / comma after a one-word interjection that a sentence of the same turn
    /// follows (`Yes. We should` / `Yes, we should`).
    StopComma,
    /// Full stop / exclamation mark after a one-word exclamation (`Good.` / `Good!`).
    Exclamation,
    /// Question mark / full stop after a sentence whose word order makes it a question
    /// (`What does it say?` / `What does it say.`).
    QuestionStop,
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
            Self::VocativeComma => "vocative-comma",
            Self::TagComma => "tag-comma",
            Self::StopComma => "stop-comma",
            Self::Exclamation => "exclamation",
            Self::QuestionStop => "question-stop",
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
    /// For [`SiteKind::StopSemicolon`] and [`SiteKind::StopComma`]: the next word is a
    /// name (or `I`, an acronym) and keeps its capital after a semicolon or comma.
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

pub(crate) fn lower(w: &str) -> String {
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

pub(crate) fn original_word_symbol(kind: SiteKind, lower: &str, word: &str) -> bool {
    match kind {
        SiteKind::TitleCase => !word.chars().next().is_some_and(char::is_uppercase),
        SiteKind::Number => lower.bytes().all(|b| b.is_ascii_digit()),
        _ => is_british(lower),
    }
}

pub(crate) fn original_gap_symbol(kind: SiteKind, gap: &str) -> bool {
    match kind {
        SiteKind::StopSemicolon
        | SiteKind::StopComma
        | SiteKind::Exclamation
        | SiteKind::QuestionStop
        | SiteKind::DashComma => false,
        SiteKind::Hyphen => gap != "-",
        _ => gap.starts_with(','),
    }
}

pub(crate) fn thin_word_changes(sites: Vec<Site>, words: usize) -> Vec<Site> {
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
        SiteKind::StopSemicolon | SiteKind::StopComma | SiteKind::Exclamation => {
            let mark = match site.kind {
                SiteKind::StopSemicolon => ";",
                SiteKind::StopComma => ",",
                _ => "!",
            };
            if symbol {
                gap.replacen('.', mark, 1)
            } else {
                gap.to_owned()
            }
        }
        SiteKind::QuestionStop => {
            if symbol {
                gap.replacen('?', ".", 1)
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
    use crate::text::Words;

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
