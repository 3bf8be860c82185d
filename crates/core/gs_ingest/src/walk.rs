//! Finding evidence files and hashing them.

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

/// Files from this size on are hashed while they are read (two threads).
const HASH_WHILE_READING_BYTES: u64 = 16 << 20;

/// Reads a file (read-only) and its SHA-256 (hex). A big file is read in 8 MiB parts while
/// another thread hashes the parts already read: reading (a kernel copy) and hashing take
/// about as long each, so a big file is ready in about half the time.
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
    let (tx, rx) = std::sync::mpsc::sync_channel::<&[u8]>(4);
    let (read, digest) = std::thread::scope(|s| {
        let hasher = s.spawn(move || {
            let mut h = Sha256::new();
            for part in rx {
                h.update(part);
            }
            h.finalize()
        });
        let mut read = 0usize;
        for part in bytes.chunks_mut(PART) {
            let mut filled = 0;
            while filled < part.len() {
                match f.read(&mut part[filled..]) {
                    Ok(0) => break,
                    Ok(k) => filled += k,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        drop(tx);
                        let _ = hasher.join();
                        return Err(e);
                    }
                }
            }
            read += filled;
            let done = filled < part.len();
            // the hasher may be gone only if it panicked; join reports that below
            let _ = tx.send(&part[..filled]);
            if done {
                break;
            }
        }
        drop(tx);
        let digest = hasher
            .join()
            .map_err(|_| std::io::Error::other("hashing thread panicked"))?;
        Ok((read, digest))
    })?;
    // the file changed size while it was read: read it again in one go
    let mut probe = [0u8; 1];
    if read != n || f.read(&mut probe)? != 0 {
        let bytes = std::fs::read(path)?;
        let sha = sha256_hex(&bytes);
        return Ok((bytes, sha));
    }
    Ok((bytes, hex(&digest)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_hashed_equals_read_then_hash() {
        let dir = tempfile::tempdir().unwrap();
        // below the threshold, exactly on a part border, and with a short last part
        for len in [
            0usize,
            1000,
            16 << 20,
            (16 << 20) + 8 * (1 << 20),
            (24 << 20) + 12_345,
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
