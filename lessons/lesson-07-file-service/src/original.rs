//! The original tutorial's "fixed-length" header, replayed in Rust so the chapter can show what
//! it really sends.
//!
//! The Python meant to pad every header to 300 bytes, so that the receiver could read exactly
//! 300 bytes and know where the file starts. Its padding line calls `str.zfill`, which *returns*
//! a padded copy, and drops that copy on the floor: Python strings cannot be changed in place.
//! So the header goes out as long as its JSON happens to be, and the receiver's `recv(1024)`
//! takes the header and the first bytes of the file together.

/// The original's header dict as Python's `json.dumps` writes it (`", "` and `": "` between
/// items; the name must be ASCII here, which `json.dumps` would otherwise escape).
pub fn python_json(filename: &str, file_size: u64, fill: &str) -> String {
    format!(r#"{{"filename": "{filename}", "file_size": {file_size}, "fill": "{fill}"}}"#)
}

/// Python's `str.zfill(width)`: the string padded on the left with `0` to `width` characters.
pub fn zfill(text: &str, width: usize) -> String {
    format!("{text:0>width$}")
}

// ANCHOR: as_written
/// `pack_header` as the original wrote it.
pub fn pack_header_as_written(filename: &str, file_size: u64, header_size: usize) -> Vec<u8> {
    let fill = String::new();
    let json = python_json(filename, file_size, &fill);
    if json.len() < header_size {
        // header['fill'].zfill(header_size - len(...)): the padded string is returned, and
        // nobody keeps it. `fill` is still "".
        let _thrown_away = zfill(&fill, header_size - json.len());
    }
    python_json(filename, file_size, &fill).into_bytes()
}
// ANCHOR_END: as_written

// ANCHOR: as_meant
/// What it meant: a `fill` long enough to make the JSON exactly `header_size` bytes.
pub fn pack_header_as_meant(filename: &str, file_size: u64, header_size: usize) -> Vec<u8> {
    let bare = python_json(filename, file_size, "").len();
    let fill = zfill("", header_size.saturating_sub(bare));
    python_json(filename, file_size, &fill).into_bytes()
}
// ANCHOR_END: as_meant

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_header_is_not_padded_and_the_meant_one_is() {
        let written = pack_header_as_written("a.txt", 13, 300);
        assert_eq!(
            written,
            br#"{"filename": "a.txt", "file_size": 13, "fill": ""}"#
        );
        assert_eq!(pack_header_as_meant("a.txt", 13, 300).len(), 300);
        assert_eq!(zfill("7", 3), "007");
    }
}
