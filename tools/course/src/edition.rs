//! `cargo course student-edition DIR`: a copy of the course without its worked solutions.
//!
//! The copy has the files of this checkout's last commit (`HEAD`, not the working tree: a
//! teacher's own tries at the exercises, uncommitted, never reach the students) except
//! `solutions/` and the checks' `solution.rs` entry points; its book says the solutions are not in this edition;
//! it is a git repository of its own with the tag `course-start`, from which `cargo course
//! reset` reads the untouched starters.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, anyhow, bail};

/// What was written, for the runner to tell.
#[derive(Debug)]
pub struct Written {
    pub dir: PathBuf,
    pub files: usize,
    /// Files whose changes are not committed (changed, deleted or new): the copy has them as
    /// `HEAD` has them, or not at all.
    pub uncommitted: Vec<String>,
}

/// Whether a tracked file stays out of the student edition.
pub fn is_left_out(path: &str) -> bool {
    if path.starts_with("solutions/") {
        return true;
    }
    // tests/lesson-NN/exercises/solution.rs: the checks' entry point against the solutions.
    let parts: Vec<&str> = path.split('/').collect();
    matches!(parts.as_slice(), ["tests", lesson, "exercises", "solution.rs"] if lesson.starts_with("lesson-"))
}

fn run(cmd: &mut Command, what: &str) -> Result<Vec<u8>> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(out.stdout)
}

fn nul_separated(bytes: &[u8]) -> Vec<String> {
    bytes
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

/// Writes the student edition of the course at `root` into `dir`.
pub fn write(root: &Path, dir: &Path) -> Result<Written> {
    if dir.exists() {
        let empty = dir.is_dir()
            && std::fs::read_dir(dir)
                .with_context(|| format!("cannot read {}", dir.display()))?
                .next()
                .is_none();
        if !empty {
            bail!(
                "{} already exists and is not empty: choose a new folder",
                dir.display()
            );
        }
    }
    let inside = Command::new("git")
        .current_dir(root)
        .args(["rev-parse", "--show-toplevel"])
        .stdin(Stdio::null())
        .output();
    match inside {
        Ok(out) if out.status.success() => {}
        _ => bail!(
            "{} is not a git checkout: the student edition copies the files git tracks",
            root.display()
        ),
    }
    // Paths below are relative to the course's folder, which may be a folder of a bigger
    // repository: `prefix` is where it sits in the repository.
    let prefix = String::from_utf8_lossy(&run(
        Command::new("git")
            .current_dir(root)
            .args(["rev-parse", "--show-prefix"]),
        "git rev-parse --show-prefix",
    )?)
    .trim()
    .to_string();
    let listing = run(
        Command::new("git").current_dir(root).args([
            "ls-tree",
            "-r",
            "-z",
            "--full-name",
            "HEAD",
            "--",
            ".",
        ]),
        "git ls-tree HEAD",
    )?;
    // Each entry is "MODE TYPE HASH\tPATH".
    let mut committed = Vec::new();
    for entry in nul_separated(&listing) {
        let (meta, path) = entry
            .split_once('\t')
            .ok_or_else(|| anyhow!("git ls-tree printed {entry:?}"))?;
        let mut meta = meta.split(' ');
        let (mode, hash) = (meta.next().unwrap_or(""), meta.nth(1).unwrap_or(""));
        let path = path.strip_prefix(&prefix).unwrap_or(path).to_string();
        committed.push((mode.to_string(), hash.to_string(), path));
    }
    let uncommitted: Vec<String> = nul_separated(&run(
        Command::new("git").current_dir(root).args([
            "status",
            "--porcelain",
            "-z",
            "--no-renames",
            "--",
            ".",
        ]),
        "git status",
    )?)
    .iter()
    // "XY PATH", PATH relative to the repository's top.
    .filter_map(|line| line.get(3..))
    .map(|path| path.strip_prefix(&prefix).unwrap_or(path).to_string())
    .collect();

    // The copy is a course of its own: inside this one, it would be part of this checkout.
    let absolute = std::path::absolute(dir)
        .with_context(|| format!("cannot tell where {} is", dir.display()))?;
    let inside_root = absolute
        .ancestors()
        .filter_map(|a| a.canonicalize().ok())
        .any(|a| a == root.canonicalize().unwrap_or_else(|_| root.to_path_buf()));
    if inside_root {
        bail!(
            "{} is inside the course ({}): choose a folder outside it, e.g. ../sockets-student",
            dir.display(),
            root.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let dir = dir
        .canonicalize()
        .with_context(|| format!("cannot read {}", dir.display()))?;
    let mut files = 0;
    for (mode, hash, path) in committed.iter().filter(|(_, _, p)| !is_left_out(p)) {
        let to = dir.join(path);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let bytes = run(
            Command::new("git")
                .current_dir(root)
                .args(["cat-file", "blob", hash]),
            &format!("git cat-file blob {hash} ({path})"),
        )?;
        write_entry(&to, mode, &bytes).with_context(|| format!("cannot write {path}"))?;
        files += 1;
    }

    drop_solutions_member(&dir.join("Cargo.toml"))?;
    mark_book(&dir.join("book").join("book.toml"))?;
    // Cargo.lock still lists the solution packages; a `--locked` build (the book's preprocessor
    // runs with --locked) would refuse it. Any cargo command without --locked drops them, and
    // nothing else changes: the dependencies keep their versions.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let metadata = |offline: bool| {
        let mut cmd = Command::new(&cargo);
        cmd.current_dir(&dir)
            .args(["metadata", "--format-version", "1"])
            .stdout(Stdio::null());
        if offline {
            cmd.arg("--offline");
        }
        run(&mut cmd, "cargo metadata (to update Cargo.lock)")
    };
    // Offline first: everything it needs is already in cargo's cache when this checkout builds.
    metadata(true).or_else(|_| metadata(false))?;

    let git_in = |args: &[&str]| {
        let mut cmd = Command::new("git");
        cmd.current_dir(&dir);
        // A fresh machine may have no git identity; the copy's first commit still needs one.
        if !has_git_identity(&dir) {
            cmd.args([
                "-c",
                "user.name=The course",
                "-c",
                "user.email=course@localhost",
            ]);
        }
        cmd.args(["-c", "init.defaultBranch=main"]).args(args);
        cmd
    };
    run(&mut git_in(&["init", "--quiet"]), "git init")?;
    run(&mut git_in(&["add", "--all"]), "git add")?;
    run(
        &mut git_in(&[
            "commit",
            "--quiet",
            "--no-verify",
            "-m",
            "The course, student edition",
        ]),
        "git commit",
    )?;
    run(&mut git_in(&["tag", "course-start"]), "git tag")?;

    Ok(Written {
        dir,
        files,
        uncommitted,
    })
}

/// Writes one committed file with git's mode: 100755 executable, 120000 a symbolic link
/// (its bytes are the target), anything else a plain file.
fn write_entry(to: &Path, mode: &str, bytes: &[u8]) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if mode == "120000" {
            let target = String::from_utf8_lossy(bytes).into_owned();
            std::os::unix::fs::symlink(target, to)?;
            return Ok(());
        }
        std::fs::write(to, bytes)?;
        if mode == "100755" {
            std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o755))?;
        }
    }
    #[cfg(not(unix))]
    {
        let _ = mode;
        std::fs::write(to, bytes)?;
    }
    Ok(())
}

