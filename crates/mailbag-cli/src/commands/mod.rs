//! The commands: each turns parsed arguments into calls on the libraries.

mod context;
mod download;
mod imap;
mod mime_tree;
mod parallel;
mod pop;

use clap::CommandFactory;

use crate::cli::{Cli, Command, PopCommand};
use crate::error::CliError;
use crate::output::Output;
use crate::source::Protocol;
use crate::Result;
use context::Target;

/// Runs the command the user asked for.
pub fn run(cli: Cli) -> Result<()> {
    let out = Output {
        json: cli.global.json,
        quiet: cli.global.quiet,
    };
    init_tracing(cli.global.verbose);
    match &cli.command {
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            let mut buf = Vec::new();
            clap_complete::generate(*shell, &mut cmd, "mailbag", &mut buf);
            return out.raw(&buf);
        }
        Command::Manpage => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut buf)?;
            return out.raw(&buf);
        }
        _ => {}
    }
    let runtime = runtime_for(&cli.command)
        .enable_all()
        .build()
        .map_err(|e| CliError::failed(format!("cannot start the async runtime: {e}")))?;
    // The command runs as a task, not in `block_on` itself: on the multi-threaded runtime the
    // connection task that feeds it then wakes it on the same worker (tokio's LIFO slot), not
    // across threads. Through `block_on`, every response handed over cost a futex wake and an
    // epoll wait (issue 8: 15,875 futex and 8,175 epoll_wait calls for 10,000 messages,
    // against 57 and 286 after).
    runtime.block_on(async move {
        match tokio::spawn(dispatch(cli, out)).await {
            Ok(result) => result,
            Err(e) => match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(e) => Err(CliError::failed(format!("the command was cancelled: {e}"))),
            },
        }
    })
}

/// The runtime a command runs on. One connection's work is a sequence: the connection task
/// reads and parses, the command stores what it hands over. On one thread that costs no
/// cross-thread wake-ups at all (issue 8: 10,000 x 2 KB to Maildir took 0.19 s instead of
/// 0.22 s, 35 context switches instead of 100-350). Only `download --all-folders --jobs N`
/// has independent connections to spread over cores.
fn runtime_for(command: &Command) -> tokio::runtime::Builder {
    match command {
        Command::Download {
            all_folders: true,
            jobs,
            ..
        } if *jobs > 1 => {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads((*jobs).min(cores));
            builder
        }
        _ => tokio::runtime::Builder::new_current_thread(),
    }
}

async fn dispatch(cli: Cli, out: Output) -> Result<()> {
    let g = &cli.global;
    match &cli.command {
        Command::Capabilities { source } => {
            let t = Target::resolve(source, g)?;
            match t.source.protocol {
                Protocol::Pop3 => pop::capabilities(&t, out).await,
                Protocol::Imap => imap::capabilities(&t, out).await,
            }
        }
        Command::Login { source } => {
            let t = Target::resolve(source, g)?;
            match t.source.protocol {
                Protocol::Pop3 => pop::check_login(&t, out).await,
                Protocol::Imap => imap::check_login(&t, out).await,
            }
        }
        Command::Pop(pc) => {
            let source = match pc {
                PopCommand::Stat { source }
                | PopCommand::List { source }
                | PopCommand::Uidl { source }
                | PopCommand::Top { source, .. }
                | PopCommand::Retr { source, .. }
                | PopCommand::Dele { source, .. } => source,
            };
            let t = Target::resolve(source, g)?;
            pop::run(&t, pc, out).await
        }
        Command::Download {
            source,
            dest,
            format,
            all_folders,
            jobs,
            delete_after,
        } => {
            let t = Target::resolve(source, g)?;
            match t.source.protocol {
                Protocol::Pop3 => {
                    if *all_folders {
                        return Err(CliError::usage(
                            "--all-folders is for IMAP; POP3 has one maildrop",
                        ));
                    }
                    download::pop3(&t, dest, *format, *delete_after, out).await
                }
                Protocol::Imap => {
                    download::imap(&t, dest, *format, *all_folders, *jobs, *delete_after, out).await
                }
            }
        }
        Command::Folders { source } => imap::folders(&Target::resolve(source, g)?, out).await,
        Command::Examine { source } => imap::examine(&Target::resolve(source, g)?, out).await,
        Command::Subjects { source, last } => {
            imap::subjects(&Target::resolve(source, g)?, *last, out).await
        }
        Command::Show { source, uid, raw } => {
            imap::show(&Target::resolve(source, g)?, *uid, *raw, out).await
        }
        Command::Search { source, criteria } => {
            imap::search(&Target::resolve(source, g)?, criteria, out).await
        }
        Command::Flags {
            source,
            uids,
            add,
            remove,
        } => imap::flags(&Target::resolve(source, g)?, uids, add, remove, out).await,
        Command::Delete {
            source,
            uids,
            expunge,
        } => imap::delete(&Target::resolve(source, g)?, uids, *expunge, out).await,
        Command::Expunge { source } => imap::expunge(&Target::resolve(source, g)?, out).await,
        Command::Mkdir { source } => {
            imap::folder_op(&Target::resolve(source, g)?, "mkdir", None, out).await
        }
        Command::Rmdir { source } => {
            imap::folder_op(&Target::resolve(source, g)?, "rmdir", None, out).await
        }
        Command::Rename { source, new_name } => {
            imap::folder_op(&Target::resolve(source, g)?, "rename", Some(new_name), out).await
        }
        Command::Append {
            source,
            files,
            flag,
        } => imap::append(&Target::resolve(source, g)?, files, flag, out).await,
        Command::Watch { source, exec } => {
            imap::watch(&Target::resolve(source, g)?, exec.as_deref(), out).await
        }
        Command::Completions { .. } | Command::Manpage => Ok(()),
    }
}

/// `-v` traces the protocol (commands and responses, credentials redacted by the library)
/// on standard error; `-vv` adds everything else the libraries log.
fn init_tracing(verbose: u8) {
    let filter = match verbose {
        0 => return,
        // The protocol lines (`C: ...`, `S: ...`) are logged at TRACE level.
        1 => "mailbag=trace",
        _ => "debug,mailbag=trace",
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use tokio::runtime::RuntimeFlavor;

    use super::*;

    fn flavor(args: &[&str]) -> RuntimeFlavor {
        let cli = Cli::parse_from(std::iter::once("mailbag").chain(args.iter().copied()));
        runtime_for(&cli.command)
            .enable_all()
            .build()
            .unwrap()
            .handle()
            .runtime_flavor()
    }

    #[test]
    fn only_parallel_downloads_get_worker_threads() {
        let one = ["download", "imap://u@h/INBOX", "/tmp/x"];
        assert_eq!(flavor(&one), RuntimeFlavor::CurrentThread);
        assert_eq!(
            flavor(&["download", "imap://u@h", "/tmp/x", "--all-folders"]),
            RuntimeFlavor::CurrentThread
        );
        assert_eq!(
            flavor(&[
                "download",
                "imap://u@h",
                "/tmp/x",
                "--all-folders",
                "--jobs",
                "3"
            ]),
            RuntimeFlavor::MultiThread
        );
        assert_eq!(
            flavor(&["watch", "imap://u@h/INBOX"]),
            RuntimeFlavor::CurrentThread
        );
    }
}
