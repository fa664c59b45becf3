//! Tests of the lab proxy (to be written).
