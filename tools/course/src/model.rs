//! Loading and validating `lessons/*/exercises.toml`.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use serde::Deserialize;

/// `core` exercises are the chapter's path; `stretch` ones go further.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Core,
    Stretch,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Core => "core",
            Level::Stretch => "stretch",
        })
    }
}

/// A file of the course, or one anchored region of it. `file` is relative to the workspace root.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRef {
    pub file: String,
    pub anchor: Option<String>,
}

impl fmt::Display for FileRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.anchor {
            Some(anchor) => write!(f, "{} (anchor `{anchor}`)", self.file),
            None => f.write_str(&self.file),
        }
    }
}

/// One exercise, as exercises.toml gives it, plus what its lesson says about it.
#[derive(Debug, Clone)]
pub struct Exercise {
    /// "5.1": chapter.number.
    pub id: String,
    pub chapter_number: u32,
    pub number: u32,
    /// Markdown: may hold backticks. [`Exercise::plain_title`] drops them.
    pub title: String,
    pub level: Level,
    pub socket: bool,
    pub edit: Vec<FileRef>,
    pub solution: Vec<FileRef>,
    pub hint: String,
    /// The lesson's cargo package, e.g. `lesson-05`.
    pub package: String,
    /// The chapter file, relative to the workspace root, e.g. `book/src/ch05-length-prefix.md`.
    pub chapter: String,
    /// The exercises.toml it came from, relative to the workspace root.
    pub source: String,
}

impl Exercise {
    /// The title for a terminal: the markdown's backticks dropped.
    pub fn plain_title(&self) -> String {
        self.title.replace('`', "")
    }

    /// The test module that holds this exercise's checks: `ex5_1`.
    pub fn module(&self) -> String {
        format!("ex{}_{}", self.chapter_number, self.number)
    }

    /// "Exercise 5.1: `recv_exact`", the heading the book gives it, as Markdown (the catalog of
    /// the zh-CN edition translates it as such).
    pub fn heading(&self) -> String {
        format!("Exercise {}: {}", self.id, self.title)
    }

    /// "Exercise 5.1: recv_exact", the heading the book gives it (without markdown).
    pub fn heading_text(&self) -> String {
        format!("Exercise {}: {}", self.id, self.plain_title())
    }
}

