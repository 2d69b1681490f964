//! The mboxrd format: quoting while streaming, the `From ` separator line, and a reader that
//! gives back each message's exact bytes.
//!
//! A file is a sequence of entries, each `From <sender> <asctime date>\n`, then the message
//! with every line that matches `^>*From ` given one more `>`, then one `\n`. The reader takes
//! one `>` off every line matching `^>+From `, so quoting reverses exactly (RFC 4155 and the
//! mboxrd variant described with it).
//!
//! Line ends: the message bytes are kept as the server sent them, CRLF included; only the
//! separator line and the `\n` after each message are mboxrd's own, and they are bare LF.
//! "Line" here means bytes up to and including `\n`, so a CRLF line is a line too. A message
//! that ends with a line end is thus followed by the blank line mboxrd expects; one that does
//! not (rare, but IMAP allows it) is followed by just `\n`, which the reader removes again, so
//! even such a message comes back byte for byte. Other mbox readers would show it with one
//! line end added.

use std::io::{self, BufRead, Write};
use std::time::{SystemTime, UNIX_EPOCH};

const FROM: &[u8; 5] = b"From ";

/// Quotes `^>*From ` lines of one message as its bytes stream through in chunks split
/// anywhere, holding back at most the undecided start of a line.
///
/// ```
/// let mut quoter = mailbag_store::mboxrd::Quoter::new();
/// let mut out = Vec::new();
/// quoter.push(b"Hi\r\n>Fr", &mut out);
/// quoter.push(b"om here\r\nFrom", &mut out);
/// quoter.finish(&mut out);
/// assert_eq!(out, b"Hi\r\n>>From here\r\nFrom");
/// ```
#[derive(Debug, Clone, Default)]
pub struct Quoter {
    state: LineState,
}

#[derive(Debug, Clone, Copy)]
enum LineState {
    /// At the start of a line: `gts` `>` seen, then the first `matched` bytes of `From `.
    /// Kept as counts, not bytes, so a line of a million `>` costs nothing.
    Start { gts: u64, matched: usize },
    /// Past the point where the line could need quoting.
    Rest,
}

impl Default for LineState {
    fn default() -> Self {
        LineState::Start { gts: 0, matched: 0 }
    }
}

impl Quoter {
    /// A quoter at the start of a message.
    pub fn new() -> Quoter {
        Quoter::default()
    }

    /// Appends `chunk`, quoted, to `out`; bytes that may still need a `>` in front wait for
    /// the next chunk.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        let mut i = 0;
        while i < chunk.len() {
            match self.state {
                LineState::Rest => match memchr::memchr(b'\n', &chunk[i..]) {
                    Some(at) => {
                        out.extend_from_slice(&chunk[i..=i + at]);
                        i += at + 1;
                        self.state = LineState::default();
                    }
                    None => {
                        out.extend_from_slice(&chunk[i..]);
                        i = chunk.len();
                    }
                },
                LineState::Start { gts, matched } => {
                    let byte = chunk[i];
                    if matched == 0 && byte == b'>' {
                        self.state = LineState::Start {
                            gts: gts + 1,
                            matched,
                        };
                        i += 1;
                    } else if byte == FROM[matched] {
                        i += 1;
                        if matched + 1 == FROM.len() {
                            out.push(b'>');
                            push_held(gts, FROM.len(), out);
                            self.state = LineState::Rest;
                        } else {
                            self.state = LineState::Start {
                                gts,
                                matched: matched + 1,
                            };
                        }
                    } else {
                        // Not a From line: release what was held and look at this byte again
                        // as an ordinary one (it may be the `\n` that starts the next line).
                        push_held(gts, matched, out);
                        self.state = LineState::Rest;
                    }
                }
            }
        }
    }

    /// Ends the message: writes whatever was held back, unquoted (an incomplete `From `
    /// needs no quote), and resets for the next message.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if let LineState::Start { gts, matched } = self.state {
            push_held(gts, matched, out);
        }
        self.state = LineState::default();
    }
}

