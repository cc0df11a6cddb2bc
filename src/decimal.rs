//! Decimal numbers appended to a buffer without going through a `String`:
//! the one writer every codec uses for lengths, ports, versions and counters.

/// Appends the decimal digits of `n` to `out`.
pub(crate) fn push_decimal(out: &mut Vec<u8>, n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// Appends an IPv4 address in dotted decimal, as `Display` writes it.
pub(crate) fn push_ipv4(out: &mut Vec<u8>, addr: std::net::Ipv4Addr) {
    for (i, octet) in addr.octets().into_iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        push_decimal(out, u64::from(octet));
    }
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
    use super::{push_decimal, push_socket_addr};

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
