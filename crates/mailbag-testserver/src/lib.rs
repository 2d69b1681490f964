//! Test support for mailbag: a private Dovecot started for the tests.
#![forbid(unsafe_code)]
