//! The wire log as a pcap capture (the classic libpcap format,
//! `LINKTYPE_ETHERNET`), with synthetic Ethernet, IPv4, UDP and TCP headers
//! around the bytes that crossed: Wireshark and tshark dissect SIP over UDP
//! and TCP, and MSRP over TCP (decode the MSRP ports as MSRP when its
//! heuristic does not pick them up: `-d tcp.port==2855,msrp`).
//!
//! Every header length and checksum is computed. TCP connections get a
//! three-way handshake when opened (or before their first SIP segment) and
//! a FIN or RST when closed; their payload is written in the segments the
//! simulator cut the streams into, and sequence numbers follow the bytes
//! sent. Records between IPv6 addresses are left out.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use super::stream::Segment;
use super::wire::{Entry, Fate, WireKind, WireRecord};
use crate::transaction::Transport;

/// The capture's clock: the simulation starts at this UNIX time
/// (2026-01-01T00:00:00Z), so that captures of a seed are byte-identical.
const EPOCH_SECS: u64 = 1_767_225_600;
/// Largest TCP payload of one synthetic segment.
const MSS: usize = 1400;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;
const FIN: u8 = 0x01;

/// Sequence numbers of one TCP connection, by direction.
#[derive(Debug, Clone, Copy)]
struct Flow {
    /// Next sequence number from the initiator, and from the other side.
    next: [u32; 2],
    /// The initiator's address.
    initiator: SocketAddr,
}

/// Writes the pcap capture of `wire` and `segments`, in `order`.
pub(crate) fn write(wire: &[WireRecord], segments: &[Segment], order: &[Entry]) -> Vec<u8> {
    let mut w = Writer {
        out: Vec::with_capacity(64 * wire.len() + 24),
        flows: HashMap::new(),
        ip_id: 0,
    };
    w.out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    w.out.extend_from_slice(&2u16.to_le_bytes());
    w.out.extend_from_slice(&4u16.to_le_bytes());
    w.out.extend_from_slice(&0i32.to_le_bytes());
    w.out.extend_from_slice(&0u32.to_le_bytes());
    w.out.extend_from_slice(&65_535u32.to_le_bytes());
    w.out.extend_from_slice(&1u32.to_le_bytes()); // LINKTYPE_ETHERNET
    for entry in order {
        match entry {
            Entry::Wire(i) => {
                let r = &wire[*i];
                let (SocketAddr::V4(_), SocketAddr::V4(_)) = (r.from, r.to) else {
                    continue;
                };
                let copies = if r.fate == Fate::Duplicated { 2 } else { 1 };
                for _ in 0..copies {
                    w.record(r);
                }
            }
            Entry::Segment(i) => {
                let s = &segments[*i];
                if !w.flows.contains_key(&flow_key(s.from, s.to)) {
                    w.handshake(s.at, s.from, s.to);
                }
                w.data(s.at, s.from, s.to, &s.bytes);
            }
            Entry::Event(_) => {}
        }
    }
    w.out
}

struct Writer {
    out: Vec<u8>,
    flows: HashMap<(SocketAddr, SocketAddr), Flow>,
    ip_id: u16,
}

