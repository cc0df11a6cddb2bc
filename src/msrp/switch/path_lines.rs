//! A leg's two path lines, `To-Path` (towards the participant) and
//! `From-Path` (the switch's URI for the leg), in one allocation: every
//! request the switch sends on the leg writes both, one after the other.

/// `To-Path: ...CRLF` then `From-Path: ...CRLF`.
#[derive(Debug, Clone)]
pub(super) struct PathLines {
    text: Box<[u8]>,
    /// Where the From-Path line starts.
    from_at: u32,
}

impl PathLines {
    /// The lines `to_line` and `from_line`, each with its CRLF.
    pub(super) fn new(to_line: &[u8], from_line: &[u8]) -> Self {
        let mut text = Vec::with_capacity(to_line.len() + from_line.len());
        text.extend_from_slice(to_line);
        text.extend_from_slice(from_line);
        // A path line a leg's configuration let in is far shorter than
        // 4 GiB.
        let from_at = u32::try_from(to_line.len()).unwrap_or(u32::MAX);
        PathLines {
            text: text.into_boxed_slice(),
            from_at,
        }
    }

    fn split(&self) -> usize {
        (self.from_at as usize).min(self.text.len())
    }

    /// The To-Path line, towards the participant.
    pub(super) fn remote_line(&self) -> &[u8] {
        self.text.get(..self.split()).unwrap_or_default()
    }

    /// The From-Path line, with the switch's URI for the leg.
    pub(super) fn local_line(&self) -> &[u8] {
        self.text.get(self.split()..).unwrap_or_default()
    }

    /// Both lines, To-Path first.
    pub(super) fn both(&self) -> &[u8] {
        &self.text
    }

    /// The bytes it holds.
    pub(super) fn held_bytes(&self) -> usize {
        self.text.len()
    }
}

#[cfg(test)]
mod tests {
    use super::PathLines;

    #[test]
    fn the_lines_come_back_apart_and_together() {
        let lines = PathLines::new(
            b"To-Path: msrp://a:1/x;tcp\r\n",
            b"From-Path: msrp://b:2/y;tcp\r\n",
        );
        assert_eq!(lines.remote_line(), b"To-Path: msrp://a:1/x;tcp\r\n");
        assert_eq!(lines.local_line(), b"From-Path: msrp://b:2/y;tcp\r\n");
        assert_eq!(
            lines.both(),
            b"To-Path: msrp://a:1/x;tcp\r\nFrom-Path: msrp://b:2/y;tcp\r\n"
        );
        assert_eq!(lines.held_bytes(), lines.both().len());
    }
}
