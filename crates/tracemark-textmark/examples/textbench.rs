//! Issue-13 targets for transcripts, measured on the corpus transcript.
//!
//! Run: `cargo run --release -p tracemark-textmark --example textbench [-- --trials N
//! --innocent-traces N --cutoff T]`
//!
//! Every trial draws a fresh code (biases and 1,000 recipients' codewords, from named
//! seeds) over the transcript's sites, renders the leaker's copy, edits it as a leak is
//! edited, reads it back against the transcript and accuses with tardos at a corrected
//! bound of 1e-6 (both default score functions). Scenarios:
//! - `quote250`: one verbatim 250-word quote, retyped (straight quotes, `--`, single
//!   spaces), inside two sentences of prose; and the same quote also in house style;
//! - `four60`: four separate 60-word quotes inside unrelated prose, retyped, house style;
//! - `splice600`: two colluders splice their copies in 50-word turns over 600 words;
//! - `whole`: the whole transcript retyped, house style and 2 % OCR misspellings;
//! - innocents: every trace above counts its innocent recipients; also the original
//!   quoted (nobody leaked) and leaks scored against another recording's code.
//! - a sweep of quote lengths (250 words to the whole transcript): how long a quote must
//!   be to name its recipient.
//!
//! Also: bits (read sites) per 100 quoted words, a made-up 22-word sentence inside a
//! quote shown unmatched within 3 words of its edges, and the largest share of words a
//! copy changes.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use common::{Dice, PROSE, corpus_transcript, house_style, ocr, retype};
use tracemark_tardos::{AccusationConfig, Biases, Codeword, Cutoff, Verdict, sim};
use tracemark_textmark::{
    LeakReading, MarkedTranscript, ReadPolicy, SegmentStatus, SiteState, accuse,
    changed_word_fraction, words_needed,
};

const RECIPIENTS: u64 = 1000;
const BOUND: f64 = 1e-6;

struct Args {
    trials: usize,
    innocent_traces: usize,
    cutoff: Cutoff,
}