fn flow_key(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

impl Writer {
    fn record(&mut self, r: &WireRecord) {
        let at = r.at;
        match r.kind {
            WireKind::Sip(Transport::Udp) => self.udp(at, r.from, r.to, &r.bytes),
            // A stream's payload is written from its segments.
            WireKind::Sip(_) | WireKind::Msrp => {}
            // A SYN that never arrived (a node cut off).
            WireKind::Open if r.fate == Fate::Lost => self.tcp(at, r.from, r.to, 0, 0, SYN, &[]),
            WireKind::Open => self.handshake(at, r.from, r.to),
            WireKind::Refused => {
                self.tcp(at, r.from, r.to, 0, 0, SYN, &[]);
                self.tcp(at, r.to, r.from, 0, 1, RST | ACK, &[]);
            }
            WireKind::Close => {
                if let Some((seq, ack)) = self.numbers(r.from, r.to) {
                    self.tcp(at, r.from, r.to, seq, ack, FIN | ACK, &[]);
                    self.advance(r.from, r.to, 1);
                    self.tcp(at, r.to, r.from, ack, seq.wrapping_add(1), ACK, &[]);
                }
            }
            WireKind::Reset => {
                if let Some((seq, ack)) = self.numbers(r.from, r.to) {
                    self.tcp(at, r.from, r.to, seq, ack, RST | ACK, &[]);
                }
                self.flows.remove(&flow_key(r.from, r.to));
            }
        }
    }

    fn handshake(&mut self, at: Duration, from: SocketAddr, to: SocketAddr) {
        let isn_a = 1000;
        let isn_b = 5000;
        self.tcp(at, from, to, isn_a, 0, SYN, &[]);
        self.tcp(at, to, from, isn_b, isn_a + 1, SYN | ACK, &[]);
        self.tcp(at, from, to, isn_a + 1, isn_b + 1, ACK, &[]);
        self.flows.insert(
            flow_key(from, to),
            Flow {
                next: [isn_a + 1, isn_b + 1],
                initiator: from,
            },
        );
    }

    /// This direction's next sequence number and the other's.
    fn numbers(&self, from: SocketAddr, to: SocketAddr) -> Option<(u32, u32)> {
        let flow = self.flows.get(&flow_key(from, to))?;
        let dir = usize::from(flow.initiator != from);
        Some((flow.next[dir], flow.next[1 - dir]))
    }

    fn advance(&mut self, from: SocketAddr, to: SocketAddr, by: usize) {
        if let Some(flow) = self.flows.get_mut(&flow_key(from, to)) {
            let dir = usize::from(flow.initiator != from);
            flow.next[dir] = flow.next[dir].wrapping_add(u32::try_from(by).unwrap_or(u32::MAX));
        }
    }

    fn data(&mut self, at: Duration, from: SocketAddr, to: SocketAddr, bytes: &[u8]) {
        for chunk in bytes.chunks(MSS) {
            let Some((seq, ack)) = self.numbers(from, to) else {
                return;
            };
            self.tcp(at, from, to, seq, ack, PSH | ACK, chunk);
            self.advance(from, to, chunk.len());
        }
    }

    fn udp(&mut self, at: Duration, from: SocketAddr, to: SocketAddr, payload: &[u8]) {
        let (Some(src), Some(dst)) = (v4(from), v4(to)) else {
            return;
        };
        // The largest datagram an IPv4 packet carries.
        let payload = &payload[..payload.len().min(65_507)];
        let len = 8 + payload.len();
        let mut seg = Vec::with_capacity(len);
        seg.extend_from_slice(&from.port().to_be_bytes());
        seg.extend_from_slice(&to.port().to_be_bytes());
        seg.extend_from_slice(&(len as u16).to_be_bytes());
        seg.extend_from_slice(&[0, 0]);
        seg.extend_from_slice(payload);
        let sum = transport_checksum(src, dst, 17, &seg);
        // An all-zero UDP checksum means "none": send 0xffff instead.
        let sum = if sum == 0 { 0xffff } else { sum };
        seg[6..8].copy_from_slice(&sum.to_be_bytes());
        self.packet(at, src, dst, 17, &seg);
    }

    #[allow(clippy::too_many_arguments)]
    fn tcp(
        &mut self,
        at: Duration,
        from: SocketAddr,
        to: SocketAddr,
        seq: u32,
        ack: u32,
        flags: u8,
        payload: &[u8],
    ) {
        let (Some(src), Some(dst)) = (v4(from), v4(to)) else {
            return;
        };
        let mut seg = Vec::with_capacity(20 + payload.len());
        seg.extend_from_slice(&from.port().to_be_bytes());
        seg.extend_from_slice(&to.port().to_be_bytes());
        seg.extend_from_slice(&seq.to_be_bytes());
        seg.extend_from_slice(&ack.to_be_bytes());
        seg.push(5 << 4);
        seg.push(flags);
        seg.extend_from_slice(&65_535u16.to_be_bytes());
        seg.extend_from_slice(&[0, 0, 0, 0]);
        seg.extend_from_slice(payload);
        let sum = transport_checksum(src, dst, 6, &seg);
        seg[16..18].copy_from_slice(&sum.to_be_bytes());
        self.packet(at, src, dst, 6, &seg);
    }

    fn packet(&mut self, at: Duration, src: Ipv4Addr, dst: Ipv4Addr, proto: u8, seg: &[u8]) {
        self.ip_id = self.ip_id.wrapping_add(1);
        let total = 20 + seg.len();
        let mut ip = [0u8; 20];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&(total as u16).to_be_bytes());
        ip[4..6].copy_from_slice(&self.ip_id.to_be_bytes());
        ip[6] = 0x40; // don't fragment
        ip[8] = 64;
        ip[9] = proto;
        ip[12..16].copy_from_slice(&src.octets());
        ip[16..20].copy_from_slice(&dst.octets());
        let sum = checksum(&[&ip]);
        ip[10..12].copy_from_slice(&sum.to_be_bytes());
        let frame_len = 14 + total;
        let secs = EPOCH_SECS + at.as_secs();
        self.out
            .extend_from_slice(&u32::try_from(secs).unwrap_or(u32::MAX).to_le_bytes());
        self.out
            .extend_from_slice(&at.subsec_micros().to_le_bytes());
        self.out
            .extend_from_slice(&(frame_len as u32).to_le_bytes());
        self.out
            .extend_from_slice(&(frame_len as u32).to_le_bytes());
        self.out.extend_from_slice(&mac(dst));
        self.out.extend_from_slice(&mac(src));
        self.out.extend_from_slice(&0x0800u16.to_be_bytes());
        self.out.extend_from_slice(&ip);
        self.out.extend_from_slice(seg);
    }
}

fn v4(addr: SocketAddr) -> Option<Ipv4Addr> {
    match addr {
        SocketAddr::V4(a) => Some(*a.ip()),
        SocketAddr::V6(_) => None,
    }
}

/// A locally administered MAC address made of the IPv4 address.
fn mac(ip: Ipv4Addr) -> [u8; 6] {
    let o = ip.octets();
    [0x02, 0x00, o[0], o[1], o[2], o[3]]
}

/// The checksum of a UDP or TCP segment with its IPv4 pseudo-header.
fn transport_checksum(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, seg: &[u8]) -> u16 {
    let len = (seg.len() as u16).to_be_bytes();
    let pseudo = [
        src.octets()[0],
        src.octets()[1],
        src.octets()[2],
        src.octets()[3],
        dst.octets()[0],
        dst.octets()[1],
        dst.octets()[2],
        dst.octets()[3],
        0,
        proto,
        len[0],
        len[1],
    ];
    checksum(&[&pseudo, seg])
}

/// The Internet checksum (RFC 1071) of the concatenated parts (each part
/// but the last of even length).
fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    for part in parts {
        let mut words = part.chunks(2);
        for w in &mut words {
            let word = match w {
                [a, b] => u16::from_be_bytes([*a, *b]),
                [a] => u16::from_be_bytes([*a, 0]),
                _ => 0,
            };
            sum = sum.wrapping_add(u32::from(word));
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_of_rfc1071_example() {
        // RFC 1071 §3: 0001 f203 f4f5 f6f7 sums to ddf2.
        let bytes = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum(&[&bytes]), !0xddf2);
    }
}
