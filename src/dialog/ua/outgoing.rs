//! The requests the UA core writes: out-of-dialog requests from a
//! [`RequestSpec`], in-dialog requests (§12.2.1.1) and the ACK of a 2xx
//! (§13.2.2.4).

use super::{Config, DialogRequestSpec, RequestSpec, Routing};
use crate::decimal::{push_decimal, push_socket_addr};
use crate::dialog::Dialog;
use crate::rng::Rng;
use crate::sip::{
    check_appended, Appended, HeaderName, Layout, Present, SipError, SipErrorKind, Uri,
};
use crate::transaction::{MessageWriter, OwnedMessage, MAGIC_COOKIE};
use std::borrow::Cow;

/// A new branch: the magic cookie and a random token (§8.1.1.7).
pub(crate) fn new_branch(rng: &mut Rng) -> String {
    let mut branch = String::with_capacity(BRANCH_LEN);
    branch.push_str(MAGIC_COOKIE);
    rng.fill_token(&mut branch, BRANCH_LEN - MAGIC_COOKIE.len());
    branch
}

/// The length of the branches [`new_branch`] draws.
pub(crate) const BRANCH_LEN: usize = 23;

/// Appends our Via (with `rport`, RFC 3581) and Max-Forwards.
fn via(w: &mut MessageWriter, config: &Config, branch: &str) {
    w.known_with(HeaderName::Via, |out| {
        out.extend_from_slice(b"SIP/2.0/");
        out.extend_from_slice(config.transport.as_str().as_bytes());
        out.push(b' ');
        push_socket_addr(out, &config.local_addr);
        out.extend_from_slice(b";branch=");
        out.extend_from_slice(branch.as_bytes());
        out.extend_from_slice(b";rport");
    });
    w.known_with(HeaderName::MaxForwards, |out| out.extend_from_slice(b"70"));
}

/// Appends our Contact value: `contact` when the message (or its dialog)
/// names one, else the default
/// `<sip:[user@]local-addr[;transport=tcp]>` and the configured parameters.
pub(crate) fn write_contact(out: &mut Vec<u8>, config: &Config, contact: Option<&str>) {
    if let Some(contact) = contact {
        out.extend_from_slice(contact.as_bytes());
        return;
    }
    out.extend_from_slice(b"<sip:");
    if let Some(user) = &config.contact_user {
        out.extend_from_slice(user.as_bytes());
        out.push(b'@');
    }
    push_socket_addr(out, &config.local_addr);
    if config.transport.is_reliable() {
        out.extend_from_slice(b";transport=tcp");
    }
    out.push(b'>');
    out.extend_from_slice(config.contact_params.as_bytes());
}

fn cseq(w: &mut MessageWriter, seq: u32, method: &str) {
    w.known_with(HeaderName::CSeq, |out| {
        push_decimal(out, u64::from(seq));
        out.push(b' ');
        out.extend_from_slice(method.as_bytes());
    });
}

fn tagged(w: &mut MessageWriter, name: &str, addr: &str, tag: &str) {
    w.header_with(name, |out| {
        out.extend_from_slice(addr.as_bytes());
        if !tag.is_empty() {
            out.extend_from_slice(b";tag=");
            out.extend_from_slice(tag.as_bytes());
        }
    });
}

