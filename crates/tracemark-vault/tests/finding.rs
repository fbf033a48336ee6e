//! What a trace says when nobody is accused (issue 14 item 6): marked but unresolved, or no
//! issued copy's mark with the power of that statement, and that power checked against
//! the naming rate of real issued copies leaked through the same channel.

mod common;

use tracemark_dsp::{AudioBuffer, SampleRate};
use tracemark_media::{EncodeOptions, Format, Limits, decode_bytes, encode_bytes};
use tracemark_types::{FindingKind, wilson_interval};
use tracemark_vault::{DEFAULT_BOUND, Delivery, Vault};

fn decode(bytes: &[u8], ext: &str) -> AudioBuffer {
    decode_bytes(bytes, Some(ext), &Limits::default()).expect("decode")
}

fn encode(audio: &AudioBuffer, format: Format, kbps: Option<u32>) -> Vec<u8> {
    encode_bytes(audio, format, &EncodeOptions { bitrate_kbps: kbps }).expect("encode")
}

/// `[from_s, to_s)` of `audio`, mono, with white Gaussian noise at `snr_db` below the
/// stretch's own power (none if `None`), drawn from `seed`.
fn damaged(
    audio: &AudioBuffer,
    from_s: f64,
    to_s: f64,
    snr_db: Option<f64>,
    seed: u64,
) -> AudioBuffer {
    let rate = audio.rate().hz();
    let mono = audio.downmix();
    let (a, b) = (
        (from_s * f64::from(rate)) as usize,
        ((to_s * f64::from(rate)) as usize).min(mono.len()),
    );
    let mut out = mono[a..b].to_vec();
    if let Some(snr) = snr_db {
        let power = out.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>() / out.len() as f64;
        let sigma = (power / 10f64.powf(snr / 10.0)).sqrt();
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut uniform = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        for x in &mut out {
            let g = (-2.0 * uniform().ln()).sqrt() * (std::f64::consts::TAU * uniform()).cos();
            *x = (f64::from(*x) + sigma * g).clamp(-1.0, 1.0) as f32;
        }
    }
    AudioBuffer::mono(SampleRate::try_new(rate).expect("rate"), out).expect("buffer")
}

struct Setup {
    _dir: tempfile::TempDir,
    vault: Vault,
    original: AudioBuffer,
    copies: Vec<AudioBuffer>,
}

fn setup(recipients: usize) -> Setup {
    setup_keyed(recipients, None)
}

/// A vault of `recipients` holding the demo call, issued to all of them as FLAC; with
/// `key_seed`, its master secret is SHA-256 of that seed (the same vault every run), else
/// drawn afresh.
fn setup_keyed(recipients: usize, key_seed: Option<u64>) -> Setup {
    let dir = tempfile::tempdir().expect("tmp");
    let vault = match key_seed {
        None => common::init_with_clock(dir.path(), common::fixed_clock).expect("init"),
        Some(seed) => common::init_keyed(dir.path(), seed, common::fixed_clock).expect("init"),
    };
    let names: Vec<String> = (0..recipients).map(|i| format!("Office {i:02}")).collect();
    vault.add_recipients(&names).expect("recipients");
    let audio = common::demo_audio();
    let rec = vault.ingest(&audio, "call.flac", "Call").expect("ingest");
    let copies = vault
        .issue(
            rec.id.as_str(),
            &names,
            Delivery::of(Format::Flac),
            |_, _| {},
        )
        .expect("issue")
        .iter()
        .map(|c| decode(&c.bytes, "flac"))
        .collect();
    Setup {
        _dir: dir,
        vault,
        original: decode(&audio, "flac"),
        copies,
    }
}

