//! ENVELOPE and BODYSTRUCTURE (RFC 9051 7.5.2 `envelope`, `body`).
//!
//! Both are read through accessors that borrow from the value: an [`Envelope`] or a
//! [`BodyStructure`] keeps the bytes of the response it came in (one shared, reference-counted
//! buffer) and where each of its strings lies there, so the parser makes no string and no
//! per-list vector while it reads them, and the values cost a few allocations each, not dozens.
//!
//! Header-derived strings stay bytes: servers send them raw (RFC 2047 encoded words, or 8-bit
//! text in any charset), and only a MIME decoder above this layer can read them right. Tokens
//! (media types, encodings, parameter names, languages) are text: invalid UTF-8 in them is
//! decoded lossily when parsed.

use std::fmt;

use bytes::Bytes;
use smallvec::SmallVec;

use super::value::Value;

/// Where one string of an envelope or body structure lies: a range of the response's bytes,
/// or (for a quoted string with escapes, or text that needed lossy decoding) of the value's
/// side buffer. `NIL` has its own value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Loc {
    start: u32,
    len: u32,
}

impl Loc {
    /// Marks a range of the side buffer.
    const SIDE: u32 = 1 << 31;
    /// `NIL`.
    pub(crate) const NIL: Loc = Loc {
        start: u32::MAX,
        len: 0,
    };
    /// The empty string.
    pub(crate) const EMPTY: Loc = Loc { start: 0, len: 0 };

    /// `len` bytes at `start` of the response (relative to the value's first byte); `None`
    /// when the offsets do not fit (a structure over 2 GiB).
    pub(crate) fn frame(start: usize, len: usize) -> Option<Loc> {
        let start = u32::try_from(start).ok().filter(|&s| s < Self::SIDE)?;
        let len = u32::try_from(len).ok().filter(|&l| l < Self::SIDE)?;
        Some(Loc { start, len })
    }

    /// The bytes at this place of `frame` (the value's bytes) or `side`; `None` for NIL.
    pub(crate) fn read<'a>(self, frame: &'a [u8], side: &'a [u8]) -> Option<&'a [u8]> {
        if self == Loc::NIL {
            return None;
        }
        let (buf, start) = if self.start & Loc::SIDE != 0 {
            (side, self.start & !Loc::SIDE)
        } else {
            (frame, self.start)
        };
        let start = start as usize;
        Some(
            buf.get(start..start.saturating_add(self.len as usize))
                .unwrap_or_default(),
        )
    }

    /// `len` bytes at `start` of the side buffer.
    pub(crate) fn side(start: usize, len: usize) -> Option<Loc> {
        let start = u32::try_from(start).ok().filter(|&s| s < Self::SIDE)?;
        let len = u32::try_from(len).ok().filter(|&l| l < Self::SIDE)?;
        Some(Loc {
            start: start | Self::SIDE,
            len,
        })
    }
}

/// The bytes that [`Loc`]s point into.
#[derive(Clone, Default)]
pub(crate) struct Store {
    /// The response from the value's first byte on.
    pub(crate) frame: Bytes,
    /// Unescaped strings and lossily decoded text (empty nearly always).
    pub(crate) side: Vec<u8>,
}

impl Store {
    /// The string at `l`; `None` for NIL.
    fn get(&self, l: Loc) -> Option<&[u8]> {
        l.read(&self.frame, &self.side)
    }

    /// The text at `l` ("" for NIL). The parser checked (or made) it UTF-8.
    fn text(&self, l: Loc) -> &str {
        std::str::from_utf8(self.get(l).unwrap_or_default()).unwrap_or_default()
    }
}

/// Shows bytes as text where they are UTF-8, in the manner of `Debug` for `str`.
struct Lossy<'a>(Option<&'a [u8]>);

impl fmt::Debug for Lossy<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => f.write_str("NIL"),
            Some(b) => fmt::Debug::fmt(&String::from_utf8_lossy(b), f),
        }
    }
}

/// The parsed header summary of a message (RFC 9051 `envelope`).
///
/// Strings are `None` for NIL. The address lists fold RFC 5322 groups into
/// [`AddressEntry::Group`].
#[derive(Clone)]
pub struct Envelope {
    pub(crate) store: Store,
    /// Date, subject, In-Reply-To, Message-ID.
    pub(crate) fields: [Loc; 4],
    /// From, Sender, Reply-To, To, Cc, Bcc: ranges of `addrs`.
    pub(crate) lists: [(u32, u32); 6],
    /// Every address of every list in wire order, group markers included: name, adl,
    /// mailbox, host. A typical envelope's (From, Sender, Reply-To, To) fit without an
    /// allocation.
    pub(crate) addrs: SmallVec<[[Loc; 4]; 6]>,
}