fn has_git_identity(dir: &Path) -> bool {
    ["user.name", "user.email"].iter().all(|key| {
        Command::new("git")
            .current_dir(dir)
            .args(["config", key])
            .stdin(Stdio::null())
            .output()
            .is_ok_and(|o| o.status.success() && !o.stdout.trim_ascii().is_empty())
    })
}

/// Removes "solutions/*" from the workspace's `members`: cargo treats a glob that matches
/// nothing as a missing member, so the copy would not build.
fn drop_solutions_member(manifest: &Path) -> Result<()> {
    let text = std::fs::read_to_string(manifest)
        .with_context(|| format!("cannot read {}", manifest.display()))?;
    let mut out = String::new();
    let mut in_workspace = false;
    let mut changed = false;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            in_workspace = trimmed == "[workspace]";
        }
        if in_workspace && trimmed.starts_with("members") && line.contains("\"solutions/") {
            let mut new = line.to_string();
            for pattern in [", \"solutions/*\"", "\"solutions/*\", ", "\"solutions/*\""] {
                if new.contains(pattern) {
                    new = new.replacen(pattern, "", 1);
                    changed = true;
                    break;
                }
            }
            out.push_str(&new);
        } else {
            out.push_str(line);
        }
    }
    let value: toml::Table = toml::from_str(&out)
        .map_err(|e| anyhow!("the copy's Cargo.toml would not be valid: {e}"))?;
    let still = value
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(|m| m.as_array())
        .is_some_and(|m| {
            m.iter()
                .any(|v| v.as_str().is_some_and(|s| s.starts_with("solutions/")))
        });
    if still {
        bail!(
            "cannot remove solutions/ from the workspace members in {} (write `members` on one line)",
            manifest.display()
        );
    }
    if changed {
        std::fs::write(manifest, out)
            .with_context(|| format!("cannot write {}", manifest.display()))?;
    }
    Ok(())
}

/// Sets `student-edition = true` in book.toml's `[preprocessor.course]`.
fn mark_book(book_toml: &Path) -> Result<()> {
    let text = std::fs::read_to_string(book_toml)
        .with_context(|| format!("cannot read {}", book_toml.display()))?;
    let mut out = String::new();
    let mut found = false;
    let mut in_section = false;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            in_section = trimmed == "[preprocessor.course]";
            out.push_str(line);
            if in_section {
                found = true;
                out.push_str(
                    "# This copy is the student edition: the book leaves the solutions out.\n\
                     student-edition = true\n",
                );
            }
            continue;
        }
        if in_section && trimmed.starts_with("student-edition") {
            continue;
        }
        out.push_str(line);
    }
    if !found {
        bail!(
            "{} has no [preprocessor.course] section to mark as the student edition",
            book_toml.display()
        );
    }
    std::fs::write(book_toml, out)
        .with_context(|| format!("cannot write {}", book_toml.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_out_the_solutions_only() {
        assert!(is_left_out("solutions/solution-05-x/src/lib.rs"));
        assert!(is_left_out("tests/lesson-05/exercises/solution.rs"));
        assert!(!is_left_out("tests/lesson-05/exercises/starter.rs"));
        assert!(!is_left_out("tests/lesson-05/exercises/checks.rs"));
        assert!(!is_left_out("book/src/solutions.md"));
    }
}
