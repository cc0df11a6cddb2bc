//! [`Node`] for the SIP [`UserAgent`].

use std::net::SocketAddr;
use std::time::Instant;

use oma_im::dialog::{Event, Input, Output, UserAgent};
use oma_im::transaction::Transport;

use super::{Node, Polled};

impl Node for UserAgent {
    type Event = Event;

    fn deliver(&mut self, bytes: &[u8], source: SocketAddr, transport: Transport, now: Instant) {
        self.handle_input(
            Input::Datagram {
                bytes,
                source,
                transport,
            },
            now,
        );
    }

    fn handle_timeout(&mut self, now: Instant) {
        UserAgent::handle_timeout(self, now);
    }

    fn poll(&mut self) -> Option<Polled<Event>> {
        self.poll_output().map(|o| match o {
            Output::Transmit(t) => Polled::Transmit(t),
            Output::Event(e) => Polled::Event(e),
        })
    }

    fn poll_timeout(&self) -> Option<Instant> {
        UserAgent::poll_timeout(self)
    }

    fn is_idle(&self) -> bool {
        UserAgent::is_idle(self)
    }
}
