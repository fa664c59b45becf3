//! Chapter 2's exercise checks, run against the worked solutions.

use solution_02 as ex;

mod checks;
