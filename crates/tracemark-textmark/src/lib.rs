//! Transcript marking for tracemark: each recipient's copy of a transcript differs from
//! every other's at meaning-preserving *variant sites*, and a leaked excerpt, quoted,
//! retyped and restyled, names the copy it came from with tardos' proven bound.
//!
//! 1. [`MarkedTranscript::new`] cuts a transcript into words and finds its sites: the
//!    transcriber's choices (optional commas, including around a name addressed and
//!    before a question tag; dash or comma; full stop, semicolon or comma between
//!    sentences; full stop or exclamation mark after a short exclamation; question mark
//!    or full stop after a question by word order; hyphenation, capitalised titles,
//!    spelled or numeric counts, spelling conventions), never a content word. The catalogue and its rules are in
//!    `docs/design/transcripts.md`.
//! 2. [`MarkedTranscript::render`] writes the copy for one recipient's codeword (one
//!    symbol per site, e.g. `tracemark_tardos::Codeword::symbols()`), deterministically.
//! 3. [`MarkedTranscript::read`] aligns a leak (quotes inside other prose, retyped, in a
//!    house style, misspelt, elided) to the transcript, reads every site it shows, and
//!    maps which leak words are genuine. Forms that a normalisation could have produced
//!    are erasures, never evidence.
//! 4. [`accuse`] scores every issued codeword with tardos (exact innocent distribution,
//!    corrected p-values); [`words_needed`] says how many more quoted words would be
//!    needed when nobody is accused.
//!
//! The crate is pure: no I/O, clock, threads or global state.
//!
//! ```
//! use tracemark_tardos::{AccusationConfig, Biases, Codeword, Cutoff, sim};
//! use tracemark_textmark::{MarkedTranscript, ReadPolicy, SiteState};
//!
//! # fn main() -> Result<(), tracemark_textmark::Error> {
//! let transcript = "K: Well, I had a long talk with Sisco and I think we made some progress today.\n\nP: Good. I talked to Rogers. He seemed to be fine.\n";
//! let marked = MarkedTranscript::new(transcript)?;
//! let biases = Biases::draw(&sim::seed("recording", 1), marked.sites().len(), Cutoff::default())?;
//! let copies: Vec<Codeword> = (0..10).map(|j| Codeword::draw(&sim::seed("recipient", j), &biases)).collect();
//! let symbols: Vec<bool> = copies[3].symbols().collect();
//! let copy = marked.render(&symbols)?;
//!
//! // Every site of the copy reads back as its symbol.
//! let reading = marked.read(&copy, ReadPolicy::Verbatim)?;
//! let read: Vec<SiteState> = symbols.iter().map(|&s| SiteState::Read(s)).collect();
//! assert_eq!(reading.states(), read.as_slice());
//!
//! // A few sites are far too few to accuse anyone among ten at 1e-6.
//! let verdict = tracemark_textmark::accuse(&reading, &biases, &copies, &AccusationConfig::default())?;
//! assert!(verdict.accused.is_empty());
//! # Ok(())
//! # }
//! ```

mod accuse;
mod align;
mod lists;
mod read;
mod render;
mod rules;
mod sites;
mod text;

pub use accuse::{WordsNeeded, accuse, words_needed};
pub use align::MAX_POSTINGS;
pub use read::{LeakReading, READ_SOFT_VALUE, ReadPolicy, Segment, SegmentStatus, SiteState};
pub use render::{changed_word_fraction, plain_words};
pub use sites::{Site, SiteKind};
pub use text::{MAX_TEXT_BYTES, Unit, Words};

/// Version of the site rules (`sites.rs`, `lists.rs`). The sites of a transcript, and so
/// which code slot each belongs to, are a pure function of its text under these rules: a
/// change to them is a new version, and copies issued under an older one must be read
/// with that version's rules. The vault stores it beside each transcript's code.
pub const SITE_RULES_VERSION: u32 = 2;

/// Everything that can go wrong when marking or reading a transcript.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A text exceeds the size cap.
    #[error("{what} is {bytes} bytes, above the limit of {max}; split it into parts")]
    TooLarge {
        /// Which text.
        what: &'static str,
        /// Its size.
        bytes: usize,
        /// The cap.
        max: usize,
    },
    /// A codeword does not have one symbol per site.
    #[error(
        "the transcript has {expected} variant sites but {found} symbols were given; draw the codeword with one slot per site"
    )]
    SymbolCount {
        /// Sites of the transcript.
        expected: usize,
        /// Symbols given.
        found: usize,
    },
    /// The tardos code rejected the observations or codewords.
    #[error("tardos: {0}")]
    Tardos(#[from] tracemark_tardos::Error),
}

/// A transcript with its variant sites found: the unit that renders copies and reads
/// leaks.
#[derive(Clone, Debug, PartialEq)]
pub struct MarkedTranscript {
    words: Words,
    sites: Vec<Site>,
}

impl MarkedTranscript {
    /// Parses `text` (UTF-8 plain text or Markdown, speaker labels like `K:` or
    /// `KISSINGER:` at line starts) and finds its sites.
    ///
    /// # Errors
    /// [`Error::TooLarge`] beyond [`MAX_TEXT_BYTES`].
    pub fn new(text: &str) -> Result<Self, Error> {
        let words = Words::parse(text)?;
        let sites = sites::find(&words);
        Ok(Self { words, sites })
    }

    /// The transcript's words.
    pub fn words(&self) -> &Words {
        &self.words
    }

    /// The sites, in text order: the code has one slot per site.
    pub fn sites(&self) -> &[Site] {
        &self.sites
    }

    /// Sites per word of the transcript (speaker labels not counted).
    pub fn site_density(&self) -> f64 {
        let words = self.words.units().iter().filter(|u| !u.label).count();
        if words == 0 {
            0.0
        } else {
            self.sites.len() as f64 / words as f64
        }
    }

    /// The symbols the original text itself carries, one per site.
    pub fn original_symbols(&self) -> Vec<bool> {
        self.sites.iter().map(|s| s.original).collect()
    }

    /// The copy for one codeword: every site in the form of its symbol.
    ///
    /// # Errors
    /// [`Error::SymbolCount`] unless there is one symbol per site.
    pub fn render(&self, symbols: &[bool]) -> Result<String, Error> {
        render::render(&self.words, &self.sites, symbols)
    }

    /// Aligns `leak` to the transcript and reads every site it shows.
    ///
    /// # Errors
    /// [`Error::TooLarge`] when the leak exceeds [`MAX_TEXT_BYTES`].
    pub fn read(&self, leak: &str, policy: ReadPolicy) -> Result<LeakReading, Error> {
        read::read(self, leak, policy)
    }
}
