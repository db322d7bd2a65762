//! Models by Hugging Face Hub id: wherever burnish takes a model folder, `ORG/NAME[@REVISION]`
//! works too.
//!
//! [`resolve_model`] turns what the user gave into a folder:
//! 1. an existing path is used as it is (a local folder always wins over an id);
//! 2. an id is looked up in the Hub cache exactly as `huggingface_hub` lays it out
//!    ([`cache_dir`]: `HF_HUB_CACHE`, else `HF_HOME/hub`, else `~/.cache/huggingface/hub`):
//!    `models--ORG--NAME/refs/REVISION` holds the commit (a 40-hex revision is the commit
//!    itself), and `snapshots/COMMIT/` is the model folder, whose files are symbolic links into
//!    `blobs/`;
//! 3. a model not in the cache, or a snapshot without the files a model folder needs
//!    ([`REQUIRED`]), is downloaded into the same cache with the `hf-hub` crate, unless
//!    `HF_HUB_OFFLINE` is set (`1`, `true`, `yes`, `on`), as `huggingface_hub` honours it.
//!
//! What is deliberately absent: authentication beyond `HF_TOKEN` / the token file `hf-hub`
//! reads, and any cache clean-up (`huggingface-cli delete-cache` does that).

use std::path::{Path, PathBuf};

/// Errors of the Hub lookup: each names the id and the cache folder.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// The id is not in the cache and downloading is off.
    #[error(
        "{id}: no such local folder, and as a Hub id: {what} in the Hugging Face cache {cache}, and \
         HF_HUB_OFFLINE is set, so it is not downloaded; download it where the network allows \
         (`huggingface-cli download {repo}`) or give a local folder"
    )]
    NotCached {
        /// The id as given.
        id: String,
        /// The repository part of the id.
        repo: String,
        /// What is missing (`no models--ORG--NAME folder`, `no refs/main`, `no config.json
        /// in snapshots/COMMIT`).
        what: String,
        /// The cache folder searched.
        cache: PathBuf,
    },
    /// Downloading failed.
    #[error(
        "{id}: no such local folder, and as a Hub id: {what} in the Hugging Face cache {cache}, \
         and downloading {file} failed: {source}"
    )]
    Download {
        /// The id as given.
        id: String,
        /// What was missing before the download.
        what: String,
        /// The file being downloaded.
        file: String,
        /// The cache folder.
        cache: PathBuf,
        /// The client's error.
        #[source]
        source: Box<hf_hub::api::sync::ApiError>,
    },
    /// The path is neither an existing folder nor a Hub id.
    #[error("{given}: no such folder, and not a Hugging Face Hub id (ORG/NAME[@REVISION])")]
    NotFound {
        /// The path as given.
        given: PathBuf,
    },
    /// A cache file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// The files a model snapshot must hold before it is used without downloading: the
/// configuration, one weights file and one tokenizer form (the alternatives of each are
/// listed together).
pub const REQUIRED: &[&[&str]] = &[
    &["config.json"],
    &["model.safetensors", "pytorch_model.bin"],
    &["tokenizer.json", "vocab.txt", "vocab.json"],
];

/// Whether `text` reads as a Hub id: `ORG/NAME` with an optional `@REVISION`, each part made
/// of letters, digits, `-`, `_` and `.` (not starting with `.`), as the Hub allows.
pub fn is_hub_id(text: &str) -> bool {
    let (repo, revision) = split_revision(text);
    let part = |p: &str| {
        !p.is_empty()
            && !p.starts_with('.')
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    let mut parts = repo.split('/');
    let (Some(org), Some(name), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    part(org) && part(name) && revision.is_none_or(|r| !r.is_empty() && !r.contains(".."))
}

fn split_revision(text: &str) -> (&str, Option<&str>) {
    match text.split_once('@') {
        Some((repo, rev)) => (repo, Some(rev)),
        None => (text, None),
    }
}

/// The Hub cache folder as `huggingface_hub` picks it: `HF_HUB_CACHE`, else `HF_HOME/hub`,
/// else `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`.
pub fn cache_dir() -> PathBuf {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("HF_HUB_CACHE") {
        return PathBuf::from(dir);
    }
    if let Some(home) = var("HF_HOME") {
        return PathBuf::from(home).join("hub");
    }
    let cache = var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    cache.join("huggingface").join("hub")
}

/// Whether `HF_HUB_OFFLINE` forbids downloads.
pub fn offline() -> bool {
    std::env::var("HF_HUB_OFFLINE").is_ok_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on"
        )
    })
}

