//! Simulated leaks: colluders are named, innocents are not, and the bound is
//! conservative. The release-mode sweep over `mu` is `examples/tardos_sim.rs`.

use tracemark_tardos::{
    AccusationConfig, Biases, Codeword, Cutoff, NullModel, Observations, ScoreFunction, Verdict,
    accuse, sim,
};

fn code(label: &str, slots: usize, recipients: usize) -> (Biases, Vec<Codeword>) {
    let biases = Biases::draw(&sim::seed(label, 0), slots, Cutoff::default()).expect("short");
    let copies = (0..recipients as u64)
        .map(|j| Codeword::draw(&sim::seed(label, j + 1), &biases))
        .collect();
    (biases, copies)
}

fn verdict(z: Vec<f32>, biases: &Biases, copies: &[Codeword], score: ScoreFunction) -> Verdict {
    let obs = Observations::fully_observed(z).expect("finite");
    let model = NullModel::new(&obs, biases, score).expect("lengths agree");
    accuse(&model, copies, &AccusationConfig::default()).expect("lengths agree")
}

fn llr(z: &[f32]) -> ScoreFunction {
    let obs = Observations::fully_observed(z.to_vec()).expect("finite");
    ScoreFunction::LogLikelihood {
        mu: obs.amplitude_estimate(),
    }
}

fn assert_only_colluders(v: &Verdict, guilty: &[usize]) {
    assert!(
        v.accused.iter().any(|r| guilty.contains(&r.index)),
        "no colluder accused: {:?}",
        guilty.iter().map(|&j| v.scores[j]).collect::<Vec<_>>()
    );
    assert!(
        v.accused.iter().all(|r| guilty.contains(&r.index)),
        "{:?}",
        v.accused
    );
}

#[test]
fn two_colluders_averaging_60_s_at_mu_1_5_are_named_and_no_innocent_is() {
    for trial in 0..3 {
        let (biases, copies) = code(&format!("avg2/{trial}"), 750, 100);
        let guilty = [5, 60];
        let mut noise = sim::Noise::new(&sim::seed("avg2/noise", trial));
        let z = sim::averaged(&[&copies[5], &copies[60]], 1.5, &mut noise);
        for score in [ScoreFunction::SoftSymmetric, llr(&z)] {
            assert_only_colluders(&verdict(z.clone(), &biases, &copies, score), &guilty);
        }
    }
}

#[test]
fn three_colluders_interleaving_5_s_segments_over_120_s_are_named() {
    for trial in 0..2 {
        let (biases, copies) = code(&format!("int3/{trial}"), 1500, 100);
        let guilty = [1, 2, 99];
        let coalition: Vec<&Codeword> = guilty.iter().map(|&j| &copies[j]).collect();
        let mut noise = sim::Noise::new(&sim::seed("int3/noise", trial));
        let z = sim::interleaved(&coalition, 63, 1.5, &mut noise);
        for score in [ScoreFunction::SoftSymmetric, llr(&z)] {
            assert_only_colluders(&verdict(z.clone(), &biases, &copies, score), &guilty);
        }
    }
}

#[test]
fn single_leaker_among_1000_is_named_from_10_s() {
    for trial in 0..3 {
        let (biases, copies) = code(&format!("single/{trial}"), 125, 1000);
        let mut noise = sim::Noise::new(&sim::seed("single/noise", trial));
        let z = sim::averaged(&[&copies[321]], 1.5, &mut noise);
        // The likelihood score is the one to use for a lone leaker (see the sweep in
        // docs/benchmarks/tardos.md: the symmetric score catches 48/50 here).
        assert_only_colluders(&verdict(z.clone(), &biases, &copies, llr(&z)), &[321]);
    }
}

#[test]
fn nobody_is_accused_of_an_unmarked_leak_with_any_score() {
    let (biases, copies) = code("unmarked", 750, 100);
    let mut noise = sim::Noise::new(&sim::seed("unmarked/noise", 0));
    let z = noise.unmarked(750);
    for score in [
        ScoreFunction::SoftSymmetric,
        llr(&z),
        ScoreFunction::LogLikelihood { mu: 3.0 },
    ] {
        assert!(
            verdict(z.clone(), &biases, &copies, score)
                .accused
                .is_empty()
        );
    }
}

#[test]
fn partially_observed_leaks_score_only_their_slots() {
    // A 20 s clip cut from a 60 s copy: the other slots are unobserved.
    let (biases, copies) = code("partial", 750, 100);
    let mut noise = sim::Noise::new(&sim::seed("partial/noise", 0));
    let mut z = sim::averaged(&[&copies[17]], 1.5, &mut noise);
    let cells: Vec<u32> = (0..750)
        .map(|i| u32::from((250..500).contains(&i)))
        .collect();
    z[0] = f32::NAN; // unobserved garbage must not matter
    let obs = Observations::try_new(z, cells).expect("NaN only where unobserved");
    let model = NullModel::new(&obs, &biases, ScoreFunction::SoftSymmetric).expect("ok");
    assert_eq!(model.observed(), 250);
    let v = accuse(&model, &copies, &AccusationConfig::default()).expect("ok");
    assert_only_colluders(&v, &[17]);
}

