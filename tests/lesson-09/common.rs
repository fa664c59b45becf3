//! What lesson 9's test files share (each includes this file with `#[path]`): a server on a
//! chosen engine, and the macro that runs tests on both engines, `poll` (rustix) and
//! `polling` (epoll).

#![allow(dead_code)]

use testkit::Server;

pub const BIN: &str = env!("CARGO_BIN_EXE_lesson-09");

/// Lesson 9's server on `engine`, with `extra` flags, on a port from the OS.
pub fn server(engine: &str, extra: &[&str]) -> Server {
    testkit::chat::server(BIN, &[&["--engine", engine], extra].concat())
}

/// Runs tests on both engines, in modules `poll` and `polling`: each function named under
/// `fns` takes the engine; each scenario named under `scenarios` (of
/// `testkit::chat::scenario`) takes a way to start the server, here on that engine.
macro_rules! on_both_engines {
    (fns: [$($name:ident),* $(,)?], scenarios: [$($scenario:ident),* $(,)?] $(,)?) => {
        mod poll {
            $( #[test] fn $name() { super::$name("poll") } )*
            $( #[test] fn $scenario() {
                testkit::chat::scenario::$scenario(|extra| $crate::common::server("poll", extra));
            } )*
        }
        mod polling {
            $( #[test] fn $name() { super::$name("polling") } )*
            $( #[test] fn $scenario() {
                testkit::chat::scenario::$scenario(|extra| $crate::common::server("polling", extra));
            } )*
        }
    };
}

pub(crate) use on_both_engines;
