//! Chapter 9's exercise checks, run against YOUR code in lessons/lesson-09-event-loop:
//! `cargo course check 9.1` runs exercise 9.1's (the tests in `checks::ex9_1`). Every check
//! fails until its exercise is done.

use lesson_09::exercises as ex;

mod checks;
