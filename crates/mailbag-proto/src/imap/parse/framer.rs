//! The framer: finds response boundaries in the byte stream, enforces the limits, and hands
//! whole frames to the grammar (or streams a big FETCH body literal).

use std::collections::VecDeque;

use bytes::{Buf, Bytes, BytesMut};

use super::cursor::Cursor;
use super::fetch::{msg_att, FetchList};
use super::{response, Event, Limits, ParseError, ParseErrorKind, StreamedBody};
use crate::imap::types::SeqNum;

/// How many bytes of a skipped line are kept to recognise a literal header at its end.
const TAIL: usize = 32;

/// At most this much room is made at once for a buffered literal's announced rest.
const RESERVE_AHEAD: usize = 256 * 1024;

/// The streaming response parser.
///
/// Give it the bytes read from the connection with [`feed`](Self::feed) (a copy) or
/// [`feed_bytes`](Self::feed_bytes) (taken over without a copy), then call
/// [`next_event`](Self::next_event) until it returns `None` (it needs more bytes).
///
/// ```
/// use mailbag_proto::imap::parse::{Event, ResponseParser};
/// use mailbag_proto::imap::types::{Data, Response};
///
/// let mut parser = ResponseParser::new();
/// parser.feed(b"* OK IMAP4rev2 ready\r\n* 3 EXI");
/// assert!(matches!(parser.next_event(), Some(Event::Response(Response::Greeting(_)))));
/// assert_eq!(parser.next_event(), None);
/// parser.feed(b"STS\r\n");
/// assert_eq!(parser.next_event(), Some(Event::Response(Response::Untagged(Data::Exists(3)))));
/// ```
#[derive(Debug)]
pub struct ResponseParser {
    /// The bytes being framed; `buf[0]` is the start of the current response (or the next
    /// byte of a streamed or skipped one).
    buf: Buffer,
    /// Bytes given to [`feed_bytes`](Self::feed_bytes) (or fed after them) that `buf` has
    /// not reached yet, in order.
    queue: VecDeque<Bytes>,
    state: State,
    limits: Limits,
    expect_greeting: bool,
    /// A FETCH's body was streamed; the next frame is the rest of its item list.
    in_fetch: bool,
}

/// Where the framer reads: its own buffer, or a `Bytes` the caller handed over.
///
/// A response that lies wholly inside a fed `Bytes` is cut out of it as a slice, and a
/// streamed body's chunks are slices of it too: nothing is copied. Only a response that
/// continues from one fed `Bytes` into the next is copied, piece by piece up to its end,
/// into the owned buffer.
#[derive(Debug)]
enum Buffer {
    Owned(BytesMut),
    Shared(Bytes),
}

impl Buffer {
    fn bytes(&self) -> &[u8] {
        match self {
            Buffer::Owned(b) => b,
            Buffer::Shared(b) => b,
        }
    }

    fn len(&self) -> usize {
        self.bytes().len()
    }

    fn is_empty(&self) -> bool {
        self.bytes().is_empty()
    }

    fn get(&self, range: impl std::slice::SliceIndex<[u8], Output = [u8]>) -> Option<&[u8]> {
        self.bytes().get(range)
    }

    /// The first `n` bytes (at most all), removed.
    fn split_to(&mut self, n: usize) -> Bytes {
        let n = n.min(self.len());
        match self {
            Buffer::Owned(b) => b.split_to(n).freeze(),
            Buffer::Shared(b) => b.split_to(n),
        }
    }

    /// A copy-free view of the first `n` bytes where possible, leaving them in place.
    fn head(&self, n: usize) -> Bytes {
        let n = n.min(self.len());
        match self {
            Buffer::Owned(b) => Bytes::copy_from_slice(b.get(..n).unwrap_or_default()),
            Buffer::Shared(b) => b.slice(..n),
        }
    }