/// 10,000 innocent traces of 200 slots with 5 fresh innocent codewords each: unmarked
/// noise, another vault's copy, and a coalition of this code that excludes them.
#[test]
fn over_10000_innocent_traces_nobody_is_accused_and_the_bound_is_conservative() {
    const TRACES: u64 = 10_000;
    const SLOTS: usize = 200;
    const ALPHAS: [f64; 3] = [1e-1, 1e-2, 1e-3];
    let (biases, colluders) = code("innocents/colluders", SLOTS, 2);
    let (_, foreign) = code("innocents/other-vault", SLOTS, 1);
    let mut tests = 0u64;
    let mut below = [0u64; ALPHAS.len()];
    for trace in 0..TRACES {
        let mut noise = sim::Noise::new(&sim::seed("innocents/noise", trace));
        let z = match trace % 3 {
            0 => noise.unmarked(SLOTS),
            1 => sim::averaged(&[&foreign[0]], 1.5, &mut noise),
            _ => sim::averaged(&[&colluders[0], &colluders[1]], 1.5, &mut noise),
        };
        let innocents: Vec<Codeword> = (0..5)
            .map(|j| Codeword::draw(&sim::seed("innocents/recipient", trace * 5 + j), &biases))
            .collect();
        let score = if trace % 2 == 0 {
            ScoreFunction::SoftSymmetric
        } else {
            llr(&z)
        };
        let v = verdict(z, &biases, &innocents, score);
        assert!(v.accused.is_empty(), "trace {trace}: {:?}", v.accused);
        for r in &v.scores {
            tests += 1;
            for (k, &alpha) in ALPHAS.iter().enumerate() {
                below[k] += u64::from(r.tail.bound() <= alpha);
            }
        }
    }
    for (k, &alpha) in ALPHAS.iter().enumerate() {
        let rate = below[k] as f64 / tests as f64;
        assert!(
            rate <= alpha,
            "alpha {alpha}: observed rate {rate} over {tests} tests"
        );
    }
}

#[test]
fn accusing_under_two_score_functions_doubles_the_tests_and_keeps_each_recipients_best() {
    let (biases, copies) = code("any/0", 375, 200);
    let mut noise = sim::Noise::new(&sim::seed("any/noise", 0));
    let z = sim::averaged(&[&copies[17]], 0.8, &mut noise);
    let obs = Observations::fully_observed(z.clone()).expect("finite");
    let functions = tracemark_tardos::default_score_functions(&obs);
    let config = AccusationConfig::default();
    let any = tracemark_tardos::accuse_any(&obs, &biases, &functions, &copies, &config)
        .expect("lengths agree");
    let single: Vec<Verdict> = functions
        .iter()
        .map(|&f| verdict(z.clone(), &biases, &copies, f))
        .collect();
    assert_eq!(any.tests, 2.0 * single[0].tests);
    for (j, s) in any.scores.iter().enumerate() {
        let best = single[0].scores[j]
            .corrected
            .min(single[1].scores[j].corrected);
        // Twice the best single-function corrected bound (capped at 1), from that function.
        assert!(
            (s.corrected - (2.0 * best).min(1.0)).abs() <= 1e-9 * s.corrected.max(1e-300),
            "recipient {j}: {} vs {}",
            s.corrected,
            best
        );
        assert!(functions.contains(&s.function));
    }
    assert!(
        any.accused.iter().all(|r| r.index == 17),
        "{:?}",
        any.accused
    );
    assert!(
        any.accused.iter().all(|r| r.corrected < config.bound()),
        "{:?}",
        any.accused
    );
    let none = tracemark_tardos::accuse_any(&obs, &biases, &[], &copies, &config);
    assert!(none.is_err());
}

#[test]
fn codewords_drawn_on_the_observed_slots_alone_give_the_same_verdict() {
    let (biases, copies) = code("partial", 900, 40);
    // A 20 s leak (250 slots) a third of the way in, from copy 5.
    let (mut soft, mut cells) = (vec![0f32; 900], vec![0u32; 900]);
    let mut noise = sim::seed("partial-noise", 0)[0] as f32 / 255.0;
    for i in 300..550 {
        noise = (noise * 7.31 + 0.17).fract();
        let x = if copies[5].symbol(i) == Some(true) {
            1.0
        } else {
            -1.0
        };
        soft[i] = x * 0.8 + (noise - 0.5) * 2.0;
        cells[i] = 1 + (i as u32 % 3);
    }
    let obs = Observations::try_new(soft, cells.clone()).expect("obs");
    let observed: Vec<usize> = (0..900).filter(|&i| cells[i] > 0).collect();
    let partial: Vec<Codeword> = (0..40u64)
        .map(|j| Codeword::draw_slots(&sim::seed("partial", j + 1), &biases, &observed))
        .collect();
    let functions = tracemark_tardos::default_score_functions(&obs);
    let config = AccusationConfig::new(1e-6).expect("config");
    let full =
        tracemark_tardos::accuse_any(&obs, &biases, &functions, &copies, &config).expect("full");
    let part =
        tracemark_tardos::accuse_any(&obs, &biases, &functions, &partial, &config).expect("part");
    assert_eq!(full.scores.len(), part.scores.len());
    for (a, b) in full.scores.iter().zip(&part.scores) {
        assert_eq!(
            a.score.to_bits(),
            b.score.to_bits(),
            "recipient {}",
            a.index
        );
        assert_eq!(
            a.corrected.to_bits(),
            b.corrected.to_bits(),
            "recipient {}",
            a.index
        );
    }
    let named = |v: &Verdict| v.accused.iter().map(|a| a.index).collect::<Vec<_>>();
    assert_eq!(named(&full), named(&part));
    assert_eq!(named(&full), vec![5], "the leaker is named");
}
