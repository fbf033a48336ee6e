//! Helpers shared by the streaming tests.

use tracemark_media::{AudioBuffer, AudioStream, MediaError};

/// Every block of `stream`, joined, with the stream's source format.
pub fn join(mut stream: AudioStream) -> Result<AudioBuffer, MediaError> {
    let mut planes = vec![Vec::new(); stream.channel_count()];
    while let Some(block) = stream.next_block()? {
        for (p, b) in planes.iter_mut().zip(block) {
            p.extend_from_slice(b);
        }
    }
    Ok(AudioBuffer::try_new(stream.rate(), planes)
        .expect("buffer")
        .with_source_format(stream.source_format()))
}
