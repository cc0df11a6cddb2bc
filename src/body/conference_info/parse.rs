//! Reading a conference-info document.

use super::{
    ConferenceDescription, ConferenceInfo, ConferenceState, DisconnectionMethod, ElementState,
    Endpoint, EndpointStatus, ExecutionInfo, HostInfo, JoiningMethod, Media, MediaStatus,
    SipDialogId, UriEntry, Uris, User, Users,
};
use crate::body::xml::{self, Element, Ns, XmlError, XmlErrorKind, XmlLimits, XmlReader};

impl ConferenceInfo {
    /// Parses a full or partial conference-info document.
    pub fn parse(input: &[u8], limits: &XmlLimits) -> Result<Self, XmlError> {
        let mut p = Parser {
            reader: XmlReader::new(input, *limits)?,
            limits: *limits,
            users: 0,
        };
        let root = p.reader.root()?;
        if !root.is(Ns::ConferenceInfo, "conference-info") {
            return Err(XmlError::new(XmlErrorKind::UnexpectedRoot, root.offset));
        }
        let info = p.conference_info(&root)?;
        p.reader.finish()?;
        Ok(info)
    }
}

struct Parser<'i> {
    reader: XmlReader<'i>,
    limits: XmlLimits,
    users: usize,
}

fn state(element: &Element<'_>) -> Result<ElementState, XmlError> {
    element
        .attr(Ns::None, "state")
        .map_or(Ok(ElementState::Full), |a| {
            ElementState::parse(&a.value, a.offset)
        })
}

