//! What the core needs to know of each command: its name, the states it is valid in, the
//! state it leads to, and the pipelining rules of RFC 9051 section 5.5.

use crate::imap::command::{Command, MessageSet};

use super::event::ConnectionState;

/// The routing- and pipelining-relevant shape of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Capability,
    Noop,
    Logout,
    StartTls,
    Authenticate,
    Login,
    Enable,
    Select,
    List,
    Status,
    Namespace,
    Idle,
    Close,
    Expunge,
    Search { uid: bool },
    Fetch { uid: bool },
    Store { uid: bool, silent: bool },
    Copy { uid: bool },
    Move { uid: bool },
    Sort { uid: bool },
    Thread { uid: bool },
    Id,
    Compress,
    Quota,
    Metadata,
    Other,
}

impl Kind {
    pub(crate) fn of(command: &Command) -> (Kind, &'static str) {
        use Command as C;
        match command {
            C::Capability => (Kind::Capability, "CAPABILITY"),
            C::Noop => (Kind::Noop, "NOOP"),
            C::Logout => (Kind::Logout, "LOGOUT"),
            C::StartTls => (Kind::StartTls, "STARTTLS"),
            C::Authenticate { .. } => (Kind::Authenticate, "AUTHENTICATE"),
            C::Login { .. } => (Kind::Login, "LOGIN"),
            C::Enable(_) => (Kind::Enable, "ENABLE"),
            C::Select { .. } => (Kind::Select, "SELECT"),
            C::Examine { .. } => (Kind::Select, "EXAMINE"),
            C::Create { .. } => (Kind::Other, "CREATE"),
            C::Delete(_) => (Kind::Other, "DELETE"),
            C::Rename { .. } => (Kind::Other, "RENAME"),
            C::Subscribe(_) => (Kind::Other, "SUBSCRIBE"),
            C::Unsubscribe(_) => (Kind::Other, "UNSUBSCRIBE"),
            C::List { .. } => (Kind::List, "LIST"),
            C::Lsub { .. } => (Kind::List, "LSUB"),
            C::Namespace => (Kind::Namespace, "NAMESPACE"),
            C::Status { .. } => (Kind::Status, "STATUS"),
            C::Append { .. } | C::AppendStream { .. } => (Kind::Other, "APPEND"),
            C::Idle => (Kind::Idle, "IDLE"),
            C::Check => (Kind::Other, "CHECK"),
            C::Close => (Kind::Close, "CLOSE"),
            C::Unselect => (Kind::Close, "UNSELECT"),
            C::Expunge => (Kind::Expunge, "EXPUNGE"),
            C::UidExpunge(_) => (Kind::Expunge, "UID EXPUNGE"),
            C::Search { uid, .. } => (Kind::Search { uid: *uid }, "SEARCH"),
            C::Fetch { set, .. } => (Kind::Fetch { uid: set.is_uid() }, "FETCH"),
            C::Store { set, silent, .. } | C::StoreGmailLabels { set, silent, .. } => (
                Kind::Store {
                    uid: set.is_uid(),
                    silent: *silent,
                },
                "STORE",
            ),
            C::Copy { set, .. } => (Kind::Copy { uid: set.is_uid() }, "COPY"),
            C::Move { set, .. } => (Kind::Move { uid: set.is_uid() }, "MOVE"),
            C::Sort { uid, .. } => (Kind::Sort { uid: *uid }, "SORT"),
            C::Thread { uid, .. } => (Kind::Thread { uid: *uid }, "THREAD"),
            C::Id(_) => (Kind::Id, "ID"),
            C::CompressDeflate => (Kind::Compress, "COMPRESS"),
            C::GetQuota(_) | C::GetQuotaRoot(_) | C::SetQuota { .. } => (Kind::Quota, "QUOTA"),
            C::GetMetadata { .. } | C::SetMetadata { .. } => (Kind::Metadata, "METADATA"),
            C::Notify(_) => (Kind::Other, "NOTIFY"),
        }
    }

    /// Whether the command may be issued in `state` (RFC 9051 sections 6.1-6.4).
    pub(crate) fn valid_in(self, command: &Command, state: ConnectionState) -> bool {
        use ConnectionState as S;
        match state {
            S::Greeting | S::Logout => false,
            S::NotAuthenticated => matches!(
                self,
                Kind::Capability
                    | Kind::Noop
                    | Kind::Logout
                    | Kind::StartTls
                    | Kind::Authenticate
                    | Kind::Login
                    | Kind::Id
                    | Kind::Compress
            ),
            S::Authenticated => {
                !matches!(self, Kind::StartTls | Kind::Authenticate | Kind::Login)
                    && !needs_selected(self, command)
            }
            S::Selected => !matches!(self, Kind::StartTls | Kind::Authenticate | Kind::Login),
        }
    }

    /// The state the command leads to when it succeeds.
    pub(crate) fn next_state(self, state: ConnectionState) -> ConnectionState {
        match self {
            Kind::Login | Kind::Authenticate => ConnectionState::Authenticated,
            Kind::Select => ConnectionState::Selected,
            Kind::Close => ConnectionState::Authenticated,
            Kind::Logout => ConnectionState::Logout,
            _ => state,
        }
    }

    /// Nothing may be sent after this command until it completes: the byte stream changes
    /// (STARTTLS, COMPRESS), the server reads our next lines as its own (AUTHENTICATE, IDLE),
    /// or the connection ends (LOGOUT).
    pub(crate) fn is_barrier(self) -> bool {
        matches!(
            self,
            Kind::StartTls | Kind::Compress | Kind::Authenticate | Kind::Idle | Kind::Logout
        )
    }

    /// The command names messages by sequence number (RFC 9051 5.5: it must not be sent
    /// while a command that may expunge is in progress).
    pub(crate) fn uses_sequence_numbers(self) -> bool {
        matches!(
            self,
            Kind::Search { uid: false }
                | Kind::Fetch { uid: false }
                | Kind::Store { uid: false, .. }
                | Kind::Copy { uid: false }
                | Kind::Move { uid: false }
                | Kind::Sort { uid: false }
                | Kind::Thread { uid: false }
        )
    }

    /// While this command is in progress the server does not send EXPUNGE (RFC 9051 7.4.1:
    /// not during FETCH, STORE or SEARCH), so sequence numbers stay put.
    pub(crate) fn keeps_sequence_numbers(self) -> bool {
        matches!(
            self,
            Kind::Search { uid: false }
                | Kind::Fetch { uid: false }
                | Kind::Store { uid: false, .. }
                | Kind::Sort { uid: false }
                | Kind::Thread { uid: false }
        )
    }

    /// Whether untagged FETCH responses answer this command.
    pub(crate) fn wants_fetch(self) -> bool {
        matches!(self, Kind::Fetch { .. } | Kind::Store { silent: false, .. })
    }
}

fn needs_selected(kind: Kind, command: &Command) -> bool {
    match kind {
        Kind::Close
        | Kind::Expunge
        | Kind::Search { .. }
        | Kind::Fetch { .. }
        | Kind::Store { .. }
        | Kind::Copy { .. }
        | Kind::Move { .. }
        | Kind::Sort { .. }
        | Kind::Thread { .. } => true,
        _ => {
            matches!(command, Command::Check)
                || matches!(
                    command,
                    Command::Fetch {
                        set: MessageSet::Saved { .. },
                        ..
                    }
                )
        }
    }
}
