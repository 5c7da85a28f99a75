//! The small append-only files hooks keep beside the store (the touch log,
//! the delivery log): opened for reading and appending, and held under an
//! exclusive `flock` so that appends, scans and compactions by concurrent
//! processes never interleave.

use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use crate::store::StoreError;

/// `db` with `suffix` appended to its file name (`state.db.touches`).
pub fn beside(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(suffix);
    db.with_file_name(name)
}

/// An I/O error on `path`, as the store reports it.
pub fn io(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Open (creating) `path` for reading and appending, and take its exclusive
/// lock; the lock goes when the file is closed.
pub fn open_locked(path: &Path) -> Result<std::fs::File, StoreError> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path)
        .map_err(io(path))?;
    // SAFETY: flock on a descriptor this function owns; released when it closes.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(io(path)(std::io::Error::last_os_error()));
    }
    Ok(file)
}