/// The model folder for `given`: the path itself when it exists, else the snapshot of the
/// Hub id in [`cache_dir`], downloaded when missing and allowed (see the crate docs).
///
/// # Errors
/// [`HubError::NotFound`] for a path that does not exist and is no id;
/// [`HubError::NotCached`] when the id is not (wholly) cached and `HF_HUB_OFFLINE` is set;
/// [`HubError::Download`] when downloading fails.
pub fn resolve_model(given: impl AsRef<Path>) -> Result<PathBuf, HubError> {
    let given = given.as_ref();
    if given.exists() {
        return Ok(given.to_path_buf());
    }
    let Some(id) = given.to_str().filter(|t| is_hub_id(t)) else {
        return Err(HubError::NotFound {
            given: given.to_path_buf(),
        });
    };
    resolve_in(&cache_dir(), id, offline())
}

/// [`resolve_model`] for an id, in the cache folder `cache`, downloading unless `offline`.
///
/// # Errors
/// As [`resolve_model`].
pub fn resolve_in(cache: &Path, id: &str, offline: bool) -> Result<PathBuf, HubError> {
    let (repo, revision) = split_revision(id);
    let revision = revision.unwrap_or("main");
    let missing = match cached_snapshot(cache, repo, revision)? {
        Ok(dir) => return Ok(dir),
        Err(what) => what,
    };
    if offline {
        return Err(HubError::NotCached {
            id: id.into(),
            repo: repo.into(),
            what: missing,
            cache: cache.to_path_buf(),
        });
    }
    download(cache, id, repo, revision, &missing)
}

/// The snapshot folder of `repo` at `revision` when the cache holds it with the
/// [`REQUIRED`] files, else what is missing.
fn cached_snapshot(
    cache: &Path,
    repo: &str,
    revision: &str,
) -> Result<Result<PathBuf, String>, HubError> {
    let folder = format!("models--{}", repo.replace('/', "--"));
    let root = cache.join(&folder);
    if !root.is_dir() {
        return Ok(Err(format!("no {folder} folder")));
    }
    let ref_file = root.join("refs").join(revision);
    let commit = if ref_file.is_file() {
        std::fs::read_to_string(&ref_file)
            .map_err(|source| HubError::Io {
                path: ref_file.clone(),
                source,
            })?
            .trim()
            .to_string()
    } else if revision.len() == 40 && revision.chars().all(|c| c.is_ascii_hexdigit()) {
        revision.to_string()
    } else {
        return Ok(Err(format!("no {folder}/refs/{revision}")));
    };
    let snapshot = root.join("snapshots").join(&commit);
    if !snapshot.is_dir() {
        return Ok(Err(format!("no {folder}/snapshots/{commit}")));
    }
    for alternatives in REQUIRED {
        if !alternatives.iter().any(|f| snapshot.join(f).is_file()) {
            return Ok(Err(format!(
                "no {} in {folder}/snapshots/{commit}",
                alternatives.join(" or ")
            )));
        }
    }
    Ok(Ok(snapshot))
}