    fn advance(&mut self, n: usize) {
        let n = n.min(self.len());
        match self {
            Buffer::Owned(b) => b.advance(n),
            Buffer::Shared(b) => b.advance(n),
        }
    }

    fn clear(&mut self) {
        match self {
            Buffer::Owned(b) => b.clear(),
            Buffer::Shared(b) => b.clear(),
        }
    }

    /// Appends `piece`, with room for at least `room` bytes after the buffer's end (`room`
    /// covers `piece` when larger than it); a shared buffer's bytes are copied into an owned
    /// one first. A literal still to come is room asked for at once: grown piece by piece,
    /// the buffer was copied again at every doubling (issue 8: as many bytes as the copy
    /// itself when 50 KB bodies spanned two reads).
    fn extend(&mut self, piece: &[u8], room: usize) {
        let room = room.max(piece.len());
        match self {
            Buffer::Owned(b) => {
                b.reserve(room);
                b.extend_from_slice(piece);
            }
            Buffer::Shared(b) => {
                let mut owned = BytesMut::with_capacity(b.len().saturating_add(room));
                owned.extend_from_slice(b);
                owned.extend_from_slice(piece);
                *self = Buffer::Owned(owned);
            }
        }
    }
}

#[derive(Debug)]
enum State {
    /// Finding the end of the response that starts at `buf[0]`: `scan` is how far it was
    /// checked, `line_start` where the current line begins, `literal_left` how many bytes of
    /// a buffered literal are still to come.
    Frame {
        scan: usize,
        line_start: usize,
        literal_left: u64,
    },
    /// Passing on `left` more bytes of a streamed literal.
    Stream { left: u64 },
    /// Dropping a bad response up to its end; `tail` is the end of the current line so far.
    Skip { literal_left: u64, tail: Vec<u8> },
}

const FRESH: State = State::Frame {
    scan: 0,
    line_start: 0,
    literal_left: 0,
};

impl Default for ResponseParser {
    fn default() -> Self {
        Self::new()
    }
}

impl ResponseParser {
    /// A parser for a new connection: the first response is read as the greeting.
    pub fn new() -> Self {
        Self::with_limits(Limits::default())
    }

    /// A parser with the given limits, expecting a greeting first.
    pub fn with_limits(limits: Limits) -> Self {
        ResponseParser {
            buf: Buffer::Owned(BytesMut::new()),
            queue: VecDeque::new(),
            state: FRESH,
            limits,
            expect_greeting: true,
            in_fetch: false,
        }
    }