/// Every exercise of the course, in course order (lesson by lesson, then as each file lists them).
#[derive(Debug, Clone)]
pub struct Course {
    pub root: PathBuf,
    pub exercises: Vec<Exercise>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LessonFile {
    chapter: String,
    #[serde(default)]
    exercise: Vec<ExerciseEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExerciseEntry {
    id: String,
    title: String,
    level: Level,
    socket: bool,
    edit: Vec<FileRef>,
    solution: Vec<FileRef>,
    hint: String,
}

impl Course {
    /// Loads and validates every `lessons/*/exercises.toml` under `root`, in lesson order.
    /// Every problem found is reported at once, each naming its file.
    pub fn load(root: &Path) -> Result<Course> {
        let (course, warnings) = Course::load_for_learner(root)?;
        if !warnings.is_empty() {
            bail!(
                "the course's exercise list has {} problem{}:\n{}",
                warnings.len(),
                if warnings.len() == 1 { "" } else { "s" },
                warnings
                    .iter()
                    .map(|p| format!("  - {p}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
        Ok(course)
    }

    /// Like [`Course::load`], except that problems in the files the learner edits (a missing
    /// file, an anchor line deleted) are returned as warnings instead of failing: the learner's
    /// own edits must not stop the runner (`reset` is how they repair them).
    pub fn load_for_learner(root: &Path) -> Result<(Course, Vec<String>)> {
        let lessons = root.join("lessons");
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(&lessons)
            .with_context(|| format!("cannot read {}", lessons.display()))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|dir| dir.join("exercises.toml").is_file())
            .collect();
        dirs.sort();

        let mut course = Course {
            root: root.to_path_buf(),
            exercises: Vec::new(),
        };
        let mut problems = Vec::new();
        let mut warnings = Vec::new();
        for dir in dirs {
            if let Err(e) = course.load_lesson(&dir, &mut problems) {
                problems.push(format!("{e:#}"));
            }
        }
        course.validate(&mut problems, &mut warnings);
        if !problems.is_empty() {
            bail!(
                "the course's exercise list has {} problem{}:\n{}",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" },
                problems
                    .iter()
                    .map(|p| format!("  - {p}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
        Ok((course, warnings))
    }

    /// Reads one lesson's exercises.toml; problems that leave the entry usable go to `problems`.
    fn load_lesson(&mut self, dir: &Path, problems: &mut Vec<String>) -> Result<()> {
        let folder = dir.file_name().unwrap_or_default().to_string_lossy();
        let source = format!("lessons/{folder}/exercises.toml");
        let lesson_number: u32 = folder
            .strip_prefix("lesson-")
            .and_then(|rest| rest.split('-').next())
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| {
                anyhow!("{source}: its folder is not named lesson-NN-<slug>, so its chapter number is unknown")
            })?;

        let manifest = dir.join("Cargo.toml");
        let package = read_package_name(&manifest)
            .with_context(|| format!("{source}: cannot read the lesson's package name"))?;

        let text = std::fs::read_to_string(dir.join("exercises.toml"))
            .with_context(|| format!("cannot read {source}"))?;
        let file: LessonFile =
            toml::from_str(&text).map_err(|e| anyhow!("{source} is not valid: {e}"))?;

        if !self.root.join(&file.chapter).is_file() {
            problems.push(format!(
                "{source}: chapter = \"{}\" does not exist",
                file.chapter
            ));
        }
        if file.exercise.is_empty() {
            problems.push(format!("{source}: lists no [[exercise]]"));
        }
        for entry in file.exercise {
            let Some((chapter_number, number)) = parse_id(&entry.id) else {
                problems.push(format!(
                    "{source}: id \"{}\" is not CHAPTER.NUMBER, like \"{lesson_number}.1\"",
                    entry.id
                ));
                continue;
            };
            if chapter_number != lesson_number {
                problems.push(format!(
                    "{source}: exercise {} is in lesson {lesson_number}, so its id must start with \"{lesson_number}.\"",
                    entry.id
                ));
            }
            self.exercises.push(Exercise {
                id: entry.id,
                chapter_number,
                number,
                title: entry.title,
                level: entry.level,
                socket: entry.socket,
                edit: entry.edit,
                solution: entry.solution,
                hint: entry.hint,
                package: package.clone(),
                chapter: file.chapter.clone(),
                source: source.clone(),
            });
        }
        Ok(())
    }

    fn validate(&self, problems: &mut Vec<String>, learner: &mut Vec<String>) {
        let mut seen = HashSet::new();
        let with_solutions = self.has_solutions();
        for ex in &self.exercises {
            let source = &ex.source;
            if !seen.insert(ex.id.clone()) {
                problems.push(format!("{source}: the id {} is used twice", ex.id));
            }
            if ex.title.trim().is_empty() {
                problems.push(format!("{source}: exercise {} has an empty title", ex.id));
            }
            if ex.hint.trim().is_empty() {
                problems.push(format!("{source}: exercise {} has an empty hint", ex.id));
            }
            if ex.edit.is_empty() {
                problems.push(format!("{source}: exercise {} has no `edit` file", ex.id));
            }
            if ex.solution.is_empty() {
                problems.push(format!("{source}: exercise {} has no `solution`", ex.id));
            }
            for file_ref in &ex.edit {
                if let Err(e) = self.check_ref(file_ref) {
                    learner.push(format!("{source}: exercise {}, edit: {e}", ex.id));
                }
            }
            // The student edition has no solutions/: its exercises.toml still names them (the
            // runner says they are not in this edition), so only the full course checks them.
            if with_solutions {
                for file_ref in &ex.solution {
                    if let Err(e) = self.check_ref(file_ref) {
                        problems.push(format!("{source}: exercise {}, solution: {e}", ex.id));
                    }
                }
            }
        }
    }

    /// Succeeds if the file exists, inside the course, with the named anchor in it.
    fn check_ref(&self, file_ref: &FileRef) -> Result<()> {
        let path = Path::new(&file_ref.file);
        if path.is_absolute()
            || path
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            bail!(
                "{} must be a path inside the course, relative to its root",
                file_ref.file
            );
        }
        let text = std::fs::read_to_string(self.root.join(path))
            .map_err(|e| anyhow!("{} cannot be read ({e})", file_ref.file))?;
        if let Some(anchor) = &file_ref.anchor
            && crate::anchor::region(&text, anchor).is_none()
        {
            bail!(
                "{} has no region `// ANCHOR: {anchor}` … `// ANCHOR_END: {anchor}`",
                file_ref.file
            );
        }
        Ok(())
    }

    /// Whether this copy of the course has its worked solutions (the student edition has not).
    pub fn has_solutions(&self) -> bool {
        self.root.join("solutions").is_dir()
    }

    /// The exercise with this id, or an error listing the ids there are.
    pub fn get(&self, id: &str) -> Result<&Exercise> {
        self.exercises.iter().find(|e| e.id == id).ok_or_else(|| {
            if self.exercises.is_empty() {
                anyhow!("there is no exercise {id}: the course has no exercises yet")
            } else {
                anyhow!(
                    "there is no exercise {id}. The exercises are: {}",
                    self.exercises
                        .iter()
                        .map(|e| e.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        })
    }

    /// The exercises of chapter `n`, in order.
    pub fn chapter(&self, n: u32) -> impl Iterator<Item = &Exercise> {
        self.exercises.iter().filter(move |e| e.chapter_number == n)
    }

    /// The chapter file's first `# ` heading, e.g. "5. A length prefix", if it has one.
    pub fn chapter_title(&self, ex: &Exercise) -> Option<String> {
        let text = std::fs::read_to_string(self.root.join(&ex.chapter)).ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix("# "))
            .map(|t| t.trim().replace('`', ""))
    }
}

/// "5.1" → (5, 1).
pub fn parse_id(id: &str) -> Option<(u32, u32)> {
    let (chapter, number) = id.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(chapter) || !digits(number) {
        return None;
    }
    Some((chapter.parse().ok()?, number.parse().ok()?))
}

/// The `name` of a Cargo.toml's `[package]`.
pub fn read_package_name(manifest: &Path) -> Result<String> {
    let text = std::fs::read_to_string(manifest)
        .with_context(|| format!("cannot read {}", manifest.display()))?;
    let value: toml::Table = toml::from_str(&text)
        .with_context(|| format!("{} is not valid TOML", manifest.display()))?;
    value
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("{} has no [package] name", manifest.display()))
}
