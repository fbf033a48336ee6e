//! Test and benchmark helpers: the corpus transcript, and the edits a leak goes through
//! (retyping, a newspaper's house style, OCR-like misspellings). Shared by
//! `tests/corpus.rs` and `examples/textbench.rs` (included there by path).

#![allow(dead_code, reason = "each includer uses its own subset")]

use std::path::PathBuf;

/// The corpus transcript's path: `transcripts/nixon-kissinger-telcons.txt` in the shared
/// corpus (`$TRACEMARK_CORPUS`, else `../shared/corpus` beside the workspace).
pub fn corpus_path() -> PathBuf {
    tracemark_testkit::corpus_dir().join("transcripts/nixon-kissinger-telcons.txt")
}

/// The corpus transcript (public domain, FRUS; see its README).
///
/// # Panics
/// If the corpus is absent: these tests are about that transcript, and do not pass
/// without it.
pub fn corpus_transcript() -> String {
    let path = corpus_path();
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the transcript tests need {} ({e}); set TRACEMARK_CORPUS",
            path.display()
        )
    })
}

/// Retyping: straight quotes and apostrophes, `--` for dashes, `...` for the ellipsis,
/// every run of whitespace one space.
pub fn retype(text: &str) -> String {
    let straight: String = text
        .chars()
        .map(|c| match c {
            '\u{2018}' | '\u{2019}' => "'".to_owned(),
            '\u{201C}' | '\u{201D}' => "\"".to_owned(),
            '\u{2014}' => "--".to_owned(),
            '\u{2013}' => "-".to_owned(),
            '\u{2026}' => "...".to_owned(),
            c => c.to_string(),
        })
        .collect();
    straight.split_whitespace().collect::<Vec<_>>().join(" ")
}

const SMALL: [&str; 8] = [
    "two", "three", "four", "five", "six", "seven", "eight", "nine",
];
const LARGE: [(&str, &str); 9] = [
    ("ten", "10"),
    ("eleven", "11"),
    ("twelve", "12"),
    ("twenty", "20"),
    ("thirty", "30"),
    ("forty", "40"),
    ("fifty", "50"),
    ("seventy", "70"),
    ("ninety", "90"),
];
const TITLES: [&str; 6] = [
    "President",
    "Generals",
    "General",
    "Secretary",
    "Ambassador",
    "Minister",
];
const BRITISH: [(&str, &str); 4] = [
    ("colour", "color"),
    ("favour", "favor"),
    ("centre", "center"),
    ("defence", "defense"),
];

/// A US newspaper's house style (AP Stylebook, as far as it touches the sites): numerals
/// for 10 and up and words for two to nine, titles lower-case after `the`, compound
/// modifiers hyphenated (`three minute conversation` -> `three-minute`), American
/// spelling. Applied word by word to whitespace tokens.
pub fn house_style(text: &str) -> String {
    let tokens: Vec<&str> = text.split(' ').collect();
    let mut out: Vec<String> = Vec::with_capacity(tokens.len());
    let mut glue = false;
    for (i, tok) in tokens.iter().enumerate() {
        let core: &str = tok.trim_matches(|c: char| !c.is_alphanumeric());
        let (pre, post) = match tok.find(core) {
            Some(at) if !core.is_empty() => (&tok[..at], &tok[at + core.len()..]),
            _ => {
                out.push((*tok).to_owned());
                glue = false;
                continue;
            }
        };
        let lower = core.to_lowercase();
        let prev = if i > 0 {
            tokens[i - 1].to_lowercase()
        } else {
            String::new()
        };
        let mut word = core.to_owned();
        if let Ok(n) = core.parse::<usize>()
            && (2..=9).contains(&n)
        {
            word = SMALL[n - 2].to_owned();
        } else if let Some((_, digits)) = LARGE.iter().find(|(w, _)| *w == lower) {
            word = (*digits).to_owned();
        } else if prev == "the" && TITLES.iter().any(|t| core.trim_end_matches("'s") == *t) {
            word = core.to_lowercase();
        } else if let Some((_, us)) = BRITISH.iter().find(|(b, _)| *b == lower) {
            word = (*us).to_owned();
        }
        let next = tokens.get(i + 1).map(|t| t.to_lowercase());
        let modifier = SMALL.contains(&word.as_str())
            && post.is_empty()
            && next
                .as_deref()
                .is_some_and(|n| ["minute", "hour", "day", "week", "year"].contains(&n));
        let piece = format!("{pre}{word}{post}");
        match out.last_mut() {
            Some(last) if last.ends_with('-') && glue => last.push_str(&piece),
            _ => out.push(piece),
        }
        glue = modifier;
        if modifier && let Some(last) = out.last_mut() {
            last.push('-');
        }
    }
    out.join(" ")
}

/// Reproducible dice for the edits, read from a keyed stream of `tracemark-keystream`
/// (label `tracemark/test/textmark-dice`) under a key built from `seed`.
pub struct Dice(tracemark_keystream::KeyStream);

impl Dice {
    /// Seeded.
    pub fn new(seed: u64) -> Self {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        Self(tracemark_keystream::KeyStream::hkdf(
            &key,
            "tracemark/test/textmark-dice",
        ))
    }

    /// Uniform in `0..n` (`n > 0`; the modulo bias is below `n / 2^64`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.0.next_u64() % n as u64) as usize
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.0.next_u64() >> 11) as f64) / ((1u64 << 53) as f64) < p
    }
}

/// OCR-like misspellings: in each word of four letters or more, with probability `rate`,
/// one letter is replaced by a look-alike (`e`/`c`, `l`/`i`, `o`/`a`, `n`/`m`, `u`/`v`).
/// Punctuation is left alone.
pub fn ocr(text: &str, rate: f64, dice: &mut Dice) -> String {
    let swap = |c: char| match c {
        'e' => Some('c'),
        'c' => Some('e'),
        'l' => Some('i'),
        'i' => Some('l'),
        'o' => Some('a'),
        'a' => Some('o'),
        'n' => Some('m'),
        'm' => Some('n'),
        'u' => Some('v'),
        _ => None,
    };
    text.split(' ')
        .map(|tok| {
            let letters = tok.chars().filter(|c| c.is_alphabetic()).count();
            if letters < 4 || !dice.chance(rate) {
                return tok.to_owned();
            }
            let positions: Vec<usize> = tok
                .char_indices()
                .filter(|(_, c)| swap(*c).is_some())
                .map(|(i, _)| i)
                .collect();
            if positions.is_empty() {
                return tok.to_owned();
            }
            let at = positions[dice.below(positions.len())];
            let c = tok[at..].chars().next().and_then(swap).unwrap_or('x');
            let len = tok[at..].chars().next().map_or(1, char::len_utf8);
            format!("{}{}{}", &tok[..at], c, &tok[at + len..])
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Sentences of a journalist's own prose, unrelated to the transcript.
pub const PROSE: [&str; 8] = [
    "The documents, released on Thursday by the archive, run to several hundred pages.",
    "Historians who have studied the period say the record is unusually candid.",
    "According to the transcript, the exchange continued for some minutes.",
    "A spokesman for the library declined to comment on the release.",
    "Later in the same call, the tone of the conversation shifted noticeably.",
    "Several passages remain classified and were withheld from publication.",
    "Copies of the papers were circulated to a small number of officials at the time.",
    "Neither man referred to the matter again in the weeks that followed.",
];
