//! Prints the variant sites of a transcript, one per line with its context, and per kind
//! the count and how many survive retyping and house style: the whole copy for all
//! symbols `false` and for all `true`, retyped and restyled, read back under
//! `ReadPolicy::Quoted` (read / erased / unseen, summed over the two copies). The corpus
//! examples and survival figures of `docs/design/transcripts.md` come from this.
//!
//! Run: `cargo run -p tracemark-textmark --example sites [-- FILE]` (default: the corpus
//! transcript).

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;

use tracemark_textmark::{MarkedTranscript, ReadPolicy, SiteState};

fn main() {
    let path = std::env::args()
        .nth(1)
        .map_or_else(common::corpus_path, std::path::PathBuf::from);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let marked = MarkedTranscript::new(&text).expect("a transcript below the size cap");
    let words = marked.words();
    let n = marked.sites().len();
    // Per kind: sites, and over the two copies read / erased / unseen / flipped.
    let mut counts: BTreeMap<&str, [usize; 5]> = BTreeMap::new();
    for symbols in [vec![false; n], vec![true; n]] {
        let copy = marked.render(&symbols).expect("one symbol per site");
        let leak = common::house_style(&common::retype(&copy));
        let reading = marked
            .read(&leak, ReadPolicy::Quoted)
            .expect("below the cap");
        for ((site, state), symbol) in marked.sites().iter().zip(reading.states()).zip(&symbols) {
            let c = counts.entry(site.kind.name()).or_default();
            match state {
                SiteState::Read(s) if s == symbol => c[1] += 1,
                SiteState::Read(_) => c[4] += 1,
                SiteState::Erased => c[2] += 1,
                _ => c[3] += 1,
            }
        }
    }
    for site in marked.sites() {
        counts.entry(site.kind.name()).or_default()[0] += 1;
        let unit = &words.units()[site.unit];
        let from = text[..unit.start]
            .char_indices()
            .rev()
            .nth(30)
            .map_or(0, |(i, _)| i);
        let to = text[unit.end..]
            .char_indices()
            .nth(30)
            .map_or(text.len(), |(i, _)| unit.end + i);
        let context = text[from..to].replace('\n', " / ");
        println!(
            "{:<18} {:<6} ...{context}...",
            site.kind.name(),
            site.original
        );
    }
    let plain = words.units().iter().filter(|u| !u.label).count();
    println!(
        "\n{n} sites over {plain} words ({:.1} per 100); retyped + house style, all-false and all-true copies:",
        100.0 * n as f64 / plain as f64
    );
    println!("| kind | sites | read | erased | unseen | flipped |\n|---|---|---|---|---|---|");
    let mut total = [0usize; 5];
    for (kind, c) in counts {
        println!(
            "| {kind} | {} | {} | {} | {} | {} |",
            c[0], c[1], c[2], c[3], c[4]
        );
        total.iter_mut().zip(c).for_each(|(t, x)| *t += x);
    }
    let [sites, read, erased, unseen, flipped] = total;
    println!("| all | {sites} | {read} | {erased} | {unseen} | {flipped} |");
    println!(
        "read per 100 words, averaged over the two copies: {:.1}",
        100.0 * read as f64 / 2.0 / plain as f64
    );
}