impl Default for Envelope {
    fn default() -> Self {
        Envelope {
            store: Store::default(),
            fields: [Loc::NIL; 4],
            lists: [(0, 0); 6],
            addrs: SmallVec::new(),
        }
    }
}

impl Envelope {
    /// `Date:`
    pub fn date(&self) -> Option<&[u8]> {
        self.store.get(self.fields[0])
    }

    /// `Subject:`
    pub fn subject(&self) -> Option<&[u8]> {
        self.store.get(self.fields[1])
    }

    /// `In-Reply-To:`
    pub fn in_reply_to(&self) -> Option<&[u8]> {
        self.store.get(self.fields[2])
    }

    /// `Message-ID:`
    pub fn message_id(&self) -> Option<&[u8]> {
        self.store.get(self.fields[3])
    }

    fn list(&self, i: usize) -> Addresses<'_> {
        let (start, end) = self.lists.get(i).copied().unwrap_or_default();
        Addresses {
            store: &self.store,
            raw: self
                .addrs
                .get(start as usize..end as usize)
                .unwrap_or_default(),
        }
    }

    /// `From:`
    pub fn from(&self) -> Addresses<'_> {
        self.list(0)
    }

    /// `Sender:`
    pub fn sender(&self) -> Addresses<'_> {
        self.list(1)
    }

    /// `Reply-To:`
    pub fn reply_to(&self) -> Addresses<'_> {
        self.list(2)
    }

    /// `To:`
    pub fn to(&self) -> Addresses<'_> {
        self.list(3)
    }

    /// `Cc:`
    pub fn cc(&self) -> Addresses<'_> {
        self.list(4)
    }

    /// `Bcc:`
    pub fn bcc(&self) -> Addresses<'_> {
        self.list(5)
    }
}

impl PartialEq for Envelope {
    fn eq(&self, other: &Self) -> bool {
        self.date() == other.date()
            && self.subject() == other.subject()
            && (0..6).all(|i| self.list(i).eq(other.list(i)))
            && self.in_reply_to() == other.in_reply_to()
            && self.message_id() == other.message_id()
    }
}

impl Eq for Envelope {}

impl fmt::Debug for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Envelope")
            .field("date", &Lossy(self.date()))
            .field("subject", &Lossy(self.subject()))
            .field("from", &self.from())
            .field("sender", &self.sender())
            .field("reply_to", &self.reply_to())
            .field("to", &self.to())
            .field("cc", &self.cc())
            .field("bcc", &self.bcc())
            .field("in_reply_to", &Lossy(self.in_reply_to()))
            .field("message_id", &Lossy(self.message_id()))
            .finish()
    }
}

/// One address of an envelope (RFC 9051 `address`), borrowed from it.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Address<'a> {
    /// The display name.
    pub name: Option<&'a [u8]>,
    /// The source route (obsolete).
    pub adl: Option<&'a [u8]>,
    /// The local part.
    pub mailbox: Option<&'a [u8]>,
    /// The domain.
    pub host: Option<&'a [u8]>,
}

impl<'a> Address<'a> {
    fn read(store: &'a Store, raw: &[Loc; 4]) -> Self {
        Address {
            name: store.get(raw[0]),
            adl: store.get(raw[1]),
            mailbox: store.get(raw[2]),
            host: store.get(raw[3]),
        }
    }
}

impl fmt::Debug for Address<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Address")
            .field("name", &Lossy(self.name))
            .field("adl", &Lossy(self.adl))
            .field("mailbox", &Lossy(self.mailbox))
            .field("host", &Lossy(self.host))
            .finish()
    }
}

/// An address, or an RFC 5322 group with its members (which the wire writes as marker
/// addresses with a NIL host around the members).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressEntry<'a> {
    /// A single mailbox.
    Mailbox(Address<'a>),
    /// `name: member, member;`
    Group {
        /// The group's name.
        name: Option<&'a [u8]>,
        /// Its members.
        members: Vec<Address<'a>>,
    },
}

/// One address list of an [`Envelope`]: an iterator over its entries, groups folded.
#[derive(Clone)]
pub struct Addresses<'a> {
    store: &'a Store,
    raw: &'a [[Loc; 4]],
}

