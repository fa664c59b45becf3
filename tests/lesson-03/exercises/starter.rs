//! Chapter 3's exercise checks, run against YOUR code in lessons/lesson-03-remote-shell:
//! `cargo exercise lesson-03`. Every check fails until its exercise is done.

use lesson_03::exercises as ex;

mod checks;
