//! Messages that arrive whole in one input, taken where they lie: parsed in
//! the input (not copied into the leg's stream parser first), with the same
//! outcome as through the parser, which gets everything else.

use std::time::Instant;

use super::{begin, take_body, LegId, MsrpSwitch};

impl MsrpSwitch {
    /// Handles the whole messages at the front of `data` that leg `id`
    /// sends while its parser stands between messages (see
    /// [`MsrpStreamParser::parse_whole`](crate::msrp::MsrpStreamParser)).
    /// Gives the bytes left for the parser.
    pub(super) fn whole_messages<'d>(
        &mut self,
        id: LegId,
        mut data: &'d [u8],
        now: Instant,
    ) -> &'d [u8] {
        while !data.is_empty() {
            let Some(leg) = self.legs.get_mut(&id) else {
                break;
            };
            if leg.failed {
                break;
            }
            let Some((message, used)) = leg.parser.parse_whole(data) else {
                break;
            };
            data = data.get(used..).unwrap_or_default();
            let has_body = message.body.is_some();
            begin(
                &mut self.shared,
                &mut leg.receiving,
                (&leg.local, leg.one_uri_remote),
                &message.head,
                has_body,
            );
            let body = message.body.unwrap_or_default();
            if !body.is_empty() && !take_body(&mut self.shared, &mut leg.receiving, body) {
                // Over the budget: the leg's input is ignored from now on.
                self.exceeded(id);
                return &[];
            }
            let line_starts = leg.parser.body_has_line_starts();
            if let Some(rx) = leg.receiving.as_mut() {
                rx.line_starts = line_starts;
            }
            self.finish(id, message.flag, now);
        }
        data
    }
}