    /// Whether the next response is read as a greeting; turn it off for a parser that starts
    /// mid-session (after STARTTLS or COMPRESS the driver keeps the same parser).
    pub fn set_expect_greeting(&mut self, expect: bool) {
        self.expect_greeting = expect;
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Appends received bytes, copying them. Call [`next_event`](Self::next_event) until
    /// `None` afterwards: the limits are enforced there.
    pub fn feed(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if self.queue.is_empty() {
            match &mut self.buf {
                Buffer::Owned(b) => return b.extend_from_slice(bytes),
                Buffer::Shared(b) if b.is_empty() => {
                    self.buf = Buffer::Owned(BytesMut::from(bytes));
                    return;
                }
                Buffer::Shared(_) => {}
            }
        }
        self.queue.push_back(Bytes::copy_from_slice(bytes));
    }

    /// Appends received bytes without copying them: responses that lie wholly inside
    /// `bytes`, and streamed body chunks, come out as slices of it (only a response that
    /// continues into the next fed bytes is copied, up to its end). For a driver that reads
    /// into a `BytesMut` and hands over `split().freeze()`.
    ///
    /// A slice kept by the program keeps the whole of `bytes` alive, as with any `Bytes`.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use mailbag_proto::imap::parse::{Event, ResponseParser};
    ///
    /// let mut parser = ResponseParser::new();
    /// parser.set_expect_greeting(false);
    /// parser.feed_bytes(Bytes::from_static(b"* 1 FETCH (BODY[] {5}\r\nhello)\r\n"));
    /// assert!(matches!(parser.next_event(), Some(Event::Response(_))));
    /// assert_eq!(parser.next_event(), None);
    /// ```
    pub fn feed_bytes(&mut self, bytes: Bytes) {
        if bytes.is_empty() {
            return;
        }
        if self.buf.is_empty() && self.queue.is_empty() {
            self.buf = Buffer::Shared(bytes);
        } else {
            self.queue.push_back(bytes);
        }
    }

    /// How many received bytes wait in the parser.
    pub fn buffered(&self) -> usize {
        self.queue
            .iter()
            .fold(self.buf.len(), |n, b| n.saturating_add(b.len()))
    }

    /// Drops every buffered byte and any partial response, returning how many bytes were
    /// dropped. For STARTTLS: bytes received before the TLS switch must not be trusted.
    pub fn discard_buffered(&mut self) -> usize {
        let n = self.buffered();
        self.buf.clear();
        self.queue.clear();
        self.state = FRESH;
        self.in_fetch = false;
        n
    }

    /// Brings more fed bytes into `buf`; false when there are none. When `buf` is used up
    /// the next fed `Bytes` becomes it, as it is. Otherwise a response continues across
    /// two feeds and at most `max` more bytes (at least one) are copied onto its end,
    /// stopping after the first line end when `line`. `room` bytes are known to be on
    /// their way (a buffered literal's rest): room for them is made at once.
    fn pull(&mut self, max: usize, line: bool, room: usize) -> bool {
        if self.buf.is_empty() {
            return match self.queue.pop_front() {
                Some(next) => {
                    self.buf = Buffer::Shared(next);
                    true
                }
                None => false,
            };
        }
        let Some(front) = self.queue.front_mut() else {
            return false;
        };
        let mut n = front.len().min(max.max(1));
        if line {
            if let Some(i) = front.get(..n).and_then(|f| memchr::memchr(b'\n', f)) {
                n = i.saturating_add(1);
            }
        }
        let piece = front.split_to(n.min(front.len()));
        if front.is_empty() {
            self.queue.pop_front();
        }
        self.buf.extend(&piece, room);
        true
    }

    /// The next event, or `None` when more bytes are needed.
    pub fn next_event(&mut self) -> Option<Event> {
        loop {
            match self.state {
                State::Stream { left } => {
                    if left == 0 {
                        self.state = FRESH;
                        continue;
                    }
                    if self.buf.is_empty() {
                        if !self.pull(usize::MAX, false, 0) {
                            return None;
                        }
                        continue;
                    }
                    let n = usize::try_from(left)
                        .unwrap_or(usize::MAX)
                        .min(self.buf.len());
                    self.state = State::Stream {
                        left: left.saturating_sub(n as u64),
                    };
                    return Some(Event::BodyChunk(self.buf.split_to(n)));
                }
                State::Skip {
                    ref mut literal_left,
                    ref mut tail,
                } => {
                    if skip(&mut self.buf, literal_left, tail) {
                        self.state = FRESH;
                    } else if !self.pull(usize::MAX, false, 0) {
                        return None;
                    }
                }
                State::Frame {
                    mut scan,
                    mut line_start,
                    mut literal_left,
                } => {
                    if literal_left > 0 {
                        let avail = self.buf.len().saturating_sub(scan);
                        let want = usize::try_from(literal_left).unwrap_or(usize::MAX);
                        let take = want.min(avail);
                        scan = scan.saturating_add(take);
                        literal_left = literal_left.saturating_sub(take as u64);
                        self.state = State::Frame {
                            scan,
                            line_start,
                            literal_left,
                        };
                        if literal_left > 0 {
                            // Room for the literal's rest and a little of the line
                            // after it, up to RESERVE_AHEAD: a server that announces a
                            // big literal and sends nothing does not get it allocated.
                            let rest = want.saturating_sub(take);
                            let room = rest.min(RESERVE_AHEAD).saturating_add(64);
                            if !self.pull(rest, false, room) {
                                return None;
                            }
                            continue;
                        }
                        line_start = scan;
                    }
                    let found = self
                        .buf
                        .get(scan..)
                        .and_then(|rest| memchr::memchr(b'\n', rest));
                    let Some(i) = found else {
                        let len = self.buf.len();
                        self.state = State::Frame {
                            scan: len,
                            line_start,
                            literal_left: 0,
                        };
                        let line_len = len.saturating_sub(line_start);
                        let limit = self.limits.max_line_len;
                        if line_len > limit {
                            let upto = line_start.saturating_add(limit).saturating_add(1);
                            return Some(self.fail(ParseErrorKind::LineTooLong { limit }, upto));
                        }
                        // One byte past the limit is enough to know the line is too long.
                        let allow = limit.saturating_sub(line_len).saturating_add(1);
                        if !self.pull(allow, true, 0) {
                            return None;
                        }
                        continue;
                    };
                    let end = scan.saturating_add(i).saturating_add(1);
                    let ls = line_start;
                    self.state = State::Frame {
                        scan,
                        line_start,
                        literal_left: 0,
                    };
                    if end.saturating_sub(ls) > self.limits.max_line_len {
                        let limit = self.limits.max_line_len;
                        let upto = ls.saturating_add(limit).saturating_add(1);
                        return Some(self.fail(ParseErrorKind::LineTooLong { limit }, upto));
                    }
                    let line = self.buf.get(ls..end).unwrap_or_default();
                    match literal_at_end(line) {
                        None => {
                            let frame = self.buf.split_to(end);
                            self.state = FRESH;
                            return Some(self.parse_frame(frame));
                        }
                        Some(n) => {
                            if let Some(ev) = self.literal(n, ls, end) {
                                return Some(ev);
                            }
                        }
                    }
                }
            }
        }
    }

    /// A literal of `n` bytes is announced at the end of the line `ls..end`: stream it,
    /// buffer it, or refuse it.
    fn literal(&mut self, n: u64, ls: usize, end: usize) -> Option<Event> {
        if n > self.limits.stream_threshold && n <= self.limits.max_streamed_literal {
            if let Some(ev) = self.try_stream(end) {
                return Some(ev);
            }
        }
        if n > self.limits.max_literal_size {
            let limit = self.limits.max_literal_size;
            self.state = State::Frame {
                scan: ls,
                line_start: ls,
                literal_left: 0,
            };
            return Some(self.fail(ParseErrorKind::LiteralTooLarge { size: n, limit }, end));
        }
        let total = u64::try_from(end).unwrap_or(u64::MAX).saturating_add(n);
        if total > self.limits.max_response_size as u64 {
            let limit = self.limits.max_response_size;
            self.state = State::Frame {
                scan: ls,
                line_start: ls,
                literal_left: 0,
            };
            return Some(self.fail(ParseErrorKind::ResponseTooLarge { limit }, end));
        }
        // An empty literal (n == 0): the next line continues at once.
        self.state = State::Frame {
            scan: end,
            line_start: end,
            literal_left: n,
        };
        None
    }

    /// Tries to read `buf[..end]` as the head of a FETCH whose body literal is streamed.
    fn try_stream(&mut self, end: usize) -> Option<Event> {
        if end > self.buf.len() {
            return None;
        }
        let head = self.buf.head(end);
        let mut c = Cursor::new(head, &self.limits);
        let (seq, list) = if self.in_fetch {
            (None, msg_att(&mut c, false).ok()?)
        } else {
            let seq = fetch_head(&mut c)?;
            (Some(seq), msg_att(&mut c, true).ok()?)
        };
        let FetchList::Streamed { items, item, len } = list else {
            return None;
        };
        self.buf.advance(end);
        self.state = State::Stream { left: len };
        let body = StreamedBody { item, len };
        self.in_fetch = true;
        Some(match seq {
            Some(seq) => Event::FetchStart { seq, items, body },
            None => Event::FetchBody { items, body },
        })
    }

    /// Reports the response in the buffer as skipped and drops it up to its end. The current
    /// state's `line_start` says where the line being skipped begins: everything before is
    /// complete and dropped at once, the rest goes through [`skip`]. The error shows the
    /// bytes up to `upto`, where the fault was found, so that it does not depend on how the
    /// input was cut.
    fn fail(&mut self, kind: ParseErrorKind, upto: usize) -> Event {
        let ls = match self.state {
            State::Frame { line_start, .. } => line_start,
            _ => 0,
        };
        let shown = self.buf.len().min(self.limits.error_bytes).min(upto);
        let bytes = Bytes::copy_from_slice(self.buf.get(..shown).unwrap_or_default());
        self.buf.advance(ls);
        self.state = State::Skip {
            literal_left: 0,
            tail: Vec::new(),
        };
        self.in_fetch = false;
        Event::Error(ParseError { kind, bytes })
    }

    fn parse_frame(&mut self, frame: Bytes) -> Event {
        // The cursor owns the frame (no clone: that is two atomic reference-count updates);
        // the error path takes it back.
        let mut c = Cursor::new(frame, &self.limits);
        let result = if self.in_fetch {
            self.in_fetch = false;
            match msg_att(&mut c, false).and_then(|l| c.eol().map(|()| l)) {
                Ok(FetchList::Closed(items)) => Ok(Event::FetchEnd { items }),
                Ok(FetchList::Streamed { .. }) => Err(c.err("end of FETCH")),
                Err(e) => Err(e),
            }
        } else if self.expect_greeting {
            self.expect_greeting = false;
            // A server that starts with something other than a greeting (or a recording
            // that does) still gets its first response read.
            response::greeting(&mut c)
                .map(Event::Response)
                .or_else(|e| {
                    let mut c = Cursor::new(c.frame().clone(), &self.limits);
                    response::response(&mut c)
                        .map(Event::Response)
                        .map_err(|_| e)
                })
        } else {
            response::response(&mut c).map(Event::Response)
        };
        result.unwrap_or_else(|e| {
            let frame = c.frame();
            let shown = frame.len().min(self.limits.error_bytes);
            Event::Error(ParseError {
                kind: ParseErrorKind::Syntax(e),
                bytes: frame.slice(..shown),
            })
        })
    }
}

/// `"*" SP nz-number SP "FETCH" SP`, the start of a FETCH response.
fn fetch_head(c: &mut Cursor) -> Option<SeqNum> {
    c.expect(b'*', "*").ok()?;
    c.sp();
    let seq = SeqNum::from(c.nz_number().ok()?);
    c.sp();
    c.eat_word("FETCH").then_some(())?;
    c.sp();
    Some(seq)
}

/// Drops bytes of a skipped response; true when its end was reached.
fn skip(buf: &mut Buffer, literal_left: &mut u64, tail: &mut Vec<u8>) -> bool {
    loop {
        if *literal_left > 0 {
            let n = usize::try_from(*literal_left)
                .unwrap_or(usize::MAX)
                .min(buf.len());
            buf.advance(n);
            *literal_left = literal_left.saturating_sub(n as u64);
            if *literal_left > 0 {
                return false;
            }
        }
        match memchr::memchr(b'\n', buf.bytes()) {
            None => {
                let keep = buf.len().min(TAIL);
                // A literal header may have begun further back than `TAIL` bytes (a length
                // written with many digits): keep it, shortened, so the line is framed the
                // same however it was cut.
                let tail_in_header = memchr::memrchr(b'{', tail)
                    .is_some_and(|open| header_prefix(tail.get(open..).unwrap_or_default()));
                let from = match memchr::memrchr(b'{', buf.bytes()) {
                    Some(open) if header_prefix(buf.get(open..).unwrap_or_default()) => open,
                    None if tail_in_header => 0,
                    _ => buf.len().saturating_sub(keep),
                };
                tail.extend_from_slice(buf.get(from..).unwrap_or_default());
                compact_tail(tail);
                buf.clear();
                return false;
            }
            Some(i) => {
                let end = i.saturating_add(1);
                tail.extend_from_slice(buf.get(..end).unwrap_or_default());
                let announced = literal_at_end(tail);
                tail.clear();
                buf.advance(end);
                match announced {
                    Some(n) if n > 0 => *literal_left = n,
                    Some(_) => {}
                    None => return true,
                }
            }
        }
    }
}

/// Whether `b`, starting with `{`, can still grow into the end of a literal header:
/// `{` digits, then `+` or `-`, `}` and `\r` in that order, each optional so far.
fn header_prefix(b: &[u8]) -> bool {
    let Some(rest) = b.strip_prefix(b"{") else {
        return false;
    };
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    matches!(
        rest.get(digits..).unwrap_or_default(),
        [] | [b'+' | b'-']
            | [b'+' | b'-', b'}']
            | [b'}']
            | [b'+' | b'-', b'}', b'\r']
            | [b'}', b'\r']
    )
}

/// Bounds the kept end of a skipped line without changing what [`literal_at_end`] will read
/// from it: an unfinished literal header keeps its `{` and its length with leading zeros
/// dropped (a length past 20 digits overflows u64 whatever follows, so it is kept as 21
/// nines); anything else keeps its last `TAIL` bytes.
fn compact_tail(tail: &mut Vec<u8>) {
    if let Some(open) = memchr::memrchr(b'{', tail) {
        let header = tail.get(open..).unwrap_or_default();
        if header_prefix(header) {
            let rest = header.get(1..).unwrap_or_default();
            let n = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            let (digits, after) = rest.split_at(n);
            let zeros = digits.iter().take_while(|&&d| d == b'0').count();
            let significant = digits.get(zeros..).unwrap_or_default();
            let mut compact = vec![b'{'];
            if significant.len() > 20 {
                compact.extend_from_slice(&[b'9'; 21]);
            } else if significant.is_empty() && n > 0 {
                compact.push(b'0');
            } else {
                compact.extend_from_slice(significant);
            }
            compact.extend_from_slice(after);
            *tail = compact;
            return;
        }
    }
    let excess = tail.len().saturating_sub(TAIL);
    tail.drain(..excess);
}

/// The length of the literal announced at the end of `line` (`{n}`, `{n+}`, `{n-}`,
/// `~{n}` then CRLF or LF); a length too large for u64 reads as `u64::MAX` so it is refused
/// by the limits rather than misread.
fn literal_at_end(line: &[u8]) -> Option<u64> {
    let line = line.strip_suffix(b"\n")?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = line.strip_suffix(b"}")?;
    let line = line
        .strip_suffix(b"+")
        .or_else(|| line.strip_suffix(b"-"))
        .unwrap_or(line);
    let digits = line.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let (rest, digits) = line.split_at(line.len().saturating_sub(digits));
    rest.strip_suffix(b"{")?;
    let mut n: u64 = 0;
    for &d in digits {
        n = match n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(d.wrapping_sub(b'0'))))
        {
            Some(n) => n,
            None => return Some(u64::MAX),
        };
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_headers() {
        assert_eq!(literal_at_end(b"* 1 FETCH (BODY[] {12}\r\n"), Some(12));
        assert_eq!(literal_at_end(b"a {0+}\n"), Some(0));
        assert_eq!(literal_at_end(b"a ~{5}\r\n"), Some(5));
        assert_eq!(
            literal_at_end(b"a {99999999999999999999999}\r\n"),
            Some(u64::MAX)
        );
        assert_eq!(literal_at_end(b"a {}\r\n"), None);
        assert_eq!(literal_at_end(b"a }\r\n"), None);
        assert_eq!(literal_at_end(b"a b\r\n"), None);
    }
}
