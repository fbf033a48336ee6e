//! The transcript marking on the corpus transcript (real telephone transcripts, public
//! domain): copies, their reading back through retyping and house style, quotes inside
//! prose, made-up sentences, and accusation with the tardos bound.

mod common;

use common::{Dice, PROSE, corpus_transcript, house_style, ocr, retype};
use proptest::prelude::*;
use tracemark_tardos::{AccusationConfig, Biases, Codeword, Cutoff, sim};
use tracemark_textmark::{
    MarkedTranscript, ReadPolicy, SegmentStatus, SiteKind, SiteState, accuse,
    changed_word_fraction, words_needed,
};

fn marked() -> MarkedTranscript {
    MarkedTranscript::new(&corpus_transcript()).expect("the corpus transcript is small")
}

fn code(sites: usize, recipients: u64) -> (Biases, Vec<Codeword>) {
    let biases = Biases::draw(
        &sim::seed("textmark-recording", 1),
        sites,
        Cutoff::default(),
    )
    .expect("few sites");
    let copies = (0..recipients)
        .map(|j| Codeword::draw(&sim::seed("textmark-recipient", j), &biases))
        .collect();
    (biases, copies)
}

/// The read symbol of every site is the copy's, or the site is erased or unseen.
fn never_flipped(states: &[SiteState], symbols: &[bool]) -> Result<(), String> {
    for (s, (state, &symbol)) in states.iter().zip(symbols).enumerate() {
        if let SiteState::Read(read) = state
            && *read != symbol
        {
            return Err(format!("site {s} read {read}, the copy has {symbol}"));
        }
    }
    Ok(())
}

#[test]
fn the_corpus_transcript_has_sites_of_every_punctuation_kind() {
    let m = marked();
    for kind in [
        SiteKind::IntroComma,
        SiteKind::ConjunctionComma,
        SiteKind::TooComma,
        SiteKind::StopSemicolon,
        SiteKind::DashComma,
        SiteKind::Hyphen,
        SiteKind::TitleCase,
        SiteKind::Number,
        SiteKind::VocativeComma,
        SiteKind::TagComma,
        SiteKind::StopComma,
        SiteKind::Exclamation,
        SiteKind::QuestionStop,
    ] {
        assert!(m.sites().iter().any(|s| s.kind == kind), "no {kind:?} site");
    }
    // The original is one of the copies: its own symbols render it unchanged.
    let text = corpus_transcript();
    assert_eq!(m.render(&m.original_symbols()).expect("one per site"), text);
}

#[test]
fn every_copy_changes_at_most_three_percent_of_the_words() {
    let m = marked();
    let text = corpus_transcript();
    let (_, copies) = code(m.sites().len(), 20);
    for symbols in [vec![true; m.sites().len()], vec![false; m.sites().len()]]
        .into_iter()
        .chain(copies.iter().map(|c| c.symbols().collect()))
    {
        let copy = m.render(&symbols).expect("one per site");
        let changed = changed_word_fraction(&text, &copy);
        assert!(changed <= 0.03, "{changed}");
        assert_ne!(
            copy,
            text.replace('\u{2019}', "'"),
            "a copy keeps the source's typography"
        );
    }
}

#[test]
fn a_whole_copy_retyped_and_restyled_names_its_recipient_among_a_thousand() {
    let m = marked();
    let (biases, copies) = code(m.sites().len(), 1000);
    let symbols: Vec<bool> = copies[417].symbols().collect();
    let leak = house_style(&retype(&m.render(&symbols).expect("one per site")));
    let reading = m.read(&leak, ReadPolicy::Quoted).expect("small");
    never_flipped(reading.states(), &symbols).expect("no site flipped");
    let verdict = accuse(&reading, &biases, &copies, &AccusationConfig::default())
        .expect("one slot per site");
    assert_eq!(verdict.accused.first().map(|r| r.index), Some(417));
    assert!(verdict.accused.iter().all(|r| r.index == 417));
    assert!(verdict.accused[0].corrected <= 1e-6);
}

