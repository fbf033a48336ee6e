//! Blobs sealed in chunks, so that a long original is written and read a chunk at a time:
//! the STREAM construction of Hoang, Reyhanitabar, Rogaway and Vizár ("Online
//! Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance", CRYPTO 2015, section 7),
//! over XChaCha20-Poly1305.
//!
//! Layout: [`MAGIC`], the plaintext bytes per chunk (u32, little-endian), a random nonce
//! prefix of [`PREFIX_LEN`] bytes, then each chunk's ciphertext followed by its 16-byte
//! Poly1305 tag. Chunk `i` is sealed under the nonce `prefix || i (u32, big-endian) ||
//! last`, where `last` is 1 for the final chunk and 0 otherwise, with the header and the
//! blob's context as associated data. Every chunk is authenticated on its own, and a chunk
//! moved, dropped, taken from another blob or another context, or a blob cut at a chunk
//! boundary (its new final chunk was not sealed as the last) fails to open.
//!
//! Every chunk is full but the last, which holds 1 to `chunk` bytes (0 only when the whole
//! plaintext is empty), so the blob's length alone says how many chunks it has and how
//! long each is.
//!
//! Blobs sealed whole (nonce || ciphertext || tag, [`crate::Secret::seal`]) start with 24
//! random bytes, so one begins with the 8 bytes of [`MAGIC`] with probability 2^-64; both
//! kinds open through [`crate::Secret::open`].

use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;

use chacha20poly1305::aead::{AeadInOut, Tag};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use tracemark_media::ByteSource;
use tracemark_store::{BlobKey, BlobStore};

use crate::{Secret, VaultError};

/// The first bytes of a blob sealed in chunks (version 1 of this layout).
pub(crate) const MAGIC: [u8; 8] = *b"tmSTRM\x01\x00";
/// The random part of each chunk's 24-byte XChaCha20 nonce (draft-irtf-cfrg-xchacha-03,
/// section 2): 24 less the 4-byte counter and the 1-byte last-chunk flag of STREAM.
const PREFIX_LEN: usize = 19;
const HEADER_LEN: usize = MAGIC.len() + 4 + PREFIX_LEN;
/// Poly1305's tag (RFC 8439, section 2.5).
const TAG_LEN: usize = 16;
/// Plaintext bytes per chunk written: a read of any byte of a blob decrypts at most this
/// much (and a pass holds one chunk).
pub(crate) const CHUNK: u32 = 1 << 20;
/// Chunk sizes a stored header may declare: a stored row is untrusted, and a declared
/// chunk is allocated whole when read.
const CHUNK_RANGE: std::ops::RangeInclusive<u32> = 1_024..=(16 << 20);

/// Whether `blob` starts as a blob sealed in chunks.
pub(crate) fn is_chunked(blob: &[u8]) -> bool {
    blob.starts_with(&MAGIC)
}

/// A chunked blob's header, and what its length says of its chunks.
#[derive(Debug, Clone)]
struct Layout {
    header: [u8; HEADER_LEN],
    chunk: u64,
    /// Chunks in the blob (at least 1).
    chunks: u64,
    /// Plaintext bytes in all.
    plain_len: u64,
}

