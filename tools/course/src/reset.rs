//! `cargo course reset N.M`: put back an exercise's untouched starter, and nothing else.

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, anyhow, bail};

use crate::{Course, Exercise};

/// The git refs that may hold the untouched starter, first match wins: the tag the student
/// edition makes, the branch the checkout came from, the last commit.
pub const STARTER_REFS: &[&str] = &["course-start", "@{upstream}", "HEAD"];

/// What a reset did, for the runner to tell.
#[derive(Debug)]
pub struct Done {
    /// The ref the starter was read from.
    pub git_ref: String,
    /// Each edit entry, as "file (anchor `x`)" or "file", and whether it changed.
    pub entries: Vec<(String, bool)>,
}

fn git(root: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(root).stdin(Stdio::null());
    cmd
}

/// The first of [`STARTER_REFS`] that names a commit here.
pub fn starter_ref(root: &Path) -> Result<String> {
    let inside = git(root)
        .args(["rev-parse", "--is-inside-work-tree"])
        .stderr(Stdio::null())
        .output();
    match inside {
        Err(e) => bail!("cannot run git ({e}): reset reads the untouched starter from git"),
        Ok(out) if !out.status.success() => bail!(
            "{} is not a git checkout: reset reads the untouched starter from git",
            root.display()
        ),
        Ok(_) => {}
    }
    for name in STARTER_REFS {
        let ok = git(root)
            .args(["rev-parse", "--verify", "--quiet"])
            .arg(format!("{name}^{{commit}}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Ok((*name).to_string());
        }
    }
    bail!(
        "none of the git refs {} exists here, so there is no untouched starter to read",
        STARTER_REFS.join(", ")
    )
}

/// `git show REF:FILE`.
fn file_at(root: &Path, git_ref: &str, file: &str) -> Result<String> {
    let out = git(root)
        .arg("show")
        .arg(format!("{git_ref}:./{file}"))
        .output()
        .context("cannot run git")?;
    if !out.status.success() {
        bail!(
            "{file} is not in git's {git_ref}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    String::from_utf8(out.stdout).map_err(|_| anyhow!("{file} in {git_ref} is not UTF-8 text"))
}

/// Puts back `ex`'s starter: each `edit` entry's region (or whole file) from the starter ref.
/// Every new file is worked out before any is written, so an error changes nothing.
pub fn reset(course: &Course, ex: &Exercise) -> Result<Done> {
    let root = &course.root;
    let git_ref = starter_ref(root)?;
    // File → (its text now, its new text), in the order the entries name them.
    let mut files: Vec<(String, String, String)> = Vec::new();
    let mut entries = Vec::new();
    for file_ref in &ex.edit {
        let starter = file_at(root, &git_ref, &file_ref.file)?;
        let index = match files.iter().position(|(f, _, _)| f == &file_ref.file) {
            Some(i) => i,
            None => {
                let path = root.join(&file_ref.file);
                // A deleted file comes back whole.
                let now = match std::fs::read_to_string(&path) {
                    Ok(text) => text,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
                    Err(e) => {
                        return Err(e).with_context(|| format!("cannot read {}", file_ref.file));
                    }
                };
                files.push((file_ref.file.clone(), now.clone(), now));
                files.len() - 1
            }
        };
        let text = &mut files[index].2;
        let before = text.clone();
        match &file_ref.anchor {
            None => *text = starter,
            Some(anchor) => {
                let from = crate::anchor::region(&starter, anchor).ok_or_else(|| {
                    anyhow!("{} in {git_ref} has no anchor `{anchor}`", file_ref.file)
                })?;
                let to = crate::anchor::region(text, anchor).ok_or_else(|| {
                    anyhow!(
                        "{} no longer has the lines `// ANCHOR: {anchor}` and `// ANCHOR_END: {anchor}`, \
                         so reset cannot tell which lines are the exercise's. Put them back around \
                         your code (or restore the file with `git checkout {git_ref} -- {}`)",
                        file_ref.file,
                        file_ref.file
                    )
                })?;
                text.replace_range(to, &starter[from]);
            }
        }
        entries.push((file_ref.to_string(), *text != before));
    }
    for (file, old, new) in &files {
        if old != new || !root.join(file).exists() {
            crate::write_atomically(&root.join(file), new.as_bytes())?;
        }
    }
    Ok(Done { git_ref, entries })
}
