//! The Dovecot configuration of the test server.
//!
//! Everything lives under the server's own directory: `base_dir`, `state_dir`, the log, the
//! certificates, the passwd-file and the Maildirs. It listens on 127.0.0.1 only.

use std::path::Path;

use crate::Ports;

/// The config file text for a server rooted at `root` on `ports`.
pub(crate) fn render(root: &Path, ports: &Ports) -> String {
    let root = root.display();
    format!(
        r#"# mailbag test server: generated, private, removed after the tests.
protocols = imap pop3
listen = 127.0.0.1
base_dir = {root}/base
state_dir = {root}/state
log_path = {root}/log/dovecot.log
info_log_path = {root}/log/dovecot.log
# imap/pop3 refuse to run as root: mail belongs to Debian's stock `mail` user.
default_internal_user = dovecot
default_login_user = dovenull
mail_uid = mail
mail_gid = mail
first_valid_uid = 8
last_valid_uid = 0
first_valid_gid = 8
mail_location = maildir:{root}/mail/%u/Maildir
# Folders made by the harness directly on disk must show up at once.
mailbox_list_index = no
mail_fsync = never
# IDLE: when the mail user's inotify instances run out (fs.inotify.max_user_instances,
# 128 on Debian), a process falls back to checking every this often (default 30 s).
mailbox_idle_check_interval = 1 secs
disable_plaintext_auth = no
auth_mechanisms = plain login cram-md5 scram-sha-256 apop
# A failed login would cost 2 s and then penalise every later login from 127.0.0.1.
auth_failure_delay = 0
auth_cache_size = 0
ssl = yes
ssl_cert = <{root}/server.pem
ssl_key = <{root}/server.key
mail_plugins = $mail_plugins zlib
pop3_uidl_format = %08Xu%08Xv
protocol imap {{
  mail_plugins = $mail_plugins imap_zlib
  mail_max_userip_connections = 5000
}}
protocol pop3 {{
  mail_max_userip_connections = 100
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/users/%u
}}
userdb {{
  driver = static
  args = uid=mail gid=mail home={root}/mail/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Drafts {{
    special_use = \Drafts
    auto = subscribe
  }}
  mailbox Sent {{
    special_use = \Sent
    auto = subscribe
  }}
  mailbox Trash {{
    special_use = \Trash
    auto = subscribe
  }}
  mailbox Junk {{
    special_use = \Junk
    auto = subscribe
  }}
  mailbox Archive {{
    special_use = \Archive
    auto = subscribe
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
    ssl = yes
  }}
  process_min_avail = 1
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {pop3}
  }}
  inet_listener pop3s {{
    address = 127.0.0.1
    port = {pop3s}
    ssl = yes
  }}
}}
service imap {{
  process_limit = 4096
}}
# Every imap process connects to stats; at its default client_limit (1000) the 1,001st
# process waits for a handshake that never comes (B6 watches 1,000 folders).
service stats {{
  client_limit = 10000
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"#,
        imap = ports.imap,
        imaps = ports.imaps,
        pop3 = ports.pop3,
        pop3s = ports.pop3s,
    )
}