impl Layout {
    /// Reads the header and checks the blob's length `len` against it.
    fn read(
        header: &[u8],
        len: u64,
        tampered: &dyn Fn() -> VaultError,
    ) -> Result<Self, VaultError> {
        let header: [u8; HEADER_LEN] = header
            .get(..HEADER_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or_else(tampered)?;
        if !is_chunked(&header) {
            return Err(tampered());
        }
        let mut chunk = [0; 4];
        chunk.copy_from_slice(&header[MAGIC.len()..MAGIC.len() + 4]);
        let chunk = u32::from_le_bytes(chunk);
        if !CHUNK_RANGE.contains(&chunk) {
            return Err(tampered());
        }
        let chunk = u64::from(chunk);
        let body = len.checked_sub(HEADER_LEN as u64).ok_or_else(tampered)?;
        let sealed_chunk = chunk + TAG_LEN as u64;
        let chunks = body.div_ceil(sealed_chunk).max(1);
        let last = body
            .checked_sub((chunks - 1) * sealed_chunk + TAG_LEN as u64)
            .ok_or_else(tampered)?;
        if chunks > u64::from(u32::MAX) || (chunks > 1 && last == 0) {
            return Err(tampered());
        }
        Ok(Self {
            header,
            chunk,
            chunks,
            plain_len: (chunks - 1) * chunk + last,
        })
    }

    /// Where chunk `i` lies in the blob (ciphertext and tag).
    fn sealed_range(&self, i: u64) -> std::ops::Range<u64> {
        let start = HEADER_LEN as u64 + i * (self.chunk + TAG_LEN as u64);
        let plain = if i + 1 == self.chunks {
            self.plain_len - i * self.chunk
        } else {
            self.chunk
        };
        start..start + plain + TAG_LEN as u64
    }

    fn nonce(&self, i: u64) -> XNonce {
        nonce(&self.header, i, i + 1 == self.chunks)
    }
}

fn nonce(header: &[u8; HEADER_LEN], i: u64, last: bool) -> XNonce {
    let mut n = [0u8; 24];
    n[..PREFIX_LEN].copy_from_slice(&header[MAGIC.len() + 4..]);
    // At most u32::MAX chunks (checked when reading, and by the writer).
    n[PREFIX_LEN..PREFIX_LEN + 4].copy_from_slice(&(i as u32).to_be_bytes());
    n[PREFIX_LEN + 4] = u8::from(last);
    XNonce::from(n)
}

/// The associated data of every chunk: the header, then the blob's context.
fn aad(header: &[u8; HEADER_LEN], context: &[u8]) -> Vec<u8> {
    [&header[..], context].concat()
}

/// Opens chunk `i` of `layout` in place: `sealed` (ciphertext and tag) begins with its
/// plaintext on return, whose length is returned.
fn open_chunk(
    cipher: &XChaCha20Poly1305,
    layout: &Layout,
    aad: &[u8],
    i: u64,
    sealed: &mut [u8],
    tampered: &dyn Fn() -> VaultError,
) -> Result<usize, VaultError> {
    let body = sealed.len().checked_sub(TAG_LEN).ok_or_else(tampered)?;
    let (text, tag) = sealed.split_at_mut(body);
    let tag = Tag::<XChaCha20Poly1305>::try_from(&*tag).map_err(|_| tampered())?;
    cipher
        .decrypt_inout_detached(&layout.nonce(i), aad, text.into(), &tag)
        .map_err(|_| tampered())?;
    Ok(body)
}

impl Secret {
    /// Opens a blob sealed in chunks held whole, in place (see [`Secret::open`]).
    pub(crate) fn open_chunked(
        &self,
        mut sealed: Vec<u8>,
        context: &[u8],
        what: &str,
    ) -> Result<Vec<u8>, VaultError> {
        let tampered = || VaultError::Tampered {
            what: what.to_string(),
        };
        let layout = Layout::read(&sealed, sealed.len() as u64, &tampered)?;
        let (cipher, aad) = (self.cipher(), aad(&layout.header, context));
        let mut at = 0usize;
        for i in 0..layout.chunks {
            let r = layout.sealed_range(i);
            // Within the blob: `Layout::read` checked its length.
            let (start, end) = (r.start as usize, r.end as usize);
            let n = open_chunk(
                &cipher,
                &layout,
                &aad,
                i,
                &mut sealed[start..end],
                &tampered,
            )?;
            sealed.copy_within(start..start + n, at);
            at += n;
        }
        sealed.truncate(at);
        Ok(sealed)
    }

    /// The blob sealing everything `plain` gives, in chunks, as a reader: what it reads
    /// is written to a blob store ([`BlobStore::put_from`]) without the plaintext or the
    /// sealed blob ever being held whole.
    pub(crate) fn sealing<R: Read>(
        &self,
        plain: R,
        context: &[u8],
    ) -> Result<SealingReader<R>, VaultError> {
        let mut header = [0u8; HEADER_LEN];
        header[..MAGIC.len()].copy_from_slice(&MAGIC);
        header[MAGIC.len()..MAGIC.len() + 4].copy_from_slice(&CHUNK.to_le_bytes());
        crate::secret::fill_random(&mut header[MAGIC.len() + 4..])?;
        Ok(SealingReader {
            cipher: self.cipher(),
            aad: aad(&header, context),
            header,
            plain,
            next: 0,
            pending: None,
            out: header.to_vec(),
            at: 0,
            done: false,
        })
    }
}

/// See [`Secret::sealing`].
pub(crate) struct SealingReader<R> {
    cipher: XChaCha20Poly1305,
    header: [u8; HEADER_LEN],
    aad: Vec<u8>,
    plain: R,
    /// The index of the next chunk to seal.
    next: u64,
    /// A chunk read ahead, to know whether the one before it was the last.
    pending: Option<Vec<u8>>,
    /// Sealed bytes not yet handed out, from `at`.
    out: Vec<u8>,
    at: usize,
    done: bool,
}

impl<R: Read> SealingReader<R> {
    /// Up to [`CHUNK`] bytes of plaintext (short only at its end).
    fn fill(&mut self) -> std::io::Result<Vec<u8>> {
        let mut buf = Vec::with_capacity(CHUNK as usize);
        (&mut self.plain)
            .take(u64::from(CHUNK))
            .read_to_end(&mut buf)?;
        Ok(buf)
    }

