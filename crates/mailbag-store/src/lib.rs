//! Storage for downloaded mail: mbox and Maildir writers and the sync state that makes
//! downloads incremental and exactly-once.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