impl<'a> Addresses<'a> {
    /// Whether the list has no addresses (NIL or an empty list).
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Every mailbox of the list, group members included, groups' markers left out.
    pub fn mailboxes(&self) -> impl Iterator<Item = Address<'a>> + 'a {
        self.clone().flat_map(|e| {
            let (one, members) = match e {
                AddressEntry::Mailbox(a) => (Some(a), Vec::new()),
                AddressEntry::Group { members, .. } => (None, members),
            };
            one.into_iter().chain(members)
        })
    }
}

impl<'a> Iterator for Addresses<'a> {
    type Item = AddressEntry<'a>;

    fn next(&mut self) -> Option<AddressEntry<'a>> {
        // An address with a NIL host starts a group (its mailbox is the group's name) when
        // it has a mailbox and no name, and ends it when it has no mailbox.
        let is_start = |a: &Address| a.host.is_none() && a.mailbox.is_some() && a.name.is_none();
        let (first, rest) = self.raw.split_first()?;
        self.raw = rest;
        let a = Address::read(self.store, first);
        if !is_start(&a) {
            return Some(AddressEntry::Mailbox(a));
        }
        let mut members = Vec::new();
        while let Some((next, rest)) = self.raw.split_first() {
            let m = Address::read(self.store, next);
            if is_start(&m) {
                break;
            }
            self.raw = rest;
            if m.host.is_none() && m.mailbox.is_none() {
                break;
            }
            members.push(m);
        }
        Some(AddressEntry::Group {
            name: a.mailbox,
            members,
        })
    }
}

impl fmt::Debug for Addresses<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

/// One part of a [`BodyStructure`] as stored: the tree is kept in pre-order.
#[derive(Clone)]
pub(crate) struct Node {
    /// The index after this part's subtree.
    pub(crate) end: u32,
    pub(crate) kind: NodeKind,
    /// NIL for a multipart.
    pub(crate) media_type: Loc,
    pub(crate) subtype: Loc,
    /// A range of the structure's parameters.
    pub(crate) params: (u32, u32),
    pub(crate) id: Loc,
    pub(crate) description: Loc,
    pub(crate) encoding: Loc,
    pub(crate) size: u64,
    pub(crate) lines: u64,
    /// An index of the structure's envelopes, for MESSAGE/RFC822.
    pub(crate) envelope: u32,
    pub(crate) extension: bool,
    pub(crate) md5: Loc,
    /// NIL when there is no disposition.
    pub(crate) disposition: Loc,
    pub(crate) disposition_params: (u32, u32),
    /// A range of the structure's languages.
    pub(crate) language: (u32, u32),
    pub(crate) location: Loc,
    /// A range of the structure's further extension values.
    pub(crate) more: (u32, u32),
}

/// What kind of part a [`Node`] is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeKind {
    Multi,
    Basic,
    Text,
    Message,
}

impl Node {
    pub(crate) const fn new(kind: NodeKind) -> Self {
        Node {
            end: 0,
            kind,
            media_type: Loc::NIL,
            subtype: Loc::EMPTY,
            params: (0, 0),
            id: Loc::NIL,
            description: Loc::NIL,
            encoding: Loc::EMPTY,
            size: 0,
            lines: 0,
            envelope: 0,
            extension: false,
            md5: Loc::NIL,
            disposition: Loc::NIL,
            disposition_params: (0, 0),
            language: (0, 0),
            location: Loc::NIL,
            more: (0, 0),
        }
    }
}

/// A message's MIME structure (RFC 9051 `body`): the answer to FETCH BODYSTRUCTURE (with
/// extension data) or BODY (without). Read it from [`root`](Self::root).
///
/// ```
/// # use mailbag_proto::imap::parse::parse_response;
/// # use mailbag_proto::imap::types::{Data, FetchItem, Response};
/// let raw = b"* 1 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"UTF-8\") NIL NIL \"7BIT\" 12 1)\
///   (\"APPLICATION\" \"PDF\" (\"NAME\" \"a.pdf\") NIL NIL \"BASE64\" 5000 NIL (\"attachment\" (\"FILENAME\" \"a.pdf\")) NIL NIL) \"MIXED\"))\r\n";
/// let Response::Untagged(Data::Fetch { items, .. }) = parse_response(raw, false).unwrap() else { panic!() };
/// let FetchItem::BodyStructure(bs) = &items[0] else { panic!() };
/// let root = bs.root();
/// assert!(root.is_multipart());
/// assert_eq!(root.subtype(), "MIXED");
/// let pdf = root.children().nth(1).unwrap();
/// assert_eq!((pdf.media_type(), pdf.size()), ("APPLICATION", 5000));
/// assert_eq!(pdf.disposition().unwrap().param("filename"), Some(&b"a.pdf"[..]));
/// ```
#[derive(Clone)]
pub struct BodyStructure {
    pub(crate) store: Store,
    /// The parts in pre-order; the first is the root. A typical message's (a multipart of
    /// two parts) fit without an allocation, as do its parameters.
    pub(crate) nodes: SmallVec<[Node; 3]>,
    /// Every parameter list's (name, value) pairs.
    pub(crate) params: SmallVec<[(Loc, Loc); 6]>,
    pub(crate) languages: Vec<Loc>,
    pub(crate) more: Vec<Value>,
    pub(crate) envelopes: Vec<Envelope>,
}

