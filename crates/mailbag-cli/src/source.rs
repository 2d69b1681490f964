//! SOURCE: where the mail is. A URL (`imap://user@host[:port][/FOLDER]`, `imaps://`,
//! `pop3://`, `pop3s://`; RFC 5092 and RFC 2384 in spirit) or the name of an account in the
//! config file.
//!
//! The user and the folder are percent-decoded (`imap://me%40example.org@host/Sent%20Items`).
//! A password in the URL is refused: it would show in the process list and the shell
//! history. An IPv6 address goes in brackets (`imaps://me@[::1]:9993`).

use std::fmt;

use percent_encoding::percent_decode_str;

use crate::cli::TlsMode;
use crate::config::Config;
use crate::error::CliError;

/// Which protocol a source speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// IMAP4rev1 / IMAP4rev2.
    Imap,
    /// POP3.
    Pop3,
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Imap => "IMAP",
            Protocol::Pop3 => "POP3",
        })
    }
}

/// A parsed source, before options and config are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// IMAP or POP3.
    pub protocol: Protocol,
    /// The TLS mode that the scheme implies.
    pub tls: TlsMode,
    /// The host name or IP address (without brackets).
    pub host: String,
    /// The port (the scheme's default when the URL names none).
    pub port: u16,
    /// The login name, when the URL gives one.
    pub user: Option<String>,
    /// The folder, when the URL gives one (decoded).
    pub folder: Option<String>,
    /// A SASL mechanism named in the URL (`user;AUTH=SCRAM-SHA-256@host`).
    pub auth: Option<String>,
    /// The account name, when the source came from the config file.
    pub account: Option<String>,
}

impl Source {
    /// A key that names the account for the sync state: `user@host:port`.
    pub fn account_key(&self) -> String {
        match &self.account {
            Some(name) => name.clone(),
            None => format!(
                "{}@{}:{}",
                self.user.as_deref().unwrap_or(""),
                self.host,
                self.port
            ),
        }
    }
}

/// Parses SOURCE: a URL, or else an account of the config file.
pub fn resolve(text: &str, config: &Config) -> Result<Source, CliError> {
    if text.contains("://") {
        return parse_url(text);
    }
    // `account/FOLDER` names a folder of a configured account.
    let (name, folder) = match text.split_once('/') {
        Some((n, f)) => (n, Some(decode(f, "folder")?)),
        None => (text, None),
    };
    let account = config.accounts.get(name).ok_or_else(|| {
        CliError::usage(format!(
            "{text:?} is neither a URL (imap://user@host/FOLDER, imaps://, pop3://, pop3s://) \
             nor an account of the config file {}",
            config.path_display()
        ))
    })?;
    let mut source = parse_url(&account.url).map_err(|e| {
        CliError::usage(format!(
            "account {name:?} in the config file: {}",
            e.message
        ))
    })?;
    source.account = Some(name.to_owned());
    if let Some(user) = &account.user {
        source.user = Some(user.clone());
    }
    if let Some(tls) = account.tls {
        source.tls = tls;
    }
    if folder.is_some() {
        source.folder = folder;
    } else if source.folder.is_none() {
        source.folder = account.folder.clone();
    }
    Ok(source)
}

/// Parses a mail URL.
pub fn parse_url(url: &str) -> Result<Source, CliError> {
    let bad = |why: &str| {
        CliError::usage(format!(
            "bad URL {url:?}: {why} (expected e.g. imaps://user@host/INBOX or pop3s://user@host)"
        ))
    };
    let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("no scheme"))?;
    let (protocol, tls, default_port) = match scheme.to_ascii_lowercase().as_str() {
        "imap" => (Protocol::Imap, TlsMode::Starttls, 143),
        "imaps" => (Protocol::Imap, TlsMode::Implicit, 993),
        "pop3" | "pop" => (Protocol::Pop3, TlsMode::Starttls, 110),
        "pop3s" | "pops" => (Protocol::Pop3, TlsMode::Implicit, 995),
        other => return Err(bad(&format!("unknown scheme {other:?}"))),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };
    let (mut user, mut auth) = (None, None);
    if let Some(info) = userinfo {
        let (name, mech) = match info.split_once(';') {
            Some((n, m)) => (n, Some(m)),
            None => (info, None),
        };
        if name.contains(':') {
            return Err(CliError::usage(format!(
                "the URL {:?} holds a password: never put one on the command line; use \
                 --password-env VAR, --password-command CMD or MAILBAG_PASSWORD",
                redact_password(url)
            )));
        }
        if let Some(m) = mech {
            let value = m
                .strip_prefix("AUTH=")
                .or_else(|| m.strip_prefix("auth="))
                .ok_or_else(|| bad("only ;AUTH=MECHANISM may follow the user"))?;
            auth = Some(value.to_ascii_uppercase());
        }
        if !name.is_empty() {
            user = Some(decode(name, "user")?);
        }
    }
    let (host, port) = split_host_port(hostport).ok_or_else(|| bad("bad host or port"))?;
    if host.is_empty() {
        return Err(bad("no host"));
    }
    let folder = match path {
        Some(p) if !p.is_empty() => Some(decode(p.trim_end_matches('/'), "folder")?),
        _ => None,
    };
    Ok(Source {
        protocol,
        tls,
        host,
        port: port.unwrap_or(default_port),
        user,
        folder,
        auth,
        account: None,
    })
}