fn extras(
    w: &mut MessageWriter,
    headers: &[(Cow<'static, str>, String)],
    content_type: Option<&str>,
) {
    for (name, value) in headers {
        w.header(name, value);
    }
    if let Some(ct) = content_type {
        w.header("Content-Type", ct);
    }
}

/// Appends Allow and Supported, for requests that establish or refresh a
/// dialog, noted for the layout ([`MessageWriter::known_with`]).
/// `allow` is the Allow value, written from `config` once.
fn capabilities(w: &mut MessageWriter, config: &Config, allow: &[u8]) {
    w.known_with(HeaderName::Allow, |out| out.extend_from_slice(allow));
    if !config.capabilities.supported.is_empty() {
        w.known_with(HeaderName::Supported, |out| {
            config.capabilities.supported.write(out)
        });
    }
}

/// An out-of-dialog request (§8.1.1): new branch, From tag and Call-ID;
/// the preloaded Route of [`Routing::PreloadedRoute`] (§8.1.2).
///
/// Checked as the parser would check it, and laid out without parsing it
/// again: the fields the user agent writes from values valid by
/// construction (Via, Max-Forwards, Call-ID, CSeq, Allow, Supported,
/// Content-Length) are taken as written; the Request-URI and every field
/// made of the application's or the configuration's values (Route, From,
/// To, Contact, further fields) are checked
/// ([`check_appended`](crate::sip::check_appended)). `allow` is the Allow
/// value, written from `config` once by the user agent.
pub(crate) fn request(
    config: &Config,
    allow: &[u8],
    spec: &RequestSpec,
    (branch, from_tag, call_id): (&str, &str, &str),
    seq: u32,
) -> Result<OwnedMessage, SipError> {
    let limits = &config.limits.sip;
    let method = spec.method.as_str();
    let uri_at = method.len() + 1;
    Uri::parse_with(&spec.target, &limits.values)
        .map_err(|_| SipError::new(SipErrorKind::InvalidRequestUri, uri_at))?;
    let mut w = MessageWriter::request(method, &spec.target);
    via(&mut w, config, branch);
    let addresses = w.len();
    if config.routing == Routing::PreloadedRoute {
        w.header("Route", &config.preloaded_route());
    }
    tagged(&mut w, "From", &spec.from, from_tag);
    w.header("To", &spec.to);
    let addresses = addresses..w.len();
    w.known_with(HeaderName::CallId, |out| {
        out.extend_from_slice(call_id.as_bytes())
    });
    cseq(&mut w, seq, method);
    // Allow and Supported are typed sets: valid as written.
    capabilities(&mut w, config, allow);
    let rest = w.len();
    w.header_with("Contact", |out| {
        write_contact(out, config, spec.contact.as_deref())
    });
    extras(&mut w, &spec.headers, spec.content_type.as_deref());
    let checked = [addresses, rest..w.len()];
    let (bytes, known) = w.finish_known(&spec.body);
    let appended = Appended {
        message: &bytes,
        fields: &checked,
        other_fields: known.len(),
        present: Present {
            via: true,
            max_forwards: true,
            call_id: true,
            cseq: true,
            from: false,
            to: false,
        },
        content_length: spec.body.len(),
        method: Some(method),
    };
    let mut fields = Vec::with_capacity(known.len() + 8);
    let more_vias = check_appended(&appended, limits, Some(&mut fields))?;
    fields.extend_from_slice(&known);
    fields.sort_unstable_by_key(|f| f.field);
    // Offsets fit in u32: the message is within the size limit.
    let head_end = (bytes.len() - spec.body.len()) as u32;
    let layout = Layout::written_request(
        (0, method.len() as u32),
        (uri_at as u32, (uri_at + spec.target.len()) as u32),
        fields.into_boxed_slice(),
        head_end,
        more_vias,
        &limits.values,
    )
    // An empty body is the empty span, as the parser's layout has it.
    .with_body(if spec.body.is_empty() {
        (0, 0)
    } else {
        (head_end, bytes.len() as u32)
    });
    Ok(OwnedMessage::laid_out(bytes, layout))
}

/// A request inside `dialog` with CSeq `seq` (§12.2.1.1): Request-URI and
/// Route from the route set and remote target, From/To/Call-ID of the
/// dialog; a Contact for target-refresh methods.
pub(crate) fn in_dialog(
    config: &Config,
    dialog: &Dialog,
    spec: &DialogRequestSpec,
    branch: &str,
    seq: u32,
) -> Vec<u8> {
    let method = spec.method.as_str();
    let mut w = head(config, dialog, method, branch, seq);
    if crate::dialog::state::is_target_refresh(method) {
        w.header_with("Contact", |out| {
            write_contact(out, config, dialog.local_contact())
        });
    }
    extras(&mut w, &spec.headers, spec.content_type.as_deref());
    w.finish(&spec.body)
}

/// The ACK of a 2xx to the INVITE with CSeq `seq` (§13.2.2.4): a new
/// branch, routed like any request of the dialog.
pub(crate) fn ack(config: &Config, dialog: &Dialog, branch: &str, seq: u32) -> Vec<u8> {
    head(config, dialog, "ACK", branch, seq).finish(b"")
}

fn head(config: &Config, dialog: &Dialog, method: &str, branch: &str, seq: u32) -> MessageWriter {
    let (uri, routes) = dialog.request_target();
    let mut w = MessageWriter::request(method, &uri);
    via(&mut w, config, branch);
    for route in &routes {
        w.header("Route", route);
    }
    tagged(&mut w, "From", dialog.local_uri(), dialog.local_tag());
    tagged(&mut w, "To", dialog.remote_uri(), dialog.remote_tag());
    w.header("Call-ID", dialog.call_id());
    cseq(&mut w, seq, method);
    w
}