#[test]
fn every_kind_survives_retyping_and_house_style_in_some_form_and_none_flips() {
    let m = marked();
    let n = m.sites().len();
    let mut read_kinds = std::collections::BTreeSet::new();
    for symbols in [vec![false; n], vec![true; n]] {
        let leak = house_style(&retype(&m.render(&symbols).expect("one per site")));
        let reading = m.read(&leak, ReadPolicy::Quoted).expect("small");
        never_flipped(reading.states(), &symbols).expect("no site flipped");
        for (site, state) in m.sites().iter().zip(reading.states()) {
            if matches!(state, SiteState::Read(_)) {
                read_kinds.insert(site.kind.name());
            }
        }
    }
    // Number and title-case sites are in the AP form after house style whatever the
    // copy had (erased, by design); every punctuation kind is read.
    for kind in m.sites().iter().map(|s| s.kind) {
        if !matches!(kind, SiteKind::Number | SiteKind::TitleCase) {
            assert!(read_kinds.contains(kind.name()), "{kind:?} is never read");
        }
    }
}

#[test]
fn every_site_in_a_short_quote_around_it_reads_or_erases_but_never_flips() {
    // One 41-word quote centred on each site in turn (retyped, house style, 2 % OCR,
    // inside prose), for three random copies: every kind, the v2 ones included, is
    // quoted at every one of its corpus sites, not only where a random excerpt falls.
    let m = marked();
    let n = m.sites().len();
    let mut dice = Dice::new(13);
    let mut read = vec![false; n];
    for _ in 0..3 {
        let symbols: Vec<bool> = (0..n).map(|_| dice.chance(0.5)).collect();
        let text = house_style(&retype(&m.render(&symbols).expect("one per site")));
        let tokens: Vec<&str> = text.split(' ').collect();
        for (s, site) in m.sites().iter().enumerate() {
            let at = m.words().units()[site.unit].token;
            let (from, to) = (at.saturating_sub(20), (at + 21).min(tokens.len()));
            let quote = ocr(&tokens[from..to].join(" "), 0.02, &mut dice);
            let leak = format!("{} \"{quote}\" {}", PROSE[6], PROSE[7]);
            let reading = m.read(&leak, ReadPolicy::Quoted).expect("small");
            never_flipped(reading.states(), &symbols).expect("no flip");
            read[s] |= matches!(reading.states()[s], SiteState::Read(_));
        }
    }
    for (site, was_read) in m.sites().iter().zip(&read) {
        let normalised = matches!(
            site.kind,
            SiteKind::Number | SiteKind::TitleCase | SiteKind::Hyphen | SiteKind::QuestionStop
        );
        assert!(*was_read || normalised, "{site:?} never read");
    }
}

#[test]
fn quoting_the_original_accuses_nobody() {
    let m = marked();
    let (biases, copies) = code(m.sites().len(), 1000);
    let leak = retype(&corpus_transcript());
    let reading = m.read(&leak, ReadPolicy::Quoted).expect("small");
    assert!(reading.read_sites() > 50, "{}", reading.read_sites());
    let verdict = accuse(&reading, &biases, &copies, &AccusationConfig::default())
        .expect("one slot per site");
    assert!(verdict.accused.is_empty(), "{:?}", verdict.accused);
}

#[test]
fn a_short_quote_accuses_nobody_and_says_how_many_more_words_are_needed() {
    let m = marked();
    let (biases, copies) = code(m.sites().len(), 1000);
    let copy = retype(
        &m.render(&copies[5].symbols().collect::<Vec<_>>())
            .expect("one per site"),
    );
    let quote: Vec<&str> = copy.split(' ').skip(300).take(60).collect();
    let leak = format!("{} \"{}\" {}", PROSE[0], quote.join(" "), PROSE[1]);
    let reading = m.read(&leak, ReadPolicy::Quoted).expect("small");
    assert!(reading.read_sites() > 0);
    let verdict = accuse(&reading, &biases, &copies, &AccusationConfig::default())
        .expect("one slot per site");
    assert!(verdict.accused.is_empty());
    let needed = words_needed(&reading, &biases, &verdict, m.site_density());
    assert!(needed.sites_needed > needed.sites_read, "{needed:?}");
    assert!(
        needed.more_words > 0 && needed.more_words < 10_000,
        "{needed:?}"
    );
}

