//! A cursor over one framed response, with the lexical rules of RFC 9051 section 9.
//!
//! The framer hands over a whole response (lines and literals), so running out of bytes here
//! is a syntax error, not "need more". Literal contents are returned as `Bytes` slices of the
//! frame: no copy. Every access is checked (`get`, `checked_*`): the bytes are the server's.

use bytes::Bytes;

use super::{Limits, SyntaxError};
use crate::imap::types::body::Loc;
use crate::imap::types::Text;

/// The outcome of a parse step.
pub(crate) type PResult<T> = Result<T, SyntaxError>;

/// Where a string's content is: a range of the frame, or (for a quoted string with escapes)
/// an unescaped copy.
enum Span {
    At(usize, usize),
    Owned(Vec<u8>),
}

/// Reading position in a frame.
pub(crate) struct Cursor<'l> {
    buf: Bytes,
    pos: usize,
    depth: usize,
    pub(crate) limits: &'l Limits,
}

impl<'l> Cursor<'l> {
    pub(crate) fn new(buf: Bytes, limits: &'l Limits) -> Self {
        Cursor {
            buf,
            pos: 0,
            depth: 0,
            limits,
        }
    }

    /// The whole frame.
    pub(crate) fn frame(&self) -> &Bytes {
        &self.buf
    }

    #[inline]
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    #[inline]
    pub(crate) fn set_pos(&mut self, pos: usize) {
        self.pos = pos;
    }