impl BodyStructure {
    /// The whole message's part: a multipart, or the single part of a one-part message.
    pub fn root(&self) -> Part<'_> {
        Part { bs: self, at: 0 }
    }

    /// Every part with its section number (RFC 9051 6.4.5), in order: what to put in
    /// `BODY[...]` to fetch it. The root comes first with `[]` (the whole message) when it
    /// is a multipart, or `[1]` when the message has a single part. The parts of a
    /// MESSAGE/RFC822 part `n` are numbered under it (`n.1`, `n.2`, ...; `n.1` for a single
    /// part), and the inner multipart itself is not listed.
    ///
    /// ```
    /// # use mailbag_proto::imap::parse::parse_response;
    /// # use mailbag_proto::imap::types::{Data, FetchItem, Response};
    /// # let raw = b"* 1 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 12 1)\
    /// #   (\"APPLICATION\" \"PDF\" NIL NIL NIL \"BASE64\" 5000) \"MIXED\"))\r\n";
    /// # let Response::Untagged(Data::Fetch { items, .. }) = parse_response(raw, false).unwrap() else { panic!() };
    /// # let FetchItem::BodyStructure(bs) = &items[0] else { panic!() };
    /// // The part numbers of the attachments, to fetch them as BODY.PEEK[2] and so on.
    /// let attachments: Vec<Vec<u32>> = bs
    ///     .sections()
    ///     .into_iter()
    ///     .filter(|(_, part)| part.is("application", "pdf"))
    ///     .map(|(section, _)| section)
    ///     .collect();
    /// assert_eq!(attachments, vec![vec![2]]);
    /// ```
    pub fn sections(&self) -> Vec<(Vec<u32>, Part<'_>)> {
        let mut out = Vec::new();
        let root = self.root();
        if root.is_multipart() {
            out.push((Vec::new(), root));
            number_children(root, &[], &mut out);
        } else {
            number(root, vec![1], &mut out);
        }
        out
    }

    fn node(&self, at: usize) -> &Node {
        // Every structure the parser makes has a root; an empty one reads as an empty part.
        const EMPTY: &Node = &Node {
            end: 1,
            media_type: Loc::EMPTY,
            ..Node::new(NodeKind::Basic)
        };
        self.nodes.get(at).unwrap_or(EMPTY)
    }
}

/// Lists `part` as `section`, then what is inside it.
fn number<'a>(part: Part<'a>, section: Vec<u32>, out: &mut Vec<(Vec<u32>, Part<'a>)>) {
    out.push((section.clone(), part));
    if part.is_multipart() {
        number_children(part, &section, out);
    } else if let Some(inner) = part.message_body() {
        if inner.is_multipart() {
            number_children(inner, &section, out);
        } else {
            number(inner, [&section[..], &[1]].concat(), out);
        }
    }
}

/// Lists the parts of the multipart `part`, numbered under `section`.
fn number_children<'a>(part: Part<'a>, section: &[u32], out: &mut Vec<(Vec<u32>, Part<'a>)>) {
    for (i, child) in (1u32..).zip(part.children()) {
        number(child, [section, &[i]].concat(), out);
    }
}

impl PartialEq for BodyStructure {
    fn eq(&self, other: &Self) -> bool {
        self.root() == other.root()
    }
}

impl Eq for BodyStructure {}

impl fmt::Debug for BodyStructure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.root(), f)
    }
}

/// One part of a [`BodyStructure`], borrowed from it.
#[derive(Clone, Copy)]
pub struct Part<'a> {
    bs: &'a BodyStructure,
    at: usize,
}