fn push_held(gts: u64, matched: usize, out: &mut Vec<u8>) {
    // `gts` counts bytes already received, so it fits in memory's address space.
    out.resize(out.len() + usize::try_from(gts).unwrap_or(usize::MAX), b'>');
    out.extend_from_slice(&FROM[..matched]);
}

/// The separator line for a message, `\n` included: `From <sender> <asctime date>`.
///
/// A sender that is empty or holds whitespace or control characters (which would break the
/// line) becomes `MAILER-DAEMON`, as does none.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// let date = UNIX_EPOCH + Duration::from_secs(1_000_000_000);
/// let line = mailbag_store::mboxrd::from_line(Some("ann@example.org"), date);
/// assert_eq!(line, b"From ann@example.org Sun Sep  9 01:46:40 2001\n");
/// ```
pub fn from_line(sender: Option<&str>, date: SystemTime) -> Vec<u8> {
    let sender = sender
        .filter(|s| !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control()))
        .unwrap_or("MAILER-DAEMON");
    format!("From {sender} {}\n", asctime(date)).into_bytes()
}

/// C's `asctime` form in UTC, e.g. `Sun Sep  9 01:46:40 2001`; dates before 1970 become 1970.
fn asctime(date: SystemTime) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = date.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = secs / 86_400;
    let (year, month, day) = civil_from_days(days);
    let time = secs % 86_400;
    format!(
        "{} {} {day:2} {:02}:{:02}:{:02} {year}",
        DAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        time / 3600,
        time / 60 % 60,
        time % 60,
    )
}

/// Days since 1970-01-01 to (year, month 1-12, day 1-31), Howard Hinnant's algorithm for the
/// proleptic Gregorian calendar.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Splits an mboxrd file back into its messages, unquoting them, one line in memory at a time.
///
/// ```
/// let file = b"From a Thu Jan  1 00:00:00 1970\nx\r\n>From y\r\n\nFrom b Thu Jan  1 00:00:00 1970\nz\n";
/// let mut reader = mailbag_store::mboxrd::Reader::new(&file[..]);
/// assert_eq!(reader.read_message()?.unwrap().1, b"x\r\nFrom y\r\n");
/// assert_eq!(reader.read_message()?.unwrap().1, b"z");
/// assert!(reader.read_message()?.is_none());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Reader<R> {
    inner: R,
    line: Vec<u8>,
    /// The separator line that starts the next message, already read.
    next_from: Option<Vec<u8>>,
    started: bool,
}

impl<R: BufRead> Reader<R> {
    /// A reader at the start of an mboxrd file.
    pub fn new(inner: R) -> Reader<R> {
        Reader {
            inner,
            line: Vec::new(),
            next_from: None,
            started: false,
        }
    }

    /// Reads the next message into memory: its separator line (without `\n`) and its bytes.
    ///
    /// # Errors
    /// As [`Reader::copy_message`].
    pub fn read_message(&mut self) -> io::Result<Option<(Vec<u8>, Vec<u8>)>> {
        let mut body = Vec::new();
        Ok(self.copy_message(&mut body)?.map(|from| (from, body)))
    }

    /// Writes the next message's exact bytes to `out` and returns its separator line (without
    /// `\n`), or `None` at the end of the file.
    ///
    /// # Errors
    /// `InvalidData` when the file does not start with `From ` or does not end with `\n`
    /// (a torn write), and any error of `inner` or `out`.
    pub fn copy_message(&mut self, out: &mut impl Write) -> io::Result<Option<Vec<u8>>> {
        if !self.started {
            self.started = true;
            if !self.read_line()? {
                return Ok(None);
            }
            if !self.line.starts_with(FROM) {
                return Err(invalid("an mbox file must start with a \"From \" line"));
            }
            self.next_from = Some(strip_newline(&self.line).to_vec());
        }
        let Some(from) = self.next_from.take() else {
            return Ok(None);
        };
        // Each line's final `\n` is held back until the next line shows it is not the `\n`
        // the writer put after the message.
        let mut held_newline = false;
        while self.read_line()? {
            if self.line.starts_with(FROM) {
                self.next_from = Some(strip_newline(&self.line).to_vec());
                break;
            }
            if held_newline {
                out.write_all(b"\n")?;
            }
            let quoted = self.line.iter().take_while(|&&b| b == b'>').count();
            let unquoted = if quoted > 0 && self.line[quoted..].starts_with(FROM) {
                &self.line[1..]
            } else {
                &self.line[..]
            };
            out.write_all(strip_newline(unquoted))?;
            held_newline = true;
        }
        Ok(Some(from))
    }

