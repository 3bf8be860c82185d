//! Finding evidence files and hashing them.

use rayon::prelude::*;
use sha2::{Digest, Sha256};

/// SHA-256 of bytes as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(digest: &[u8]) -> String {
    let mut s = String::with_capacity(64);
    for b in digest {
        use std::fmt::Write as _;
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Files from this size on are read in parts by the rayon threads, and hashed by a thread of
/// their own while they are parsed ([`PendingSha`]).
const BIG_FILE_BYTES: u64 = 16 << 20;

/// Reads a file (read-only). A big file is read in 8 MiB parts by the rayon threads
/// (positioned reads, several parts at once; a kernel copy into fresh pages, whose faults are
/// most of its cost on a VM). A file whose size changes while it is read is read again in one
/// go. The vector has 3 % room beyond the file: a windows-1252 export transcoded to UTF-8 in
/// place grows a little (`SourceFile::transcode_in_place`); the room is not touched until then.
pub fn read_evidence(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    const PART: usize = 8 << 20;
    let mut f = std::fs::File::open(path)?;
    let size = f.metadata()?.len();
    let Ok(n) = usize::try_from(size) else {
        return Err(std::io::Error::other("file too large for this machine"));
    };
    if size < BIG_FILE_BYTES {
        let mut bytes = Vec::with_capacity(n + n / 32);
        f.read_to_end(&mut bytes)?;
        return Ok(bytes);
    }
    // zeroed memory from the allocator is fresh pages: no memset, faulted in by the read
    let mut bytes = vec![0u8; n + n / 32];
    bytes.truncate(n);
    let file = &f;
    let read = bytes
        .par_chunks_mut(PART)
        .enumerate()
        .try_for_each(|(k, part)| read_exact_at(file, part, (k * PART) as u64));
    let unchanged = match read {
        Ok(()) => {
            // the file grew while it was read: read it again in one go (below)
            let mut probe = [0u8; 1];
            read_at(&f, &mut probe, size)? == 0
        }
        // shorter than its size when opened: changed while it was read
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => false,
        Err(e) => return Err(e),
    };
    if unchanged {
        return Ok(bytes);
    }
    std::fs::read(path)
}

/// The SHA-256 (hex) of a file's bytes as read, taken at once (small files) or by a thread of
/// its own ([`start`](Self::start)). SHA-256 runs on one core (~0.1 s for a 180 MB export):
/// taken first, it left the other cores idle; taken beside the format detection, the
/// decoding and the parse, it costs no time of its own. The thread holds a reference to the
/// bytes, so they cannot change until it is done (`SourceFile::transcode_in_place` then
/// decodes into new memory).
pub struct PendingSha(Hashing);

enum Hashing {
    Done(String),
    Running(std::thread::JoinHandle<String>),
}

impl PendingSha {
    /// Hashes `bytes`: small ones at once, big ones ([`BIG_FILE_BYTES`]) on a new thread.
    pub fn start(bytes: &polars_buffer::Buffer<u8>) -> Self {
        if (bytes.len() as u64) < BIG_FILE_BYTES {
            return Self::done(sha256_hex(bytes));
        }
        let shared = bytes.clone();
        match std::thread::Builder::new()
            .name("gs-sha256".into())
            .spawn(move || sha256_hex(&shared))
        {
            Ok(h) => Self(Hashing::Running(h)),
            // no thread to be had: hash here
            Err(_) => Self::done(sha256_hex(bytes)),
        }
    }

    /// A hash already known.
    pub fn done(sha: String) -> Self {
        Self(Hashing::Done(sha))
    }

    /// The hash (waits for the thread).
    pub fn wait(self) -> std::io::Result<String> {
        match self.0 {
            Hashing::Done(s) => Ok(s),
            Hashing::Running(h) => h
                .join()
                .map_err(|_| std::io::Error::other("the hashing thread panicked")),
        }
    }
}

/// A positioned read (no shared file cursor: several threads read one file at once).
fn read_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        std::os::windows::fs::FileExt::seek_read(file, buf, offset)
    }
}

/// Fills `buf` from `offset`; `UnexpectedEof` when the file ends first.
fn read_exact_at(file: &std::fs::File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        match read_at(file, buf, offset) {
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(k) => {
                buf = &mut buf[k..];
                offset += k as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_evidence_and_pending_sha_equal_read_then_hash() {
        let dir = tempfile::tempdir().unwrap();
        // below the threshold, exactly on a part border, with a short last part
        for len in [
            0usize,
            1000,
            16 << 20,
            (16 << 20) + 8 * (1 << 20),
            (24 << 20) + 12_345,
            // many parts, read by several threads
            (72 << 20) + 777,
        ] {
            let path = dir.path().join(format!("f{len}"));
            let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            std::fs::write(&path, &data).unwrap();
            let bytes = polars_buffer::Buffer::from(read_evidence(&path).unwrap());
            assert!(bytes.as_slice() == data.as_slice(), "bytes of {len}");
            let pending = PendingSha::start(&bytes);
            let background = matches!(pending.0, Hashing::Running(_));
            assert_eq!(background, len as u64 >= BIG_FILE_BYTES, "{len}");
            assert_eq!(pending.wait().unwrap(), sha256_hex(&data), "sha of {len}");
        }
        assert!(read_evidence(&dir.path().join("missing")).is_err());
    }
}
