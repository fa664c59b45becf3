//! The checks for chapter 3's exercises, written against `crate::ex`: the starter in
//! lessons/ (where they must fail) or the solution (where they must pass).

use std::path::{Path, PathBuf};

use crate::ex::{self, Refusal, Session};

/// A fresh directory with a `sub` folder inside, both canonical (no symlinks, no `..`).
fn playground() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    std::fs::create_dir(tmp.path().join("sub")).unwrap();
    let root = tmp.path().canonicalize().unwrap();
    (tmp, root)
}

/// Where `pwd` runs in this session, as a canonical path.
fn pwd(session: &mut Session) -> PathBuf {
    let reply = session.reply("pwd");
    let text = String::from_utf8(reply).expect("pwd prints a path");
    Path::new(text.trim_end())
        .canonicalize()
        .unwrap_or_else(|e| panic!("pwd replied {text:?}: {e}"))
}

// ---- Exercise 3.1: a `cd` that lasts ----

#[test]
fn cd_to_a_relative_dir_lasts_for_later_commands() {
    let (_tmp, root) = playground();
    let mut session = Session::starting_in(root.clone());
    let reply = session.reply("cd sub");
    assert!(!reply.is_empty(), "a cd must still send a reply");
    assert_eq!(
        pwd(&mut session),
        root.join("sub"),
        "commands after `cd sub` run in sub"
    );
    assert_eq!(session.dir(), root.join("sub"));
}

#[test]
fn cd_takes_absolute_paths_and_dot_dot() {
    let (_tmp, root) = playground();
    let mut session = Session::starting_in(root.clone());
    session.reply(&format!("cd {}", root.join("sub").display()));
    assert_eq!(pwd(&mut session), root.join("sub"));
    session.reply("cd ..");
    assert_eq!(pwd(&mut session), root, "`cd ..` goes back up");
}

#[test]
fn a_bad_cd_is_an_error_and_moves_nothing() {
    let (_tmp, root) = playground();
    std::fs::write(root.join("a-file"), b"").unwrap();
    let mut session = Session::starting_in(root.clone());
    for bad in ["cd no-such-dir", "cd a-file"] {
        let reply = String::from_utf8_lossy(&session.reply(bad)).into_owned();
        assert!(!reply.trim().is_empty(), "{bad:?} must reply with an error");
        assert_eq!(
            session.dir(),
            root,
            "{bad:?} must leave the directory alone"
        );
        assert_eq!(
            pwd(&mut session),
            root,
            "after {bad:?}, commands still run in the session's directory"
        );
    }
}

#[test]
fn cd_alone_goes_home() {
    let (_tmp, root) = playground();
    let mut session = Session::starting_in(root.clone());
    let reply = session.reply("cd");
    match std::env::var_os("HOME") {
        Some(home) => {
            let home = Path::new(&home).canonicalize().unwrap();
            assert_eq!(pwd(&mut session), home, "`cd` alone goes to $HOME");
        }
        None => {
            assert!(
                !reply.is_empty(),
                "without HOME, `cd` must reply with an error"
            );
            assert_eq!(pwd(&mut session), root);
        }
    }
}

#[test]
fn sessions_do_not_share_a_directory() {
    let (_tmp, root) = playground();
    let mut first = Session::starting_in(root.clone());
    let mut second = Session::starting_in(root.clone());
    first.reply("cd sub");
    assert_eq!(
        pwd(&mut second),
        root,
        "another session's cd must not move this one"
    );
    assert_eq!(pwd(&mut first), root.join("sub"));
}

// ---- Exercise 3.2: an allow-list ----

const LIST: &[&str] = &["ls", "cat", "echo"];

#[test]
fn listed_programs_run_with_their_arguments() {
    assert_eq!(ex::allowed("ls -l /tmp", LIST), Ok(()));
    assert_eq!(ex::allowed("echo hello world", LIST), Ok(()));
    assert_eq!(
        ex::allowed("  cat\tnotes.txt", LIST),
        Ok(()),
        "leading whitespace is not part of the program"
    );
}

#[test]
fn a_prefix_is_not_a_program() {
    assert_eq!(
        ex::allowed("lsblk", LIST),
        Err(Refusal::NotAllowed("lsblk".into()))
    );
    assert_eq!(
        ex::allowed("catch-fire --now", LIST),
        Err(Refusal::NotAllowed("catch-fire".into()))
    );
    assert_eq!(
        ex::allowed("rm -rf /", LIST),
        Err(Refusal::NotAllowed("rm".into()))
    );
}

#[test]
fn a_listed_program_cannot_smuggle_another() {
    let cases = [
        ("ls; rm -rf ~", ';'),
        ("ls && rm -rf ~", '&'),
        ("ls & rm -rf ~", '&'),
        ("ls | sh", '|'),
        ("ls\nrm -rf ~", '\n'),
        ("echo $(rm -rf ~)", '$'),
        ("echo `rm -rf ~`", '`'),
        ("echo ${HOME}", '$'),
        ("echo pwned > ~/.bashrc", '>'),
        ("cat < /etc/shadow", '<'),
        ("ls (rm)", '('),
        ("ls \\; rm", '\\'),
    ];
    for (line, first) in cases {
        assert_eq!(
            ex::allowed(line, LIST),
            Err(Refusal::Metacharacter(first)),
            "{line:?}"
        );
    }
}

#[test]
fn an_empty_line_is_refused_as_empty() {
    assert_eq!(ex::allowed("", LIST), Err(Refusal::Empty));
    assert_eq!(ex::allowed(" \t ", LIST), Err(Refusal::Empty));
}