    /// Reads one line into `self.line`; false at the end of the file.
    fn read_line(&mut self) -> io::Result<bool> {
        self.line.clear();
        if self.inner.read_until(b'\n', &mut self.line)? == 0 {
            return Ok(false);
        }
        if self.line.last() != Some(&b'\n') {
            return Err(invalid("the mbox file ends inside a line (torn write?)"));
        }
        Ok(true)
    }
}

fn strip_newline(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\n").unwrap_or(line)
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn quote_all(chunks: &[&[u8]]) -> Vec<u8> {
        let mut quoter = Quoter::new();
        let mut out = Vec::new();
        for chunk in chunks {
            quoter.push(chunk, &mut out);
        }
        quoter.finish(&mut out);
        out
    }

    #[test]
    fn quotes_from_lines_at_any_depth() {
        let body = b"From a\n>From b\n>>From c\nxFrom d\n>>Fro\nFrom";
        let want = b">From a\n>>From b\n>>>From c\nxFrom d\n>>Fro\nFrom";
        assert_eq!(quote_all(&[body]), want);
    }

    #[test]
    fn quoting_is_the_same_split_at_every_byte() {
        let body: &[u8] = b"x\r\n>>From y\r\n>>>\nFrom \n>Fr\n";
        let whole = quote_all(&[body]);
        for i in 0..=body.len() {
            for j in i..=body.len() {
                assert_eq!(quote_all(&[&body[..i], &body[i..j], &body[j..]]), whole);
            }
        }
        let bytewise: Vec<&[u8]> = body.chunks(1).collect();
        assert_eq!(quote_all(&bytewise), whole);
    }

    #[test]
    fn asctime_matches_c() {
        let at = |secs| asctime(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "Thu Jan  1 00:00:00 1970");
        assert_eq!(at(951_782_400), "Tue Feb 29 00:00:00 2000");
        assert_eq!(at(1_795_317_367), "Sun Nov 22 03:16:07 2026");
    }

    #[test]
    fn unusable_senders_become_mailer_daemon() {
        let date = UNIX_EPOCH;
        assert!(from_line(Some("a b"), date).starts_with(b"From MAILER-DAEMON "));
        assert!(from_line(Some(""), date).starts_with(b"From MAILER-DAEMON "));
        assert!(from_line(Some("x\ny"), date).starts_with(b"From MAILER-DAEMON "));
    }

    #[test]
    fn reader_rejects_garbage_and_torn_files() {
        assert!(Reader::new(&b"hello\n"[..]).read_message().is_err());
        assert!(Reader::new(&b"From x\nabc"[..]).read_message().is_err());
        assert!(Reader::new(&b""[..]).read_message().unwrap().is_none());
    }

    #[test]
    fn reader_gives_back_empty_and_unterminated_messages() {
        let file = b"From a\n\nFrom b\nno newline\nFrom c\n\n\n";
        let mut reader = Reader::new(&file[..]);
        assert_eq!(
            reader.read_message().unwrap().unwrap(),
            (b"From a".to_vec(), vec![])
        );
        assert_eq!(reader.read_message().unwrap().unwrap().1, b"no newline");
        assert_eq!(reader.read_message().unwrap().unwrap().1, b"\n");
        assert!(reader.read_message().unwrap().is_none());
    }
}
