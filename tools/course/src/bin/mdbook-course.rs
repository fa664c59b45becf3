//! The book's preprocessor: mdBook runs it (book/book.toml, `[preprocessor.course]`) to expand
//! the `{{#course …}}` directives from lessons/*/exercises.toml. See `course::book`.
//!
//! `mdbook-course supports RENDERER` answers yes for every renderer; otherwise it reads
//! `[context, book]` as JSON on stdin and writes the book to stdout. Problems go to stderr, each
//! with its chapter, and make it exit 1, so that `mdbook build` fails.

use std::io::{Read, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    // `--after-gettext`: the second pass, after mdbook-gettext (see course::book::run_after_gettext).
    let after_gettext = args.first().map(String::as_str) == Some("--after-gettext");
    if after_gettext {
        args.remove(0);
    }
    if args.first().map(String::as_str) == Some("supports") {
        // Directives expand to markdown, which every renderer reads.
        return ExitCode::SUCCESS;
    }
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        eprintln!("mdbook-course: cannot read mdBook's input: {e}");
        return ExitCode::FAILURE;
    }
    if after_gettext {
        return match course::book::run_after_gettext(&input) {
            Ok(book) => write_book(&book),
            Err(e) => {
                eprintln!("mdbook-course --after-gettext: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    match course::book::run(&input) {
        Ok(Ok(book)) => write_book(&book),
        Ok(Err(errors)) => {
            for e in &errors {
                eprintln!("mdbook-course: {e}");
            }
            eprintln!(
                "mdbook-course: {} problem{} with the {{{{#course}}}} directives (see above)",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("mdbook-course: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Hands the book back to mdBook, as JSON on stdout.
fn write_book(book: &serde_json::Value) -> ExitCode {
    let mut out = std::io::stdout().lock();
    if serde_json::to_writer(&mut out, book).is_err() || out.flush().is_err() {
        eprintln!("mdbook-course: cannot write the book to mdBook");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