    /// Seals the next chunk into `out`.
    fn seal_next(&mut self) -> std::io::Result<()> {
        let mut chunk = match self.pending.take() {
            Some(c) => c,
            None => self.fill()?,
        };
        let last = if chunk.len() < CHUNK as usize {
            true
        } else {
            let ahead = self.fill()?;
            let last = ahead.is_empty();
            self.pending = (!last).then_some(ahead);
            last
        };
        if self.next > u64::from(u32::MAX) {
            return Err(std::io::Error::other("a blob of more than 2^32 chunks"));
        }
        let tag = self
            .cipher
            .encrypt_inout_detached(
                &nonce(&self.header, self.next, last),
                &self.aad,
                (&mut chunk[..]).into(),
            )
            .map_err(|_| std::io::Error::other("encryption failed"))?;
        chunk.extend_from_slice(&tag);
        self.out = chunk;
        self.at = 0;
        self.next += 1;
        self.done = last;
        Ok(())
    }
}

impl<R: Read> Read for SealingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.out.len() {
            if self.done {
                return Ok(0);
            }
            self.seal_next()?;
        }
        let n = buf.len().min(self.out.len() - self.at);
        buf[..n].copy_from_slice(&self.out[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// A blob sealed in chunks, read from its store a chunk at a time as plaintext: `Read +
/// Seek` for the media decoders, holding one opened chunk. A chunk that fails to open is
/// an I/O error of kind `InvalidData` naming the blob; reading it through
/// [`SealedBlob::verify`] first turns that into [`VaultError::Tampered`].
pub(crate) struct SealedBlob {
    blobs: Arc<dyn BlobStore>,
    key: BlobKey,
    cipher: XChaCha20Poly1305,
    layout: Layout,
    aad: Vec<u8>,
    what: String,
    /// The plaintext position.
    pos: u64,
    /// The chunk opened last, by index.
    opened: Option<(u64, Vec<u8>)>,
}

impl Clone for SealedBlob {
    fn clone(&self) -> Self {
        Self {
            blobs: Arc::clone(&self.blobs),
            key: self.key.clone(),
            cipher: self.cipher.clone(),
            layout: self.layout.clone(),
            aad: self.aad.clone(),
            what: self.what.clone(),
            pos: 0,
            opened: None,
        }
    }
}

impl std::fmt::Debug for SealedBlob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedBlob")
            .field("key", &self.key)
            .field("plain_len", &self.layout.plain_len)
            .finish()
    }
}

impl SealedBlob {
    /// The blob at `key` if it is sealed in chunks, `None` if it is sealed whole; a blob
    /// missing is [`VaultError::NotFound`] of `kind`.
    pub(crate) fn open(
        secret: &Secret,
        blobs: Arc<dyn BlobStore>,
        key: &BlobKey,
        context: &[u8],
        kind: &'static str,
        what: &str,
    ) -> Result<Option<Self>, VaultError> {
        let missing = || VaultError::NotFound {
            kind,
            name: key.as_str().to_string(),
        };
        let tampered = || VaultError::Tampered {
            what: what.to_string(),
        };
        let len = blobs.size(key)?.ok_or_else(missing)?;
        if len < HEADER_LEN as u64 {
            return Ok(None);
        }
        let header = blobs
            .get_range(key, 0..HEADER_LEN as u64)?
            .ok_or_else(missing)?;
        if !is_chunked(&header) {
            return Ok(None);
        }
        let layout = Layout::read(&header, len, &tampered)?;
        Ok(Some(Self {
            aad: aad(&layout.header, context),
            blobs,
            key: key.clone(),
            cipher: secret.cipher(),
            layout,
            what: what.to_string(),
            pos: 0,
            opened: None,
        }))
    }

