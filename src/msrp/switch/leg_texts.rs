//! A leg's texts in one allocation: its two path lines, `To-Path` (towards
//! the participant) and `From-Path` (the switch's URI for the leg), which
//! every request the switch sends on the leg writes one after the other,
//! and the CPIM identity its messages are sent under.

/// `To-Path: ...CRLF`, `From-Path: ...CRLF`, then the identity.
#[derive(Debug, Clone)]
pub(super) struct LegTexts {
    /// Bytes (the lines are read far more often than the identity, and a
    /// byte slice needs no check of character boundaries).
    text: Box<[u8]>,
    /// Where the From-Path line starts.
    from_at: u32,
    /// Where the identity starts.
    identity_at: u32,
}

impl LegTexts {
    /// The lines `to_line` and `from_line` (each with its CRLF) and the
    /// identity.
    pub(super) fn new(to_line: &str, from_line: &str, identity: &str) -> Self {
        let mut text = Vec::with_capacity(to_line.len() + from_line.len() + identity.len());
        text.extend_from_slice(to_line.as_bytes());
        text.extend_from_slice(from_line.as_bytes());
        text.extend_from_slice(identity.as_bytes());
        // The texts a leg's configuration let in are far shorter than
        // 4 GiB.
        let at = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        LegTexts {
            text: text.into_boxed_slice(),
            from_at: at(to_line.len()),
            identity_at: at(to_line.len() + from_line.len()),
        }
    }

    fn part(&self, from: u32, to: usize) -> &[u8] {
        self.text.get(from as usize..to).unwrap_or_default()
    }

    /// The To-Path line, towards the participant.
    pub(super) fn remote_line(&self) -> &[u8] {
        self.part(0, self.from_at as usize)
    }

    /// The From-Path line, with the switch's URI for the leg.
    pub(super) fn local_line(&self) -> &[u8] {
        self.part(self.from_at, self.identity_at as usize)
    }

    /// Both lines, To-Path first.
    pub(super) fn both(&self) -> &[u8] {
        self.part(0, self.identity_at as usize)
    }

    /// The CPIM `From` of the messages the leg sends (its identity, or the
    /// anonymous one): the text it was made from.
    pub(super) fn identity(&self) -> &str {
        std::str::from_utf8(self.part(self.identity_at, self.text.len())).unwrap_or_default()
    }

    /// The bytes it holds.
    pub(super) fn held_bytes(&self) -> usize {
        self.text.len()
    }
}

#[cfg(test)]
mod tests {
    use super::LegTexts;

    #[test]
    fn the_texts_come_back_apart_and_together() {
        let texts = LegTexts::new(
            "To-Path: msrp://a:1/x;tcp\r\n",
            "From-Path: msrp://b:2/y;tcp\r\n",
            "sip:alice@example.com",
        );
        assert_eq!(texts.remote_line(), b"To-Path: msrp://a:1/x;tcp\r\n");
        assert_eq!(texts.local_line(), b"From-Path: msrp://b:2/y;tcp\r\n");
        assert_eq!(
            texts.both(),
            b"To-Path: msrp://a:1/x;tcp\r\nFrom-Path: msrp://b:2/y;tcp\r\n"
        );
        assert_eq!(texts.identity(), "sip:alice@example.com");
        assert_eq!(texts.held_bytes(), texts.both().len() + 21);
    }
}