#[test]
fn a_quote_inside_prose_maps_genuine_words_and_a_made_up_sentence() {
    let m = marked();
    let text = retype(&corpus_transcript());
    let tokens: Vec<&str> = text.split(' ').collect();
    let (start, len) = (200, 80);
    let made_up = "and I want you to tell the Chinese ambassador that we will never accept any of their terms on this matter whatever happens";
    let fake_len = made_up.split(' ').count();
    let before = PROSE[2].split(' ').count() + 1;
    let quote = format!(
        "{} {} {}",
        tokens[start..start + 40].join(" "),
        made_up,
        tokens[start + 40..start + len].join(" ")
    );
    let leak = format!("{} \"{}\" {}", PROSE[2], quote, PROSE[3]);
    let reading = m.read(&leak, ReadPolicy::Quoted).expect("small");
    let segs = reading.segments();
    let genuine: Vec<_> = segs
        .iter()
        .filter(|s| matches!(s.status, SegmentStatus::Genuine { .. }))
        .collect();
    assert_eq!(genuine.len(), 2, "{segs:?}");
    let fake = segs
        .iter()
        .find(|s| s.status == SegmentStatus::Unmatched && s.quoted)
        .expect("the made-up sentence is unmatched inside the quote");
    let (fake_start, fake_end) = (before + 40, before + 40 + fake_len);
    assert!(
        fake.leak_start_word.abs_diff(fake_start) <= 3,
        "{fake:?} vs {fake_start}"
    );
    assert!(
        fake.leak_end_word.abs_diff(fake_end) <= 3,
        "{fake:?} vs {fake_end}"
    );
    // The writer's prose is unmatched outside the quote; the genuine words point back.
    assert!(!segs[0].quoted && segs[0].status == SegmentStatus::Unmatched);
    let SegmentStatus::Genuine {
        original_start_word,
        ..
    } = genuine[0].status
    else {
        unreachable!()
    };
    // The corpus text's tokens and its retyped tokens are the same whitespace tokens.
    assert!(
        original_start_word.abs_diff(start) <= 1,
        "{original_start_word} vs {start}"
    );
}

#[test]
fn ocr_errors_and_elisions_never_flip_a_site() {
    let m = marked();
    let (_, copies) = code(m.sites().len(), 50);
    let mut dice = Dice::new(7);
    for copy in &copies {
        let symbols: Vec<bool> = copy.symbols().collect();
        let text = retype(&m.render(&symbols).expect("one per site"));
        let tokens: Vec<&str> = text.split(' ').collect();
        let at = dice.below(tokens.len() - 300);
        let leak = format!(
            "\"{} ... {}\"",
            tokens[at..at + 120].join(" "),
            tokens[at + 140..at + 300].join(" ")
        );
        let leak = ocr(&house_style(&leak), 0.05, &mut dice);
        let reading = m.read(&leak, ReadPolicy::Quoted).expect("small");
        never_flipped(reading.states(), &symbols).expect("no flip");
        assert!(reading.read_sites() > 0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn a_rendered_copy_reads_back_as_its_symbols(seed in any::<u64>()) {
        let m = marked();
        let mut dice = Dice::new(seed);
        let symbols: Vec<bool> = (0..m.sites().len()).map(|_| dice.chance(0.5)).collect();
        let copy = m.render(&symbols).expect("one per site");
        let reading = m.read(&copy, ReadPolicy::Verbatim).expect("small");
        let expected: Vec<SiteState> = symbols.iter().map(|&s| SiteState::Read(s)).collect();
        prop_assert_eq!(reading.states(), expected.as_slice());
    }

    #[test]
    fn a_retyped_restyled_excerpt_reads_or_erases_but_never_flips(seed in any::<u64>(), len in 30usize..400) {
        let m = marked();
        let mut dice = Dice::new(seed);
        let symbols: Vec<bool> = (0..m.sites().len()).map(|_| dice.chance(0.5)).collect();
        let text = house_style(&retype(&m.render(&symbols).expect("one per site")));
        let tokens: Vec<&str> = text.split(' ').collect();
        let at = dice.below(tokens.len() - len);
        let leak = format!("{} \"{}\" {}", PROSE[4], tokens[at..at + len].join(" "), PROSE[5]);
        let reading = m.read(&leak, ReadPolicy::Quoted).expect("small");
        prop_assert!(never_flipped(reading.states(), &symbols).is_ok());
    }

    #[test]
    fn any_text_marks_and_reads_without_panicking(transcript in "\\PC{0,400}", leak in "\\PC{0,400}") {
        let m = MarkedTranscript::new(&transcript).expect("short");
        let copy = m.render(&vec![true; m.sites().len()]).expect("one per site");
        for text in [leak.as_str(), copy.as_str()] {
            let reading = m.read(text, ReadPolicy::Quoted).expect("short");
            let covered: usize = reading.segments().iter().map(|s| s.leak_end_word - s.leak_start_word).sum();
            prop_assert_eq!(covered, reading.leak_words());
        }
    }
}