impl<'a> Part<'a> {
    fn node(&self) -> &'a Node {
        self.bs.node(self.at)
    }

    fn text(&self, l: Loc) -> &'a str {
        self.bs.store.text(l)
    }

    fn bytes(&self, l: Loc) -> Option<&'a [u8]> {
        self.bs.store.get(l)
    }

    fn params_in(&self, (start, end): (u32, u32)) -> Params<'a> {
        Params {
            store: &self.bs.store,
            raw: self
                .bs
                .params
                .get(start as usize..end as usize)
                .unwrap_or_default(),
        }
    }

    /// Whether this is a multipart (its parts are its [`children`](Self::children)).
    pub fn is_multipart(&self) -> bool {
        self.node().kind == NodeKind::Multi
    }

    /// The media type as sent (`TEXT`, `IMAGE`, ...); `MULTIPART` for a multipart, whose
    /// type the wire leaves implicit.
    pub fn media_type(&self) -> &'a str {
        if self.is_multipart() {
            "MULTIPART"
        } else {
            self.text(self.node().media_type)
        }
    }

    /// The subtype as sent (`PLAIN`, `MIXED`, ...).
    pub fn subtype(&self) -> &'a str {
        self.text(self.node().subtype)
    }

    /// Whether the media type is `ty`/`subtype`, in any case.
    pub fn is(&self, ty: &str, subtype: &str) -> bool {
        self.media_type().eq_ignore_ascii_case(ty) && self.subtype().eq_ignore_ascii_case(subtype)
    }

    /// The `Content-Type` parameters (a multipart's come with its extension data).
    pub fn params(&self) -> Params<'a> {
        self.params_in(self.node().params)
    }

    /// The value of the `Content-Type` parameter `name` (any case).
    pub fn param(&self, name: &str) -> Option<&'a [u8]> {
        self.params().get(name)
    }

    /// `Content-ID` (a single part's).
    pub fn id(&self) -> Option<&'a [u8]> {
        self.bytes(self.node().id)
    }

    /// `Content-Description` (a single part's).
    pub fn description(&self) -> Option<&'a [u8]> {
        self.bytes(self.node().description)
    }

    /// `Content-Transfer-Encoding` as sent (`7BIT`, `BASE64`, ...); "" for a multipart or
    /// NIL.
    pub fn encoding(&self) -> &'a str {
        self.text(self.node().encoding)
    }

    /// The size in octets of the encoded body (0 for a multipart, or when a server sent NIL
    /// or a negative number).
    pub fn size(&self) -> u64 {
        self.node().size
    }

    /// The size in lines of a TEXT or MESSAGE/RFC822 part.
    pub fn lines(&self) -> Option<u64> {
        matches!(self.node().kind, NodeKind::Text | NodeKind::Message).then_some(self.node().lines)
    }

    /// The envelope of the message inside a MESSAGE/RFC822 (or MESSAGE/GLOBAL) part.
    pub fn envelope(&self) -> Option<&'a Envelope> {
        (self.node().kind == NodeKind::Message)
            .then(|| self.bs.envelopes.get(self.node().envelope as usize))
            .flatten()
    }

    /// The structure of the message inside a MESSAGE/RFC822 (or MESSAGE/GLOBAL) part.
    pub fn message_body(&self) -> Option<Part<'a>> {
        (self.node().kind == NodeKind::Message).then_some(Part {
            bs: self.bs,
            at: self.at.saturating_add(1),
        })
    }

    /// The parts of a multipart, in order (none for a single part).
    pub fn children(&self) -> Children<'a> {
        let multi = self.is_multipart();
        Children {
            bs: self.bs,
            next: self.at.saturating_add(1),
            end: if multi { self.node().end as usize } else { 0 },
        }
    }

    /// Whether the part carries extension data (BODYSTRUCTURE does, BODY does not).
    pub fn has_extension(&self) -> bool {
        self.node().extension
    }

    /// `Content-MD5` (a single part's extension data).
    pub fn md5(&self) -> Option<&'a [u8]> {
        self.bytes(self.node().md5)
    }

    /// `Content-Disposition` (extension data).
    pub fn disposition(&self) -> Option<Disposition<'a>> {
        let n = self.node();
        (n.disposition != Loc::NIL).then(|| Disposition {
            kind: self.text(n.disposition),
            params: self.params_in(n.disposition_params),
        })
    }

    /// `Content-Language` values (extension data).
    pub fn language(&self) -> impl Iterator<Item = &'a str> + 'a {
        let (start, end) = self.node().language;
        let store = &self.bs.store;
        self.bs
            .languages
            .get(start as usize..end as usize)
            .unwrap_or_default()
            .iter()
            .map(move |&l| store.text(l))
    }

    /// `Content-Location` (extension data).
    pub fn location(&self) -> Option<&'a [u8]> {
        self.bytes(self.node().location)
    }

    /// Extension values after the location, as generic values.
    pub fn extension_values(&self) -> &'a [Value] {
        let (start, end) = self.node().more;
        self.bs
            .more
            .get(start as usize..end as usize)
            .unwrap_or_default()
    }
}

