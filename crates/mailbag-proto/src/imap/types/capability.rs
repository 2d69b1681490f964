//! Capabilities (RFC 9051 7.2.2 and the extensions mailbag knows).

use std::fmt;

/// One capability a server announces. Known ones are typed, so a client checks
/// `caps.contains(&Capability::Idle)` instead of comparing strings; unknown ones are kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Capability {
    /// `IMAP4rev1` (RFC 3501)
    Imap4rev1,
    /// `IMAP4rev2` (RFC 9051)
    Imap4rev2,
    /// `AUTH=<mechanism>` (mechanism in upper case)
    Auth(String),
    /// `COMPRESS=<algorithm>` (RFC 4978; algorithm in upper case)
    Compress(String),
    /// `LITERAL+` (RFC 7888)
    LiteralPlus,
    /// `LITERAL-` (RFC 7888)
    LiteralMinus,
    /// `STARTTLS`
    StartTls,
    /// `LOGINDISABLED`
    LoginDisabled,
    /// `SASL-IR` (RFC 4959)
    SaslIr,
    /// `IDLE` (RFC 2177)
    Idle,
    /// `UIDPLUS` (RFC 4315)
    UidPlus,
    /// `MOVE` (RFC 6851)
    Move,
    /// `CONDSTORE` (RFC 7162)
    CondStore,
    /// `QRESYNC` (RFC 7162)
    QResync,
    /// `ESEARCH` (RFC 4731)
    ESearch,
    /// `SEARCHRES` (RFC 5182)
    SearchRes,
    /// `NAMESPACE` (RFC 2342)
    Namespace,
    /// `ID` (RFC 2971)
    Id,
    /// `ENABLE` (RFC 5161)
    Enable,
    /// `SPECIAL-USE` (RFC 6154)
    SpecialUse,
    /// `CREATE-SPECIAL-USE` (RFC 6154)
    CreateSpecialUse,
    /// `LIST-EXTENDED` (RFC 5258)
    ListExtended,
    /// `LIST-STATUS` (RFC 5819)
    ListStatus,
    /// `CHILDREN` (RFC 3348)
    Children,
    /// `UTF8=ACCEPT` (RFC 6855)
    Utf8Accept,
    /// `UTF8=ONLY` (RFC 6855)
    Utf8Only,
    /// `BINARY` (RFC 3516)
    Binary,
    /// `SORT` (RFC 5256)
    Sort,
    /// `SORT=DISPLAY` (RFC 5957)
    SortDisplay,
    /// `THREAD=<algorithm>` (RFC 5256; algorithm in upper case)
    Thread(String),
    /// `QUOTA` (RFC 9208)
    Quota,
    /// `QUOTA=RES-<resource>` (RFC 9208)
    QuotaResource(String),
    /// `QUOTASET` (RFC 9208)
    QuotaSet,
    /// `METADATA` (RFC 5464)
    Metadata,
    /// `METADATA-SERVER` (RFC 5464)
    MetadataServer,
    /// `NOTIFY` (RFC 5465)
    Notify,
    /// `OBJECTID` (RFC 8474)
    ObjectId,
    /// `STATUS=SIZE` (RFC 8438)
    StatusSize,
    /// `UNSELECT` (RFC 3691)
    Unselect,
    /// `MULTIAPPEND` (RFC 3502)
    MultiAppend,
    /// `CATENATE` (RFC 4469)
    Catenate,
    /// `PREVIEW` (RFC 8970)
    Preview,
    /// `SAVEDATE` (RFC 8514)
    SaveDate,
    /// `APPENDLIMIT[=n]` (RFC 7889)
    AppendLimit(Option<u64>),
    /// `X-GM-EXT-1` (Gmail)
    XGmExt1,
    /// `XLIST` (Gmail's pre-SPECIAL-USE listing)
    XList,
    /// Any other capability, as sent.
    Other(String),
}