fn split_host_port(hostport: &str) -> Option<(String, Option<u16>)> {
    if let Some(rest) = hostport.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        return Some((host.to_owned(), port));
    }
    match hostport.rsplit_once(':') {
        Some((h, p)) => Some((h.to_owned(), Some(p.parse().ok()?))),
        None => Some((hostport.to_owned(), None)),
    }
}

fn decode(text: &str, what: &str) -> Result<String, CliError> {
    let decoded = percent_decode_str(text)
        .decode_utf8()
        .map_err(|_| CliError::usage(format!("the {what} {text:?} is not UTF-8 once decoded")))?;
    if decoded.contains(['\r', '\n', '\0']) {
        return Err(CliError::usage(format!(
            "the {what} {text:?} holds a line break or NUL"
        )));
    }
    Ok(decoded.into_owned())
}

/// The URL with anything between `:` and `@` in the authority blanked out.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..end];
    match (authority.find(':'), authority.rfind('@')) {
        (Some(c), Some(a)) if c < a => {
            format!("{scheme}://{}:***{}", &authority[..c], &rest[a..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imap_url_with_everything() {
        let s = parse_url(
            "imaps://me%40example.org;AUTH=scram-sha-256@mail.example.org:9993/Sent%20Items/2013",
        )
        .unwrap();
        assert_eq!(s.protocol, Protocol::Imap);
        assert_eq!(s.tls, TlsMode::Implicit);
        assert_eq!(s.host, "mail.example.org");
        assert_eq!(s.port, 9993);
        assert_eq!(s.user.as_deref(), Some("me@example.org"));
        assert_eq!(s.auth.as_deref(), Some("SCRAM-SHA-256"));
        assert_eq!(s.folder.as_deref(), Some("Sent Items/2013"));
    }

    #[test]
    fn defaults_from_the_scheme() {
        let s = parse_url("imap://h").unwrap();
        assert_eq!(
            (s.port, s.tls, s.user, s.folder),
            (143, TlsMode::Starttls, None, None)
        );
        let s = parse_url("pop3s://u@h").unwrap();
        assert_eq!(
            (s.protocol, s.port, s.tls),
            (Protocol::Pop3, 995, TlsMode::Implicit)
        );
        assert_eq!(parse_url("pop3://u@h").unwrap().port, 110);
        assert_eq!(parse_url("imaps://u@h/").unwrap().folder, None);
    }

    #[test]
    fn ipv6_hosts() {
        let s = parse_url("imaps://u@[::1]:1993/INBOX").unwrap();
        assert_eq!((s.host.as_str(), s.port), ("::1", 1993));
        assert_eq!(parse_url("imaps://u@[::1]").unwrap().port, 993);
    }

    #[test]
    fn refusals_say_why() {
        let e = parse_url("imaps://u:hunter2@h").unwrap_err();
        assert!(
            e.message.contains("password") && !e.message.contains("hunter2"),
            "{}",
            e.message
        );
        assert!(parse_url("http://h")
            .unwrap_err()
            .message
            .contains("unknown scheme"));
        assert!(parse_url("imap://u@h:99999").is_err());
        assert!(parse_url("imap://u@/INBOX").is_err());
        assert!(parse_url("imap://u@h/a%0D%0Ab")
            .unwrap_err()
            .message
            .contains("line break"));
    }
}