    /// Reads the whole plaintext once, a chunk at a time, and checks its SHA-256 against
    /// `sha`: after this, every chunk read again either opens to these bytes or fails.
    pub(crate) fn verify(&self, sha: &tracemark_types::Sha256) -> Result<(), VaultError> {
        use sha2::Digest;
        let mut hasher = sha2::Sha256::new();
        for i in 0..self.layout.chunks {
            hasher.update(self.chunk(i)?);
        }
        if tracemark_types::Sha256(hasher.finalize().into()) != *sha {
            return Err(self.tampered());
        }
        Ok(())
    }

    fn tampered(&self) -> VaultError {
        VaultError::Tampered {
            what: self.what.clone(),
        }
    }

    /// Chunk `i`, opened.
    fn chunk(&self, i: u64) -> Result<Vec<u8>, VaultError> {
        let mut sealed = self
            .blobs
            .get_range(&self.key, self.layout.sealed_range(i))?
            .ok_or_else(|| self.tampered())?;
        let n = open_chunk(
            &self.cipher,
            &self.layout,
            &self.aad,
            i,
            &mut sealed,
            &|| self.tampered(),
        )?;
        sealed.truncate(n);
        Ok(sealed)
    }
}

impl Read for SealedBlob {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos >= self.layout.plain_len || buf.is_empty() {
            return Ok(0);
        }
        let i = self.pos / self.layout.chunk;
        if self.opened.as_ref().is_none_or(|(at, _)| *at != i) {
            let chunk = self
                .chunk(i)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))?;
            self.opened = Some((i, chunk));
        }
        let Some((_, chunk)) = &self.opened else {
            return Ok(0);
        };
        // `pos` lies in chunk `i`, so the offset is below the chunk size.
        let from = (self.pos - i * self.layout.chunk) as usize;
        let n = buf.len().min(chunk.len().saturating_sub(from));
        buf[..n].copy_from_slice(&chunk[from..from + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for SealedBlob {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        let target = match pos {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.layout.plain_len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let target = target.ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "seek before the start of the blob",
            )
        })?;
        self.pos = target;
        Ok(target)
    }
}

impl ByteSource for SealedBlob {
    fn byte_len(&self) -> u64 {
        self.layout.plain_len
    }

    fn reopen(&self) -> Box<dyn ByteSource> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracemark_blobs::LocalBlobs;

    fn sealed(s: &Secret, plain: &[u8], ctx: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        s.sealing(plain, ctx)
            .expect("sealing")
            .read_to_end(&mut out)
            .expect("seal");
        out
    }

    proptest::proptest! {
        /// A stored header is untrusted: whatever chunk size and blob length it comes
        /// with, a layout that is accepted tiles the blob exactly (chunks contiguous, each
        /// full but the last, which is not empty unless the blob is one empty chunk), so
        /// no range read of a chunk goes past the blob's end or allocates more than it.
        #[test]
        fn an_accepted_layout_tiles_the_blob_exactly(
            chunk in proptest::prop_oneof![0u32..4096, CHUNK_RANGE, proptest::num::u32::ANY],
            len in proptest::prop_oneof![0u64..100_000, proptest::num::u64::ANY],
            prefix in proptest::array::uniform19(proptest::num::u8::ANY),
        ) {
            let mut header = [0u8; HEADER_LEN];
            header[..MAGIC.len()].copy_from_slice(&MAGIC);
            header[MAGIC.len()..MAGIC.len() + 4].copy_from_slice(&chunk.to_le_bytes());
            header[MAGIC.len() + 4..].copy_from_slice(&prefix);
            let tampered = || VaultError::Tampered { what: "fuzzed".into() };
            let Ok(layout) = Layout::read(&header, len, &tampered) else {
                // Refused: only a chunk size out of range or a length no layout gives.
                return Ok(());
            };
            proptest::prop_assert!(CHUNK_RANGE.contains(&chunk));
            proptest::prop_assert!(layout.chunks >= 1 && layout.chunks <= u64::from(u32::MAX));
            let (first, last) = (layout.sealed_range(0), layout.sealed_range(layout.chunks - 1));
            proptest::prop_assert_eq!(first.start, HEADER_LEN as u64);
            proptest::prop_assert_eq!(last.end, len);
            let last_plain = last.end - last.start - TAG_LEN as u64;
            proptest::prop_assert!(last_plain <= u64::from(chunk));
            proptest::prop_assert!(last_plain > 0 || layout.chunks == 1);
            proptest::prop_assert_eq!(
                layout.plain_len,
                (layout.chunks - 1) * u64::from(chunk) + last_plain
            );
            if layout.chunks > 1 {
                let (a, b) = (layout.sealed_range(0), layout.sealed_range(1));
                proptest::prop_assert_eq!(a.end, b.start);
                proptest::prop_assert_eq!(a.end - a.start, u64::from(chunk) + TAG_LEN as u64);
                let before = layout.sealed_range(layout.chunks - 2);
                proptest::prop_assert_eq!(before.end, last.start);
            }
        }
    }

