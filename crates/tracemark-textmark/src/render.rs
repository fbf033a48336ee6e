//! Rendering a recipient's variant of a transcript, and measuring how far it is from the
//! original.

use crate::Error;
use crate::sites::{self, Site, SiteKind};
use crate::text::Words;

/// The text of `words` with every site in the form of its symbol.
///
/// # Errors
/// [`Error::SymbolCount`] when `symbols` does not have one symbol per site.
pub(crate) fn render(words: &Words, sites: &[Site], symbols: &[bool]) -> Result<String, Error> {
    if symbols.len() != sites.len() {
        return Err(Error::SymbolCount {
            expected: sites.len(),
            found: symbols.len(),
        });
    }
    let n = words.units().len();
    let mut word_forms: Vec<Option<String>> = vec![None; n];
    let mut gap_forms: Vec<Option<String>> = vec![None; n];
    for (site, &symbol) in sites.iter().zip(symbols) {
        let k = site.unit;
        if site.kind.is_boundary() {
            gap_forms[k] = Some(sites::gap_form(site, words.gap_after(k), symbol));
            let joins = matches!(site.kind, SiteKind::StopSemicolon | SiteKind::StopComma);
            if joins && k + 1 < n {
                word_forms[k + 1] = Some(sites::after_stop_form(site, words.word(k + 1), symbol));
            }
        } else {
            word_forms[k] = Some(sites::word_form(site, words.word(k), symbol));
        }
    }
    let mut out = String::with_capacity(words.text().len() + sites.len());
    out.push_str(words.head());
    for k in 0..n {
        out.push_str(word_forms[k].as_deref().unwrap_or_else(|| words.word(k)));
        out.push_str(
            gap_forms[k]
                .as_deref()
                .unwrap_or_else(|| words.gap_after(k)),
        );
    }
    Ok(out)
}

/// The words of a text once case, punctuation and typography are set aside: lower case,
/// every character but letters, digits and inner apostrophes read as a space.
pub fn plain_words(text: &str) -> Vec<String> {
    let words = match Words::parse(text) {
        Ok(w) => w,
        Err(_) => return Vec::new(),
    };
    (0..words.units().len())
        .map(|k| {
            words
                .word(k)
                .chars()
                .map(|c| if c == '\u{2019}' { '\'' } else { c })
                .flat_map(char::to_lowercase)
                .collect()
        })
        .collect()
}

/// The fraction of the original's words that a copy changes, once case, punctuation and
/// typography are set aside ([`plain_words`]): `1 - LCS / original words`, the longest
/// common subsequence computed in a band of 64 words around the diagonal (variants never
/// shift words further; outside the band words count as changed, so the figure can only
/// be too high).
pub fn changed_word_fraction(original: &str, copy: &str) -> f64 {
    let (a, b) = (plain_words(original), plain_words(copy));
    if a.is_empty() {
        return if b.is_empty() { 0.0 } else { 1.0 };
    }
    const BAND: usize = 64;
    let m = b.len();
    // prev[j] = LCS of a[..i] and b[..j], kept only for |i - j| <= BAND.
    let mut prev = vec![0usize; m + 1];
    let mut cur = vec![0usize; m + 1];
    for i in 1..=a.len() {
        let lo = i.saturating_sub(BAND).max(1);
        let hi = (i + BAND).min(m);
        cur.iter_mut().for_each(|c| *c = 0);
        for j in lo..=hi {
            cur[j] = if a[i - 1] == b[j - 1] {
                prev[j - 1] + 1
            } else {
                prev[j].max(cur[j - 1])
            };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let lcs = prev.iter().copied().max().unwrap_or(0);
    1.0 - lcs as f64 / a.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_site_takes_the_form_of_its_symbol() {
        let pad = crate::sites::tests::padding();
        let text = format!(
            "K: Well, I talked with Bill. He is working on the rest—and three weeks is the Four-Power plan.{pad}"
        );
        let w = Words::parse(&text).expect("small");
        let sites = sites::find(&w);
        let ones = render(&w, &sites, &vec![true; sites.len()]).expect("one symbol per site");
        assert_eq!(
            ones,
            format!(
                "K: Well, I talked with Bill; he is working on the rest, and 3 weeks is the Four Power plan.{pad}"
            )
        );
        let zeros = render(&w, &sites, &vec![false; sites.len()]).expect("one symbol per site");
        assert_eq!(
            zeros,
            format!(
                "K: Well I talked with Bill. He is working on the rest—and three weeks is the Four-Power plan.{pad}"
            )
        );
        let original: Vec<bool> = sites.iter().map(|s| s.original).collect();
        assert_eq!(render(&w, &sites, &original).expect("same count"), text);
    }

    #[test]
    fn sentence_end_sites_change_only_their_mark_and_the_next_capital() {
        let pad = crate::sites::tests::padding();
        let text = format!(
            "K: Yes. We should stay.\n\nP: Good.\n\nK: What does it say?\n\nP: Henry, you know it. I told Henry.{pad}"
        );
        let w = Words::parse(&text).expect("small");
        let sites = sites::find(&w);
        let ones = render(&w, &sites, &vec![true; sites.len()]).expect("one symbol per site");
        let zeros = render(&w, &sites, &vec![false; sites.len()]).expect("one symbol per site");
        assert!(zeros.starts_with("K: Yes. We should stay.\n\nP: Good.\n\nK: What does it say?\n\nP: Henry you know it. I told Henry."), "{zeros}");
        assert_eq!(
            ones,
            format!(
                "K: Yes, we should stay.\n\nP: Good!\n\nK: What does it say.\n\nP: Henry, you know it; I told Henry.{pad}"
            )
        );
    }

    #[test]
    fn a_wrong_symbol_count_is_an_error() {
        let w = Words::parse("K: Well, I see.").expect("small");
        let sites = sites::find(&w);
        assert!(matches!(
            render(&w, &sites, &[]),
            Err(Error::SymbolCount {
                expected: 1,
                found: 0
            })
        ));
    }

    #[test]
    fn punctuation_case_and_hyphens_do_not_count_as_changed_words() {
        let a = "Well, the President's Four-Power plan—two weeks.";
        assert_eq!(
            changed_word_fraction(a, "well the president's four power plan, two weeks"),
            0.0
        );
        let changed = changed_word_fraction(a, "Well, the President's Four-Power plan—2 weeks.");
        assert!((changed - 1.0 / 8.0).abs() < 1e-12, "{changed}");
    }
}
