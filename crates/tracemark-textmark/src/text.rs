//! Words of a text: the units that are aligned and marked, and the gaps between them.
//!
//! A *unit* is a maximal run of letters and digits, with apostrophes inside it
//! (`that’s`, `don't`); everything else (spaces, punctuation, quotes, dashes, hyphens,
//! line breaks) lies in the *gap* between two units. Every unit also knows the
//! whitespace-separated token it starts in, the word index of the reports
//! (`leak_start_word`, `original_start_word`).

use crate::Error;

/// Largest text accepted, in bytes (a 16 MiB transcript is ~2.5 million words).
pub const MAX_TEXT_BYTES: usize = 16 << 20;

/// One word of a text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    /// Byte range of the word in the text.
    pub start: usize,
    /// End of the byte range (exclusive).
    pub end: usize,
    /// The whitespace-separated token (0-based) the word starts in.
    pub token: usize,
    /// Whether the word is a speaker label (`K:` at the start of a line).
    pub label: bool,
}

/// A text cut into units and gaps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Words {
    text: String,
    units: Vec<Unit>,
    tokens: usize,
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '\u{02BC}')
}

impl Words {
    /// Cuts `text` into units.
    ///
    /// # Errors
    /// [`Error::TooLarge`] beyond [`MAX_TEXT_BYTES`].
    pub fn parse(text: &str) -> Result<Self, Error> {
        if text.len() > MAX_TEXT_BYTES {
            return Err(Error::TooLarge {
                what: "text",
                bytes: text.len(),
                max: MAX_TEXT_BYTES,
            });
        }
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let mut units = Vec::new();
        let (mut token, mut in_token) = (0usize, false);
        let mut k = 0;
        while k < chars.len() {
            let (at, c) = chars[k];
            if c.is_whitespace() {
                if in_token {
                    token += 1;
                    in_token = false;
                }
                k += 1;
                continue;
            }
            in_token = true;
            if !c.is_alphanumeric() {
                k += 1;
                continue;
            }
            let mut j = k + 1;
            while j < chars.len() {
                let c = chars[j].1;
                let inner_apostrophe =
                    is_apostrophe(c) && chars.get(j + 1).is_some_and(|(_, n)| n.is_alphanumeric());
                if c.is_alphanumeric() || inner_apostrophe {
                    j += 1;
                } else {
                    break;
                }
            }
            let end = chars.get(j).map_or(text.len(), |(i, _)| *i);
            units.push(Unit {
                start: at,
                end,
                token,
                label: false,
            });
            k = j;
        }
        let tokens = token + usize::from(in_token);
        let mut words = Self {
            text: text.to_owned(),
            units,
            tokens,
        };
        words.mark_labels();
        Ok(words)
    }

    /// Speaker labels: a unit of at most 12 capital letters followed directly by a
    /// colon (`K:`, `KISSINGER:`) that opens a line or follows a sentence's end (a
    /// retyped transcript may have lost its line breaks).
    fn mark_labels(&mut self) {
        for k in 0..self.units.len() {
            let u = &self.units[k];
            let before = self.text[..u.start].trim_end_matches([' ', '\t']);
            // At a line start, or after a sentence's end once retyping joined the lines.
            let opens_line = before.is_empty()
                || before.ends_with([
                    '\n', '.', '?', '!', '\u{2026}', '"', '\u{201D}', '\u{2014}', '-',
                ]);
            let after = &self.text[u.end..];
            let word = &self.text[u.start..u.end];
            let shaped = word.chars().count() <= 12
                && word.chars().all(|c| c.is_alphabetic())
                && word.chars().all(|c| c.is_uppercase());
            if opens_line && after.starts_with(':') && shaped {
                self.units[k].label = true;
            }
        }
    }

    /// The text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The units in text order.
    pub fn units(&self) -> &[Unit] {
        &self.units
    }

    /// Number of whitespace-separated tokens.
    pub fn token_count(&self) -> usize {
        self.tokens
    }

    /// The word `k` as written.
    pub fn word(&self, k: usize) -> &str {
        let u = &self.units[k];
        &self.text[u.start..u.end]
    }

    /// The gap after unit `k` (up to the next unit, or the end of the text).
    pub fn gap_after(&self, k: usize) -> &str {
        let end = self.units.get(k + 1).map_or(self.text.len(), |u| u.start);
        &self.text[self.units[k].end..end]
    }

    /// The text before the first unit.
    pub fn head(&self) -> &str {
        &self.text[..self.units.first().map_or(self.text.len(), |u| u.start)]
    }
}

/// A word's matching key: lower case, straight apostrophes, number words as digits and
/// British spellings as American, so that retyping and house style do not change it.
pub fn key(word: &str) -> String {
    let lower: String = word
        .chars()
        .map(|c| if is_apostrophe(c) { '\'' } else { c })
        .flat_map(char::to_lowercase)
        .collect();
    if let Some(n) = crate::sites::number_value(&lower) {
        return format!("#{n}");
    }
    if let Some(american) = crate::sites::american_of(&lower) {
        return american.to_owned();
    }
    lower
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_keep_inner_apostrophes_and_split_on_hyphens_and_dashes() {
        let w = Words::parse("P: That’s the Four-Power thing—isn't it?").expect("small");
        let words: Vec<&str> = (0..w.units().len()).map(|k| w.word(k)).collect();
        assert_eq!(
            words,
            [
                "P", "That’s", "the", "Four", "Power", "thing", "isn't", "it"
            ]
        );
        assert!(w.units()[0].label);
        assert!(!w.units()[1].label);
        assert_eq!(w.gap_after(3), "-");
        assert_eq!(w.gap_after(5), "—");
        assert_eq!(w.token_count(), 6);
        let tokens: Vec<usize> = w.units().iter().map(|u| u.token).collect();
        assert_eq!(tokens, [0, 1, 2, 3, 3, 4, 4, 5]);
    }

    #[test]
    fn keys_survive_retyping_and_house_style() {
        assert_eq!(key("That’s"), key("that's"));
        assert_eq!(key("seventy"), key("70"));
        assert_eq!(key("Ten"), "#10");
        assert_eq!(key("colour"), key("color"));
        assert_ne!(
            key("one"),
            key("1"),
            "`one` is too often a pronoun to be a number"
        );
    }

    #[test]
    fn oversized_texts_are_refused() {
        let big = "a ".repeat(MAX_TEXT_BYTES / 2 + 1);
        assert!(matches!(Words::parse(&big), Err(Error::TooLarge { .. })));
    }
}