    #[test]
    fn chunked_blobs_open_whole_and_by_range_at_every_length() {
        let s = Secret::from_bytes([4; 32]);
        let dir = tempfile::tempdir().expect("tmp");
        let blobs: Arc<dyn BlobStore> = Arc::new(LocalBlobs::new(dir.path()));
        let c = CHUNK as usize;
        for len in [0, 1, c - 1, c, c + 1, 2 * c, 2 * c + 7] {
            let plain: Vec<u8> = (0..len).map(|i| (i * 7 % 253) as u8).collect();
            let blob = sealed(&s, &plain, b"ctx");
            let chunks = len.div_ceil(c).max(1);
            assert_eq!(blob.len(), HEADER_LEN + len + TAG_LEN * chunks, "{len}");
            assert_eq!(s.open(blob.clone(), b"ctx", "x").expect("open"), plain);
            let key = BlobKey::try_new(format!("originals/t{len}.sealed")).expect("key");
            blobs.put(&key, &blob).expect("put");
            let mut r = SealedBlob::open(&s, Arc::clone(&blobs), &key, b"ctx", "t", "x")
                .expect("open")
                .expect("chunked");
            assert_eq!(r.byte_len(), len as u64);
            let sha = tracemark_types::Sha256::digest(&plain);
            r.verify(&sha).expect("verify");
            let mut all = Vec::new();
            r.read_to_end(&mut all).expect("read");
            assert_eq!(all, plain, "{len}");
            if len > 10 {
                let at = len as u64 - 10;
                r.seek(SeekFrom::Start(at)).expect("seek");
                let mut tail = Vec::new();
                r.read_to_end(&mut tail).expect("tail");
                assert_eq!(tail, plain[at as usize..]);
                r.seek(SeekFrom::End(-(len as i64))).expect("seek");
                let mut first = [0u8; 3];
                r.read_exact(&mut first).expect("head");
                assert_eq!(first, plain[..3]);
            }
        }
    }

