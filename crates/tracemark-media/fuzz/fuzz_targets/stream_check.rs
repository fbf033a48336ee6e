//! Shared by the two streaming targets (`stream`, `stream_bytes`).

/// The differential check of a streaming reader against the whole-file decoder: the stream
/// `streamed` opened over the input `whole` decoded must fail where `whole` failed and
/// otherwise give its samples, in blocks of one plane per channel, all of one length and
/// finite; neither may report a caught panic.
pub fn stream_matches_whole(
    whole: Result<tracemark_media::AudioBuffer, tracemark_media::MediaError>,
    streamed: Result<tracemark_media::AudioStream, tracemark_media::MediaError>,
) {
    let streamed = streamed.and_then(|mut s| {
        let mut planes = vec![Vec::new(); s.channel_count()];
        while let Some(block) = s.next_block()? {
            assert_eq!(block.len(), planes.len(), "a block's planes are its channels");
            let frames = block.first().map_or(0, Vec::len);
            for (plane, samples) in planes.iter_mut().zip(block) {
                assert_eq!(samples.len(), frames, "every plane of a block is one length");
                assert!(samples.iter().all(|x| x.is_finite()), "a non-finite sample");
                plane.extend_from_slice(samples);
            }
        }
        Ok(planes)
    });
    for e in [whole.as_ref().err(), streamed.as_ref().err()].into_iter().flatten() {
        assert!(!e.to_string().contains("panicked"), "{e}");
    }
    assert_eq!(
        whole.is_ok(),
        streamed.is_ok(),
        "{:?} against {:?}",
        whole.as_ref().err(),
        streamed.as_ref().err()
    );
    if let (Ok(whole), Ok(streamed)) = (&whole, &streamed) {
        assert_eq!(whole.channels(), &streamed[..]);
    }
}
