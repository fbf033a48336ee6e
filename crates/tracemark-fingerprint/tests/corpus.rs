//! Identification and authenticity on real recorded speech and music from the shared corpus.
//! Where it is absent, the three recordings are three spans of the committed call excerpt
//! (see `tracemark-testkit`): the call its first 30 s, the read speech the next 15 s, and the
//! unrelated "music" the last 15 s (speech, so the unrelated-audio tests then check another
//! stretch of speech). Every clip below lies within those lengths.
#![allow(clippy::unwrap_used)] // tests: a panic is a failure

mod common;

use tracemark_attacks::{Attack, AttackContext};
use tracemark_dsp::{AudioBuffer, SampleRate};
use tracemark_fingerprint::{
    Change, Index, MapOptions, SegmentStatus, authenticity_map, fingerprint,
};

struct Corpus {
    call: Vec<f32>,
    libri: Vec<f32>,
    music: Vec<f32>,
}

fn corpus() -> Corpus {
    Corpus {
        call: common::load_8k("call-en-8k.flac", (0.0, 30.0)),
        libri: common::load_8k("librivox-en-16k.flac", (30.0, 45.0)),
        music: common::load_8k("music-8k-morning-coffee.flac", (45.0, 60.0)),
    }
}

/// Ten-second clip starts from `candidates` that fit in `x` (8 kHz).
fn starts_within(x: &[f32], candidates: &[f64]) -> Vec<f64> {
    let seconds = x.len() as f64 / 8_000.0;
    candidates
        .iter()
        .copied()
        .filter(|s| s + 10.0 <= seconds)
        .collect()
}

/// Call and read speech indexed; the music stays out as unrelated audio.
fn speech_index(c: &Corpus) -> Index {
    let mut index = Index::new();
    index.add(1, fingerprint(&c.call).unwrap()).unwrap();
    index.add(2, fingerprint(&c.libri).unwrap()).unwrap();
    index
}

fn identify(index: &Index, clip: &[f32], id: u64, offset_s: f64, speed: f64, change: Change) {
    let candidates = index.query(&fingerprint(clip).unwrap());
    let best = &candidates[0];
    assert!(best.is_match(), "{best:?}");
    assert_eq!(best.recording_id, id, "{best:?}");
    assert!((best.offset_s - offset_s).abs() <= 0.05, "{best:?}");
    assert!((best.speed - speed).abs() <= 0.005, "{best:?}");
    assert_eq!(best.change, change, "{best:?}");
    assert!(
        candidates[1..].iter().all(|c| !c.is_match()),
        "{candidates:?}"
    );
}

#[test]
fn a_ten_second_clip_names_its_recording_and_offset() {
    let c = corpus();
    let index = speech_index(&c);
    identify(
        &index,
        &common::cut(&c.call, 12.3, 22.3),
        1,
        12.3,
        1.0,
        Change::Speed,
    );
    identify(
        &index,
        &common::cut(&c.libri, 3.2, 13.2),
        2,
        3.2,
        1.0,
        Change::Speed,
    );
}

#[test]
fn the_identity_search_ends_early_only_where_the_full_search_agrees() {
    let c = corpus();
    let index = speech_index(&c);
    for (x, id, start) in [(&c.call, 1, 12.3), (&c.libri, 2, 3.2)] {
        let clip = common::add_noise(&common::cut(x, start, start + 10.0), 10.0, 5);
        let fp = fingerprint(&clip).unwrap();
        let (quick, full) = (index.query(&fp), index.query_exhaustive(&fp));
        assert!(
            quick[0].is_match() && full[0].is_match(),
            "{quick:?} {full:?}"
        );
        assert_eq!(quick[0].recording_id, id);
        assert_eq!(quick[0].recording_id, full[0].recording_id);
        assert!((quick[0].offset_s - full[0].offset_s).abs() <= 0.05);
        assert!((quick[0].speed - full[0].speed).abs() <= 0.005);
        // Corrected for the same tests: the same p-value where the same hypothesis won.
        assert!(quick[0].false_match_p <= tracemark_fingerprint::EARLY_MATCH_P);
    }
    // Unrelated audio: the identity search finds nothing, the full search runs, and
    // neither names a recording.
    let fp = fingerprint(&common::cut(&c.music, 2.0, 12.0)).unwrap();
    assert!(index.query(&fp).iter().all(|c| !c.is_match()));
}

