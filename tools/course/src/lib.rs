//! The course's exercises, read from their one source: `lessons/*/exercises.toml`.
//!
//! Three programs read them through this library: the runner (`cargo course`, `src/bin/course.rs`),
//! the book's preprocessor (`mdbook-course`, `src/bin/mdbook-course.rs`) and CI (through
//! `cargo course list --json`). Nothing else lists the exercises, so nothing can disagree.

pub mod anchor;
pub mod book;
pub mod check;
pub mod edition;
pub mod i18n;
pub mod model;
pub mod progress;
pub mod reset;

pub use model::{Course, Exercise, FileRef, Level};

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// The workspace root: the nearest ancestor of `start` (or `start` itself) whose Cargo.toml has
/// a `[workspace]` table. A lesson package's own Cargo.toml has none, so running the runner from
/// inside a lesson still finds the course.
pub fn workspace_root(start: &Path) -> Result<PathBuf> {
    let start = start
        .canonicalize()
        .with_context(|| format!("cannot read the folder {}", start.display()))?;
    for dir in start.ancestors() {
        let manifest = dir.join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let value: toml::Table = toml::from_str(&text)
            .with_context(|| format!("{} is not valid TOML", manifest.display()))?;
        if value.contains_key("workspace") {
            return Ok(dir.to_path_buf());
        }
    }
    bail!(
        "{} is not inside the course: no Cargo.toml with [workspace] in it or above it",
        start.display()
    )
}

/// Writes `contents` to `path` so that a reader sees the old file or the new one, never half of
/// one: a temporary file in the same folder (so the rename cannot cross file systems), renamed.
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    temp.write_all(contents)
        .with_context(|| format!("cannot write a temporary file in {}", dir.display()))?;
    // Keep the file's permissions: the temporary file is created 0600.
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = temp.as_file().set_permissions(meta.permissions());
    }
    temp.persist(path)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}
