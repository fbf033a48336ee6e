//! Test-only helpers for tracemark's integration tests: the real recordings they run on.
//!
//! Tests read real recorded speech and music from the shared corpus
//! (`$TRACEMARK_CORPUS`, else `../shared/corpus` beside the workspace; its README lists
//! the files, mirrored in [`CORPUS`]). A fresh clone may not have it, so every test that
//! wants a corpus file asks [`corpus_or_excerpt`], which falls back to the excerpt committed
//! in `assets/call-en-8k-excerpt.flac` (the first 60 s of `call-en-8k.flac`: real telephone
//! speech) and says so on stderr. No test passes by skipping for want of audio. Only tests
//! of the corpus itself use [`corpus_file`], and they too fall back to checking the excerpt.
//!
//! This crate is a dev-dependency only (`publish = false`); nothing ships with it.
//!
//! ```
//! let speech = tracemark_testkit::corpus_or_excerpt("librivox-en-16k.flac", 5.0, (0.0, 5.0));
//! assert_eq!(speech.rate().hz(), 16_000); // the stand-in takes the file's rate and layout
//! assert!((speech.duration_s() - 5.0).abs() < 0.01);
//! ```

use std::path::{Path, PathBuf};

use tracemark_dsp::{AudioBuffer, SampleRate};

/// One recording of the shared corpus, as its README lists it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CorpusFile {
    /// File name inside the corpus directory.
    pub name: &'static str,
    /// Sample rate.
    pub rate_hz: u32,
    /// Channel count.
    pub channels: usize,
    /// Length as the README gives it.
    pub seconds: f64,
    /// Half the precision the README gives the length in.
    pub tolerance_s: f64,
}

const fn file(
    name: &'static str,
    rate_hz: u32,
    channels: usize,
    seconds: f64,
    tolerance_s: f64,
) -> CorpusFile {
    CorpusFile {
        name,
        rate_hz,
        channels,
        seconds,
        tolerance_s,
    }
}

/// The shared corpus, from its README (`../shared/corpus/README.md`).
pub const CORPUS: [CorpusFile; 6] = [
    file("call-en-8k.flac", 8_000, 1, 240.0, 0.5),
    file("librivox-en-16k.flac", 16_000, 1, 24.7, 0.05),
    file("arctic-a0007-16k.flac", 16_000, 1, 4.0, 0.05),
    file("arctic-a0009-16k.flac", 16_000, 1, 3.1, 0.05),
    file("music-8k-morning-coffee.flac", 8_000, 1, 73.0, 0.5),
    file("music-44k-elvish-theme.flac", 44_100, 2, 90.0, 0.5),
];

/// The committed excerpt, `assets/call-en-8k-excerpt.flac` (see `assets/README.md`).
pub const EXCERPT: CorpusFile = file("call-en-8k-excerpt.flac", 8_000, 1, 60.0, 0.05);

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// The shared corpus directory: `$TRACEMARK_CORPUS`, else `../shared/corpus` beside the
/// workspace. It may not exist.
pub fn corpus_dir() -> PathBuf {
    std::env::var_os("TRACEMARK_CORPUS")
        .map_or_else(|| workspace_root().join("../shared/corpus"), PathBuf::from)
}

/// The committed excerpt's path.
pub fn excerpt_path() -> PathBuf {
    workspace_root().join("assets").join(EXCERPT.name)
}

/// The corpus entry called `name`.
///
/// # Panics
/// If `name` is not in [`CORPUS`]: a test asking for a file the corpus does not list is a
/// mistake in the test.
pub fn corpus_entry(name: &str) -> CorpusFile {
    CORPUS
        .iter()
        .copied()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("{name} is not listed in the corpus README"))
}

/// Decodes the first `max_seconds` of a FLAC file into planar `f32` in `[-1, 1)`.
///
/// # Errors
/// A message naming the file when it cannot be opened or decoded.
pub fn read_flac(path: &Path, max_seconds: f64) -> Result<AudioBuffer, String> {
    let fail = |what: &dyn std::fmt::Display| format!("{}: {what}", path.display());
    let mut reader = claxon::FlacReader::open(path).map_err(|e| fail(&e))?;
    let info = reader.streaminfo();
    let channels = info.channels as usize;
    let scale = 1.0 / (1u64 << (info.bits_per_sample - 1)) as f32;
    let max_frames = (max_seconds * f64::from(info.sample_rate)) as usize;
    let mut planar = vec![Vec::new(); channels];
    for (i, s) in reader.samples().enumerate() {
        if i / channels >= max_frames {
            break;
        }
        planar[i % channels].push(s.map_err(|e| fail(&e))? as f32 * scale);
    }
    let rate = SampleRate::try_new(info.sample_rate).map_err(|e| fail(&e))?;
    AudioBuffer::try_new(rate, planar).map_err(|e| fail(&e))
}