#[test]
fn speed_changes_up_to_fifteen_percent_are_identified_with_their_factor() {
    let c = corpus();
    let index = speech_index(&c);
    let clip = common::cut(&c.call, 15.0, 25.0);
    for speed in [0.85, 0.9, 0.95, 1.05, 1.1, 1.15] {
        // stretch(ratio) makes the clip ratio times longer: it plays 1/ratio as fast.
        let fast = tracemark_dsp::stretch(&clip, 1.0 / speed).unwrap();
        identify(&index, &fast, 1, 15.0, speed, Change::Speed);
    }
}

#[test]
fn tempo_changes_with_pitch_kept_are_identified() {
    let c = corpus();
    let index = speech_index(&c);
    let clip = common::cut(&c.call, 5.0, 15.0);
    let buf = AudioBuffer::mono(SampleRate::try_new(8_000).unwrap(), clip).unwrap();
    for percent in [-8.0, 8.0] {
        let out = Attack::Tempo { percent }
            .apply(&buf, &AttackContext::new(3))
            .unwrap();
        let candidates = index.query(&fingerprint(&out.downmix()).unwrap());
        let best = &candidates[0];
        assert!(best.is_match() && best.recording_id == 1, "{best:?}");
        assert_eq!(best.change, Change::Tempo, "{best:?}");
        assert!((best.offset_s - 5.0).abs() <= 0.05, "{best:?}");
        assert!(
            (best.speed - (1.0 + f64::from(percent) / 100.0)).abs() <= 0.01,
            "{best:?}"
        );
    }
}

#[test]
fn pitch_shifts_with_time_kept_are_identified_with_their_ratio() {
    let c = corpus();
    let index = speech_index(&c);
    let clip = common::cut(&c.call, 5.0, 15.0);
    let buf = AudioBuffer::mono(SampleRate::try_new(8_000).unwrap(), clip).unwrap();
    for semitones in [-2.0f32, -1.0, 1.0, 2.0] {
        let out = Attack::PitchShift { semitones }
            .apply(&buf, &AttackContext::new(3))
            .unwrap();
        let candidates = index.query(&fingerprint(&out.downmix()).unwrap());
        let best = &candidates[0];
        assert!(best.is_match() && best.recording_id == 1, "{best:?}");
        assert_eq!(best.change, Change::Pitch, "{semitones}: {best:?}");
        assert!((best.offset_s - 5.0).abs() <= 0.05, "{best:?}");
        assert!((best.speed - 1.0).abs() <= 0.005, "{best:?}");
        // Original Hz per leak Hz: a shift up by s semitones is undone by 2^(-s/12).
        let expected = 2f64.powf(-f64::from(semitones) / 12.0);
        assert!(
            (best.freq_scale / expected - 1.0).abs() <= 0.004,
            "{semitones}: {best:?}"
        );
        assert!(
            candidates[1..].iter().all(|c| !c.is_match()),
            "{candidates:?}"
        );
    }
}

#[test]
fn a_pitch_shifted_leak_maps_as_genuine_where_it_came_from() {
    let c = corpus();
    let clip = common::cut(&c.call, 4.0, 24.0);
    let buf = AudioBuffer::mono(SampleRate::try_new(8_000).unwrap(), clip).unwrap();
    let original = fingerprint(&c.call).unwrap();
    for semitones in [-2.0f32, -1.0, 1.0, 2.0] {
        let out = Attack::PitchShift { semitones }
            .apply(&buf, &AttackContext::new(7))
            .unwrap();
        let map = authenticity_map(
            &original,
            &fingerprint(&out.downmix()).unwrap(),
            &MapOptions::default(),
        );
        assert_eq!(map.change, Some(Change::Pitch), "{semitones}: {map:?}");
        let genuine: f64 = map
            .segments
            .iter()
            .filter(|s| s.status == SegmentStatus::Genuine)
            .map(|s| s.leak_end_s - s.leak_start_s)
            .sum();
        assert!(genuine >= 18.0, "{semitones}: {genuine} s genuine: {map:?}");
        let first = map.segments.iter().find_map(|s| s.original).unwrap();
        assert!((first.0 - 4.0).abs() <= 0.2, "{semitones}: {map:?}");
    }
}

#[test]
fn white_noise_at_20_db_snr_still_identifies() {
    let c = corpus();
    let index = speech_index(&c);
    let noisy = common::add_noise(&common::cut(&c.call, 18.0, 28.0), 20.0, 9);
    identify(&index, &noisy, 1, 18.0, 1.0, Change::Speed);
}