impl Capability {
    /// The capability for an atom from a CAPABILITY list, matched without regard to case.
    pub fn from_wire(atom: &str) -> Capability {
        use Capability::*;
        let upper = atom.to_ascii_uppercase();
        if let Some(m) = upper.strip_prefix("AUTH=") {
            return Auth(m.to_string());
        }
        if let Some(m) = upper.strip_prefix("COMPRESS=") {
            return Compress(m.to_string());
        }
        if let Some(m) = upper.strip_prefix("THREAD=") {
            return Thread(m.to_string());
        }
        if let Some(m) = upper.strip_prefix("QUOTA=RES-") {
            return QuotaResource(m.to_string());
        }
        if let Some(m) = upper.strip_prefix("APPENDLIMIT=") {
            return AppendLimit(m.parse().ok());
        }
        match upper.as_str() {
            "IMAP4REV1" => Imap4rev1,
            "IMAP4REV2" => Imap4rev2,
            "LITERAL+" => LiteralPlus,
            "LITERAL-" => LiteralMinus,
            "STARTTLS" => StartTls,
            "LOGINDISABLED" => LoginDisabled,
            "SASL-IR" => SaslIr,
            "IDLE" => Idle,
            "UIDPLUS" => UidPlus,
            "MOVE" => Move,
            "CONDSTORE" => CondStore,
            "QRESYNC" => QResync,
            "ESEARCH" => ESearch,
            "SEARCHRES" => SearchRes,
            "NAMESPACE" => Namespace,
            "ID" => Id,
            "ENABLE" => Enable,
            "SPECIAL-USE" => SpecialUse,
            "CREATE-SPECIAL-USE" => CreateSpecialUse,
            "LIST-EXTENDED" => ListExtended,
            "LIST-STATUS" => ListStatus,
            "CHILDREN" => Children,
            "UTF8=ACCEPT" => Utf8Accept,
            "UTF8=ONLY" => Utf8Only,
            "BINARY" => Binary,
            "SORT" => Sort,
            "SORT=DISPLAY" => SortDisplay,
            "QUOTA" => Quota,
            "QUOTASET" => QuotaSet,
            "METADATA" => Metadata,
            "METADATA-SERVER" => MetadataServer,
            "NOTIFY" => Notify,
            "OBJECTID" => ObjectId,
            "STATUS=SIZE" => StatusSize,
            "UNSELECT" => Unselect,
            "MULTIAPPEND" => MultiAppend,
            "CATENATE" => Catenate,
            "PREVIEW" => Preview,
            "SAVEDATE" => SaveDate,
            "APPENDLIMIT" => AppendLimit(None),
            "X-GM-EXT-1" => XGmExt1,
            "XLIST" => XList,
            _ => Other(atom.to_string()),
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Capability::*;
        let s = match self {
            Imap4rev1 => "IMAP4rev1",
            Imap4rev2 => "IMAP4rev2",
            Auth(m) => return write!(f, "AUTH={m}"),
            Compress(m) => return write!(f, "COMPRESS={m}"),
            Thread(m) => return write!(f, "THREAD={m}"),
            QuotaResource(m) => return write!(f, "QUOTA=RES-{m}"),
            AppendLimit(Some(n)) => return write!(f, "APPENDLIMIT={n}"),
            AppendLimit(None) => "APPENDLIMIT",
            LiteralPlus => "LITERAL+",
            LiteralMinus => "LITERAL-",
            StartTls => "STARTTLS",
            LoginDisabled => "LOGINDISABLED",
            SaslIr => "SASL-IR",
            Idle => "IDLE",
            UidPlus => "UIDPLUS",
            Move => "MOVE",
            CondStore => "CONDSTORE",
            QResync => "QRESYNC",
            ESearch => "ESEARCH",
            SearchRes => "SEARCHRES",
            Namespace => "NAMESPACE",
            Id => "ID",
            Enable => "ENABLE",
            SpecialUse => "SPECIAL-USE",
            CreateSpecialUse => "CREATE-SPECIAL-USE",
            ListExtended => "LIST-EXTENDED",
            ListStatus => "LIST-STATUS",
            Children => "CHILDREN",
            Utf8Accept => "UTF8=ACCEPT",
            Utf8Only => "UTF8=ONLY",
            Binary => "BINARY",
            Sort => "SORT",
            SortDisplay => "SORT=DISPLAY",
            Quota => "QUOTA",
            QuotaSet => "QUOTASET",
            Metadata => "METADATA",
            MetadataServer => "METADATA-SERVER",
            Notify => "NOTIFY",
            ObjectId => "OBJECTID",
            StatusSize => "STATUS=SIZE",
            Unselect => "UNSELECT",
            MultiAppend => "MULTIAPPEND",
            Catenate => "CATENATE",
            Preview => "PREVIEW",
            SaveDate => "SAVEDATE",
            XGmExt1 => "X-GM-EXT-1",
            XList => "XLIST",
            Other(s) => s,
        };
        f.write_str(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown() {
        for s in [
            "IMAP4rev1",
            "AUTH=XOAUTH2",
            "COMPRESS=DEFLATE",
            "LITERAL+",
            "LITERAL-",
            "IMAP4rev2",
            "X-GM-EXT-1",
            "XYZZY",
        ] {
            assert_eq!(Capability::from_wire(s).to_string(), s);
        }
        assert_eq!(
            Capability::from_wire("auth=plain"),
            Capability::Auth("PLAIN".into())
        );
        assert_eq!(Capability::from_wire("idle"), Capability::Idle);
    }
}