/// Downloads the model files of `repo` at `revision` into `cache` with `hf-hub` (which writes
/// `huggingface_hub`'s layout) and returns the snapshot folder.
fn download(
    cache: &Path,
    id: &str,
    repo: &str,
    revision: &str,
    missing: &str,
) -> Result<PathBuf, HubError> {
    use hf_hub::api::sync::ApiBuilder;
    use hf_hub::{Repo, RepoType};
    let fail = |file: &str, source: hf_hub::api::sync::ApiError| HubError::Download {
        id: id.into(),
        what: missing.into(),
        file: file.into(),
        cache: cache.to_path_buf(),
        source: Box::new(source),
    };
    let api = ApiBuilder::new()
        .with_cache_dir(cache.to_path_buf())
        .with_progress(true)
        .build()
        .map_err(|e| fail("(client set-up)", e))?;
    let remote = api.repo(Repo::with_revision(
        repo.into(),
        RepoType::Model,
        revision.into(),
    ));
    let info = remote.info().map_err(|e| fail("(repository listing)", e))?;
    let listed: Vec<&str> = info.siblings.iter().map(|s| s.rfilename.as_str()).collect();
    // The first listed file of each required kind (safetensors before pytorch_model.bin).
    for alternatives in REQUIRED {
        if let Some(file) = alternatives.iter().find(|f| listed.contains(f)) {
            remote.get(file).map_err(|e| fail(file, e))?;
        }
    }
    // Every other small top-level file a model folder may need (tokenizer settings, merges,
    // special tokens, sentence-transformers' modules).
    for file in &listed {
        let wanted = file.ends_with(".json") || file.ends_with(".txt");
        if wanted && !file.contains('/') {
            remote.get(file).map_err(|e| fail(file, e))?;
        }
    }
    match cached_snapshot(cache, repo, revision)? {
        Ok(dir) => Ok(dir),
        Err(what) => Err(HubError::NotCached {
            id: id.into(),
            repo: repo.into(),
            what: format!("after downloading, still {what}"),
            cache: cache.to_path_buf(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_org_slash_name_with_an_optional_revision() {
        for id in [
            "google-bert/bert-base-uncased",
            "sentence-transformers/all-MiniLM-L6-v2@main",
            "FacebookAI/xlm-roberta-base@0123456789abcdef0123456789abcdef01234567",
            "a.b/c_d",
        ] {
            assert!(is_hub_id(id), "{id}");
        }
        for not in [
            "bert-base-uncased",
            "./runs/x",
            "/abs/path",
            "a/b/c",
            "a/",
            "a/b@",
            "../x",
            "a b/c",
        ] {
            assert!(!is_hub_id(not), "{not}");
        }
    }

    #[test]
    fn offline_misses_name_the_id_the_cache_and_what_is_missing() {
        let cache = tempfile::tempdir().unwrap();
        let err = resolve_in(cache.path(), "org/model", true).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("org/model"), "{text}");
        assert!(text.contains("no models--org--model folder"), "{text}");
        assert!(text.contains(&cache.path().display().to_string()), "{text}");

        let root = cache.path().join("models--org--model");
        std::fs::create_dir_all(root.join("refs")).unwrap();
        let err = resolve_in(cache.path(), "org/model@v1", true).unwrap_err();
        assert!(
            err.to_string().contains("no models--org--model/refs/v1"),
            "{err}"
        );

        let commit = "0123456789abcdef0123456789abcdef01234567";
        std::fs::write(root.join("refs/main"), commit).unwrap();
        let snapshot = root.join("snapshots").join(commit);
        std::fs::create_dir_all(&snapshot).unwrap();
        std::fs::write(snapshot.join("config.json"), "{}").unwrap();
        std::fs::write(snapshot.join("vocab.txt"), "[PAD]\n").unwrap();
        let err = resolve_in(cache.path(), "org/model", true).unwrap_err();
        assert!(
            err.to_string().contains(
                "no model.safetensors or pytorch_model.bin in models--org--model/snapshots/"
            ),
            "{err}"
        );
        std::fs::write(snapshot.join("model.safetensors"), "").unwrap();
        assert_eq!(
            resolve_in(cache.path(), "org/model", true).unwrap(),
            snapshot
        );
        // A commit hash as the revision names the snapshot directly.
        assert_eq!(
            resolve_in(cache.path(), &format!("org/model@{commit}"), true).unwrap(),
            snapshot
        );
    }

    #[test]
    fn an_existing_path_wins_and_other_paths_are_not_ids() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(resolve_model(dir.path()).unwrap(), dir.path());
        let err = resolve_model("no/such/folder").unwrap_err();
        assert!(matches!(err, HubError::NotFound { .. }), "{err}");
    }
}