#[test]
fn unrelated_music_and_speech_give_no_match() {
    let c = corpus();
    let index = speech_index(&c);
    for start in starts_within(&c.music, &[0.0, 5.0, 20.0, 40.0, 60.0]) {
        let clip = common::cut(&c.music, start, start + 10.0);
        let candidates = index.query(&fingerprint(&clip).unwrap());
        assert!(candidates.iter().all(|c| !c.is_match()), "{candidates:?}");
    }
    // Speech from another recording: the read speech against an index of the call alone.
    let mut call_only = Index::new();
    call_only.add(1, fingerprint(&c.call).unwrap()).unwrap();
    for start in starts_within(&c.libri, &[0.0, 5.0, 10.0]) {
        let clip = common::cut(&c.libri, start, start + 10.0);
        let candidates = call_only.query(&fingerprint(&clip).unwrap());
        assert!(candidates.iter().all(|c| !c.is_match()), "{candidates:?}");
    }
}

#[test]
fn an_inserted_foreign_stretch_is_unmatched_within_a_second_of_its_edges() {
    let c = corpus();
    // Edges within a second held in 19 of 21 placements tried on the corpus (call from 0 to
    // 12 s in steps of 2, foreign speech from 2, 5 or 8 s) and in all 21 on the excerpt; the
    // two misses were 1.6 s (call at 10 s, foreign from 2 s) and 1.2 s off (8 s, 8 s).
    let mut leak = common::cut(&c.call, 4.0, 12.0);
    leak.extend(common::cut(&c.libri, 2.0, 7.0));
    leak.extend(common::cut(&c.call, 12.0, 22.0));
    let original = fingerprint(&c.call).unwrap();
    for speed in [1.0, 1.06] {
        let clip = tracemark_dsp::stretch(&leak, 1.0 / speed).unwrap();
        let map = authenticity_map(
            &original,
            &fingerprint(&clip).unwrap(),
            &MapOptions::default(),
        );
        let unmatched: Vec<_> = map
            .segments
            .iter()
            .filter(|s| s.status == SegmentStatus::Unmatched)
            .collect();
        assert_eq!(unmatched.len(), 1, "{map:?}");
        assert!(
            (unmatched[0].leak_start_s - 8.0 / speed).abs() <= 1.0,
            "{map:?}"
        );
        assert!(
            (unmatched[0].leak_end_s - 13.0 / speed).abs() <= 1.0,
            "{map:?}"
        );
        let genuine: Vec<_> = map.segments.iter().filter_map(|s| s.original).collect();
        assert_eq!(genuine.len(), 2, "{map:?}");
        assert!(
            (genuine[0].0 - 4.0).abs() <= 0.2 && (genuine[1].1 - 22.0).abs() <= 0.5,
            "{map:?}"
        );
        assert!(map.missing.is_empty(), "{map:?}");
    }
}

#[test]
fn a_four_second_cut_shows_as_missing_within_a_second() {
    let c = corpus();
    let mut leak = common::cut(&c.call, 5.0, 15.0);
    leak.extend(common::cut(&c.call, 19.0, 29.0));
    let noisy = common::add_noise(&leak, 20.0, 4);
    let map = authenticity_map(
        &fingerprint(&c.call).unwrap(),
        &fingerprint(&noisy).unwrap(),
        &MapOptions::default(),
    );
    assert_eq!(map.missing.len(), 1, "{map:?}");
    let cut = map.missing[0];
    assert!((cut.original_start_s - 15.0).abs() <= 1.0, "{map:?}");
    assert!((cut.original_end_s - 19.0).abs() <= 1.0, "{map:?}");
    assert!(
        map.segments
            .iter()
            .all(|s| s.status == SegmentStatus::Genuine),
        "{map:?}"
    );
}

#[test]
fn a_leak_of_unrelated_audio_is_entirely_unmatched() {
    let c = corpus();
    let map = authenticity_map(
        &fingerprint(&c.call).unwrap(),
        &fingerprint(&common::cut(&c.music, 2.0, 14.0)).unwrap(),
        &MapOptions::default(),
    );
    assert_eq!(map.segments.len(), 1, "{map:?}");
    assert_eq!(map.segments[0].status, SegmentStatus::Unmatched);
    assert!(map.speed.is_none() && map.missing.is_empty());
}
