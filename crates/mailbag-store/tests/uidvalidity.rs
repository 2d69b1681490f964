//! A changed UIDVALIDITY sets the old output aside and starts a new one.

mod common;

use std::fs;

use common::{stored_messages, Fixture};
use mailbag_store::{Error, Format, Source, Store};

#[test]
fn old_output_is_kept_and_new_one_started() {
    for format in [Format::Mbox, Format::Maildir] {
        let mut fx = Fixture::new(format, false, 3);
        fx.resume_and_check();
        let old_messages = stored_messages(format, &fx.output());

        fx.uid_validity = 78;
        fx.messages = common::messages(2);
        let (mut folder, report) = fx.open();
        let change = report.uid_validity_change.clone().expect("change reported");
        assert_eq!((change.old, change.new), (77, 78));
        assert!(!report.created);
        let suffix = if format == Format::Mbox { ".mbox" } else { "" };
        assert_eq!(
            change.archived_output,
            fx.dest().join(format!("INBOX~uidvalidity-77{suffix}"))
        );
        assert_eq!(folder.stored_uids().count(), 0, "the old UIDs do not count");
        fx.download(&mut folder, 5);
        drop(folder);
        fx.check_exactly_once();
        assert_eq!(
            stored_messages(format, &change.archived_output),
            old_messages,
            "old mail untouched"
        );
        assert!(fx
            .dest()
            .join(".mailbag/INBOX~uidvalidity-77.state")
            .exists());

        // Back to the first UIDVALIDITY (rare, but allowed): a second archive name.
        fx.uid_validity = 77;
        let (_, report) = fx.open();
        let change = report.uid_validity_change.expect("change reported");
        assert_eq!(
            change.archived_output,
            fx.dest().join(format!("INBOX~uidvalidity-78{suffix}"))
        );
        fx.uid_validity = 78;
        let (_, report) = fx.open();
        let change = report.uid_validity_change.expect("change reported");
        assert_eq!(
            change.archived_output,
            fx.dest().join(format!("INBOX~uidvalidity-77-2{suffix}"))
        );
    }
}

#[test]
fn crash_between_the_two_renames_is_finished_at_next_open() {
    for format in [Format::Mbox, Format::Maildir] {
        let mut fx = Fixture::new(format, false, 3);
        fx.resume_and_check();
        let old_messages = stored_messages(format, &fx.output());
        // The first rename happened, the second did not.
        let suffix = if format == Format::Mbox { ".mbox" } else { "" };
        let archived = fx.dest().join(format!("INBOX~uidvalidity-77{suffix}"));
        fs::rename(fx.output(), &archived).unwrap();

        fx.uid_validity = 90;
        let (_, report) = fx.open();
        let change = report.uid_validity_change.expect("change reported");
        assert_eq!(change.archived_output, archived);
        assert!(fx
            .dest()
            .join(".mailbag/INBOX~uidvalidity-77.state")
            .exists());
        assert_eq!(stored_messages(format, &archived), old_messages);
        fx.resume_and_check();
    }
}

#[test]
fn unconfirmed_tail_is_cleaned_before_archiving() {
    let mut fx = Fixture::new(Format::Mbox, false, 3);
    let (mut folder, _) = fx.open();
    fx.put(&mut folder, 0);
    folder.sync().unwrap();
    fx.put(&mut folder, 1);
    drop(folder);
    fx.uid_validity = 5;
    let (_, report) = fx.open();
    let archived = report.uid_validity_change.unwrap().archived_output;
    assert_eq!(
        stored_messages(Format::Mbox, &archived),
        [fx.messages[0].clone()]
    );
}

#[test]
fn state_of_another_account_format_or_protocol_is_refused() {
    let fx = Fixture::new(Format::Mbox, false, 1);
    fx.resume_and_check();
    let name = Fixture::folder_name();
    let other_account = Store::new(fx.dest(), Format::Mbox, "pop3://bob@example.org");
    let err = other_account.open_folder(&name, fx.source()).unwrap_err();
    assert!(matches!(err, Error::StateMismatch { .. }), "{err}");
    let other_format = Store::new(fx.dest(), Format::Maildir, "imaps://ann@example.org");
    let err = other_format.open_folder(&name, fx.source()).unwrap_err();
    assert!(matches!(err, Error::StateMismatch { .. }), "{err}");
    let err = fx.store().open_folder(&name, Source::Pop3).unwrap_err();
    assert!(matches!(err, Error::StateMismatch { .. }), "{err}");
}
