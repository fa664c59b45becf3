//! What the learner has done: `.course/progress.toml` at the workspace root.
//!
//! A pass is recorded with a fingerprint of the code the exercise asks to edit (its anchored
//! regions, or whole files). An exercise counts as done only while that code is still the code
//! that passed: edit it afterwards and it is pending again until it is checked again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

use crate::{Course, Exercise};

/// Where an exercise stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Done,
    Pending,
    /// It passed once, but its code has changed since: pending until checked again.
    Changed,
}

impl Status {
    pub fn is_done(self) -> bool {
        self == Status::Done
    }

    /// "done" or "pending", as `list --json` reports it.
    pub fn word(self) -> &'static str {
        match self {
            Status::Done => "done",
            Status::Pending | Status::Changed => "pending",
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    /// Exercise id → the fingerprint of its code when it passed.
    #[serde(default)]
    passed: BTreeMap<String, String>,
}

/// The progress record of one copy of the course.
#[derive(Debug)]
pub struct Progress {
    path: PathBuf,
    file: File,
}

impl Progress {
    pub fn path(root: &Path) -> PathBuf {
        root.join(".course").join("progress.toml")
    }

    /// Reads the record; a missing file is an empty record.
    pub fn load(root: &Path) -> Result<Progress> {
        let path = Progress::path(root);
        let file = match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).with_context(|| {
                format!(
                    "{} is damaged (delete it to start the record again)",
                    path.display()
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => File::default(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        Ok(Progress { path, file })
    }

    pub fn save(&self) -> Result<()> {
        let dir = self.path.parent().expect("progress.toml is in .course/");
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let text = format!(
            "# Your progress: the exercises that passed `cargo course check`, each with a\n\
             # fingerprint of your code when it passed. Written by `cargo course`; safe to delete.\n{}",
            toml::to_string(&self.file).context("cannot write the progress record")?
        );
        crate::write_atomically(&self.path, text.as_bytes())
    }

    pub fn status(&self, course: &Course, ex: &Exercise) -> Status {
        match self.file.passed.get(&ex.id) {
            None => Status::Pending,
            Some(recorded) => match fingerprint(course, ex) {
                Some(now) if &now == recorded => Status::Done,
                _ => Status::Changed,
            },
        }
    }

    /// Records a pass of `ex` with its code as it is now.
    pub fn record_pass(&mut self, course: &Course, ex: &Exercise) {
        match fingerprint(course, ex) {
            Some(print) => {
                self.file.passed.insert(ex.id.clone(), print);
            }
            None => {
                self.file.passed.remove(&ex.id);
            }
        }
    }

    pub fn forget(&mut self, id: &str) {
        self.file.passed.remove(id);
    }
}

/// The fingerprint of the code `ex` asks the learner to edit: an MD5 of each `edit` entry's
/// region (or whole file), with the entry's name, in order. `None` if a file or an anchor is
/// missing: such code cannot be the code that passed.
pub fn fingerprint(course: &Course, ex: &Exercise) -> Option<String> {
    let mut hash = Md5::new();
    for file_ref in &ex.edit {
        let text = std::fs::read_to_string(course.root.join(&file_ref.file)).ok()?;
        let part = match &file_ref.anchor {
            Some(anchor) => &text[crate::anchor::region(&text, anchor)?],
            None => &text[..],
        };
        hash.update(file_ref.file.as_bytes());
        hash.update([0]);
        hash.update(file_ref.anchor.as_deref().unwrap_or("").as_bytes());
        hash.update([0]);
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part.as_bytes());
    }
    Some(hash.finalize().iter().map(|b| format!("{b:02x}")).collect())
}
