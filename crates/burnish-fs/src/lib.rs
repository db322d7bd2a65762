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
/// Random characters in a temporary file's name (the `XXXXXX`).
const RAND_CHARS: usize = 6;

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
///
/// A target that exists and is not a regular file (`/dev/null`, a named pipe, `/dev/fd/N` of a
/// shell's process substitution) is written directly: it cannot be replaced by a rename, and
/// a reader of it sees the bytes as they come anyway. A symbolic link is followed: the file it
/// points to is replaced, not the link. An existing file keeps its permissions.
#[derive(Debug)]
pub struct AtomicFile {
    inner: Inner,
    path: PathBuf,
}

#[derive(Debug)]
enum Inner {
    Temp(BufWriter<NamedTempFile>),
    Direct(BufWriter<File>),
}

impl AtomicFile {
    /// Starts writing `path` (see the type's docs): creates `.NAME.XXXXXX.tmp` in its folder,
    /// with the permissions `File::create` would give (umask applies).
    ///
    /// # Errors
    /// The I/O error of creating the temporary file (e.g. the folder does not exist).
    pub fn create(path: &Path) -> io::Result<Self> {
        Self::with_capacity(8 * 1024, path)
    }

    /// [`AtomicFile::create`] with a write buffer of `capacity` bytes.
    ///
    /// # Errors
    /// As [`AtomicFile::create`].
    pub fn with_capacity(capacity: usize, path: &Path) -> io::Result<Self> {
        // The file a symbolic link names is the one to replace.
        let path = match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_symlink() => std::fs::canonicalize(path)?,
            _ => path.to_path_buf(),
        };
        let existing = std::fs::metadata(&path).ok();
        if existing.as_ref().is_some_and(|meta| !meta.is_file()) {
            let file = std::fs::OpenOptions::new().write(true).open(&path)?;
            return Ok(Self {
                inner: Inner::Direct(BufWriter::with_capacity(capacity, file)),
                path,
            });
        }
        let name = path.file_name().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "the path has no file name")
        })?;
        let dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let prefix = format!(".{}.", name.to_string_lossy());
        let mut builder = tempfile::Builder::new();
        builder
            .prefix(&prefix)
            .suffix(SUFFIX)
            .rand_bytes(RAND_CHARS);
        match &existing {
            Some(meta) => {
                builder.permissions(meta.permissions());
            }
            #[cfg(unix)]
            None => {
                // tempfile's default is 0o600; use the mode `File::create` would.
                use std::os::unix::fs::PermissionsExt;
                builder.permissions(std::fs::Permissions::from_mode(0o666));
            }
            #[cfg(not(unix))]
            None => {}
        }
        let temp = builder.tempfile_in(dir)?;
        Ok(Self {
            inner: Inner::Temp(BufWriter::with_capacity(capacity, temp)),
            path,
        })
    }

    /// The target path (a symbolic link's target).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes the data to disk and renames the temporary file over the target (a file that
    /// is not a regular one: flushes it).
    ///
    /// # Errors
    /// The I/O error of flushing or renaming (the temporary file is then removed).
    pub fn commit(self) -> io::Result<()> {
        match self.inner {
            Inner::Temp(temp) => {
                let temp = temp.into_inner().map_err(|e| e.into_error())?;
                temp.as_file().sync_all()?;
                temp.persist(&self.path).map_err(|e| e.error)?;
            }
            Inner::Direct(mut file) => file.flush()?,
        }
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.inner {
            Inner::Temp(temp) => temp.write(buf),
            Inner::Direct(file) => file.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.inner {
            Inner::Temp(temp) => temp.flush(),
            Inner::Direct(file) => file.flush(),
        }
    }
}

/// Whether a file name is one of this crate's temporary files (`.NAME.XXXXXX.tmp`, six
/// letters or digits), or one of the `.NAME.tmpPID` files that burnish wrote before this crate
/// existed: what an interrupted write leaves behind. Nothing else, so that cleaning a folder of
/// them never removes a user's file.
pub fn is_temporary(name: &str) -> bool {
    let Some(rest) = name.strip_prefix('.') else {
        return false;
    };
    if let Some(stem) = rest.strip_suffix(SUFFIX)
        && let Some((base, random)) = stem.rsplit_once('.')
        && !base.is_empty()
        && random.len() == RAND_CHARS
        && random.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return true;
    }
    rest.rsplit_once(".tmp").is_some_and(|(base, pid)| {
        !base.is_empty() && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())
    })
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

    #[cfg(unix)]
    #[test]
    fn a_link_is_followed_an_existing_mode_kept_and_a_device_written_directly() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.jsonl");
        write_atomic(&target, b"old").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link.jsonl");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        // Not a regular file: written in place (a rename could not replace it).
        write_atomic(Path::new("/dev/null"), b"discarded").unwrap();
        assert!(!std::fs::metadata("/dev/null").unwrap().is_file());
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
        for name in [
            "config.json",
            ".hidden",
            ".x.tmp12a",
            "model.tmp",
            ".tmp",
            ".notes.tmp",
            ".a.toolong7.tmp",
        ] {
            assert!(!is_temporary(name), "{name}");
        }
    }
}
