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

/// Files from this size on are hashed while they are read (parts read by the rayon threads, one
/// thread hashing).
const HASH_WHILE_READING_BYTES: u64 = 16 << 20;

/// Reads a file (read-only) and its SHA-256 (hex). A big file is read in 8 MiB parts by the
/// rayon threads (positioned reads, several parts at once) while another thread hashes the
/// parts in order as they arrive: reading (a kernel copy into fresh pages, whose faults are most
/// of its cost on a VM) and hashing take about as long each, so a big file is ready in about
/// half the time of reading, then hashing.
pub fn read_hashed(path: &std::path::Path) -> std::io::Result<(Vec<u8>, String)> {
    use std::io::Read as _;
    const PART: usize = 8 << 20;
    let mut f = std::fs::File::open(path)?;
    let size = f.metadata()?.len();
    let Ok(n) = usize::try_from(size) else {
        return Err(std::io::Error::other("file too large for this machine"));
    };
    if size < HASH_WHILE_READING_BYTES {
        // 3 % room, as below
        let mut bytes = Vec::with_capacity(n + n / 32);
        f.read_to_end(&mut bytes)?;
        let sha = sha256_hex(&bytes);
        return Ok((bytes, sha));
    }
    // zeroed memory from the allocator is fresh pages: no memset, faulted in by the read.
    // 3 % room beyond the file: a windows-1252 export transcoded to UTF-8 in place grows a
    // little (`SourceFile::transcode_in_place`); the room is not touched until then
    let mut bytes = vec![0u8; n + n / 32];
    bytes.truncate(n);
    // room for every part: a reader never waits for the hasher
    let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, &[u8])>(n.div_ceil(PART));
    let read = std::thread::scope(|s| {
        let hasher = s.spawn(move || {
            // parts arrive in any order; they are hashed in file order
            let mut h = Sha256::new();
            let mut waiting = std::collections::BTreeMap::new();
            let mut next = 0usize;
            for (k, part) in rx {
                waiting.insert(k, part);
                while let Some(part) = waiting.remove(&next) {
                    h.update(part);
                    next += 1;
                }
            }
            h.finalize()
        });
        let file = &f;
        let read = bytes
            .par_chunks_mut(PART)
            .enumerate()
            .try_for_each_with(tx, |tx, (k, part)| {
                read_exact_at(file, part, (k * PART) as u64)?;
                // the hasher may be gone only if it panicked; join reports that below
                let _ = tx.send((k, &*part));
                Ok::<(), std::io::Error>(())
            });
        let digest = hasher.join();
        read.map(|()| digest)
    });
    let unchanged = match read {
        Ok(Ok(digest)) => {
            // the file grew while it was read: read it again in one go (below)
            let mut probe = [0u8; 1];
            (read_at(&f, &mut probe, size)? == 0).then_some(digest)
        }
        Ok(Err(_)) => return Err(std::io::Error::other("hashing thread panicked")),
        // shorter than its size when opened: changed while it was read
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => None,
        Err(e) => return Err(e),
    };
    if let Some(digest) = unchanged {
        return Ok((bytes, hex(&digest)));
    }
    let bytes = std::fs::read(path)?;
    let sha = sha256_hex(&bytes);
    Ok((bytes, sha))
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
    fn read_hashed_equals_read_then_hash() {
        let dir = tempfile::tempdir().unwrap();
        // below the threshold, exactly on a part border, with a short last part
        for len in [
            0usize,
            1000,
            16 << 20,
            (16 << 20) + 8 * (1 << 20),
            (24 << 20) + 12_345,
            // many parts, read by several threads and arriving out of order
            (72 << 20) + 777,
        ] {
            let path = dir.path().join(format!("f{len}"));
            let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            std::fs::write(&path, &data).unwrap();
            let (bytes, sha) = read_hashed(&path).unwrap();
            assert!(bytes == data, "bytes of {len}");
            assert_eq!(sha, sha256_hex(&data), "sha of {len}");
        }
        assert!(read_hashed(&dir.path().join("missing")).is_err());
    }
}
