//! Decimal numbers appended to a buffer without going through a `String`:
//! the one writer every codec uses for lengths, ports, versions and counters.

/// Appends the decimal digits of `n` to `out`.
pub(crate) fn push_decimal(out: &mut Vec<u8>, n: u64) {
    // Most numbers written are small (octets, CSeq numbers, lengths, ports).
    if n < 10 {
        out.push(b'0' + n as u8);
        return;
    }
    let mut digits = [0u8; 20];
    let at = digits_of(n, &mut digits);
    out.extend_from_slice(&digits[at..]);
}

/// Writes the digits of `n` at the end of `digits`; returns where they
/// start.
fn digits_of(n: u64, digits: &mut [u8; 20]) -> usize {
    let mut at = digits.len();
    let mut n = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return at;
        }
    }
}

/// Appends an IPv4 address in dotted decimal, as `Display` writes it.
pub(crate) fn push_ipv4(out: &mut Vec<u8>, addr: std::net::Ipv4Addr) {
    // At most 15 octets, gathered first: one copy into `out`.
    let mut text = [0u8; 15];
    let mut len = 0;
    for (i, octet) in addr.octets().into_iter().enumerate() {
        if i > 0 {
            text[len] = b'.';
            len += 1;
        }
        if octet >= 100 {
            text[len] = b'0' + octet / 100;
            len += 1;
        }
        if octet >= 10 {
            text[len] = b'0' + octet / 10 % 10;
            len += 1;
        }
        text[len] = b'0' + octet % 10;
        len += 1;
    }
    out.extend_from_slice(&text[..len]);
}

/// Appends a socket address as `Display` writes it (`a.b.c.d:port`, or
/// `[v6]:port`).
pub(crate) fn push_socket_addr(out: &mut Vec<u8>, addr: &std::net::SocketAddr) {
    match addr {
        std::net::SocketAddr::V4(v4) => {
            push_ipv4(out, *v4.ip());
            out.push(b':');
            push_decimal(out, u64::from(v4.port()));
        }
        std::net::SocketAddr::V6(_) => {
            use std::io::Write;
            // Writing into a Vec cannot fail.
            let _ = write!(out, "{addr}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{push_decimal, push_ipv4, push_socket_addr};

    #[test]
    fn every_octet_is_written_as_display_writes_it() {
        for o in 0..=255u8 {
            let addr = std::net::Ipv4Addr::new(o, 255 - o, o / 2, o % 10);
            let mut out = b"x".to_vec();
            push_ipv4(&mut out, addr);
            assert_eq!(out, format!("x{addr}").into_bytes());
        }
    }

    #[test]
    fn addresses_are_written_as_display_writes_them() {
        for addr in [
            "0.0.0.0:0",
            "192.0.2.10:5060",
            "255.255.255.255:65535",
            "[2001:db8::1]:5061",
        ] {
            let addr: std::net::SocketAddr = addr.parse().unwrap();
            let mut out = Vec::new();
            push_socket_addr(&mut out, &addr);
            assert_eq!(out, addr.to_string().into_bytes());
        }
    }

    #[test]
    fn writes_the_same_digits_as_display() {
        for n in [0, 1, 9, 10, 99, 100, 65_535, 4_294_967_296, u64::MAX] {
            let mut out = b"x".to_vec();
            push_decimal(&mut out, n);
            assert_eq!(out, format!("x{n}").into_bytes());
        }
    }
}