impl PartialEq for Part<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.is_multipart() == other.is_multipart()
            && self.media_type() == other.media_type()
            && self.subtype() == other.subtype()
            && self.params().eq(other.params())
            && self.id() == other.id()
            && self.description() == other.description()
            && self.encoding() == other.encoding()
            && self.size() == other.size()
            && self.lines() == other.lines()
            && self.envelope() == other.envelope()
            && self.message_body() == other.message_body()
            && self.children().eq(other.children())
            && self.has_extension() == other.has_extension()
            && self.md5() == other.md5()
            && self.disposition() == other.disposition()
            && self.language().eq(other.language())
            && self.location() == other.location()
            && self.extension_values() == other.extension_values()
    }
}

impl Eq for Part<'_> {}

impl fmt::Debug for Part<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Part");
        d.field("type", &self.media_type())
            .field("subtype", &self.subtype())
            .field("params", &self.params());
        if self.is_multipart() {
            d.field("parts", &self.children());
        } else {
            d.field("id", &Lossy(self.id()))
                .field("description", &Lossy(self.description()))
                .field("encoding", &self.encoding())
                .field("size", &self.size());
            if let Some(lines) = self.lines() {
                d.field("lines", &lines);
            }
            if let (Some(env), Some(body)) = (self.envelope(), self.message_body()) {
                d.field("envelope", env).field("body", &body);
            }
        }
        if self.has_extension() {
            d.field("md5", &Lossy(self.md5()))
                .field("disposition", &self.disposition())
                .field("language", &self.language().collect::<Vec<_>>())
                .field("location", &Lossy(self.location()))
                .field("more", &self.extension_values());
        }
        d.finish()
    }
}

/// The parts of a multipart.
#[derive(Clone)]
pub struct Children<'a> {
    bs: &'a BodyStructure,
    next: usize,
    end: usize,
}

impl<'a> Iterator for Children<'a> {
    type Item = Part<'a>;

    fn next(&mut self) -> Option<Part<'a>> {
        if self.next >= self.end {
            return None;
        }
        let part = Part {
            bs: self.bs,
            at: self.next,
        };
        // The next sibling starts after this part's subtree (always further on).
        self.next = (part.node().end as usize).max(self.next.saturating_add(1));
        Some(part)
    }
}

impl fmt::Debug for Children<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

/// A parameter list (`Content-Type` or `Content-Disposition`): (name, value) pairs in order,
/// a NIL value read as empty.
#[derive(Clone)]
pub struct Params<'a> {
    store: &'a Store,
    raw: &'a [(Loc, Loc)],
}

impl<'a> Params<'a> {
    /// The value of parameter `name` (any case).
    pub fn get(&self, name: &str) -> Option<&'a [u8]> {
        self.clone()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Whether there are none (left).
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
}

impl<'a> Iterator for Params<'a> {
    type Item = (&'a str, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let ((name, value), rest) = self.raw.split_first()?;
        self.raw = rest;
        Some((
            self.store.text(*name),
            self.store.get(*value).unwrap_or_default(),
        ))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.raw.len(), Some(self.raw.len()))
    }
}

impl ExactSizeIterator for Params<'_> {}

impl fmt::Debug for Params<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.clone().map(|(n, v)| (n, Lossy(Some(v)))))
            .finish()
    }
}

impl PartialEq for Params<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.clone().eq(other.clone())
    }
}

/// `Content-Disposition` (RFC 9051 `body-fld-dsp`).
#[derive(Debug, Clone, PartialEq)]
pub struct Disposition<'a> {
    /// `inline`, `attachment`, ... as sent.
    pub kind: &'a str,
    /// Its parameters (`filename`, ...).
    pub params: Params<'a>,
}

impl<'a> Disposition<'a> {
    /// The value of parameter `name` (any case), such as `filename`.
    pub fn param(&self, name: &str) -> Option<&'a [u8]> {
        self.params.get(name)
    }
}