    pub(crate) fn err(&self, expected: &'static str) -> SyntaxError {
        SyntaxError::Expected {
            expected,
            offset: self.pos,
        }
    }

    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    #[inline]
    pub(crate) fn rest(&self) -> &[u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    #[inline]
    pub(crate) fn bump(&mut self) {
        self.pos = self.pos.saturating_add(1).min(self.buf.len());
    }

    /// Consumes `b` if it is next.
    #[inline]
    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.bump();
            true
        } else {
            false
        }
    }

    #[inline]
    pub(crate) fn expect(&mut self, b: u8, what: &'static str) -> PResult<()> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(self.err(what))
        }
    }

    /// `SP`, tolerantly: any number of spaces, including none (servers drop and double them).
    #[inline]
    pub(crate) fn sp(&mut self) {
        while self.peek() == Some(b' ') {
            self.bump();
        }
    }

    /// Consumes `word` (ASCII, any case) if it is next and not followed by more atom bytes.
    #[inline(always)]
    pub(crate) fn eat_word(&mut self, word: &str) -> bool {
        let w = word.as_bytes();
        let Some(end) = self.pos.checked_add(w.len()) else {
            return false;
        };
        match self.buf.get(self.pos..end) {
            Some(s) if s.eq_ignore_ascii_case(w) => {
                if self
                    .buf
                    .get(end)
                    .is_some_and(|&b| is_token_byte(b) && b != b'[')
                {
                    return false;
                }
                self.pos = end;
                true
            }
            _ => false,
        }
    }

    /// Takes bytes while `pred` holds.
    #[inline]
    pub(crate) fn take_while(&mut self, pred: impl Fn(u8) -> bool) -> &[u8] {
        let start = self.pos;
        let len = self
            .rest()
            .iter()
            .position(|&b| !pred(b))
            .unwrap_or(self.rest().len());
        self.pos = start.saturating_add(len);
        self.buf.get(start..self.pos).unwrap_or_default()
    }

    /// Like [`Cursor::take_while`], as a zero-copy slice.
    #[inline]
    pub(crate) fn take_bytes_while(&mut self, pred: impl Fn(u8) -> bool) -> Bytes {
        let start = self.pos;
        let len = self.take_while(pred).len();
        self.buf.slice(start..start.saturating_add(len))
    }

    /// `CRLF`, tolerantly: trailing spaces first, and a bare LF accepted. Must end the frame.
    pub(crate) fn eol(&mut self) -> PResult<()> {
        self.sp();
        self.eat(b'\r');
        self.expect(b'\n', "end of line")?;
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            Err(self.err("end of response"))
        }
    }

    pub(crate) fn at_eol(&self) -> bool {
        let mut i = self.pos;
        while self.buf.get(i) == Some(&b' ') {
            i = i.saturating_add(1);
        }
        matches!(self.buf.get(i), Some(b'\r' | b'\n') | None)
    }

    /// The rest of the line (without its line end), leaving the cursor on the line end.
    pub(crate) fn line_rest(&mut self) -> Bytes {
        let mut b = self.take_bytes_while(|b| b != b'\n');
        if b.last() == Some(&b'\r') {
            b.truncate(b.len().saturating_sub(1));
        }
        if self.pos > 0 && self.buf.get(self.pos.saturating_sub(1)) == Some(&b'\r') {
            self.pos = self.pos.saturating_sub(1);
        }
        b
    }

    #[inline]
    pub(crate) fn enter(&mut self) -> PResult<()> {
        self.depth = self.depth.saturating_add(1);
        if self.depth > self.limits.max_depth {
            return Err(SyntaxError::TooDeep {
                limit: self.limits.max_depth,
            });
        }
        Ok(())
    }

    #[inline]
    pub(crate) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    #[inline]
    pub(crate) fn check_items(&self, n: usize) -> PResult<()> {
        if n >= self.limits.max_items {
            Err(SyntaxError::TooManyItems {
                limit: self.limits.max_items,
            })
        } else {
            Ok(())
        }
    }

    /// `number = 1*DIGIT` (32-bit)
    #[inline]
    pub(crate) fn number(&mut self) -> PResult<u32> {
        let n = self.number64()?;
        u32::try_from(n).map_err(|_| self.err("32-bit number"))
    }

    /// `number64 = 1*DIGIT` (RFC 9051, 63-bit)
    #[inline]
    pub(crate) fn number64(&mut self) -> PResult<u64> {
        let start = self.pos;
        let digits = self.take_while(|b| b.is_ascii_digit());
        if digits.is_empty() {
            self.pos = start;
            return Err(self.err("number"));
        }
        let mut n: u64 = 0;
        for &d in digits {
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(d.wrapping_sub(b'0'))))
                .ok_or(SyntaxError::Expected {
                    expected: "number that fits 64 bits",
                    offset: start,
                })?;
        }
        Ok(n)
    }

    /// `nz-number = digit-nz *DIGIT`
    pub(crate) fn nz_number(&mut self) -> PResult<std::num::NonZeroU32> {
        let n = self.number()?;
        std::num::NonZeroU32::new(n).ok_or(self.err("non-zero number"))
    }

    /// A body size, tolerantly: `number`, or a negative number or NIL (seen from Exchange and
    /// others) read as 0.
    pub(crate) fn lenient_number(&mut self) -> PResult<u64> {
        if self.eat_word("NIL") {
            return Ok(0);
        }
        if self.eat(b'-') {
            self.take_while(|b| b.is_ascii_digit());
            return Ok(0);
        }
        if self.peek() == Some(b'"') {
            // A number in quotes: read the string and take its digits.
            let s = self.string()?;
            return Ok(std::str::from_utf8(&s)
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(0));
        }
        self.number64()
    }

    /// `atom = 1*ATOM-CHAR`, tolerantly: any bytes up to a space, parenthesis, bracket end or
    /// line end.
    #[inline]
    pub(crate) fn atom(&mut self) -> PResult<&[u8]> {
        let start = self.pos;
        let a = self.take_while(|b| is_token_byte(b) && b != b']');
        if a.is_empty() {
            self.pos = start;
            return Err(self.err("atom"));
        }
        Ok(self.buf.get(start..self.pos).unwrap_or_default())
    }

    pub(crate) fn atom_string(&mut self) -> PResult<String> {
        self.atom().map(to_text)
    }

    /// `string = quoted / literal`
    #[inline]
    pub(crate) fn string(&mut self) -> PResult<Bytes> {
        let s = self.string_span()?;
        Ok(self.span_bytes(s))
    }

    /// [`Cursor::string`] as a [`Span`]: no `Bytes` is made (nor its reference count
    /// touched) for a value that is read as text or thrown away.
    #[inline]
    fn string_span(&mut self) -> PResult<Span> {
        match self.peek() {
            Some(b'"') => self.quoted_span(),
            Some(b'{' | b'~') => self.literal_span(),
            _ => Err(self.err("string")),
        }
    }

    /// `quoted = DQUOTE *QUOTED-CHAR DQUOTE`, accepting 8-bit bytes and any escaped byte.
    #[inline]
    fn quoted_span(&mut self) -> PResult<Span> {
        self.expect(b'"', "quoted string")?;
        let start = self.pos;
        let rest = self.rest();
        let Some(end) = find_quote_end(rest) else {
            return Err(self.err("closing quote"));
        };
        match rest.get(end) {
            Some(b'"') => {
                let stop = start.saturating_add(end);
                self.pos = stop.saturating_add(1);
                return Ok(Span::At(start, stop));
            }
            Some(b'\n') => return Err(self.err("closing quote before line end")),
            _ => {}
        }
        self.unescape(end)
    }

    /// The rest of a quoted string with escapes (rare: only names with `"` or `\`),
    /// unescaped into a new buffer.
    #[cold]
    fn unescape(&mut self, hint: usize) -> PResult<Span> {
        let mut out = Vec::with_capacity(hint.saturating_add(16));
        loop {
            match self.peek() {
                None | Some(b'\n') => return Err(self.err("closing quote")),
                Some(b'"') => {
                    self.bump();
                    return Ok(Span::Owned(out));
                }
                Some(b'\\') => {
                    self.bump();
                    match self.peek() {
                        Some(b) if b != b'\n' => {
                            out.push(b);
                            self.bump();
                        }
                        _ => return Err(self.err("escaped character")),
                    }
                }
                Some(b) => {
                    out.push(b);
                    self.bump();
                }
            }
        }
    }

    /// The value of a span: a slice of the frame, or the unescaped copy.
    #[inline]
    fn span_bytes(&self, s: Span) -> Bytes {
        match s {
            Span::At(start, end) => self.buf.slice(start..end),
            Span::Owned(v) => Bytes::from(v),
        }
    }

    /// The bytes of a span, borrowed.
    #[inline]
    fn span_slice<'s>(&'s self, s: &'s Span) -> &'s [u8] {
        match s {
            Span::At(start, end) => self.buf.get(*start..*end).unwrap_or_default(),
            Span::Owned(v) => v,
        }
    }

    /// The header of a literal: `"{" number64 ["+"] "}" CRLF` or `"~{" ...` (literal8).
    /// Returns the announced length.
    pub(crate) fn literal_header(&mut self) -> PResult<u64> {
        self.eat(b'~');
        self.expect(b'{', "literal")?;
        let n = self.number64()?;
        let _ = self.eat(b'+') || self.eat(b'-');
        self.expect(b'}', "literal end brace")?;
        self.eat(b'\r');
        self.expect(b'\n', "line end after literal header")?;
        Ok(n)
    }

    /// Whether a literal header here is the last thing of the frame: the framer cut the frame
    /// there to stream the literal's content.
    /// The cursor does not move.
    pub(crate) fn literal_is_streamed(&mut self) -> Option<u64> {
        if !matches!(self.peek(), Some(b'{' | b'~')) {
            return None;
        }
        let start = self.pos;
        let header = self.literal_header();
        let at_end = self.pos == self.buf.len();
        self.pos = start;
        let n = header.ok()?;
        (at_end && n > 0).then_some(n)
    }

    /// `literal = "{" number64 ["+"] "}" CRLF *CHAR8`, as a span of the frame.
    fn literal_span(&mut self) -> PResult<Span> {
        let n = self.literal_header()?;
        let n = usize::try_from(n).map_err(|_| self.err("literal that fits memory"))?;
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or(self.err("literal data"))?;
        let start = self.pos;
        self.pos = end;
        Ok(Span::At(start, end))
    }

    /// Whether a `string` starts here: `"`, `{`, or `~{` (literal8). A `~` followed by
    /// anything else is an atom character, as in the name `~peter/mail`.
    #[inline]
    pub(crate) fn at_string(&self) -> bool {
        match self.peek() {
            Some(b'"' | b'{') => true,
            Some(b'~') => self.rest().get(1) == Some(&b'{'),
            _ => false,
        }
    }

    /// `nstring = string / nil`, tolerantly: an atom where a string belongs is taken as its
    /// text (some servers leave names unquoted).
    #[inline]
    pub(crate) fn nstring(&mut self) -> PResult<Option<Bytes>> {
        Ok(self.nstring_span()?.map(|s| self.span_bytes(s)))
    }

    /// [`Cursor::nstring`], skipped: the value is not wanted.
    #[inline]
    pub(crate) fn skip_nstring(&mut self) -> PResult<()> {
        self.nstring_span().map(drop)
    }

    #[inline]
    fn nstring_span(&mut self) -> PResult<Option<Span>> {
        // One look at the first byte decides, as `at_string` and `eat_word` would.
        match self.peek() {
            Some(b'"') => self.quoted_span().map(Some),
            Some(b'{') => self.literal_span().map(Some),
            Some(b'~') if self.at_string() => self.literal_span().map(Some),
            Some(b'N' | b'n') if self.eat_word("NIL") => Ok(None),
            _ => {
                let start = self.pos;
                self.atom()?;
                Ok(Some(Span::At(start, self.pos)))
            }
        }
    }

    /// [`Cursor::nstring`] as a [`Loc`] for a value whose bytes begin at `base` of the frame:
    /// no `Bytes` is made; an unescaped string goes to `side`.
    #[inline(always)]
    pub(crate) fn nstring_loc(&mut self, base: usize, side: &mut Vec<u8>) -> PResult<Loc> {
        match self.quick_loc(base, false) {
            Some(l) => Ok(l),
            None => self.other_loc(base, side, false),
        }
    }

    /// [`Cursor::text_nstring`] as a [`Loc`] (NIL giving ""): the bytes are checked to be
    /// UTF-8, and decoded lossily into `side` when not.
    #[inline(always)]
    pub(crate) fn text_loc(&mut self, base: usize, side: &mut Vec<u8>) -> PResult<Loc> {
        match self.quick_loc(base, true) {
            Some(l) => Ok(l),
            None => self.other_loc(base, side, true),
        }
    }

    /// The common cases of [`Cursor::nstring_loc`] and [`Cursor::text_loc`], inlined where
    /// they are called: NIL, and a quoted string without escapes (ASCII, for `text`). `None`
    /// (anything else, or a place beyond what a [`Loc`] holds) leaves the cursor where it was.
    #[inline(always)]
    fn quick_loc(&mut self, base: usize, text: bool) -> Option<Loc> {
        match self.peek() {
            Some(b'"') => {
                let at = self.pos;
                let (start, end) = self.plain_quoted()?;
                if !text || self.buf.get(start..end).is_some_and(<[u8]>::is_ascii) {
                    let loc = frame_loc(base, start, end);
                    if loc.is_some() {
                        return loc;
                    }
                }
                self.pos = at;
                None
            }
            Some(b'N' | b'n') if self.eat_word("NIL") => {
                Some(if text { Loc::EMPTY } else { Loc::NIL })
            }
            _ => None,
        }
    }

    /// The other cases: a literal, an atom, a quoted string with escapes, or (for `text`)
    /// one that is not ASCII.
    #[inline(never)]
    fn other_loc(&mut self, base: usize, side: &mut Vec<u8>, text: bool) -> PResult<Loc> {
        match self.nstring_span()? {
            None if text => Ok(Loc::EMPTY),
            None => Ok(Loc::NIL),
            Some(s) => self.loc(base, side, s, text),
        }
    }

    /// The common case of a string: quoted, without escapes. Consumes it and returns where
    /// its content lies; otherwise leaves the cursor alone.
    #[inline(always)]
    fn plain_quoted(&mut self) -> Option<(usize, usize)> {
        if self.peek() != Some(b'"') {
            return None;
        }
        let start = self.pos.checked_add(1)?;
        let rest = self.buf.get(start..)?;
        let len = find_quote_end(rest)?;
        if rest.get(len) != Some(&b'"') {
            return None;
        }
        let end = start.checked_add(len)?;
        self.pos = end.checked_add(1)?;
        Some((start, end))
    }

    /// The [`Loc`] of a span read by [`Cursor::other_loc`].
    #[inline(never)]
    fn loc(&self, base: usize, side: &mut Vec<u8>, s: Span, text: bool) -> PResult<Loc> {
        let too_big = || self.err("structure under 2 GiB");
        match s {
            Span::At(start, end) => {
                let bytes = self.buf.get(start..end).unwrap_or_default();
                if !text || bytes.is_ascii() || std::str::from_utf8(bytes).is_ok() {
                    return frame_loc(base, start, end).ok_or_else(too_big);
                }
                let at = side.len();
                side.extend_from_slice(String::from_utf8_lossy(bytes).as_bytes());
                Loc::side(at, side.len().saturating_sub(at)).ok_or_else(too_big)
            }
            Span::Owned(v) => {
                let at = side.len();
                if text {
                    side.extend_from_slice(String::from_utf8_lossy(&v).as_bytes());
                } else {
                    side.extend_from_slice(&v);
                }
                Loc::side(at, side.len().saturating_sub(at)).ok_or_else(too_big)
            }
        }
    }

    /// [`Cursor::nstring`] read as text; `None` for NIL.
    #[inline]
    pub(crate) fn nstring_text(&mut self) -> PResult<Option<Text>> {
        Ok(self
            .nstring_span()?
            .map(|s| Text::from_wire(self.span_slice(&s))))
    }

    /// `astring = 1*ASTRING-CHAR / string`
    pub(crate) fn astring(&mut self) -> PResult<Bytes> {
        match self.peek() {
            _ if self.at_string() => self.string(),
            _ => {
                let s = self.take_bytes_while(is_token_byte);
                if s.is_empty() {
                    Err(self.err("astring"))
                } else {
                    Ok(s)
                }
            }
        }
    }

    /// A string-ish value read as text, NIL giving "" (for places where servers mix them up).
    #[inline]
    pub(crate) fn text_nstring(&mut self) -> PResult<Text> {
        Ok(self.nstring_text()?.unwrap_or_default())
    }

    /// `"(" item *(SP item) ")"`, tolerant of extra or missing spaces and of an empty list.
    #[inline]
    pub(crate) fn paren_list<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> PResult<T>,
    ) -> PResult<Vec<T>> {
        let mut out = Vec::new();
        self.paren_each(|c| {
            out.push(item(c)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// [`Cursor::paren_list`] handing each item to `item` as it is read, without collecting.
    #[inline]
    pub(crate) fn paren_each(
        &mut self,
        mut item: impl FnMut(&mut Self) -> PResult<()>,
    ) -> PResult<()> {
        self.expect(b'(', "(")?;
        self.enter()?;
        let mut n = 0usize;
        loop {
            self.sp();
            if self.eat(b')') {
                break;
            }
            self.check_items(n)?;
            n = n.saturating_add(1);
            let before = self.pos;
            item(self)?;
            // An item that read nothing would loop until the item limit: a syntax error.
            if self.pos == before {
                return Err(self.err("list item"));
            }
        }
        self.leave();
        Ok(())
    }
}

/// The [`Loc`] of `start..end` of a frame, for a value that begins at `base`; `None` when
/// it lies beyond what a `Loc` holds (a structure over 2 GiB).
#[inline(always)]
fn frame_loc(base: usize, start: usize, end: usize) -> Option<Loc> {
    start
        .checked_sub(base)
        .and_then(|at| Loc::frame(at, end.saturating_sub(start)))
}

/// The first `"`, `\\` or LF in `b`. Quoted strings are mostly short (names, dates,
/// subjects), where memchr's vector setup costs more than the search: the first bytes are
/// scanned eight at a time in a `u64`, the rest (if any) by memchr.
fn find_quote_end(b: &[u8]) -> Option<usize> {
    const SWAR_BYTES: usize = 64;
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Bit 7 of each byte of the result is set for a zero byte of `x` (and possibly for bytes
    // above a zero byte, which the lowest match makes no matter).
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let mut at = 0usize;
    let mut chunks = b.chunks_exact(8);
    for chunk in chunks.by_ref().take(SWAR_BYTES / 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let v = u64::from_le_bytes(w);
        let m = zero(v ^ u64::from_le_bytes([b'"'; 8]))
            | zero(v ^ u64::from_le_bytes([b'\\'; 8]))
            | zero(v ^ u64::from_le_bytes([b'\n'; 8]));
        if m != 0 {
            return Some(at.saturating_add((m.trailing_zeros() >> 3) as usize));
        }
        at = at.saturating_add(8);
    }
    let rest = b.get(at..).unwrap_or_default();
    if rest.len() < 8 {
        return rest
            .iter()
            .position(|&c| matches!(c, b'"' | b'\\' | b'\n'))
            .map(|i| at.saturating_add(i));
    }
    memchr::memchr3(b'"', b'\\', b'\n', rest).map(|i| at.saturating_add(i))
}

/// Server text as a `String`: valid UTF-8 (nearly always, and ASCII) is checked by the fast
/// validator and copied once; anything else is decoded lossily.
pub(crate) fn to_text(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(b).into_owned(),
    }
}

/// Bytes that can be part of a bare token (atom, flag, number): anything but the separators.
pub(crate) fn is_token_byte(b: u8) -> bool {
    !matches!(b, b' ' | b'(' | b')' | b'\r' | b'\n' | b'"' | b'{') && b != 0
}

#[cfg(test)]
mod tests {
    use super::find_quote_end;

    #[test]
    fn quote_end_matches_a_plain_search() {
        let naive = |b: &[u8]| b.iter().position(|&c| matches!(c, b'"' | b'\\' | b'\n'));
        for len in 0..150 {
            for at in 0..=len {
                for stop in [b'"', b'\\', b'\n', 0x80, 0xa2] {
                    let mut b: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
                    if let Some(x) = b.get_mut(at) {
                        *x = stop;
                    }
                    // A second stop further on must not win.
                    if let Some(x) = b.get_mut(at + 3) {
                        *x = b'"';
                    }
                    assert_eq!(find_quote_end(&b), naive(&b), "{len} {at} {stop}");
                }
            }
        }
    }
}
