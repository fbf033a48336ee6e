//! The rules that find a transcript's variant sites: one predicate per kind over the
//! transcript's words and gaps. The catalogue and its reasons are in
//! `docs/design/transcripts.md`; a change here is a new [`crate::SITE_RULES_VERSION`].

use std::collections::HashSet;

use crate::lists::{
    ABBREVIATIONS, ADDRESSEES, CHAINABLE, CLAUSE_OPENERS, EXCLAMATIONS, FUNCTION, INTERJECTIONS,
    INTRO, LOWERABLE, PHRASE_OPENERS, QUESTION_OPENERS, SUBJECTS, SUBORDINATORS, TAG_AUXILIARIES,
    TAG_PRONOUNS, TITLES, UNIT_NOUNS, VOCATIVE_BEFORE,
};
use crate::sites::{
    Site, SiteKind, american_of, lower, number_value, original_gap_symbol, original_word_symbol,
    plain_gap, thin_word_changes,
};
use crate::text::Words;

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

/// A gap that opens a quotation (`him, “No` or `him, "No`): the quoted words start a
/// sentence.
fn opens_quote(gap: &str) -> bool {
    let g = gap.trim_end();
    g.ends_with('\u{201C}')
        || g.strip_suffix('"')
            .is_some_and(|b| b.ends_with([' ', ',', ':']))
}

/// A gap of one `mark` and whitespace, line breaks allowed: a sentence's end, at a
/// speaker's turn or inside it.
fn final_gap(gap: &str, mark: char) -> bool {
    gap.strip_prefix(mark)
        .is_some_and(|s| !s.is_empty() && s.chars().all(|c| c == ' ' || c == '\n'))
}