/// The committed excerpt: 60 s of real telephone speech, 8 kHz mono.
///
/// # Panics
/// If the excerpt is missing or broken: it is committed, so that is a broken checkout.
pub fn excerpt() -> AudioBuffer {
    read_flac(&excerpt_path(), f64::INFINITY)
        .unwrap_or_else(|e| panic!("the committed excerpt must decode: {e}"))
}

/// The first `max_seconds` of the corpus file `name`, or `None` (with a note on stderr)
/// where the corpus does not hold it. For tests of the corpus itself; every other test
/// wants [`corpus_or_excerpt`].
///
/// # Panics
/// If `name` is not a corpus file, or the file exists but does not decode.
pub fn corpus_file(name: &str, max_seconds: f64) -> Option<AudioBuffer> {
    corpus_entry(name);
    let path = corpus_dir().join(name);
    if !path.is_file() {
        eprintln!("note: {} absent", path.display());
        return None;
    }
    Some(read_flac(&path, max_seconds).unwrap_or_else(|e| panic!("{e}")))
}

/// Real recorded audio for a test that wants the corpus file `name`: its first
/// `max_seconds`, or, where the corpus is absent, a stand-in cut from the committed excerpt
/// (seconds `excerpt_span.0..excerpt_span.1`, real speech) and converted to `name`'s rate
/// and channel count (resampled by [`tracemark_dsp::resample`], the mono excerpt copied to
/// every channel). Says on stderr which it returns when it is the stand-in. Tests that need
/// several distinct recordings give each a different span of the excerpt.
///
/// # Panics
/// If `name` is not a corpus file, a file that exists does not decode, or the span is not
/// inside the excerpt's 60 s.
pub fn corpus_or_excerpt(name: &str, max_seconds: f64, excerpt_span: (f64, f64)) -> AudioBuffer {
    if let Some(audio) = corpus_file(name, max_seconds) {
        return audio;
    }
    let entry = corpus_entry(name);
    let (from, to) = excerpt_span;
    assert!(
        0.0 <= from && from < to && to <= EXCERPT.seconds,
        "excerpt span {from}..{to} s is not inside its {} s",
        EXCERPT.seconds
    );
    eprintln!(
        "note: using {from}..{to} s of the committed excerpt {} (real speech) for {name}, at {} Hz, {} channel(s)",
        excerpt_path().display(),
        entry.rate_hz,
        entry.channels
    );
    let call = excerpt();
    let rate = call.rate().hz();
    let at = |s: f64| ((s * f64::from(rate)) as usize).min(call.frames());
    let span = call.slice(at(from), at(to)).downmix();
    let mono = tracemark_dsp::resample(&span, rate, entry.rate_hz)
        .unwrap_or_else(|e| panic!("resampling the excerpt to {} Hz: {e}", entry.rate_hz));
    let rate = SampleRate::try_new(entry.rate_hz).unwrap_or_else(|e| panic!("{e}"));
    AudioBuffer::try_new(rate, vec![mono; entry.channels]).unwrap_or_else(|e| panic!("{e}"))
}

/// Copies a directory tree (a vault made for a test, to tamper with a copy of it).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy's directory");
    for e in std::fs::read_dir(from).expect("read the directory to copy") {
        let e = e.expect("directory entry");
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).expect("copy a file");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_excerpt_is_what_its_readme_says_and_the_first_minute_of_the_call() {
        let audio = excerpt();
        assert_eq!(audio.rate().hz(), EXCERPT.rate_hz);
        assert_eq!(audio.channel_count(), EXCERPT.channels);
        assert!((audio.duration_s() - EXCERPT.seconds).abs() <= EXCERPT.tolerance_s);
        // Where the corpus is there, the excerpt must be its call's first minute, sample for
        // sample (assets/README.md); the stand-ins rely on it being the same speech.
        if let Some(call) = corpus_file("call-en-8k.flac", 60.0) {
            assert_eq!(call, audio);
        }
    }

    #[test]
    fn a_stand_in_takes_the_rate_layout_and_span_asked_for() {
        let audio = corpus_or_excerpt("music-44k-elvish-theme.flac", 3.0, (10.0, 13.0));
        assert_eq!(audio.rate().hz(), 44_100);
        assert_eq!(audio.channel_count(), 2);
        assert!(
            (audio.duration_s() - 3.0).abs() < 0.01,
            "{}",
            audio.duration_s()
        );
    }
}
