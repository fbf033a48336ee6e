//! The fixed word lists of the site rules (`sites.rs`); changing one changes which
//! sites a transcript has, and so is a new [`crate::SITE_RULES_VERSION`].

/// Sentence-opening discourse words after which a comma is optional.
pub(crate) const INTRO: &[&str] = &[
    "well",
    "oh",
    "yes",
    "no",
    "yeah",
    "now",
    "so",
    "actually",
    "then",
    "sure",
    "right",
    "okay",
    "ok",
    "look",
    "listen",
    "also",
    "still",
    "anyway",
    "incidentally",
    "frankly",
    "but",
    "besides",
    "meanwhile",
    "however",
    "otherwise",
    "hello",
    "first",
    "second",
    "finally",
    "unfortunately",
    "fortunately",
    "obviously",
    "basically",
    "honestly",
    "personally",
    "instead",
    "anyhow",
    "naturally",
    "apparently",
];
/// Openers of an introductory phrase or clause; with the original's comma after it
/// (two to six words in), that comma is optional (`On the Middle East thing, it may
/// break`).
pub(crate) const PHRASE_OPENERS: &[&str] = &[
    "on", "in", "as", "at", "for", "after", "before", "when", "if", "unless", "since", "while",
    "during", "from", "with", "by", "once", "until", "whenever", "though", "although", "because",
];
/// Subordinators before which a comma is optional (`meeting because` / `meeting,
/// because`); `even` counts before `though` and `if`.
pub(crate) const SUBORDINATORS: &[&str] = &["although", "though", "unless", "whereas", "because"];
/// Subjects that make `and` / `but` / `so` open a clause.
pub(crate) const SUBJECTS: &[&str] = &["i", "we", "he", "she", "they", "you", "it", "there"];
/// Sentence openers that stay correct in lower case after a semicolon.
pub(crate) const LOWERABLE: &[&str] = &[
    "i",
    "we",
    "he",
    "she",
    "they",
    "you",
    "it",
    "there",
    "that",
    "this",
    "these",
    "those",
    "the",
    "a",
    "an",
    "but",
    "and",
    "so",
    "then",
    "now",
    "his",
    "her",
    "their",
    "our",
    "my",
    "your",
    "its",
    "nobody",
    "nothing",
    "everything",
    "everybody",
    "all",
];
/// Abbreviations whose full stop does not end a sentence.
pub(crate) const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "st", "jr", "sr", "vs", "gen", "sen", "gov", "col", "lt", "no",
];
/// Titles whose capital is a style choice when they follow `the` without a name.
pub(crate) const TITLES: &[&str] = &[
    "president",
    "presidents",
    "secretary",
    "ambassador",
    "ambassadors",
    "general",
    "generals",
    "senator",
    "senators",
    "governor",
    "chairman",
    "minister",
    "premier",
    "deputy",
    "prime",
    "vice",
    "chancellor",
    "admiral",
    "attorney",
];
/// Words that end a number site's noun test (a count is followed by its noun).
pub(crate) const FUNCTION: &[&str] = &[
    "if", "and", "or", "but", "of", "to", "in", "on", "at", "for", "the", "a", "an", "is", "are",
    "was", "were", "that", "this", "it", "we", "they", "he", "she", "you", "i", "or", "o'clock",
    "percent", "times", "more", "less", "then", "than", "with", "by",
];
/// Singular unit nouns that make `three minute conversation` a compound modifier.
pub(crate) const UNIT_NOUNS: &[&str] = &[
    "minute", "hour", "day", "week", "month", "year", "page", "point", "mile", "man", "power",
];
/// Spelled numbers, value by position + 2 (`one` is left out: it is as often a pronoun).
pub(crate) const NUMBER_WORDS: &[&str] = &[
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
];
pub(crate) const TENS: &[&str] = &[
    "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];
/// American and British spellings (Merriam-Webster and the Oxford English Dictionary).
pub(crate) const SPELLINGS: &[(&str, &str)] = &[
    ("color", "colour"),
    ("favor", "favour"),
    ("favorite", "favourite"),
    ("honor", "honour"),
    ("labor", "labour"),
    ("neighbor", "neighbour"),
    ("behavior", "behaviour"),
    ("center", "centre"),
    ("theater", "theatre"),
    ("defense", "defence"),
    ("offense", "offence"),
    ("realize", "realise"),
    ("realized", "realised"),
    ("organize", "organise"),
    ("organization", "organisation"),
    ("recognize", "recognise"),
    ("apologize", "apologise"),
    ("analyze", "analyse"),
    ("judgment", "judgement"),
    ("gray", "grey"),
    ("traveled", "travelled"),
    ("canceled", "cancelled"),
    ("toward", "towards"),
];
/// Discourse words that may follow another after its comma, each with its own optional
/// comma (`Oh, well, no` / `Oh, well no`; `Right, Well, now Sisco`).
pub(crate) const CHAINABLE: &[&str] = &[
    "well", "oh", "yes", "no", "yeah", "now", "right", "okay", "ok", "sure",
];
/// Words other than [`SUBJECTS`] that open a clause after `and`, `but`, `so`, `or`
/// (`listened, so that’s that`; `from them and then to see`); `so that` is left out.
pub(crate) const CLAUSE_OPENERS: &[&str] = &["that", "this", "what", "then", "now", "also"];
/// The first word after an addressed name and its comma (`Henry, you have`): the
/// addressee's own verb follows, so the name is not a subject.
pub(crate) const ADDRESSEES: &[&str] = &["you", "i", "we", "let", "there"];
/// Sentence-final adverbs before which a name can only be addressed, never an object
/// (`right now Henry.`).
pub(crate) const VOCATIVE_BEFORE: &[&str] = &[
    "now", "too", "then", "today", "tomorrow", "tonight", "again", "yet", "later", "anyway",
    "though", "please",
];
/// Auxiliaries of a question tag (`wouldn’t it?`, `are you?`).
pub(crate) const TAG_AUXILIARIES: &[&str] = &[
    "is",
    "isn't",
    "are",
    "aren't",
    "was",
    "wasn't",
    "were",
    "weren't",
    "do",
    "don't",
    "does",
    "doesn't",
    "did",
    "didn't",
    "will",
    "won't",
    "would",
    "wouldn't",
    "can",
    "can't",
    "could",
    "couldn't",
    "should",
    "shouldn't",
    "have",
    "haven't",
    "has",
    "hasn't",
    "had",
    "hadn't",
];
/// Pronouns of a question tag.
pub(crate) const TAG_PRONOUNS: &[&str] = &["i", "you", "he", "she", "it", "we", "they", "there"];
/// One-word interjections that may end with a full stop or run on with a comma into the
/// next sentence of the turn (`Yes. We` / `Yes, we`).
pub(crate) const INTERJECTIONS: &[&str] = &[
    "yes", "no", "yeah", "right", "sure", "okay", "ok", "well", "oh", "fine", "good", "exactly",
];
/// One-word exclamations that a transcriber may end with a full stop or an exclamation
/// mark (`Good.` / `Good!`). Answers (`yes`, `no`, `yeah`) are left out: `No!` says
/// more than `No.`.
pub(crate) const EXCLAMATIONS: &[&str] = &[
    "good",
    "great",
    "fine",
    "excellent",
    "wonderful",
    "marvelous",
    "terrific",
    "splendid",
    "exactly",
    "absolutely",
    "right",
    "hello",
    "congratulations",
    "perfect",
];
/// Openers of a sentence whose word order makes it a question.
pub(crate) const QUESTION_OPENERS: &[&str] = &[
    "what", "when", "where", "why", "how", "who", "whom", "which", "do", "does", "did", "are",
    "is", "was", "were", "will", "would", "can", "could", "should", "shall", "have", "has", "had",
    "may", "might", "must",
];
