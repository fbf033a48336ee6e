//! Prints the variant sites of a transcript, one per line with its context, and a count
//! per kind: the corpus examples of `docs/design/transcripts.md` come from this.
//!
//! Run: `cargo run -p tracemark-textmark --example sites [-- FILE]` (default: the corpus
//! transcript).

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;

use tracemark_textmark::MarkedTranscript;

fn main() {
    let path = std::env::args()
        .nth(1)
        .map_or_else(common::corpus_path, std::path::PathBuf::from);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let marked = MarkedTranscript::new(&text).expect("a transcript below the size cap");
    let words = marked.words();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for site in marked.sites() {
        *counts.entry(site.kind.name()).or_default() += 1;
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
    println!("\n{} sites over {plain} words:", marked.sites().len());
    for (kind, n) in counts {
        println!("  {kind:<18} {n}");
    }
}
