//! Where each untagged response goes: to the command in flight that asked for it, or out as
//! a [`Notification`]; and how it updates the [`super::MailboxView`] (RFC 9051 section 7,
//! RFC 7162 section 3.2.10 VANISHED).

use crate::imap::parse::StreamedBody;
use crate::imap::types::{Data, FetchItem, ResponseCode, SeqNum, Status, Uid};

use super::event::{ClientEvent, ConnectionState, Notification};
use super::kind::Kind;
use super::{ClientCore, CommandId};

impl ClientCore {
    /// The first command in flight (oldest first) for which `want` holds.
    fn owner(&self, want: impl Fn(Kind) -> bool) -> Option<CommandId> {
        self.in_flight.iter().find(|p| want(p.kind)).map(|p| p.id)
    }

    fn deliver(&mut self, owner: Option<CommandId>, data: Data) {
        match owner {
            Some(id) => self.events.push_back(ClientEvent::Data { id, data }),
            None => self
                .events
                .push_back(ClientEvent::Notification(Notification::Other(data))),
        }
    }

    fn notify(&mut self, n: Notification) {
        self.events.push_back(ClientEvent::Notification(n));
    }

    pub(super) fn on_untagged(&mut self, data: Data) {
        self.trace_with(|| trace_line(&data));
        let selecting = self.owner(|k| k == Kind::Select);
        match data {
            Data::Status(status) => self.on_untagged_status(status, selecting),
            Data::Capability(caps) => {
                self.set_capabilities(caps.clone());
                match self
                    .owner(|k| matches!(k, Kind::Capability | Kind::Login | Kind::Authenticate))
                {
                    Some(id) => self.events.push_back(ClientEvent::Data {
                        id,
                        data: Data::Capability(caps),
                    }),
                    None => self.notify(Notification::Capabilities),
                }
            }
            Data::Exists(n) => {
                self.view_mut().set_exists(n);
                match selecting {
                    Some(id) => self.events.push_back(ClientEvent::Data { id, data }),
                    None => self.notify(Notification::Exists(n)),
                }
            }
            Data::Recent(n) => {
                self.view_mut().recent = n;
                match selecting {
                    Some(id) => self.events.push_back(ClientEvent::Data { id, data }),
                    None => self.notify(Notification::Recent(n)),
                }
            }
            Data::Flags(flags) => match selecting {
                Some(id) => self.events.push_back(ClientEvent::Data {
                    id,
                    data: Data::Flags(flags),
                }),
                None => self.notify(Notification::MailboxFlags(flags)),
            },
            Data::Expunge(seq) => {
                let uid = self.view_mut().expunge(seq);
                self.notify(Notification::Expunge { seq, uid });
            }
            Data::Vanished { earlier, uids } => {
                let largest = Uid::try_from(u32::MAX).ok();
                if let Some(largest) = largest {
                    let count = if uids.ranges().is_empty() {
                        0
                    } else {
                        u32::try_from(uids.iter(largest).take(1 << 24).count()).unwrap_or(0)
                    };
                    if !earlier {
                        let set = uids.clone();
                        self.view_mut().vanish(
                            |u| Uid::try_from(u).is_ok_and(|u| set.contains(u, largest)),
                            count,
                        );
                    }
                }
                let owner = if earlier {
                    self.owner(|k| matches!(k, Kind::Select | Kind::Fetch { .. }))
                } else {
                    None
                };
                match owner {
                    Some(id) => self.events.push_back(ClientEvent::Data {
                        id,
                        data: Data::Vanished { earlier, uids },
                    }),
                    None => self.notify(Notification::Vanished { earlier, uids }),
                }
            }
            Data::Fetch { seq, items } => self.on_fetch(seq, items),
            Data::Enabled(caps) => {
                self.enabled.extend(caps.iter().cloned());
                self.capabilities_generation = self.capabilities_generation.wrapping_add(1);
                let owner = self.owner(|k| k == Kind::Enable);
                self.deliver(owner, Data::Enabled(caps));
            }
            data @ Data::List(_) => {
                let owner = self.owner(|k| k == Kind::List);
                self.deliver(owner, data);
            }
            data @ Data::MailboxStatus { .. } => {
                let owner = self.owner(|k| matches!(k, Kind::Status | Kind::List));
                self.deliver(owner, data);
            }
            data @ (Data::Search { .. } | Data::ESearch(_)) => {
                let owner = self.owner(|k| matches!(k, Kind::Search { .. }));
                self.deliver(owner, data);
            }
            data @ Data::Sort { .. } => {
                let owner = self.owner(|k| matches!(k, Kind::Sort { .. }));
                self.deliver(owner, data);
            }
            data @ Data::Thread(_) => {
                let owner = self.owner(|k| matches!(k, Kind::Thread { .. }));
                self.deliver(owner, data);
            }
            data @ Data::Namespace { .. } => {
                let owner = self.owner(|k| k == Kind::Namespace);
                self.deliver(owner, data);
            }
            data @ Data::Id(_) => {
                let owner = self.owner(|k| k == Kind::Id);
                self.deliver(owner, data);
            }
            data @ (Data::Quota { .. } | Data::QuotaRoot { .. }) => {
                let owner = self.owner(|k| k == Kind::Quota);
                self.deliver(owner, data);
            }
            data @ Data::Metadata { .. } => {
                let owner = self.owner(|k| k == Kind::Metadata);
                self.deliver(owner, data);
            }
            other => {
                let owner = self.owner(|k| !matches!(k, Kind::Idle | Kind::Noop));
                self.deliver(owner, other);
            }
        }
    }

