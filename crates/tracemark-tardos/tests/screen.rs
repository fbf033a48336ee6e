//! The screen's shortlist is the full verdict's accused and leading recipients, figure for
//! figure, however the work is split.

use proptest::prelude::*;
use tracemark_tardos::{
    AccusationConfig, Biases, Codeword, Cutoff, Error, Observations, RecipientScore, ScoreFunction,
    Screen, Shortlist, Verdict, accuse_any, accuse_top, default_score_functions, sim,
};

/// A leak of `len` slots of which `observed` from slot `from` on were read, made by
/// `leakers` (averaged at amplitude `mu`; none: unmarked noise).
struct Case {
    biases: Biases,
    seeds: Vec<[u8; 32]>,
    codewords: Vec<Codeword>,
    observations: Observations,
}

fn case(seed: u64, len: usize, recipients: usize, leakers: &[usize], mu: f64) -> Case {
    let biases =
        Biases::draw(&sim::seed("screen/biases", seed), len, Cutoff::default()).expect("short");
    let seeds: Vec<[u8; 32]> = (0..recipients as u64)
        .map(|j| sim::seed("screen/recipient", seed << 20 | j))
        .collect();
    let codewords: Vec<Codeword> = seeds.iter().map(|s| Codeword::draw(s, &biases)).collect();
    let mut noise = sim::Noise::new(&sim::seed("screen/noise", seed));
    let coalition: Vec<&Codeword> = leakers.iter().filter_map(|&j| codewords.get(j)).collect();
    let z = if coalition.is_empty() {
        noise.unmarked(len)
    } else {
        sim::averaged(&coalition, mu, &mut noise)
    };
    let from = (seed as usize * 7) % len;
    let cells = (0..len)
        .map(|i| u32::from(i >= from || i % 3 == 0))
        .collect();
    let observations = Observations::try_new(z, cells).expect("finite");
    Case {
        biases,
        seeds,
        codewords,
        observations,
    }
}

fn ranked(v: &Verdict, top: usize) -> Vec<RecipientScore> {
    let mut all = v.scores.clone();
    all.sort_by(|a, b| {
        a.tail
            .ln_bound
            .total_cmp(&b.tail.ln_bound)
            .then(a.index.cmp(&b.index))
    });
    all.retain(|r| r.tail.ln_bound < 0.0);
    all.truncate(top);
    all
}

/// The shortlist of `c` scored in `chunks` scans over a shuffled order of recipients,
/// merged in reverse; every other recipient pushed by its seed.
fn split(
    c: &Case,
    functions: &[ScoreFunction],
    config: &AccusationConfig,
    top: usize,
    chunks: usize,
    shuffle: u64,
) -> Shortlist {
    let n = c.codewords.len();
    let screen =
        Screen::new(&c.observations, &c.biases, functions, n, config, top).expect("valid screen");
    let mut order: Vec<usize> = (0..n).collect();
    let mut x = shuffle | 1;
    for i in (1..n).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        order.swap(i, (x % (i as u64 + 1)) as usize);
    }
    let size = n.div_ceil(chunks.max(1)).max(1);
    let scans: Vec<_> = order
        .chunks(size)
        .map(|part| {
            let mut scan = screen.scan();
            for &j in part {
                if j % 2 == 0 {
                    scan.push(j, &c.codewords[j]).expect("same length");
                } else {
                    scan.push_seed(j, &c.seeds[j]).expect("in range");
                }
            }
            scan
        })
        .collect();
    let merged = scans
        .into_iter()
        .rev()
        .reduce(|a, b| a.merge(b))
        .unwrap_or_else(|| screen.scan());
    merged.finish().expect("all pushed")
}

