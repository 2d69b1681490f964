//! The session methods of [`ImapClient`], one per IMAP operation (RFC 9051 section 6 and the
//! extensions), with typed results. Every NO or BAD becomes an [`Error`] carrying the server's
//! response code and text; the errors and cancel safety all methods share are documented on
//! [`ImapClient`].

use mailbag_proto::imap::command::StatusAttribute;
use mailbag_proto::imap::types::{Capability, Data, ListItem, MailboxName};
use mailbag_proto::imap::Command;

use super::client::ImapClient;
use super::types::{MailboxStatus, MailboxSummary, MetadataEntry, Namespaces, QuotaRoots};
use crate::error::Error;

impl ImapClient {
    /// CAPABILITY: asks the server again and returns the list.
    ///
    /// # Errors
    /// See [errors](ImapClient#errors-and-cancel-safety).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn refresh_capabilities(&self) -> Result<Vec<Capability>, Error> {
        self.run(Command::Capability).await?;
        Ok(self.capabilities())
    }

    /// NOOP: also lets the server announce changes.
    ///
    /// # Errors
    /// See [errors](ImapClient#errors-and-cancel-safety).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn noop(&self) -> Result<(), Error> {
        self.run(Command::Noop).await.map(drop)
    }

    /// LOGOUT; the connection closes after it.
    ///
    /// # Errors
    /// See [errors](ImapClient#errors-and-cancel-safety).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn logout(&self) -> Result<(), Error> {
        match self.run(Command::Logout).await {
            Ok(_) | Err(Error::ConnectionLost { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// ENABLE (RFC 5161) of those of `wanted` the server offers (CONDSTORE, QRESYNC,
    /// UTF8=ACCEPT, IMAP4rev2); returns what the server enabled.
    ///
    /// # Errors
    /// See [errors](ImapClient#errors-and-cancel-safety).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn enable(&self, wanted: &[Capability]) -> Result<Vec<Capability>, Error> {
        let offered: Vec<Capability> = wanted
            .iter()
            .filter(|c| {
                self.has_capability(c)
                    || (**c == Capability::Utf8Accept
                        && self.capabilities().iter().any(|x| matches!(x, Capability::Other(o) if o.eq_ignore_ascii_case("UTF8=ACCEPT"))))
            })
            .cloned()
            .collect();
        if offered.is_empty() || !self.has_capability(&Capability::Enable) {
            return Ok(Vec::new());
        }
        let out = self.run(Command::Enable(offered)).await?;
        Ok(out
            .data
            .into_iter()
            .flat_map(|d| match d {
                Data::Enabled(c) => c,
                _ => Vec::new(),
            })
            .collect())
    }

    /// ID (RFC 2971): sends ours, returns the server's fields.
    ///
    /// # Errors
    /// See [errors](ImapClient#errors-and-cancel-safety).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn id(
        &self,
        ours: Option<Vec<(String, Option<String>)>>,
    ) -> Result<Vec<(String, Option<String>)>, Error> {
        let out = self.run(Command::Id(ours)).await?;
        Ok(out
            .data
            .into_iter()
            .find_map(|d| match d {
                Data::Id(f) => Some(f.unwrap_or_default()),
                _ => None,
            })
            .unwrap_or_default())
    }

    /// NAMESPACE (RFC 2342): the personal, other users' and shared namespaces, each with
    /// prefix and delimiter (all empty when the server sent no NAMESPACE data).
    ///
    /// # Errors
    /// See [errors](ImapClient#errors-and-cancel-safety).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn namespace(&self) -> Result<Namespaces, Error> {
        let out = self.run(Command::Namespace).await?;
        Ok(Namespaces::from_data(out.data))
    }

    /// LIST `reference` `pattern`: mailboxes with attributes, delimiter and decoded name.
    ///
    /// # Errors
    /// See [errors](ImapClient#errors-and-cancel-safety).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn list(&self, reference: &str, pattern: &str) -> Result<Vec<ListItem>, Error> {
        self.list_extended(reference, &[pattern], Vec::new(), Vec::new())
            .await
    }

    /// LIST with selection and return options (RFC 5258, RFC 6154 SPECIAL-USE).
    ///
    /// # Errors
    /// See [errors](ImapClient#errors-and-cancel-safety).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn list_extended(
        &self,
        reference: &str,
        patterns: &[&str],
        selection: Vec<super::ListSelect>,
        returns: Vec<super::ListReturn>,
    ) -> Result<Vec<ListItem>, Error> {
        let out = self
            .run(Command::List {
                reference: MailboxName::new(reference),
                patterns: patterns.iter().map(|p| (*p).to_owned()).collect(),
                selection,
                returns,
            })
            .await?;
        Ok(lists(out.data))
    }

    /// LSUB: the subscribed mailboxes.
    ///
    /// # Errors
    /// See [errors](ImapClient#errors-and-cancel-safety).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn lsub(&self, reference: &str, pattern: &str) -> Result<Vec<ListItem>, Error> {
        let out = self
            .run(Command::Lsub {
                reference: MailboxName::new(reference),
                pattern: pattern.to_owned(),
            })
            .await?;
        Ok(lists(out.data))
    }

    /// SUBSCRIBE
    ///
    /// # Errors
    /// See [errors](ImapClient#errors-and-cancel-safety).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn subscribe(&self, mailbox: &str) -> Result<(), Error> {
        self.run(Command::Subscribe(mailbox.into())).await.map(drop)
    }

    /// UNSUBSCRIBE
    ///
    /// # Errors
    /// See [errors](ImapClient#errors-and-cancel-safety).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn unsubscribe(&self, mailbox: &str) -> Result<(), Error> {
        self.run(Command::Unsubscribe(mailbox.into()))
            .await
            .map(drop)
    }

    /// CREATE
    ///
    /// # Errors
    /// See [errors](ImapClient#errors-and-cancel-safety).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn create(&self, mailbox: &str) -> Result<(), Error> {
        self.run(Command::Create {
            mailbox: mailbox.into(),
            special_use: Vec::new(),
        })
        .await
        .map(drop)
    }

    /// DELETE
    ///
    /// # Errors
    /// See [errors](ImapClient#errors-and-cancel-safety).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn delete(&self, mailbox: &str) -> Result<(), Error> {
        self.run(Command::Delete(mailbox.into())).await.map(drop)
    }

    /// RENAME
    ///
    /// # Errors
    /// See [errors](ImapClient#errors-and-cancel-safety).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn rename(&self, from: &str, to: &str) -> Result<(), Error> {
        self.run(Command::Rename {
            from: from.into(),
            to: to.into(),
        })
        .await
        .map(drop)
    }

    /// STATUS with MESSAGES, UIDNEXT, UIDVALIDITY, UNSEEN, and SIZE / HIGHESTMODSEQ when
    /// offered.
    ///
    /// # Errors
    /// See [errors](ImapClient#errors-and-cancel-safety).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn status(&self, mailbox: &str) -> Result<MailboxStatus, Error> {
        let mut items = vec![
            StatusAttribute::Messages,
            StatusAttribute::UidNext,
            StatusAttribute::UidValidity,
            StatusAttribute::Unseen,
        ];
        let caps = self.capabilities();
        if caps
            .iter()
            .any(|c| matches!(c, Capability::Other(o) if o.eq_ignore_ascii_case("STATUS=SIZE")))
            || caps.contains(&Capability::Imap4rev2)
        {
            items.push(StatusAttribute::Size);
        }
        if caps.contains(&Capability::CondStore) {
            items.push(StatusAttribute::HighestModSeq);
        }
        let out = self
            .run(Command::Status {
                mailbox: mailbox.into(),
                items,
            })
            .await?;
        Ok(out
            .data
            .iter()
            .find_map(|d| match d {
                Data::MailboxStatus { items, .. } => Some(MailboxStatus::from_items(items)),
                _ => None,
            })
            .unwrap_or_default())
    }

    /// SELECT (read-write).
    ///
    /// # Errors
    /// See [errors](ImapClient#errors-and-cancel-safety).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn select(&self, mailbox: &str) -> Result<MailboxSummary, Error> {
        let out = self
            .run(Command::Select {
                mailbox: mailbox.into(),
                params: Vec::new(),
            })
            .await?;
        Ok(MailboxSummary::from_responses(
            &out.data,
            out.status.code.as_ref(),
        ))
    }

    /// EXAMINE (read-only: nothing, not even \Seen, changes).
    ///
    /// # Errors
    /// See [errors](ImapClient#errors-and-cancel-safety).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn examine(&self, mailbox: &str) -> Result<MailboxSummary, Error> {
        let out = self
            .run(Command::Examine {
                mailbox: mailbox.into(),
                params: Vec::new(),
            })
            .await?;
        let mut s = MailboxSummary::from_responses(&out.data, out.status.code.as_ref());
        s.read_write = false;
        Ok(s)
    }

    /// UNSELECT (RFC 3691): leaves the mailbox without expunging (CLOSE would expunge).
    ///
    /// # Errors
    /// See [errors](ImapClient#errors-and-cancel-safety).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn unselect(&self) -> Result<(), Error> {
        self.run(Command::Unselect).await.map(drop)
    }

    /// CLOSE: expunges deleted messages and unselects.
    ///
    /// # Errors
    /// See [errors](ImapClient#errors-and-cancel-safety).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn close(&self) -> Result<(), Error> {
        self.run(Command::Close).await.map(drop)
    }

    /// GETQUOTAROOT (RFC 9208): the mailbox's quota roots, and for each the resources
    /// with usage and limit.
    ///
    /// # Errors
    /// See [errors](ImapClient#errors-and-cancel-safety).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn quota_root(&self, mailbox: &str) -> Result<QuotaRoots, Error> {
        let out = self.run(Command::GetQuotaRoot(mailbox.into())).await?;
        Ok(QuotaRoots::from_data(out.data))
    }

    /// GETMETADATA (RFC 5464) of `entries` on `mailbox` (`""`: the server's): each entry
    /// with its value, `None` where not set.
    ///
    /// # Errors
    /// See [errors](ImapClient#errors-and-cancel-safety).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn metadata(
        &self,
        mailbox: &str,
        entries: Vec<String>,
    ) -> Result<Vec<MetadataEntry>, Error> {
        let out = self
            .run(Command::GetMetadata {
                mailbox: mailbox.into(),
                entries,
                max_size: None,
                depth: None,
            })
            .await?;
        Ok(MetadataEntry::from_data(out.data))
    }
}

fn lists(data: Vec<Data>) -> Vec<ListItem> {
    data.into_iter()
        .filter_map(|d| match d {
            Data::List(l) => Some(l),
            _ => None,
        })
        .collect()
}