#[test]
fn the_original_through_mp3_is_no_issued_copy_with_power_near_one_and_a_copy_is_accused() {
    let s = setup(8);
    // The unmarked original, 30 s, through MP3 at 64 kbit/s: nobody's copy.
    let leak = encode(
        &damaged(&s.original, 10.0, 40.0, None, 0),
        Format::Mp3,
        Some(64),
    );
    let r = s
        .vault
        .trace(&leak, "leak.mp3", DEFAULT_BOUND)
        .expect("trace");
    assert_eq!(r.finding(), FindingKind::NoIssuedCopy, "{}", r.verdict());
    let power = r.power().expect("a power");
    assert!(power.value >= 0.95, "{power:?}");
    let v = r.to_json();
    assert_eq!(v["finding"], "no_issued_copy");
    assert_eq!(v["power"].as_f64(), Some(power.value));
    assert_eq!(v["power_trials"], tracemark_vault::POWER_TRIALS);
    let statement = v["finding_statement"].as_str().unwrap_or("");
    assert!(statement.contains("not a recipient's copy"), "{statement}");
    // The HTML says it in one sentence beside the verdict.
    let html = tracemark_report::render_fragment(&r, "key");
    assert!(html.contains("data-finding=\"no_issued_copy\""), "{html}");
    assert!(html.contains("would have been named with probability"));
    // The stored report says the same.
    let row = s.vault.trace_row(r.id.as_str()).expect("row");
    let back = tracemark_types::TraceReport::from_json(&row.report_json).expect("parses");
    assert_eq!(back.power(), Some(power));

    // The same stretch of an issued copy through the same channel: accused.
    let leak = encode(
        &damaged(&s.copies[3], 10.0, 40.0, None, 0),
        Format::Mp3,
        Some(64),
    );
    let r = s
        .vault
        .trace(&leak, "leak.mp3", DEFAULT_BOUND)
        .expect("trace");
    assert_eq!(r.finding(), FindingKind::Accused, "{}", r.verdict());
    let v = r.to_json();
    assert_eq!(v["finding"], "accused");
    assert!(v["power"].is_null());
    assert_eq!(
        r.accused().next().map(|a| a.name.as_str()),
        Some("Office 03")
    );
}

#[test]
fn a_short_copy_is_marked_but_unresolved_and_a_short_noisy_one_says_its_power_is_weak() {
    let s = setup(8);
    // 2 s of a copy: the mark is plain, the codeword too short to accuse.
    let leak = encode(
        &damaged(&s.copies[5], 20.0, 22.0, None, 7),
        Format::Flac,
        None,
    );
    let r = s
        .vault
        .trace(&leak, "leak.flac", DEFAULT_BOUND)
        .expect("trace");
    assert_eq!(
        r.finding(),
        FindingKind::MarkedUnresolved,
        "{}",
        r.verdict()
    );
    let more = r.more_seconds_needed().expect("seconds needed");
    assert!(more > 0.0 && more < 60.0, "{more}");
    let v = r.to_json();
    assert_eq!(v["finding"], "marked_unresolved");
    assert!(v["power"].is_null());
    assert_eq!(v["more_seconds_needed"].as_f64(), Some(more));
    let html = tracemark_report::render_fragment(&r, "key");
    assert!(html.contains("more seconds"), "{html}");

    // 4 s of a copy in white noise at 10 dB: the presence test usually cannot see the mark
    // (its p-value was about 0.08 against a level of 1e-3, but that depends on the vault's
    // key, drawn afresh each run: one run in nine saw it on 2026-12-03). Either finding is
    // true of this leak, and each must say what it is worth: "no issued copy's mark" with
    // a power that says how little that means here, or "marked" with the seconds needed.
    // Never an accusation, and never "no issued copy" with a strong power.
    let leak = encode(
        &damaged(&s.copies[5], 20.0, 24.0, Some(10.0), 7),
        Format::Flac,
        None,
    );
    let r = s
        .vault
        .trace(&leak, "leak.flac", DEFAULT_BOUND)
        .expect("trace");
    match r.finding() {
        FindingKind::NoIssuedCopy => {
            let power = r.power().expect("a power");
            assert!(power.high < 0.5, "{power:?}");
            assert!(
                r.finding_statement().contains("weak evidence"),
                "{}",
                r.finding_statement()
            );
        }
        FindingKind::MarkedUnresolved => {
            assert!(r.power().is_none());
            let more = r.more_seconds_needed().expect("seconds needed");
            assert!(more > 0.0, "{more}");
        }
        other => panic!("{other:?}: {}", r.verdict()),
    }
}

/// One vault's side of the validation: the power its trace of the unmarked original
/// states, and how many of its `n` issued copies leaked the same way were named.
struct PowerCheck {
    stated: tracemark_types::Power,
    named: usize,
    n: usize,
}

fn power_check(key_seed: u64, n: usize, (from, to, snr): (f64, f64, Option<f64>)) -> PowerCheck {
    let s = setup_keyed(n, Some(key_seed));
    let leak = encode(&damaged(&s.original, from, to, snr, 1), Format::Flac, None);
    let r = s
        .vault
        .trace(&leak, "leak.flac", DEFAULT_BOUND)
        .expect("trace");
    assert_eq!(r.finding(), FindingKind::NoIssuedCopy, "{}", r.verdict());
    let stated = r.power().expect("a power");
    let mut named = 0;
    for (i, copy) in s.copies.iter().enumerate() {
        let leak = encode(
            &damaged(copy, from, to, snr, 100 + i as u64),
            Format::Flac,
            None,
        );
        let t = s
            .vault
            .trace(&leak, "leak.flac", DEFAULT_BOUND)
            .expect("trace");
        let name = format!("Office {i:02}");
        if t.accused().any(|a| a.name == name) {
            named += 1;
        }
        assert!(t.accused().all(|a| a.name == name), "an innocent accused");
    }
    let (lo, hi) = wilson_interval(named, n);
    eprintln!(
        "vault key {key_seed}, channel {from}-{to} s, noise {snr:?} dB: stated power {:.3} ({:.3}-{:.3}, {} simulated); observed {named}/{n} = {:.3} ({lo:.3}-{hi:.3})",
        stated.value,
        stated.low,
        stated.high,
        stated.trials,
        named as f64 / n as f64
    );
    PowerCheck { stated, named, n }
}