    #[test]
    fn altered_moved_cut_or_misplaced_chunks_do_not_open() {
        let s = Secret::from_bytes([4; 32]);
        let c = CHUNK as usize;
        let plain: Vec<u8> = (0..3 * c).map(|i| (i % 251) as u8).collect();
        let blob = sealed(&s, &plain, b"ctx");
        let sealed_chunk = c + TAG_LEN;
        let refused = |b: Vec<u8>, ctx: &[u8], why: &str| {
            assert!(
                matches!(s.open(b, ctx, "x"), Err(VaultError::Tampered { .. })),
                "{why}"
            );
        };
        refused(blob.clone(), b"other", "another context");
        let mut flipped = blob.clone();
        flipped[HEADER_LEN + sealed_chunk + 5] ^= 1;
        refused(flipped, b"ctx", "a flipped byte in chunk 1");
        // Cut after two whole chunks: chunk 1 was not sealed as the last.
        refused(
            blob[..HEADER_LEN + 2 * sealed_chunk].to_vec(),
            b"ctx",
            "cut at a chunk boundary",
        );
        let mut swapped = blob.clone();
        let (a, b) = (HEADER_LEN, HEADER_LEN + sealed_chunk);
        let first = blob[a..b].to_vec();
        swapped.copy_within(b..b + sealed_chunk, a);
        swapped[b..b + sealed_chunk].copy_from_slice(&first);
        refused(swapped, b"ctx", "two chunks swapped");
        let other = sealed(&s, &plain, b"ctx");
        let mut spliced = blob.clone();
        spliced[b..b + sealed_chunk].copy_from_slice(&other[b..b + sealed_chunk]);
        refused(
            spliced,
            b"ctx",
            "a chunk from another blob of the same bytes",
        );
        let mut huge = blob.clone();
        huge[MAGIC.len()..MAGIC.len() + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        refused(huge, b"ctx", "a chunk size beyond the bound");
        for short in [0, 8, HEADER_LEN, HEADER_LEN + 15] {
            refused(blob[..short].to_vec(), b"ctx", "a short blob");
        }
        let mut tail = blob.clone();
        tail.push(0);
        refused(tail, b"ctx", "a byte appended");
        assert!(
            Secret::from_bytes([5; 32]).open(blob, b"ctx", "x").is_err(),
            "another key"
        );
    }

    #[test]
    fn a_chunk_altered_after_the_check_fails_the_read_that_reaches_it() {
        let s = Secret::from_bytes([4; 32]);
        let dir = tempfile::tempdir().expect("tmp");
        let blobs: Arc<dyn BlobStore> = Arc::new(LocalBlobs::new(dir.path()));
        let plain = vec![3u8; 2 * CHUNK as usize + 1];
        let mut blob = sealed(&s, &plain, b"ctx");
        let key = BlobKey::try_new("originals/t.sealed").expect("key");
        blobs.put(&key, &blob).expect("put");
        let mut r = SealedBlob::open(&s, Arc::clone(&blobs), &key, b"ctx", "t", "x")
            .expect("open")
            .expect("chunked");
        r.verify(&tracemark_types::Sha256::digest(&plain))
            .expect("verify");
        assert!(matches!(
            r.verify(&tracemark_types::Sha256::digest(b"other")),
            Err(VaultError::Tampered { .. })
        ));
        let last = blob.len() - 3;
        blob[last] ^= 1;
        blobs.put(&key, &blob).expect("put");
        let mut all = Vec::new();
        let e = r.read_to_end(&mut all).expect_err("refused");
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
        assert_eq!(all.len(), 2 * CHUNK as usize, "the chunks before it read");
    }

    /// Originals are stored sealed in chunks and marked a chunk at a time; a vault's
    /// originals sealed whole (before chunked sealing) still issue, and give the very same
    /// copies.
    #[test]
    fn originals_sealed_whole_or_in_chunks_give_the_same_copies() {
        use tracemark_media::{EncodeOptions, Format, encode_bytes};
        let dir = tempfile::tempdir().expect("tmp");
        let v = crate::testing::vault(dir.path());
        let names = vec!["Ann".to_string(), "Ben".to_string()];
        v.add_recipients(&names).expect("recipients");
        let speech =
            tracemark_testkit::corpus_or_excerpt("librivox-en-16k.flac", 40.0, (0.0, 40.0));
        let wav = encode_bytes(&speech, Format::Wav, &EncodeOptions::default()).expect("wav");
        // More than one chunk.
        assert!(wav.len() > CHUNK as usize + 1_000, "{} bytes", wav.len());
        let rec = v.ingest(&wav, "talk.wav", "Talk").expect("ingest");
        let key = BlobKey::original(&rec.id);
        let stored = v.blobs.get(&key).expect("get").expect("stored");
        assert!(is_chunked(&stored), "a new original is sealed in chunks");
        let delivery = crate::Delivery::parse("flac").expect("flac");
        let chunked = v
            .issue(rec.id.as_str(), &names, delivery, |_, _| {})
            .expect("issue");
        let whole = v.secret.seal(&wav, &rec.sha256.0).expect("seal");
        assert!(!is_chunked(&whole));
        v.blobs.put(&key, &whole).expect("put");
        let again = v
            .issue(rec.id.as_str(), &names, delivery, |_, _| {})
            .expect("issue again");
        for (a, b) in chunked.iter().zip(&again) {
            assert!(b.reissued, "{}", b.recipient.name);
            assert_eq!(a.bytes, b.bytes, "{}", a.recipient.name);
        }
        assert_eq!(v.original_bytes(&rec).expect("original"), wav);
        // An original altered in one chunk is refused before any copy is made.
        let mut bad = stored;
        let at = HEADER_LEN + CHUNK as usize + 100;
        bad[at] ^= 1;
        v.blobs.put(&key, &bad).expect("put");
        assert!(matches!(
            v.issue(rec.id.as_str(), &names, delivery, |_, _| {}),
            Err(VaultError::Tampered { .. })
        ));
    }
}
