//! Leaks whose time or pitch was changed (issue 14 item 3), traced through the vault: a
//! speed change up to 15 %, a tempo change, a pitch shift of up to two semitones. Each
//! names its copy, and the unmarked original through the same change names nobody.

mod common;

use tracemark_attacks::{Attack, AttackContext};
use tracemark_dsp::AudioBuffer;
use tracemark_media::{EncodeOptions, Format, Limits, decode_bytes, encode_bytes};
use tracemark_types::FindingKind;
use tracemark_vault::{DEFAULT_BOUND, Delivery};

fn decode(bytes: &[u8]) -> AudioBuffer {
    decode_bytes(bytes, Some("flac"), &Limits::default()).expect("decode")
}

fn flac(audio: &AudioBuffer) -> Vec<u8> {
    encode_bytes(audio, Format::Flac, &EncodeOptions::default()).expect("encode")
}

#[test]
fn a_sped_up_slowed_or_pitch_shifted_leak_names_its_copy_and_the_original_nobody() {
    let dir = tempfile::tempdir().expect("tmp");
    let vault = common::init_with_clock(dir.path(), common::fixed_clock).expect("init");
    let names: Vec<String> = (0..6).map(|i| format!("Office {i:02}")).collect();
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
        .expect("issue");
    let original = decode(&audio);
    let copy = decode(&copies[4].bytes);
    let rate = original.rate().hz() as usize;
    let (a, b) = (12 * rate, 42 * rate);
    let ctx = AttackContext::new(21);
    for attack in [
        Attack::Speed { percent: 15.0 },
        Attack::Speed { percent: -10.0 },
        Attack::Tempo { percent: -12.0 },
        Attack::PitchShift { semitones: 2.0 },
        Attack::PitchShift { semitones: -1.0 },
    ] {
        let name = attack.name();
        let leak = attack.apply(&copy.slice(a, b), &ctx).expect("attack");
        let r = vault
            .trace(&flac(&leak), "leak.flac", DEFAULT_BOUND)
            .expect("trace");
        let accused: Vec<&str> = r.accused().map(|s| s.name.as_str()).collect();
        assert_eq!(accused, ["Office 04"], "{name}: {}", r.verdict());
        assert_eq!(r.finding(), FindingKind::Accused, "{name}");
        let innocent = attack.apply(&original.slice(a, b), &ctx).expect("attack");
        let r = vault
            .trace(&flac(&innocent), "leak.flac", DEFAULT_BOUND)
            .expect("trace");
        assert_eq!(r.accused().count(), 0, "{name} unmarked: {}", r.verdict());
        assert!(r.recording.is_some(), "{name} unmarked: not identified");
    }
}
