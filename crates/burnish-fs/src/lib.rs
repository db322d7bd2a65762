//! Files written whole or not at all.
//!
//! Every file burnish writes (configs, weights, tokenizers, checkpoints' files, run folders'
//! JSON, plots, predictions, encodings, packed corpora) goes through this crate: the bytes go
//! to a temporary file in the target's folder (so the rename cannot cross file systems), are
//! flushed to disk, and the temporary file is renamed over the target. A reader sees the old
//! file or the whole new one, never a part; a write interrupted at any point leaves the old
//! file intact and, at worst, a temporary file that [`is_temporary`] recognises, so a run
//! folder can be cleaned of it. [`write_atomic`] writes bytes at once, [`AtomicFile`] streams
//! them.
//!
//! Errors are `std::io::Error`s: each caller names the path in its own error type.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// Suffix of the temporary files (`.NAME.XXXXXX.tmp`).
const SUFFIX: &str = ".tmp";

/// Writes `bytes` to `path` atomically (see the crate docs).
///
/// # Errors
/// The I/O error of creating, writing, flushing or renaming the temporary file (which is then
/// removed).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes)?;
    file.commit()
}

/// A file being written to a temporary file beside its target: [`AtomicFile::commit`] renames
/// it into place; dropped without a commit (an error on the way), the temporary file is
/// removed and the target is untouched. Buffered.
#[derive(Debug)]
pub struct AtomicFile {
    temp: BufWriter<NamedTempFile>,
    path: PathBuf,
}

impl AtomicFile {
    /// Starts writing `path`: creates `.NAME.XXXXXX.tmp` in its folder, with the permissions
    /// `File::create` would give (umask applies).
    ///
    /// # Errors
    /// The I/O error of creating the temporary file (e.g. the folder does not exist).
    pub fn create(path: &Path) -> io::Result<Self> {
        let name = path.file_name().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "the path has no file name")
        })?;
        let dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let prefix = format!(".{}.", name.to_string_lossy());
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(SUFFIX);
        #[cfg(unix)]
        {
            // tempfile's default is 0o600; use the mode `File::create` would.
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        Ok(Self {
            temp: BufWriter::new(builder.tempfile_in(dir)?),
            path: path.to_path_buf(),
        })
    }

    /// The target path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes the data to disk and renames the temporary file over the target.
    ///
    /// # Errors
    /// The I/O error of flushing or renaming (the temporary file is then removed).
    pub fn commit(self) -> io::Result<()> {
        let temp = self.temp.into_inner().map_err(|e| e.into_error())?;
        temp.as_file().sync_all()?;
        temp.persist(&self.path).map_err(|e| e.error)?;
        Ok(())
    }

    /// The underlying temporary file (e.g. to seek back and patch a header before the commit).
    ///
    /// # Errors
    /// The I/O error of flushing the buffer.
    pub fn file_mut(&mut self) -> io::Result<&mut File> {
        self.temp.flush()?;
        Ok(self.temp.get_mut().as_file_mut())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.temp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.temp.flush()
    }
}

/// Whether a file name is one of this crate's temporary files (`.NAME.XXXXXX.tmp`), or one of
/// the `.NAME.tmpPID` files that burnish wrote before this crate existed: what an interrupted
/// write leaves behind.
pub fn is_temporary(name: &str) -> bool {
    if !name.starts_with('.') {
        return false;
    }
    name.ends_with(SUFFIX)
        || name
            .rsplit_once(".tmp")
            .is_some_and(|(_, pid)| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replace_the_whole_file_and_leave_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        write_atomic(&path, b"old").unwrap();
        write_atomic(&path, b"new contents").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new contents");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("config.json")]);
    }

    #[test]
    fn a_write_dropped_before_its_commit_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("predictions.jsonl");
        write_atomic(&path, b"old\n").unwrap();
        {
            let mut file = AtomicFile::create(&path).unwrap();
            file.write_all(b"half of the new").unwrap();
            let temp: Vec<String> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| is_temporary(n))
                .collect();
            assert_eq!(temp.len(), 1, "{temp:?}");
            assert!(temp[0].starts_with(".predictions.jsonl."), "{temp:?}");
        }
        assert_eq!(std::fs::read(&path).unwrap(), b"old\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_missing_folder_is_an_error_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_atomic(&dir.path().join("no/such/file"), b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn temporary_names_are_recognised_and_others_not() {
        assert!(is_temporary(".config.json.a1B2c3.tmp"));
        assert!(is_temporary(".config.json.tmp1234"));
        for name in ["config.json", ".hidden", ".x.tmp12a", "model.tmp"] {
            assert!(!is_temporary(name), "{name}");
        }
    }
}
