//! Writing a conference-info document: canonical form, schema element order, the
//! conference-info namespace as default namespace, every `state` written out.

use super::{
    ConferenceDescription, ConferenceInfo, ConferenceState, Endpoint, ExecutionInfo, HostInfo,
    Media, SipDialogId, Uris, User, Users,
};
use crate::body::xml::{self, CONFERENCE_INFO_NS};

impl ConferenceInfo {
    /// Appends the document, with an XML declaration.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(xml::XML_DECLARATION.as_bytes());
        out.extend_from_slice(b"<conference-info");
        xml::write_attr(out, "xmlns", CONFERENCE_INFO_NS);
        xml::write_attr(out, "entity", &self.entity);
        xml::write_attr(out, "state", self.state.as_str());
        if let Some(v) = self.version {
            xml::write_attr_u32(out, "version", v);
        }
        out.push(b'>');
        if let Some(d) = &self.description {
            write_description(out, d);
        }
        if let Some(h) = &self.host_info {
            write_host_info(out, h);
        }
        if let Some(s) = &self.conference_state {
            write_conference_state(out, s);
        }
        if let Some(u) = &self.users {
            write_users(out, u);
        }
        if let Some(s) = &self.sidebars_by_ref {
            write_uris(out, "sidebars-by-ref", s);
        }
        out.extend_from_slice(b"</conference-info>\n");
    }
}

fn open(out: &mut Vec<u8>, name: &str) {
    out.push(b'<');
    out.extend_from_slice(name.as_bytes());
    out.push(b'>');
}

fn close(out: &mut Vec<u8>, name: &str) {
    out.extend_from_slice(b"</");
    out.extend_from_slice(name.as_bytes());
    out.push(b'>');
}

fn text(out: &mut Vec<u8>, name: &str, value: Option<&str>) {
    if let Some(v) = value {
        xml::write_text_element(out, name, v);
    }
}

fn number(out: &mut Vec<u8>, name: &str, value: Option<u32>) {
    if let Some(v) = value {
        open(out, name);
        crate::decimal::push_decimal(out, u64::from(v));
        close(out, name);
    }
}

fn boolean(out: &mut Vec<u8>, name: &str, value: Option<bool>) {
    if let Some(v) = value {
        xml::write_text_element(out, name, if v { "true" } else { "false" });
    }
}

fn write_description(out: &mut Vec<u8>, d: &ConferenceDescription) {
    open(out, "conference-description");
    text(out, "display-text", d.display_text.as_deref());
    text(out, "subject", d.subject.as_deref());
    text(out, "free-text", d.free_text.as_deref());
    text(out, "keywords", d.keywords.as_deref());
    if let Some(u) = &d.conf_uris {
        write_uris(out, "conf-uris", u);
    }
    if let Some(u) = &d.service_uris {
        write_uris(out, "service-uris", u);
    }
    number(out, "maximum-user-count", d.maximum_user_count);
    close(out, "conference-description");
}

fn write_host_info(out: &mut Vec<u8>, h: &HostInfo) {
    open(out, "host-info");
    text(out, "display-text", h.display_text.as_deref());
    text(out, "web-page", h.web_page.as_deref());
    if let Some(u) = &h.uris {
        write_uris(out, "uris", u);
    }
    close(out, "host-info");
}

fn write_conference_state(out: &mut Vec<u8>, s: &ConferenceState) {
    open(out, "conference-state");
    number(out, "user-count", s.user_count);
    boolean(out, "active", s.active);
    boolean(out, "locked", s.locked);
    close(out, "conference-state");
}

fn write_uris(out: &mut Vec<u8>, name: &str, uris: &Uris) {
    out.push(b'<');
    out.extend_from_slice(name.as_bytes());
    xml::write_attr(out, "state", uris.state.as_str());
    out.push(b'>');
    for entry in &uris.entries {
        open(out, "entry");
        xml::write_text_element(out, "uri", &entry.uri);
        text(out, "display-text", entry.display_text.as_deref());
        text(out, "purpose", entry.purpose.as_deref());
        close(out, "entry");
    }
    close(out, name);
}

fn write_users(out: &mut Vec<u8>, users: &Users) {
    out.extend_from_slice(b"<users");
    xml::write_attr(out, "state", users.state.as_str());
    out.push(b'>');
    for user in &users.users {
        write_user(out, user);
    }
    close(out, "users");
}

fn write_user(out: &mut Vec<u8>, user: &User) {
    out.extend_from_slice(b"<user");
    xml::write_attr(out, "entity", &user.entity);
    xml::write_attr(out, "state", user.state.as_str());
    out.push(b'>');
    text(out, "display-text", user.display_text.as_deref());
    if let Some(u) = &user.associated_aors {
        write_uris(out, "associated-aors", u);
    }
    if let Some(roles) = &user.roles {
        open(out, "roles");
        for role in roles {
            xml::write_text_element(out, "entry", role);
        }
        close(out, "roles");
    }
    if let Some(languages) = &user.languages {
        open(out, "languages");
        for (i, tag) in languages.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            xml::write_text(out, tag);
        }
        close(out, "languages");
    }
    text(out, "cascaded-focus", user.cascaded_focus.as_deref());
    for endpoint in &user.endpoints {
        write_endpoint(out, endpoint);
    }
    close(out, "user");
}

fn write_endpoint(out: &mut Vec<u8>, e: &Endpoint) {
    out.extend_from_slice(b"<endpoint");
    xml::write_attr(out, "entity", &e.entity);
    xml::write_attr(out, "state", e.state.as_str());
    out.push(b'>');
    text(out, "display-text", e.display_text.as_deref());
    write_execution(out, "referred", e.referred.as_ref());
    text(out, "status", e.status.map(|s| s.as_str()));
    text(out, "joining-method", e.joining_method.map(|m| m.as_str()));
    write_execution(out, "joining-info", e.joining_info.as_ref());
    text(
        out,
        "disconnection-method",
        e.disconnection_method.map(|m| m.as_str()),
    );
    write_execution(out, "disconnection-info", e.disconnection_info.as_ref());
    for media in &e.media {
        write_media(out, media);
    }
    if let Some(sip) = &e.call_info {
        write_call_info(out, sip);
    }
    close(out, "endpoint");
}

fn write_execution(out: &mut Vec<u8>, name: &str, info: Option<&ExecutionInfo>) {
    let Some(info) = info else { return };
    open(out, name);
    text(out, "when", info.when.as_deref());
    text(out, "reason", info.reason.as_deref());
    text(out, "by", info.by.as_deref());
    close(out, name);
}

fn write_media(out: &mut Vec<u8>, m: &Media) {
    out.extend_from_slice(b"<media");
    xml::write_attr(out, "id", &m.id);
    out.push(b'>');
    text(out, "display-text", m.display_text.as_deref());
    text(out, "type", m.media_type.as_deref());
    text(out, "label", m.label.as_deref());
    text(out, "src-id", m.src_id.as_deref());
    text(out, "status", m.status.map(|s| s.as_str()));
    close(out, "media");
}

fn write_call_info(out: &mut Vec<u8>, sip: &SipDialogId) {
    open(out, "call-info");
    open(out, "sip");
    text(out, "display-text", sip.display_text.as_deref());
    text(out, "call-id", sip.call_id.as_deref());
    text(out, "from-tag", sip.from_tag.as_deref());
    text(out, "to-tag", sip.to_tag.as_deref());
    close(out, "sip");
    close(out, "call-info");
}