struct Finder<'a> {
    w: &'a Words,
    lower: Vec<String>,
    /// Words written only with a capital, and somewhere inside a sentence: names,
    /// `I`, acronyms.
    names: HashSet<String>,
    /// Names the transcript uses to address someone (`Henry, you have`, `Hello, Henry.`).
    vocatives: HashSet<String>,
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
        (ends_sentence(gap) && !(stop_gap(gap) && self.abbreviation(k - 1))) || opens_quote(gap)
    }

    /// An abbreviation whose full stop ends no sentence (`Mr.`; `No.` only before a
    /// numeral, else it is the answer `No.`).
    fn abbreviation(&self, k: usize) -> bool {
        let numeral_after =
            k + 1 < self.n() && self.w.word(k + 1).starts_with(|c: char| c.is_ascii_digit());
        ABBREVIATIONS.contains(&self.lower[k].as_str()) && (self.lower[k] != "no" || numeral_after)
    }

    /// The next unit after `k` that is not a speaker label.
    fn next_word(&self, k: usize) -> Option<usize> {
        (k + 1..self.n()).find(|&j| !self.is_label(j))
    }

    /// The first unit of the sentence holding `k`.
    fn sentence_first(&self, k: usize) -> usize {
        k + 1 - self.sentence_position(k)
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
                    && (self.lower[k - 1] == self.lower[k]
                        || CHAINABLE.contains(&self.lower[k].as_str()))
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
        let next = self.lower[k + 2].as_str();
        // `so that` without a comma is a purpose, with one a result: not a site.
        let opener = CLAUSE_OPENERS.contains(&subject) && !(conj == "so" && next == "that");
        let clause = ["and", "but", "so", "or"].contains(&conj)
            && (SUBJECTS.contains(&subject)
                || opener
                || self.is_name(k + 2)
                || (conj == "but" && next == "not"));
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
        if self.abbreviation(k) {
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
    fn keeps_capital(&self, k: usize, common: &HashSet<String>) -> bool {
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

    /// A name addressed at the start of a sentence, with the original's comma before
    /// the addressee's verb (`Henry, you have`; `Mr. President, you have won`).
    fn vocative_opening(&self, k: usize) -> bool {
        let opens = (self.sentence_start(k) && self.is_name(k)) || self.address_only(k);
        opens
            && k + 1 < self.n()
            && !self.is_label(k + 1)
            && plain_gap(self.w.gap_after(k)) == Some(true)
            && ADDRESSEES.contains(&self.lower[k + 1].split('\'').next().unwrap_or(""))
    }

    /// The gap before a name addressed at a sentence's end, after an adverb that cannot
    /// take the name as its object (`right now Henry.` / `right now, Henry.`).
    fn vocative_closing(&self, k: usize) -> bool {
        let v = k + 1;
        v < self.n()
            && !self.is_label(k)
            && !self.is_label(v)
            && self.sentence_position(k) >= 2
            && VOCATIVE_BEFORE.contains(&self.lower[k].as_str())
            && self.vocatives.contains(&self.lower[v])
            && self.is_capitalised(v)
            && plain_gap(self.w.gap_after(k)).is_some()
            && self.w.gap_after(v).starts_with(['.', '?', '!'])
    }

    /// The gap before a question tag (`would be, wouldn’t it?`; `Dobrynin are you?`).
    /// Never in a question opened by a question word, whose own verb and subject end it
    /// (`What kind of man is he?`).
    fn tag(&self, k: usize) -> bool {
        const WH: &[&str] = &[
            "what", "when", "where", "why", "how", "who", "whom", "which",
        ];
        k + 2 < self.n()
            && !WH.contains(&self.lower[self.sentence_first(k)].as_str())
            && (k..=k + 2).all(|j| !self.is_label(j))
            && self.sentence_position(k) >= 3
            && TAG_AUXILIARIES.contains(&self.lower[k + 1].as_str())
            && TAG_PRONOUNS.contains(&self.lower[k + 2].as_str())
            && plain_gap(self.w.gap_after(k)).is_some()
            && self.w.gap_after(k + 1) == " "
            && self.w.gap_after(k + 2).starts_with('?')
    }

    /// A one-word interjection sentence followed by another sentence of the same turn
    /// (`Yes. We should stay` / `Yes, we should stay`).
    fn stop_comma(&self, k: usize) -> bool {
        k + 1 < self.n()
            && !self.is_label(k)
            && !self.is_label(k + 1)
            && self.sentence_start(k)
            && INTERJECTIONS.contains(&self.lower[k].as_str())
            && stop_gap(self.w.gap_after(k))
            && self.is_capitalised(k + 1)
    }

    /// A one-word exclamation ending with a full stop (`Good.` / `Good!`), with a word
    /// after it (in the same turn or the next) so that the mark can be read.
    /// Also a greeting that is only an address (`Mr. President.` / `Mr. President!`).
    fn exclamation(&self, k: usize) -> bool {
        let word = self.sentence_start(k) && EXCLAMATIONS.contains(&self.lower[k].as_str());
        !self.is_label(k)
            && (word || self.address_only(k))
            && final_gap(self.w.gap_after(k), '.')
            && self.next_word(k).is_some()
    }

    /// A sentence of a courtesy title and one capitalised word (`Mr. President.`).
    fn address_only(&self, k: usize) -> bool {
        k > 0
            && ["mr", "mrs", "ms", "dr"].contains(&self.lower[k - 1].as_str())
            && stop_gap(self.w.gap_after(k - 1))
            && self.sentence_start(k - 1)
            && self.is_capitalised(k)
    }

    /// The question mark of a sentence whose word order already makes it a question
    /// (`What does it say?` / `What does it say.`): three words or more, opened by a
    /// question word or an auxiliary, no dash or ellipsis inside.
    fn question(&self, k: usize) -> bool {
        if self.is_label(k) || !final_gap(self.w.gap_after(k), '?') || self.next_word(k).is_none() {
            return false;
        }
        let first = self.sentence_first(k);
        k >= first + 2
            && QUESTION_OPENERS.contains(&self.lower[first].as_str())
            && (first..k).all(|j| plain_gap(self.w.gap_after(j)).is_some())
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
        names: HashSet::new(),
        vocatives: HashSet::new(),
    };
    let mut common = HashSet::new();
    for k in 0..f.n() {
        if !f.is_capitalised(k) {
            common.insert(f.lower[k].clone());
        } else if !f.sentence_start(k) && !f.is_label(k) {
            f.names.insert(f.lower[k].clone());
        }
    }
    f.names.retain(|n| !common.contains(n));
    f.vocatives = (0..f.n())
        .filter(|&k| {
            let greeted = k > 0
                && f.is_name(k)
                && f.sentence_start(k - 1)
                && INTRO.contains(&f.lower[k - 1].as_str())
                && f.w.gap_after(k - 1) == ", "
                && f.w.gap_after(k).starts_with(['.', '?', '!']);
            greeted || (f.vocative_opening(k) && f.is_name(k))
        })
        .map(|k| f.lower[k].clone())
        .collect();
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
            (f.vocative_opening(k), SiteKind::VocativeComma),
            (f.conjunction(k), SiteKind::ConjunctionComma),
            (f.phrase(k), SiteKind::IntroComma),
            (f.too(k), SiteKind::TooComma),
            (f.vocative_closing(k), SiteKind::VocativeComma),
            (f.tag(k), SiteKind::TagComma),
            (f.stop_comma(k), SiteKind::StopComma),
            (f.stop_semicolon(k), SiteKind::StopSemicolon),
            (f.exclamation(k), SiteKind::Exclamation),
            (f.question(k), SiteKind::QuestionStop),
            (f.dash(k), SiteKind::DashComma),
            (f.hyphen(k), SiteKind::Hyphen),
        ]
        .into_iter()
        .find_map(|(hit, kind)| hit.then_some(kind));
        if let Some(kind) = gap_kind {
            let joins = matches!(kind, SiteKind::StopSemicolon | SiteKind::StopComma);
            sites.push(Site {
                kind,
                unit: k,
                original: original_gap_symbol(kind, words.gap_after(k)),
                keeps_capital: joins && f.keeps_capital(k + 1, &common),
            });
        }
    }
    thin_word_changes(
        sites,
        f.lower.len() - words.units().iter().filter(|u| u.label).count(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sites::tests::padding;

    fn kinds(text: &str) -> Vec<(SiteKind, String)> {
        let w = Words::parse(&format!("{text}{}", padding())).expect("small");
        find(&w)
            .into_iter()
            .map(|s| (s.kind, w.word(s.unit).to_owned()))
            .collect()
    }

    fn has(text: &str, kind: SiteKind, word: &str) -> bool {
        kinds(text).contains(&(kind, word.to_owned()))
    }

    #[test]
    fn addressed_names_and_question_tags_are_comma_sites() {
        let text = "P: Henry, you have something.\n\nK: Yes.\n\nP: I want it right now Henry.\n\nK: Mr. President, you have won again.\n\nP: You are not meeting with Dobrynin are you?\n\nK: No.\n";
        assert!(has(text, SiteKind::VocativeComma, "Henry"));
        assert!(has(text, SiteKind::VocativeComma, "now"));
        assert!(has(text, SiteKind::VocativeComma, "President"));
        assert!(has(text, SiteKind::TagComma, "Dobrynin"));
        assert!(!has(
            "P: What kind of man is he?\n\nK: A good one.\n",
            SiteKind::TagComma,
            "man"
        ));
        // A name after a verb or preposition is its object, never addressed.
        assert!(
            kinds("P: Henry, you know it.\n\nK: I told Henry.\n")
                .iter()
                .all(|(k, w)| *k != SiteKind::VocativeComma || w == "Henry")
        );
        assert!(!has(
            "P: Henry, you know it. I talked to Henry.\n",
            SiteKind::VocativeComma,
            "to"
        ));
    }

    #[test]
    fn interjections_exclamations_and_questions_mark_sentence_ends() {
        let text = "K: Yeah. He passed me that message.\n\nP: Good.\n\nK: What does it say?\n\nP: You think so?\n\nK: No. Actually it is done.\n";
        assert!(has(text, SiteKind::StopComma, "Yeah"));
        assert!(
            has(text, SiteKind::StopComma, "No"),
            "`No.` is an answer, not the abbreviation of a number"
        );
        assert!(has(text, SiteKind::IntroComma, "Actually"));
        assert!(has(text, SiteKind::Exclamation, "Good"));
        assert!(has(
            "K: Mr. President.\n\nP: Hello.\n",
            SiteKind::Exclamation,
            "President"
        ));
        assert!(has(text, SiteKind::QuestionStop, "say"));
        // `You think so?` is a question only by its mark: not a site.
        assert!(!has(text, SiteKind::QuestionStop, "so"));
        // `No. 5` is an abbreviation.
        assert!(!has(
            "K: It is No. 5 on the list.\n",
            SiteKind::StopComma,
            "No"
        ));
    }

    #[test]
    fn discourse_words_chain_and_quotes_open_sentences() {
        let text = "K: Oh, well, no. I told him, “No, I don’t have any.”\n";
        assert!(has(text, SiteKind::IntroComma, "Oh"));
        assert!(has(text, SiteKind::IntroComma, "well"));
        assert!(has(text, SiteKind::IntroComma, "No"));
    }

    #[test]
    fn clauses_opened_by_that_then_or_also_take_an_optional_comma_but_so_that_does_not() {
        let text = "K: I just listened so that’s that. We get it from them and then to see it. We did it so that he would come.\n";
        assert!(has(text, SiteKind::ConjunctionComma, "listened"));
        assert!(has(text, SiteKind::ConjunctionComma, "them"));
        assert!(!has(text, SiteKind::ConjunctionComma, "it"));
    }
}