fn functions_of(pick: u8, obs: &Observations) -> Vec<ScoreFunction> {
    let [sym, llr] = default_score_functions(obs);
    match pick % 4 {
        0 => vec![sym],
        1 => vec![llr],
        2 => vec![sym, llr],
        _ => vec![llr, ScoreFunction::LogLikelihood { mu: 2.5 }, sym],
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn the_shortlist_is_the_verdicts_accused_and_leaders(
        seed in 0u64..1_000_000,
        len in 20usize..400,
        recipients in 1usize..160,
        leakers in proptest::collection::vec(0usize..200, 0..4),
        mu in 0.3f64..3.0,
        pick in any::<u8>(),
        ln_bound in -16.0f64..-0.05,
        top in 0usize..12,
        chunks in 1usize..6,
        shuffle in any::<u64>(),
    ) {
        let c = case(seed, len, recipients, &leakers, mu);
        let functions = functions_of(pick, &c.observations);
        let config = AccusationConfig::new(ln_bound.exp()).expect("in (0, 1)");
        let verdict = accuse_any(&c.observations, &c.biases, &functions, &c.codewords, &config)
            .expect("valid");
        let short = accuse_top(&c.observations, &c.biases, &functions, &c.codewords, &config, top)
            .expect("valid");
        prop_assert_eq!(&short.accused, &verdict.accused);
        prop_assert_eq!(&short.leading, &ranked(&verdict, top));
        prop_assert_eq!(short.tests, verdict.tests);
        prop_assert_eq!(short.bound, verdict.bound);
        prop_assert_eq!(short.recipients, recipients);
        let parts = split(&c, &functions, &config, top, chunks, shuffle);
        prop_assert_eq!(parts, short);
    }
}

#[test]
fn a_leaker_among_many_innocents_is_accused_with_the_verdicts_figures() {
    for seed in 0..4 {
        let c = case(seed, 750, 2000, &[seed as usize * 300], 1.0);
        let functions = default_score_functions(&c.observations);
        let config = AccusationConfig::default();
        let verdict = accuse_any(
            &c.observations,
            &c.biases,
            &functions,
            &c.codewords,
            &config,
        )
        .expect("valid");
        let short = accuse_top(
            &c.observations,
            &c.biases,
            &functions,
            &c.codewords,
            &config,
            5,
        )
        .expect("valid");
        assert_eq!(
            short.accused.iter().map(|a| a.index).collect::<Vec<_>>(),
            [seed as usize * 300]
        );
        assert_eq!(short.accused, verdict.accused);
        assert_eq!(short.leading, ranked(&verdict, 5));
        // From the seeds, with early rejection (most innocents are rejected after part
        // of their blocks): the same shortlist, also with no leaders asked for.
        for top in [0, 5] {
            let screen = Screen::new(&c.observations, &c.biases, &functions, 2000, &config, top)
                .expect("valid");
            let mut scan = screen.scan();
            for (j, s) in c.seeds.iter().enumerate() {
                scan.push_seed(j, s).expect("in range");
            }
            assert!(scan.rejected_early() > 1000, "{}", scan.rejected_early());
            let seeded = scan.finish().expect("all pushed");
            assert_eq!(seeded.accused, verdict.accused);
            assert_eq!(seeded.leading, ranked(&verdict, top));
        }
    }
}

#[test]
fn scans_refuse_foreign_indices_and_missing_recipients() {
    let c = case(1, 100, 10, &[], 1.0);
    let functions = default_score_functions(&c.observations);
    let config = AccusationConfig::default();
    let screen =
        Screen::new(&c.observations, &c.biases, &functions, 10, &config, 3).expect("valid");
    let mut scan = screen.scan();
    assert!(matches!(
        scan.push(10, &c.codewords[0]),
        Err(Error::RecipientOutOfRange {
            index: 10,
            recipients: 10
        })
    ));
    let short = Codeword::from_symbols(&[true; 99]).expect("short");
    assert!(matches!(
        scan.push(0, &short),
        Err(Error::LengthMismatch { .. })
    ));
    scan.push(0, &c.codewords[0]).expect("valid");
    assert!(matches!(scan.finish(), Err(Error::LengthMismatch { .. })));
    assert!(Screen::new(&c.observations, &c.biases, &[], 10, &config, 3).is_err());
}

#[test]
fn codewords_drawn_on_the_observed_slots_alone_give_the_same_shortlist() {
    let c = case(5, 900, 300, &[42], 1.2);
    let observed: Vec<usize> = c.observations.iter_observed().map(|(i, _)| i).collect();
    let partial: Vec<Codeword> = (0..300u64)
        .map(|j| {
            Codeword::draw_slots(
                &sim::seed("screen/recipient", 5 << 20 | j),
                &c.biases,
                &observed,
            )
        })
        .collect();
    let functions = default_score_functions(&c.observations);
    let config = AccusationConfig::default();
    let full = accuse_top(
        &c.observations,
        &c.biases,
        &functions,
        &c.codewords,
        &config,
        4,
    )
    .expect("valid");
    let part =
        accuse_top(&c.observations, &c.biases, &functions, &partial, &config, 4).expect("valid");
    assert_eq!(full, part);
    assert_eq!(full.accused.first().map(|a| a.index), Some(42));
    let screen =
        Screen::new(&c.observations, &c.biases, &functions, 300, &config, 4).expect("valid");
    let mut scan = screen.scan();
    for j in 0..300u64 {
        scan.push_seed(j as usize, &sim::seed("screen/recipient", 5 << 20 | j))
            .expect("in range");
    }
    assert_eq!(scan.finish().expect("all pushed"), full);
}