impl<'i> Parser<'i> {
    /// The next child in the conference-info namespace; others are skipped.
    fn child(&mut self) -> Result<Option<Element<'i>>, XmlError> {
        while let Some(child) = self.reader.next_child()? {
            if child.ns == Ns::ConferenceInfo {
                return Ok(Some(child));
            }
            self.reader.skip()?;
        }
        Ok(None)
    }

    fn text(&mut self) -> Result<String, XmlError> {
        Ok(self.reader.text()?.into_owned())
    }

    fn number(&mut self, name: &'static str, offset: usize) -> Result<u32, XmlError> {
        let text = self.reader.text()?;
        xml::parse_u32(&text, name, offset)
    }

    fn boolean(&mut self, name: &'static str, offset: usize) -> Result<bool, XmlError> {
        let text = self.reader.text()?;
        xml::parse_bool(&text, name, offset)
    }

    /// Counts one more repeated child against `max_children`.
    fn bump(&self, count: &mut usize, offset: usize) -> Result<(), XmlError> {
        *count += 1;
        if *count > self.limits.max_children {
            return Err(XmlError::new(
                XmlErrorKind::TooManyChildren {
                    limit: self.limits.max_children,
                },
                offset,
            ));
        }
        Ok(())
    }

    fn conference_info(&mut self, root: &Element<'i>) -> Result<ConferenceInfo, XmlError> {
        let entity = root.required("entity")?.value.clone().into_owned();
        let version = root
            .attr(Ns::None, "version")
            .map(|a| xml::parse_u32(&a.value, "version", a.offset))
            .transpose()?;
        let mut info = ConferenceInfo::new(entity, state(root)?, version);
        while let Some(child) = self.child()? {
            match child.local {
                "conference-description" => info.description = Some(self.description()?),
                "host-info" => info.host_info = Some(self.host_info()?),
                "conference-state" => info.conference_state = Some(self.conference_state()?),
                "users" => info.users = Some(self.users(&child)?),
                "sidebars-by-ref" => info.sidebars_by_ref = Some(self.uris(&child)?),
                _ => self.reader.skip()?,
            }
        }
        Ok(info)
    }

    fn description(&mut self) -> Result<ConferenceDescription, XmlError> {
        let mut d = ConferenceDescription::default();
        while let Some(child) = self.child()? {
            match child.local {
                "display-text" => d.display_text = Some(self.text()?),
                "subject" => d.subject = Some(self.text()?),
                "free-text" => d.free_text = Some(self.text()?),
                "keywords" => d.keywords = Some(self.text()?),
                "conf-uris" => d.conf_uris = Some(self.uris(&child)?),
                "service-uris" => d.service_uris = Some(self.uris(&child)?),
                "maximum-user-count" => {
                    d.maximum_user_count = Some(self.number("maximum-user-count", child.offset)?)
                }
                _ => self.reader.skip()?,
            }
        }
        Ok(d)
    }

    fn host_info(&mut self) -> Result<HostInfo, XmlError> {
        let mut h = HostInfo::default();
        while let Some(child) = self.child()? {
            match child.local {
                "display-text" => h.display_text = Some(self.text()?),
                "web-page" => h.web_page = Some(self.text()?),
                "uris" => h.uris = Some(self.uris(&child)?),
                _ => self.reader.skip()?,
            }
        }
        Ok(h)
    }

    fn conference_state(&mut self) -> Result<ConferenceState, XmlError> {
        let mut s = ConferenceState::default();
        while let Some(child) = self.child()? {
            match child.local {
                "user-count" => s.user_count = Some(self.number("user-count", child.offset)?),
                "active" => s.active = Some(self.boolean("active", child.offset)?),
                "locked" => s.locked = Some(self.boolean("locked", child.offset)?),
                _ => self.reader.skip()?,
            }
        }
        Ok(s)
    }

    fn uris(&mut self, element: &Element<'i>) -> Result<Uris, XmlError> {
        let mut uris = Uris {
            state: state(element)?,
            entries: Vec::new(),
        };
        let mut count = 0;
        while let Some(child) = self.child()? {
            if child.local != "entry" {
                self.reader.skip()?;
                continue;
            }
            self.bump(&mut count, child.offset)?;
            let mut uri = None;
            let mut entry = UriEntry {
                uri: String::new(),
                display_text: None,
                purpose: None,
            };
            while let Some(field) = self.child()? {
                match field.local {
                    "uri" => uri = Some(self.text()?),
                    "display-text" => entry.display_text = Some(self.text()?),
                    "purpose" => entry.purpose = Some(self.text()?),
                    _ => self.reader.skip()?,
                }
            }
            entry.uri = uri.ok_or(XmlError::new(
                XmlErrorKind::MissingElement("uri"),
                child.offset,
            ))?;
            uris.entries.push(entry);
        }
        Ok(uris)
    }

    fn users(&mut self, element: &Element<'i>) -> Result<Users, XmlError> {
        let mut users = Users {
            state: state(element)?,
            users: Vec::new(),
        };
        while let Some(child) = self.child()? {
            if child.local != "user" {
                self.reader.skip()?;
                continue;
            }
            self.users += 1;
            if self.users > self.limits.max_users {
                return Err(XmlError::new(
                    XmlErrorKind::TooManyUsers {
                        limit: self.limits.max_users,
                    },
                    child.offset,
                ));
            }
            users.users.push(self.user(&child)?);
        }
        Ok(users)
    }

    fn user(&mut self, element: &Element<'i>) -> Result<User, XmlError> {
        let entity = element.required("entity")?.value.clone().into_owned();
        let mut user = User::new(entity, state(element)?);
        let mut endpoints = 0;
        while let Some(child) = self.child()? {
            match child.local {
                "display-text" => user.display_text = Some(self.text()?),
                "associated-aors" => user.associated_aors = Some(self.uris(&child)?),
                "roles" => user.roles = Some(self.roles()?),
                "languages" => {
                    let text = self.reader.text()?;
                    let mut languages = Vec::new();
                    let mut count = 0;
                    for tag in text.split_ascii_whitespace() {
                        self.bump(&mut count, child.offset)?;
                        languages.push(tag.to_owned());
                    }
                    user.languages = Some(languages);
                }
                "cascaded-focus" => user.cascaded_focus = Some(self.text()?),
                "endpoint" => {
                    self.bump(&mut endpoints, child.offset)?;
                    user.endpoints.push(self.endpoint(&child)?);
                }
                _ => self.reader.skip()?,
            }
        }
        Ok(user)
    }

    fn roles(&mut self) -> Result<Vec<String>, XmlError> {
        let mut roles = Vec::new();
        let mut count = 0;
        while let Some(child) = self.child()? {
            if child.local == "entry" {
                self.bump(&mut count, child.offset)?;
                roles.push(self.text()?);
            } else {
                self.reader.skip()?;
            }
        }
        Ok(roles)
    }

    fn endpoint(&mut self, element: &Element<'i>) -> Result<Endpoint, XmlError> {
        let entity = element.required("entity")?.value.clone().into_owned();
        let mut endpoint = Endpoint::new(entity, state(element)?);
        let mut media = 0;
        while let Some(child) = self.child()? {
            let offset = child.offset;
            match child.local {
                "display-text" => endpoint.display_text = Some(self.text()?),
                "referred" => endpoint.referred = Some(self.execution()?),
                "status" => {
                    endpoint.status = Some(EndpointStatus::parse(&self.reader.text()?, offset)?)
                }
                "joining-method" => {
                    endpoint.joining_method =
                        Some(JoiningMethod::parse(&self.reader.text()?, offset)?)
                }
                "joining-info" => endpoint.joining_info = Some(self.execution()?),
                "disconnection-method" => {
                    endpoint.disconnection_method =
                        Some(DisconnectionMethod::parse(&self.reader.text()?, offset)?)
                }
                "disconnection-info" => endpoint.disconnection_info = Some(self.execution()?),
                "media" => {
                    self.bump(&mut media, offset)?;
                    endpoint.media.push(self.media(&child)?);
                }
                "call-info" => endpoint.call_info = Some(self.call_info()?),
                _ => self.reader.skip()?,
            }
        }
        Ok(endpoint)
    }

    fn execution(&mut self) -> Result<ExecutionInfo, XmlError> {
        let mut info = ExecutionInfo::default();
        while let Some(child) = self.child()? {
            match child.local {
                "when" => info.when = Some(self.text()?),
                "reason" => info.reason = Some(self.text()?),
                "by" => info.by = Some(self.text()?),
                _ => self.reader.skip()?,
            }
        }
        Ok(info)
    }

    fn media(&mut self, element: &Element<'i>) -> Result<Media, XmlError> {
        let mut media = Media::new(element.required("id")?.value.clone().into_owned());
        while let Some(child) = self.child()? {
            match child.local {
                "display-text" => media.display_text = Some(self.text()?),
                "type" => media.media_type = Some(self.text()?),
                "label" => media.label = Some(self.text()?),
                "src-id" => media.src_id = Some(self.text()?),
                "status" => {
                    media.status = Some(MediaStatus::parse(&self.reader.text()?, child.offset)?)
                }
                _ => self.reader.skip()?,
            }
        }
        Ok(media)
    }

    fn call_info(&mut self) -> Result<SipDialogId, XmlError> {
        let mut sip = None;
        while let Some(child) = self.child()? {
            if child.local != "sip" {
                self.reader.skip()?;
                continue;
            }
            let mut id = SipDialogId::default();
            while let Some(field) = self.child()? {
                match field.local {
                    "display-text" => id.display_text = Some(self.text()?),
                    "call-id" => id.call_id = Some(self.text()?),
                    "from-tag" => id.from_tag = Some(self.text()?),
                    "to-tag" => id.to_tag = Some(self.text()?),
                    _ => self.reader.skip()?,
                }
            }
            sip = Some(id);
        }
        Ok(sip.unwrap_or_default())
    }
}