fn args() -> Args {
    let mut out = Args {
        trials: 300,
        innocent_traces: 10_000,
        cutoff: Cutoff::default(),
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    for pair in argv.chunks(2) {
        let value = pair.get(1).map(String::as_str).unwrap_or("");
        match pair[0].as_str() {
            "--trials" => out.trials = value.parse().expect("--trials N"),
            "--innocent-traces" => {
                out.innocent_traces = value.parse().expect("--innocent-traces N")
            }
            "--cutoff" => {
                out.cutoff =
                    Cutoff::try_new(value.parse().expect("--cutoff T")).expect("0 < T < 0.5")
            }
            other => panic!("unknown argument {other}"),
        }
    }
    out
}

struct Code {
    biases: Biases,
    copies: Vec<Codeword>,
}

fn code(recording: u64, sites: usize, cutoff: Cutoff) -> Code {
    let biases = Biases::draw(&sim::seed("textbench-recording", recording), sites, cutoff)
        .expect("few sites");
    let copies = (0..RECIPIENTS)
        .map(|j| {
            Codeword::draw(
                &sim::seed(&format!("textbench-recipient-{recording}"), j),
                &biases,
            )
        })
        .collect();
    Code { biases, copies }
}

#[derive(Default)]
struct Tally {
    trials: usize,
    named: usize,
    innocents_accused: usize,
    innocent_tests: usize,
    read_sites: usize,
    erased_sites: usize,
    quoted_words: usize,
    more_words: Vec<usize>,
    best_ln_bound: Vec<f64>,
    /// Sites read as the symbol the leak's text does not carry.
    flipped: usize,
}

impl Tally {
    fn add(
        &mut self,
        rendered: &[bool],
        verdict: &Verdict,
        guilty: &[usize],
        reading: &LeakReading,
        quoted: usize,
        needed: usize,
    ) {
        self.trials += 1;
        self.flipped += reading
            .states()
            .iter()
            .zip(rendered)
            .filter(|(st, sym)| matches!(st, SiteState::Read(r) if r != *sym))
            .count();
        let named = verdict
            .accused
            .iter()
            .any(|r| guilty.contains(&r.index) && r.corrected <= BOUND);
        self.named += usize::from(named);
        self.innocents_accused += verdict
            .accused
            .iter()
            .filter(|r| !guilty.contains(&r.index))
            .count();
        self.innocent_tests += verdict.scores.len() - guilty.len();
        self.read_sites += reading.read_sites();
        self.erased_sites += reading.erased_sites();
        self.quoted_words += quoted;
        if !named {
            self.more_words.push(needed);
        }
        let best = verdict
            .scores
            .iter()
            .filter(|r| guilty.contains(&r.index))
            .map(|r| r.tail.ln_bound + verdict.tests.ln())
            .fold(0.0f64, f64::min);
        self.best_ln_bound.push(best);
    }

    fn print(&self, name: &str) {
        let per100 = |n: usize| 100.0 * n as f64 / self.quoted_words.max(1) as f64;
        let mut more = self.more_words.clone();
        more.sort_unstable();
        let mut best = self.best_ln_bound.clone();
        best.sort_by(f64::total_cmp);
        println!(
            "| {name} | {} | {:.1} % | {} / {} | {:.1} | {:.1} | {} | {:.1} | {} |",
            self.trials,
            100.0 * self.named as f64 / self.trials.max(1) as f64,
            self.innocents_accused,
            self.innocent_tests,
            per100(self.read_sites),
            per100(self.erased_sites),
            self.flipped,
            best.get(best.len() / 2).copied().unwrap_or(0.0) / std::f64::consts::LN_10,
            more.get(more.len() / 2)
                .map_or("-".to_owned(), |m| m.to_string()),
        );
    }
}

fn trace(marked: &MarkedTranscript, code: &Code, leak: &str) -> (LeakReading, Verdict, usize) {
    let reading = marked
        .read(leak, ReadPolicy::Quoted)
        .expect("leak is small");
    let verdict = accuse(
        &reading,
        &code.biases,
        &code.copies,
        &AccusationConfig::default(),
    )
    .expect("one slot per site");
    let needed = words_needed(&reading, &code.biases, &verdict, marked.site_density()).more_words;
    (reading, verdict, needed)
}

fn tokens_of(text: &str) -> Vec<String> {
    text.split(' ').map(str::to_owned).collect()
}

/// `n` tokens from `at`, as a quote inside a prose sentence on each side.
fn quoted(tokens: &[String], at: usize, n: usize, dice: &mut Dice) -> String {
    format!(
        "{} \"{}\" {}",
        PROSE[dice.below(PROSE.len())],
        tokens[at..at + n].join(" "),
        PROSE[dice.below(PROSE.len())]
    )
}

fn main() {
    let args = args();
    let text = corpus_transcript();
    let marked = MarkedTranscript::new(&text).expect("small");
    let sites = marked.sites().len();
    let words = text.split_whitespace().count();
    println!(
        "transcript: {words} words, {sites} sites ({:.1} per 100 words); {RECIPIENTS} recipients; cutoff t = {:.5}; bound {BOUND:e}\n",
        100.0 * marked.site_density(),
        args.cutoff.value()
    );
    let started = Instant::now();
    let mut dice = Dice::new(13);
    let (mut q250, mut q250h, mut four, mut splice, mut whole) = (
        Tally::default(),
        Tally::default(),
        Tally::default(),
        Tally::default(),
        Tally::default(),
    );
    let mut max_changed = 0.0f64;
    let (mut fabricated_ok, mut fabricated_trials) = (0usize, 0usize);
    for t in 0..args.trials {
        let code = code(t as u64, sites, args.cutoff);
        let leaker = dice.below(RECIPIENTS as usize);
        let symbols: Vec<bool> = code.copies[leaker].symbols().collect();
        let copy = marked.render(&symbols).expect("one per site");
        max_changed = max_changed.max(changed_word_fraction(&text, &copy));
        let retyped = tokens_of(&retype(&copy));
        let styled = tokens_of(&house_style(&retype(&copy)));

        let at = dice.below(retyped.len() - 250);
        let leak = quoted(&retyped, at, 250, &mut dice);
        let (r, v, n) = trace(&marked, &code, &leak);
        q250.add(&symbols, &v, &[leaker], &r, 250, n);
        let at = dice.below(styled.len() - 250);
        let leak = quoted(&styled, at, 250, &mut dice);
        let (r, v, n) = trace(&marked, &code, &leak);
        q250h.add(&symbols, &v, &[leaker], &r, 250, n);

        // Four 60-word quotes from four quarters of the text, in prose.
        let quarter = styled.len() / 4;
        let leak: Vec<String> = (0..4)
            .map(|k| {
                quoted(
                    &styled,
                    k * quarter + dice.below(quarter - 60),
                    60,
                    &mut dice,
                )
            })
            .collect();
        let (r, v, n) = trace(&marked, &code, &leak.join(" "));
        four.add(&symbols, &v, &[leaker], &r, 240, n);

        // Two colluders splice their copies in 50-word turns: site s takes the symbol of
        // the copy whose turn covers its word.
        let other = (leaker + 1 + dice.below(RECIPIENTS as usize - 1)) % RECIPIENTS as usize;
        let hybrid: Vec<bool> = marked
            .sites()
            .iter()
            .enumerate()
            .map(|(s, site)| {
                let token = marked.words().units()[site.unit].token;
                let from = if (token / 50).is_multiple_of(2) {
                    leaker
                } else {
                    other
                };
                code.copies[from].symbol(s).unwrap_or(false)
            })
            .collect();
        let spliced = tokens_of(&house_style(&retype(
            &marked.render(&hybrid).expect("one per site"),
        )));
        let at = dice.below(spliced.len() - 600);
        let leak = quoted(&spliced, at, 600, &mut dice);
        let (r, v, n) = trace(&marked, &code, &leak);
        splice.add(&hybrid, &v, &[leaker, other], &r, 600, n);

        let leak = ocr(&house_style(&retype(&copy)), 0.02, &mut dice);
        let (r, v, n) = trace(&marked, &code, &leak);
        whole.add(&symbols, &v, &[leaker], &r, words, n);

        // A made-up sentence of 22 words inside a quote of 40 + 40 genuine words.
        let made_up = "and I can tell you that the Chinese will never accept any of these terms whatever we offer them in the end";
        let fake_len = made_up.split(' ').count();
        let at = dice.below(retyped.len() - 80);
        let prose = PROSE[dice.below(PROSE.len())];
        let before = prose.split(' ').count();
        let leak = format!(
            "{prose} \"{} {made_up} {}\" {}",
            retyped[at..at + 40].join(" "),
            retyped[at + 40..at + 80].join(" "),
            PROSE[dice.below(PROSE.len())]
        );
        let reading = marked.read(&leak, ReadPolicy::Quoted).expect("small");
        let (start, end) = (before + 40, before + 40 + fake_len);
        fabricated_trials += 1;
        fabricated_ok += usize::from(reading.segments().iter().any(|s| {
            s.status == SegmentStatus::Unmatched
                && s.quoted
                && s.leak_start_word.abs_diff(start) <= 3
                && s.leak_end_word.abs_diff(end) <= 3
        }));
    }
    println!(
        "| scenario | trials | right recipient named at <= 1e-6 | innocents accused / innocent tests | read sites per 100 quoted words | erased per 100 | flipped reads | median log10 corrected bound of the leaker | median more words needed when not named |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    q250.print("250-word quote, retyped");
    q250h.print("250-word quote, retyped + house style");
    four.print("four 60-word quotes in prose, retyped + house style");
    splice.print("two colluders spliced, 600 words, retyped + house style");
    whole.print("whole transcript, retyped + house style + 2 % OCR");

    // How long a quote must be: one quote of each length, retyped + house style.
    println!(
        "\n| quote length (words), retyped + house style | trials | named at <= 1e-6 | read sites per 100 words | flipped reads | median log10 corrected bound |"
    );
    println!("|---|---|---|---|---|---|");
    for len in [250usize, 500, 750, 1000, 1250, words] {
        let mut tally = Tally::default();
        for t in 0..args.trials {
            let code = code(3_000_000 + t as u64, sites, args.cutoff);
            let leaker = dice.below(RECIPIENTS as usize);
            let symbols: Vec<bool> = code.copies[leaker].symbols().collect();
            let copy = marked.render(&symbols).expect("sites");
            let styled = tokens_of(&house_style(&retype(&copy)));
            let len = len.min(styled.len());
            let at = dice.below(styled.len() - len + 1);
            let leak = quoted(&styled, at, len, &mut dice);
            let (r, v, n) = trace(&marked, &code, &leak);
            tally.add(&symbols, &v, &[leaker], &r, len, n);
        }
        let mut best = tally.best_ln_bound.clone();
        best.sort_by(f64::total_cmp);
        println!(
            "| {len} | {} | {:.1} % | {:.1} | {} | {:.1} |",
            tally.trials,
            100.0 * tally.named as f64 / tally.trials.max(1) as f64,
            100.0 * tally.read_sites as f64 / tally.quoted_words.max(1) as f64,
            tally.flipped,
            best[best.len() / 2] / std::f64::consts::LN_10
        );
    }

    // Innocent-only traces: the original quoted (nobody leaked), and leaks of this
    // recording scored against another recording's code.
    let mut innocent = Tally::default();
    let mut other_code = Tally::default();
    let original = tokens_of(&house_style(&retype(&text)));
    for t in 0..args.innocent_traces / 2 {
        let code_a = code(1_000_000 + t as u64, sites, args.cutoff);
        let n = 60 + dice.below(original.len() - 60);
        let at = dice.below(original.len() - n + 1);
        let leak = quoted(&original, at, n, &mut dice);
        let (r, v, need) = trace(&marked, &code_a, &leak);
        innocent.add(&marked.original_symbols(), &v, &[], &r, n, need);
        let leaker = dice.below(RECIPIENTS as usize);
        let symbols: Vec<bool> = code_a.copies[leaker].symbols().collect();
        let copy = tokens_of(&retype(&marked.render(&symbols).expect("sites")));
        let at = dice.below(copy.len() - n + 1);
        let leak = quoted(&copy, at, n, &mut dice);
        let code_b = code(2_000_000 + t as u64, sites, args.cutoff);
        let (r, v, need) = trace(&marked, &code_b, &leak);
        other_code.add(&symbols, &v, &[], &r, n, need);
    }
    println!(
        "\n| innocent traces | traces | innocents accused / tests | read sites per 100 quoted words | flipped reads |"
    );
    println!("|---|---|---|---|---|");
    for (name, t) in [
        ("original quoted (60 words to whole)", &innocent),
        (
            "a copy scored against another recording's code",
            &other_code,
        ),
    ] {
        println!(
            "| {name} | {} | {} / {} | {:.1} | {} |",
            t.trials,
            t.innocents_accused,
            t.innocent_tests,
            100.0 * t.read_sites as f64 / t.quoted_words.max(1) as f64,
            t.flipped
        );
    }
    println!(
        "\nmade-up 22-word sentence inside a quote shown unmatched within 3 words of both edges: {fabricated_ok} / {fabricated_trials}"
    );
    println!(
        "largest share of words a copy changed: {:.2} %",
        100.0 * max_changed
    );
    println!("elapsed: {:.1} s", started.elapsed().as_secs_f64());
}
