//! Showing raw bytes to a human: replies in mismatch reports, buffers in panics.

/// Longest escaped rendering shown before it is cut, so a huge reply cannot bury the report.
const SHOWN_CHARS_MAX: usize = 4000;

/// Printable ASCII as is; `\r`, `\n`, `\t`, `\\`, `"` and every other byte escaped, so
/// CRLFs and binary stay visible and the output is a valid quoted script string.
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &byte in bytes {
        if out.len() >= SHOWN_CHARS_MAX {
            out.push_str(&format!("... ({} bytes in all)", bytes.len()));
            break;
        }
        push_escaped(&mut out, byte);
    }
    out
}

fn push_escaped(out: &mut String, byte: u8) {
    match byte {
        b'\r' => out.push_str("\\r"),
        b'\n' => out.push_str("\\n"),
        b'\t' => out.push_str("\\t"),
        b'\\' => out.push_str("\\\\"),
        b'"' => out.push_str("\\\""),
        0x20..=0x7e => out.push(byte as char),
        _ => out.push_str(&format!("\\x{byte:02x}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_and_binary_are_visible() {
        assert_eq!(escape_bytes(b"+OK\r\n"), "+OK\\r\\n");
        assert_eq!(escape_bytes(b"a\x00\xff\t\"\\"), "a\\x00\\xff\\t\\\"\\\\");
    }

    #[test]
    fn huge_input_is_cut_with_its_length() {
        let shown = escape_bytes(&[b'x'; 10_000]);
        assert!(shown.len() < 4100);
        assert!(shown.ends_with("... (10000 bytes in all)"));
    }
}
