//! A leaked text is untrusted: marking it as a transcript or reading it against one never
//! panics, every segment lies inside the leak, and a genuine one inside the transcript.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tracemark_textmark::{MarkedTranscript, ReadPolicy, SegmentStatus};

const TRANSCRIPT: &str = "P: Henry, you have something else you want to talk to me about\u{2014}Bob was saying you\u{2014}\n\nK: Oh, well, no. I had a long talk with Sisco and I think we made some progress today.\n\nP: Good. I talked to Rogers and he seemed to be\u{2014}at least he said all the things that we were talking about so I just listened.\n\nK: You figure about three weeks. He is sending 70 observers to the Four-Power meeting, and the Generals were released.\n";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // As a transcript: sites found, a copy rendered, read back.
    if let Ok(m) = MarkedTranscript::new(&text) {
        let symbols: Vec<bool> = (0..m.sites().len()).map(|i| i % 3 == 0).collect();
        if let Ok(copy) = m.render(&symbols) {
            let _ = m.read(&copy, ReadPolicy::Verbatim);
        }
    }
    // As a leak against a real transcript.
    let m = MarkedTranscript::new(TRANSCRIPT).expect("the transcript parses");
    for policy in [ReadPolicy::Quoted, ReadPolicy::Verbatim] {
        let Ok(reading) = m.read(&text, policy) else {
            continue;
        };
        let leak_words = text.split_whitespace().count();
        let transcript_words = TRANSCRIPT.split_whitespace().count();
        assert_eq!(reading.states().len(), m.sites().len());
        for s in reading.segments() {
            assert!(s.leak_start_word < s.leak_end_word && s.leak_end_word <= leak_words);
            if let SegmentStatus::Genuine {
                original_start_word,
                original_end_word,
            } = s.status
            {
                assert!(original_start_word <= original_end_word);
                assert!(original_end_word <= transcript_words);
            }
        }
    }
});