/// The pooled check of stated against observed power: the named count minus the count the
/// stated powers predict, over its standard deviation. The variance has two parts per vault:
/// the binomial spread of `n` real leaks at the true power, and the error of the stated power
/// itself (a proportion of `trials` simulated copies), scaled by `n^2`.
fn pooled_z(checks: &[PowerCheck]) -> f64 {
    let (mut named, mut expected, mut var) = (0.0, 0.0, 0.0);
    for c in checks {
        let (n, p, k) = (c.n as f64, c.stated.value, c.stated.trials as f64);
        named += c.named as f64;
        expected += n * p;
        var += n * p * (1.0 - p) + n * n * p * (1.0 - p) / k;
    }
    if var == 0.0 {
        // Every stated power is 0 or 1: the observed count must then be exactly it.
        return if named == expected {
            0.0
        } else {
            f64::INFINITY
        };
    }
    (named - expected) / var.sqrt()
}

/// The validation: where the power is intermediate (4 s of the call, FLAC; or the channel
/// `TRACEMARK_FINDING_CHANNEL=from,to,snr_db`), the stated power must match how often real
/// issued copies leaked the same way are named. Three vaults with fixed keys (so the run is
/// the same every time; the power depends on the key's layout over those seconds and on the
/// recording's biases, so each vault states its own), 40 leaked copies each; the named count
/// pooled over them must lie within 3 standard deviations of what the stated powers predict
/// (a two-sided level of 0.27 % for a calibrated power). `TRACEMARK_FINDING_KEYS=1,2,...`
/// chooses the vaults' key seeds, `TRACEMARK_FINDING_N` the copies per vault (for the sweeps
/// in docs/benchmarks/finding.md).
#[test]
fn the_stated_power_matches_the_naming_rate_of_issued_copies_through_the_channel() {
    let n: usize = std::env::var("TRACEMARK_FINDING_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let keys: Vec<u64> = std::env::var("TRACEMARK_FINDING_KEYS")
        .ok()
        .map(|v| v.split(',').filter_map(|x| x.parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 2, 3]);
    let checks: Vec<PowerCheck> = keys.iter().map(|&k| power_check(k, n, channel())).collect();
    let z = pooled_z(&checks);
    let stated: f64 = checks.iter().map(|c| c.stated.value * c.n as f64).sum();
    let named: usize = checks.iter().map(|c| c.named).sum();
    eprintln!(
        "pooled over {} vaults: named {named}, stated powers predict {stated:.1}, z = {z:.2}",
        checks.len()
    );
    assert!(
        z.abs() <= 3.0,
        "pooled z {z:.2}: named {named}, predicted {stated:.1}"
    );
}

#[test]
fn the_pooled_z_of_a_calibrated_power_is_small_and_of_a_miscalibrated_one_large() {
    let power = |value: f64| tracemark_types::Power {
        value,
        low: 0.0,
        high: 1.0,
        trials: 100,
        named: (value * 100.0) as usize,
    };
    let check = |p: f64, named: usize| PowerCheck {
        stated: power(p),
        named,
        n: 40,
    };
    // 0.3 stated, 12 of 40 named in each vault: exactly as predicted.
    assert_eq!(pooled_z(&[check(0.3, 12), check(0.3, 12)]), 0.0);
    // 0.5 stated where 9 of 40 were named (the 2026-12-02 run): far outside.
    let z = pooled_z(&[check(0.51, 9)]);
    assert!(z < -3.0, "{z}");
    // All-or-nothing powers must be met exactly.
    assert_eq!(pooled_z(&[check(1.0, 40)]), 0.0);
    assert!(pooled_z(&[check(1.0, 39)]).is_infinite());
}

/// The validation channel: a stretch, and white noise at an SNR (none by default), where
/// the power is intermediate.
fn channel() -> (f64, f64, Option<f64>) {
    let v: Vec<f64> = std::env::var("TRACEMARK_FINDING_CHANNEL")
        .unwrap_or_default()
        .split(',')
        .filter_map(|x| x.parse().ok())
        .collect();
    match v[..] {
        [from, to, snr] => (from, to, Some(snr)),
        [from, to] => (from, to, None),
        _ => (20.0, 24.0, None),
    }
}
