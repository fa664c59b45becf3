//! Chapter 3's exercise checks, run against YOUR code in lessons/lesson-03-remote-shell:
//! `cargo course check 3.1` runs the checks of exercise 3.1 (module `ex3_1`), and so on. Every
//! check fails until its exercise is done.

use lesson_03::exercises as ex;

mod checks;