    fn on_untagged_status(
        &mut self,
        status: crate::imap::types::StatusText,
        selecting: Option<CommandId>,
    ) {
        if status.status == Status::Bye {
            self.state = ConnectionState::Logout;
            self.projected = ConnectionState::Logout;
            self.notify(Notification::Bye(status));
            return;
        }
        let mut to_select = false;
        match &status.code {
            Some(ResponseCode::Alert) => {
                self.notify(Notification::Alert(status.text.clone()));
                return;
            }
            Some(ResponseCode::Capability(caps)) => self.set_capabilities(caps.clone()),
            Some(ResponseCode::UidValidity(v)) => {
                let changed = self.view.uid_validity.is_some_and(|old| old != *v);
                self.view_mut().uid_validity = Some(*v);
                if changed && selecting.is_none() {
                    self.notify(Notification::UidValidityChanged(*v));
                    return;
                }
                to_select = true;
            }
            Some(ResponseCode::UidNext(n)) => {
                self.view_mut().uid_next = Some(*n);
                to_select = true;
            }
            Some(ResponseCode::HighestModSeq(m)) => {
                self.view_mut().highest_modseq = Some(*m);
                to_select = true;
            }
            Some(
                ResponseCode::PermanentFlags(_)
                | ResponseCode::Unseen(_)
                | ResponseCode::ReadOnly
                | ResponseCode::ReadWrite
                | ResponseCode::NoModSeq
                | ResponseCode::MailboxId(_)
                | ResponseCode::Closed,
            ) => to_select = true,
            _ => {}
        }
        let owner = if to_select {
            selecting
        } else {
            self.owner(|k| !matches!(k, Kind::Idle | Kind::Noop))
        };
        self.deliver(owner, Data::Status(status));
    }

    /// Learns UID and MODSEQ from FETCH items.
    fn learn(&mut self, seq: SeqNum, items: &[FetchItem]) {
        for item in items {
            match item {
                FetchItem::Uid(uid) => self.view_mut().learn_uid(seq, *uid),
                FetchItem::ModSeq(m) => self.view_mut().raise_modseq(*m),
                _ => {}
            }
        }
    }

    /// The command a FETCH response answers: the first FETCH or (non-silent) STORE in flight,
    /// unless it is a UID command and the response carries no UID (RFC 9051 6.4.9: a UID
    /// command's FETCH responses always do), which makes it unsolicited.
    fn fetch_owner(&self, items: &[FetchItem]) -> Option<CommandId> {
        let has_uid = items.iter().any(|i| matches!(i, FetchItem::Uid(_)));
        self.in_flight
            .iter()
            .find(|p| p.kind.wants_fetch())
            .filter(|p| {
                has_uid
                    || !matches!(
                        p.kind,
                        Kind::Fetch { uid: true } | Kind::Store { uid: true, .. }
                    )
            })
            .map(|p| p.id)
    }

    fn on_fetch(&mut self, seq: SeqNum, items: Vec<FetchItem>) {
        self.learn(seq, &items);
        match self.fetch_owner(&items) {
            Some(id) => self.events.push_back(ClientEvent::Data {
                id,
                data: Data::Fetch { seq, items },
            }),
            None => {
                let mut uid = self.view.uid(seq);
                let mut flags = None;
                let mut modseq = None;
                for item in items {
                    match item {
                        FetchItem::Uid(u) => uid = Some(u),
                        FetchItem::Flags(f) => flags = Some(f),
                        FetchItem::ModSeq(m) => modseq = Some(m),
                        _ => {}
                    }
                }
                self.notify(Notification::FlagsChanged {
                    seq,
                    uid,
                    flags,
                    modseq,
                });
            }
        }
    }

    pub(super) fn on_fetch_start(
        &mut self,
        seq: SeqNum,
        items: Vec<FetchItem>,
        body: StreamedBody,
    ) {
        self.trace_with(|| {
            format!(
                "S: * {seq} FETCH (... <streamed literal of {} bytes>",
                body.len
            )
        });
        self.learn(seq, &items);
        // A streamed body is always asked for: the first FETCH in flight owns it.
        self.streaming = self.owner(|k| matches!(k, Kind::Fetch { .. }));
        if let Some(id) = self.streaming {
            self.events.push_back(ClientEvent::FetchStarted {
                id,
                seq,
                items,
                body,
            });
        }
    }

    pub(super) fn on_fetch_end(&mut self, items: Vec<FetchItem>) {
        if let Some(id) = self.streaming.take() {
            self.events.push_back(ClientEvent::FetchEnded { id, items });
        }
    }
}

/// A trace line for an untagged response, with no literal content.
fn trace_line(data: &Data) -> String {
    match data {
        Data::Fetch { seq, items } => format!("S: * {seq} FETCH ({} items)", items.len()),
        Data::Exists(n) => format!("S: * {n} EXISTS"),
        Data::Expunge(n) => format!("S: * {n} EXPUNGE"),
        Data::Status(s) => format!("S: * {:?} {:?} {}", s.status, s.code, s.text),
        other => {
            let mut s = format!("S: * {other:?}");
            // Cut on a character boundary: server text may hold multi-byte characters.
            let mut end = s.len().min(200);
            while !s.is_char_boundary(end) {
                end = end.saturating_sub(1);
            }
            s.truncate(end);
            s
        }
    }
}
