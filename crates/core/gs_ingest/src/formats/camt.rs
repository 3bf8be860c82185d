//! ISO 20022 bank-to-customer cash management messages: camt.052 (account report),
//! camt.053 (statement) and camt.054 (debit/credit notification), any schema version.
//!
//! One streaming pass over the XML with quick-xml: a stack of the open elements (as small
//! [`Tag`] codes) tells where a value sits, relative to the statement, balance, entry or
//! transaction detail it belongs to. No DOM is built, so a 100 MB file costs one scan.
//!
//! Choices made where the standard leaves room (each is also visible as a warning):
//! - An entry (`Ntry`) with several transaction details (`TxDtls`) becomes one transaction per
//!   detail with the detail's own amount; when some details carry no amount the entry stays one
//!   transaction (entry amount, first detail's parties).
//! - An entry with exactly one detail always books the entry amount (that is what moved on the
//!   account); a differing detail amount is reported.
//! - Pending (`PDNG`) and information-only (`INFO`) entries are kept, with a warning.
//! - A statement without `Acct` is read with an empty account and a warning (the rows are not
//!   lost; only their attribution is).
//! - An entry without booking date uses its value date (warning); without either date it is a
//!   row error.
//! - Every detail of a split entry takes the entry's sign (`Ntry/CdtDbtInd` is the booking on
//!   this account); a detail whose own indicator disagrees is reported, not followed.
//! - A returned payment (`TxDtls/RtrInf`, Rücklastschrift) is flagged as a reversal like
//!   `RvslInd=true`; the sign still follows `CdtDbtInd`; the return reason goes into `purpose`.
//! - `DtTm` values keep the wall-clock time as written; the zone offset is dropped.
//! - Malformed XML (including a truncated file) is an error for the whole file, naming the line.

use std::collections::HashSet;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use gs_types::iban::normalize_account_text;
use gs_types::{DecimalSeparator, Iban, IbanError, Locator, Money, PartyRef, Transaction};
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use crate::error::{IngestError, Result};
use crate::importer::{ImportContext, ImportOutput, Importer, SourceFile, StatementSummary};

/// Importer for ISO 20022 camt.052 / camt.053 / camt.054 XML.
#[derive(Debug, Default)]
pub struct CamtImporter;

/// Namespace prefix shared by all ISO 20022 XML schemas.
const ISO_NS: &str = "urn:iso:std:iso:20022:tech:xsd:";

/// Longest `source_text` kept per entry (characters), so that one huge batch entry does not
/// bloat the frame; the file itself stays the evidence.
const MAX_SOURCE_CHARS: usize = 4000;

/// How often (in entries) progress is reported and cancellation checked.
const PROGRESS_EVERY: u32 = 2000;

impl Importer for CamtImporter {
    fn id(&self) -> &'static str {
        "camt"
    }

    fn detect(&self, file: &SourceFile) -> Option<u8> {
        if file.is_binary() {
            return None;
        }
        let head = file.head(8192);
        let sniff = sniff(&head)?;
        match sniff.namespace.as_deref() {
            Some(ns) if camt_namespace(ns).is_some() => Some(95),
            // `urn:iso:std:iso:20022:tech:xsd:camt` without message and version: camt-like but
            // not a schema; claimed weakly so that the import can say what is wrong with it.
            Some(ns)
                if ns.trim().strip_prefix(ISO_NS) == Some("camt") && sniff.message.is_some() =>
            {
                Some(30)
            }
            None if sniff.root == "Document" && sniff.message.is_some() => Some(60),
            Some(_) | None => None,
        }
    }

    fn import(&self, file: &SourceFile, ctx: &ImportContext<'_>) -> Result<ImportOutput> {
        let decoded = file.text();
        let text: &str = &decoded.text;
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse(text, ctx)));
        let mut out = match run {
            Ok(r) => r?,
            Err(p) => {
                let message = p
                    .downcast_ref::<&str>()
                    .map(ToString::to_string)
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".to_owned());
                return Err(IngestError::Panicked {
                    format: "camt".to_owned(),
                    message,
                });
            }
        };
        if decoded.had_errors {
            out.warn(
                None,
                format!(
                    "some bytes are not valid {}; they were replaced by U+FFFD",
                    decoded.encoding
                ),
            );
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------------
// Detection helpers

/// Which camt message a document carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MsgKind {
    /// camt.052 `BkToCstmrAcctRpt`.
    Report,
    /// camt.053 `BkToCstmrStmt`.
    Statement,
    /// camt.054 `BkToCstmrDbtCdtNtfctn`.
    Notification,
}

impl MsgKind {
    fn format(self) -> &'static str {
        match self {
            MsgKind::Report => "camt.052",
            MsgKind::Statement => "camt.053",
            MsgKind::Notification => "camt.054",
        }
    }

    fn from_tag(t: Tag) -> Option<Self> {
        match t {
            Tag::BkToCstmrAcctRpt => Some(MsgKind::Report),
            Tag::BkToCstmrStmt => Some(MsgKind::Statement),
            Tag::BkToCstmrDbtCdtNtfctn => Some(MsgKind::Notification),
            _ => None,
        }
    }

    /// The element one statement of this message lives in.
    fn part(self) -> &'static str {
        match self {
            MsgKind::Report => "report (Rpt)",
            MsgKind::Statement => "statement (Stmt)",
            MsgKind::Notification => "notification (Ntfctn)",
        }
    }
}

/// `urn:iso:std:iso:20022:tech:xsd:camt.053.001.02` → (Statement, "camt.053.001.02").
fn camt_namespace(ns: &str) -> Option<(MsgKind, &str)> {
    let tail = ns.trim().strip_prefix(ISO_NS)?;
    let kind = match tail.get(..9)? {
        "camt.052." => MsgKind::Report,
        "camt.053." => MsgKind::Statement,
        "camt.054." => MsgKind::Notification,
        _ => return None,
    };
    let rest = tail.get(9..)?;
    let (variant, version) = rest.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.len() <= 3 && s.bytes().all(|b| b.is_ascii_digit());
    (digits(variant) && digits(version)).then_some((kind, tail))
}

/// What the head of a file says about its root.
struct Sniff {
    root: String,
    namespace: Option<String>,
    message: Option<MsgKind>,
}

/// Reads the first elements of `head` (which may be cut anywhere).
fn sniff(head: &str) -> Option<Sniff> {
    let mut reader = Reader::from_str(head);
    let mut root: Option<(String, Option<String>)> = None;
    for _ in 0..64 {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => {
                let local = tag(e.local_name().as_ref());
                if root.is_none() {
                    let name = e.local_name().as_ref().to_owned();
                    root = Some((name, root_namespace(&e)));
                    if let Some(kind) = MsgKind::from_tag(local) {
                        let (root, namespace) = root.take()?;
                        return Some(Sniff {
                            root,
                            namespace,
                            message: Some(kind),
                        });
                    }
                } else if let Some(kind) = MsgKind::from_tag(local) {
                    let (root, namespace) = root.take()?;
                    return Some(Sniff {
                        root,
                        namespace,
                        message: Some(kind),
                    });
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    let (root, namespace) = root?;
    Some(Sniff {
        root,
        namespace,
        message: None,
    })
}

/// The namespace of the root element: `xmlns` for an unprefixed name, `xmlns:p` for `p:name`.
fn root_namespace(e: &BytesStart<'_>) -> Option<String> {
    let name = e.name();
    let prefix = name.prefix().map(|p| p.as_ref().to_owned());
    for attr in e.attributes().with_checks(false).flatten() {
        let key = attr.key.as_ref();
        let matches = match &prefix {
            None => key == "xmlns",
            Some(p) => key.strip_prefix("xmlns:") == Some(p.as_str()),
        };
        if matches {
            return Some(
                attr.normalized_value(XmlVersion::Implicit1_0)
                    .map_or_else(|_| attr.value.to_string(), std::borrow::Cow::into_owned),
            );
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Element names

/// The element names this reader cares about; everything else is `Other`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tag {
    Acct,
    AcctSvcrRef,
    AddtlNtryInf,
    AddtlRmtInf,
    AddtlTxInf,
    Amt,
    AmtDtls,
    Bal,
    Bic,
    BkToCstmrAcctRpt,
    BkToCstmrDbtCdtNtfctn,
    BkToCstmrStmt,
    BkTxCd,
    BookgDt,
    Ccy,
    Cd,
    CdOrPrtry,
    Cdtr,
    CdtrAcct,
    CdtrAgt,
    CdtrRefInf,
    CdtrSchmeId,
    CdtDbtInd,
    ClrSysMmbId,
    Dbtr,
    DbtrAcct,
    DbtrAgt,
    Document,
    Domn,
    Dt,
    DtTm,
    EndToEndId,
    FinInstnId,
    Fmly,
    Iban,
    Id,
    InstdAmt,
    MmbId,
    MndtId,
    Nm,
    Ntfctn,
    Ntry,
    NtryDtls,
    Othr,
    Ownr,
    PrvtId,
    Prtry,
    Pty,
    Ref,
    Refs,
    RltdAgts,
    RltdPties,
    RmtInf,
    Rpt,
    Rsn,
    RtrInf,
    RvslInd,
    SchmeNm,
    Stmt,
    Strd,
    Sts,
    SubFmlyCd,
    Svcr,
    Tp,
    TxAmt,
    TxDtls,
    UltmtCdtr,
    UltmtDbtr,
    Ustrd,
    ValDt,
    Other,
}

fn tag(name: &str) -> Tag {
    match name {
        "Acct" => Tag::Acct,
        "AcctSvcrRef" => Tag::AcctSvcrRef,
        "AddtlNtryInf" => Tag::AddtlNtryInf,
        "AddtlRmtInf" => Tag::AddtlRmtInf,
        "AddtlTxInf" => Tag::AddtlTxInf,
        "Amt" => Tag::Amt,
        "AmtDtls" => Tag::AmtDtls,
        "Bal" => Tag::Bal,
        "BIC" | "BICFI" => Tag::Bic,
        "BkToCstmrAcctRpt" => Tag::BkToCstmrAcctRpt,
        "BkToCstmrDbtCdtNtfctn" => Tag::BkToCstmrDbtCdtNtfctn,
        "BkToCstmrStmt" => Tag::BkToCstmrStmt,
        "BkTxCd" => Tag::BkTxCd,
        "BookgDt" => Tag::BookgDt,
        "Ccy" => Tag::Ccy,
        "Cd" => Tag::Cd,
        "CdOrPrtry" => Tag::CdOrPrtry,
        "Cdtr" => Tag::Cdtr,
        "CdtrAcct" => Tag::CdtrAcct,
        "CdtrAgt" => Tag::CdtrAgt,
        "CdtrRefInf" => Tag::CdtrRefInf,
        "CdtrSchmeId" => Tag::CdtrSchmeId,
        "CdtDbtInd" => Tag::CdtDbtInd,
        "ClrSysMmbId" => Tag::ClrSysMmbId,
        "Dbtr" => Tag::Dbtr,
        "DbtrAcct" => Tag::DbtrAcct,
        "DbtrAgt" => Tag::DbtrAgt,
        "Document" => Tag::Document,
        "Domn" => Tag::Domn,
        "Dt" => Tag::Dt,
        "DtTm" => Tag::DtTm,
        "EndToEndId" => Tag::EndToEndId,
        "FinInstnId" => Tag::FinInstnId,
        "Fmly" => Tag::Fmly,
        "IBAN" => Tag::Iban,
        "Id" => Tag::Id,
        "InstdAmt" => Tag::InstdAmt,
        "MmbId" => Tag::MmbId,
        "MndtId" => Tag::MndtId,
        "Nm" => Tag::Nm,
        "Ntfctn" => Tag::Ntfctn,
        "Ntry" => Tag::Ntry,
        "NtryDtls" => Tag::NtryDtls,
        "Othr" => Tag::Othr,
        "Ownr" => Tag::Ownr,
        "PrvtId" => Tag::PrvtId,
        "Prtry" => Tag::Prtry,
        "Pty" => Tag::Pty,
        "Ref" => Tag::Ref,
        "Refs" => Tag::Refs,
        "RltdAgts" => Tag::RltdAgts,
        "RltdPties" => Tag::RltdPties,
        "RmtInf" => Tag::RmtInf,
        "Rpt" => Tag::Rpt,
        "Rsn" => Tag::Rsn,
        "RtrInf" => Tag::RtrInf,
        "RvslInd" => Tag::RvslInd,
        "SchmeNm" => Tag::SchmeNm,
        "Stmt" => Tag::Stmt,
        "Strd" => Tag::Strd,
        "Sts" => Tag::Sts,
        "SubFmlyCd" => Tag::SubFmlyCd,
        "Svcr" => Tag::Svcr,
        "Tp" => Tag::Tp,
        "TxAmt" => Tag::TxAmt,
        "TxDtls" => Tag::TxDtls,
        "UltmtCdtr" => Tag::UltmtCdtr,
        "UltmtDbtr" => Tag::UltmtDbtr,
        "Ustrd" => Tag::Ustrd,
        "ValDt" => Tag::ValDt,
        _ => Tag::Other,
    }
}

// ---------------------------------------------------------------------------------------------
// Parse state

/// Bank transaction code as read (`BkTxCd`).
#[derive(Debug, Default)]
struct TxCode {
    domain: Option<String>,
    family: Option<String>,
    sub_family: Option<String>,
    proprietary: Option<String>,
}

impl TxCode {
    /// `Domn/Fmly/SubFmly` when the ISO structure is given, else the proprietary code.
    fn render(&self) -> Option<String> {
        if let Some(d) = &self.domain {
            let mut s = d.clone();
            for part in [&self.family, &self.sub_family].into_iter().flatten() {
                s.push('/');
                s.push_str(part);
            }
            return Some(s);
        }
        self.proprietary.clone()
    }

    /// Reads a value at `rel` (path below the element holding `BkTxCd`). True when consumed.
    fn take(&mut self, rel: &[Tag], v: impl FnOnce() -> Option<String>) -> bool {
        let slot = match rel {
            [Tag::BkTxCd, Tag::Domn, Tag::Cd] => &mut self.domain,
            [Tag::BkTxCd, Tag::Domn, Tag::Fmly, Tag::Cd] => &mut self.family,
            [Tag::BkTxCd, Tag::Domn, Tag::Fmly, Tag::SubFmlyCd] => &mut self.sub_family,
            [Tag::BkTxCd, Tag::Prtry, Tag::Cd] => &mut self.proprietary,
            _ => return false,
        };
        if let Some(v) = v() {
            *slot = Some(v);
        }
        true
    }
}

/// An amount as written: text and `Ccy` attribute.
#[derive(Debug, Default, Clone)]
struct RawAmount {
    text: String,
    ccy: Option<String>,
}

/// One statement / report / notification being read.
#[derive(Debug, Default)]
struct StmtState {
    /// Index of the element in the open-element stack.
    base: usize,
    number: u32,
    id: Option<String>,
    account: PartyRef,
    ccy: Option<String>,
    has_acct: bool,
    opening: Option<(Money, String)>,
    previous_closing: Option<(Money, String)>,
    closing: Option<(Money, String)>,
    balance_ccy: Option<String>,
    tx_start: usize,
    entries: u32,
}

/// One balance (`Bal`) being read.
#[derive(Debug, Default)]
struct BalState {
    base: usize,
    code: Option<String>,
    amount: Option<RawAmount>,
    cdi: Option<String>,
    has_date: bool,
}

/// One entry (`Ntry`) being read.
#[derive(Debug, Default)]
struct EntryState {
    base: usize,
    number: u32,
    start: usize,
    line: u32,
    amount: Option<RawAmount>,
    cdi: Option<String>,
    reversal: Option<String>,
    status: Option<String>,
    booking: Option<String>,
    booking_dttm: Option<String>,
    value: Option<String>,
    value_dttm: Option<String>,
    code: TxCode,
    info: Option<String>,
    details: Vec<DetailState>,
}

/// One side (debtor or creditor) of a transaction detail.
#[derive(Debug, Default)]
struct Side {
    name: Option<String>,
    iban: Option<String>,
    other_account: Option<String>,
    bic: Option<String>,
    bank_code: Option<String>,
    ultimate: Option<String>,
}

/// One transaction detail (`TxDtls`) being read.
#[derive(Debug, Default)]
struct DetailState {
    base: usize,
    amount: Option<RawAmount>,
    /// 3 = `Amt`, 2 = `AmtDtls/TxAmt`, 1 = `AmtDtls/InstdAmt`.
    amount_rank: u8,
    cdi: Option<String>,
    end_to_end: Option<String>,
    mandate: Option<String>,
    debtor: Side,
    creditor: Side,
    unstructured: Vec<String>,
    structured: Vec<String>,
    creditor_id: Option<String>,
    other_id: Option<String>,
    other_scheme: Option<String>,
    info: Option<String>,
    code: TxCode,
    returned: bool,
    return_reason: Option<String>,
}

/// Counts lines up to monotonically increasing byte offsets (one pass over the text).
struct LineCounter {
    pos: usize,
    line: u32,
}

impl LineCounter {
    fn line_at(&mut self, text: &str, offset: usize) -> u32 {
        let bytes = text.as_bytes();
        let end = offset.min(bytes.len());
        if end < self.pos {
            self.pos = 0;
            self.line = 1;
        }
        for i in self.pos..end {
            match bytes.get(i) {
                Some(b'\n') => self.line += 1,
                Some(b'\r') if bytes.get(i + 1) != Some(&b'\n') => self.line += 1,
                _ => {}
            }
        }
        self.pos = end;
        self.line
    }
}

/// The whole reader state apart from the current element's text.
struct State<'t> {
    text: &'t str,
    out: ImportOutput,
    stack: Vec<Tag>,
    namespace_kind: Option<MsgKind>,
    msg: Option<(MsgKind, usize)>,
    stmt: Option<StmtState>,
    bal: Option<BalState>,
    entry: Option<EntryState>,
    detail: Option<DetailState>,
    statements: u32,
    amt_ccy: Option<String>,
    lines: LineCounter,
    warned_ibans: HashSet<String>,
    pending_rows: u32,
}

/// Path of the open elements below the one at `base`.
fn rel(stack: &[Tag], base: usize) -> &[Tag] {
    stack.get(base + 1..).unwrap_or(&[])
}

/// Trimmed text; when it spans lines, every whitespace run becomes one space (XML indentation
/// inside long texts is layout, not content).
fn clean(raw: &str) -> Option<String> {
    let t = raw.trim();
    if t.is_empty() {
        return None;
    }
    if !t.contains(['\n', '\r', '\t']) {
        return Some(t.to_owned());
    }
    let mut s = String::with_capacity(t.len());
    for (i, w) in t.split_whitespace().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(w);
    }
    Some(s)
}

/// Resolves a general reference (`&amp;`, `&#228;`); unknown entities stay as written.
fn push_reference(buf: &mut String, name: &str) {
    let c = match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => name.strip_prefix('#').and_then(|num| {
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => num.parse::<u32>().ok(),
            };
            code.and_then(char::from_u32).filter(|&c| c != '\0')
        }),
    };
    if let Some(c) = c {
        buf.push(c);
    } else {
        buf.push('&');
        buf.push_str(name);
        buf.push(';');
    }
}

/// `YYYY-MM-DD` at the start of `s` (a time or zone may follow).
fn iso_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let d = s.get(..10)?;
    let b = d.as_bytes();
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let rest = s.get(10..)?;
    if !(rest.is_empty() || rest.starts_with(['T', ' ', '+', '-', 'Z'])) {
        return None;
    }
    NaiveDate::from_ymd_opt(
        d.get(..4)?.parse().ok()?,
        d.get(5..7)?.parse().ok()?,
        d.get(8..10)?.parse().ok()?,
    )
}

/// `YYYY-MM-DDTHH:MM[:SS[.fff]][zone]` as the wall-clock time written (the zone is dropped).
fn iso_datetime(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    let date = iso_date(s)?;
    let time = s.get(11..)?;
    if !s.get(10..11).is_some_and(|c| c == "T" || c == " ") {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let p = time.get(r)?;
        if p.bytes().all(|b| b.is_ascii_digit()) {
            p.parse().ok()
        } else {
            None
        }
    };
    let h = num(0..2)?;
    if time.get(2..3) != Some(":") {
        return None;
    }
    let m = num(3..5)?;
    let (sec, rest) = if time.get(5..6) == Some(":") {
        (num(6..8)?, time.get(8..).unwrap_or(""))
    } else {
        (0, time.get(5..).unwrap_or(""))
    };
    let mut nanos = 0u32;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits: String = frac
            .chars()
            .take_while(char::is_ascii_digit)
            .take(9)
            .collect();
        if !digits.is_empty() {
            let scale = 10u32.pow(9 - digits.len() as u32);
            nanos = digits.parse::<u32>().ok()? * scale;
        }
    }
    Some(date.and_time(NaiveTime::from_hms_nano_opt(h, m, sec, nanos)?))
}

/// Cuts `s` to `MAX_SOURCE_CHARS` characters with an ellipsis.
fn truncate_source(s: &str) -> String {
    match s.char_indices().nth(MAX_SOURCE_CHARS) {
        Some((cut, _)) => {
            let mut t = s.get(..cut).unwrap_or(s).to_owned();
            t.push('…');
            t
        }
        None => s.to_owned(),
    }
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let end = offset.min(text.len());
    let before = text.get(..end).unwrap_or(text);
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// +1 for `CRDT`, -1 for `DBIT`.
fn sign_of(cdi: Option<&str>) -> Option<i64> {
    match cdi.map(str::trim) {
        Some("CRDT") => Some(1),
        Some("DBIT") => Some(-1),
        _ => None,
    }
}

fn parse(text: &str, ctx: &ImportContext<'_>) -> Result<ImportOutput> {
    let mut st = State {
        text,
        out: ImportOutput::new("camt"),
        stack: Vec::with_capacity(32),
        namespace_kind: None,
        msg: None,
        stmt: None,
        bal: None,
        entry: None,
        detail: None,
        statements: 0,
        amt_ccy: None,
        lines: LineCounter { pos: 0, line: 1 },
        warned_ibans: HashSet::new(),
        pending_rows: 0,
    };
    let mut reader = Reader::from_str(text);
    let mut buf = String::with_capacity(256);
    loop {
        let pos = reader.buffer_position() as usize;
        let event = match reader.read_event() {
            Ok(ev) => ev,
            Err(e) => {
                let (line, col) = line_col(text, reader.error_position() as usize);
                return Err(IngestError::malformed(
                    st.format_name(),
                    format!("XML is not well-formed at line {line}, column {col}: {e}"),
                ));
            }
        };
        match event {
            Event::Start(e) => {
                buf.clear();
                st.start(&e, pos, ctx)?;
            }
            Event::Empty(e) => {
                buf.clear();
                st.start(&e, pos, ctx)?;
                st.end("", reader.buffer_position() as usize);
            }
            Event::End(_) => {
                st.end(&buf, reader.buffer_position() as usize);
                buf.clear();
            }
            Event::Text(t) => buf.push_str(&t),
            Event::CData(t) => buf.push_str(&t),
            Event::GeneralRef(r) => push_reference(&mut buf, &r),
            Event::Eof => break,
            _ => {}
        }
    }
    st.finish(ctx)
}

impl State<'_> {
    fn format_name(&self) -> &'static str {
        self.msg
            .map(|(k, _)| k)
            .or(self.namespace_kind)
            .map_or("camt", MsgKind::format)
    }

    fn start(&mut self, e: &BytesStart<'_>, pos: usize, ctx: &ImportContext<'_>) -> Result<()> {
        let t = tag(e.local_name().as_ref());
        self.stack.push(t);
        let depth = self.stack.len() - 1;
        if depth == 0 {
            self.read_root(e);
        }
        if t == Tag::Amt {
            self.amt_ccy = e
                .attributes()
                .with_checks(false)
                .flatten()
                .find(|a| a.key.local_name().as_ref() == "Ccy")
                .and_then(|a| {
                    a.normalized_value(XmlVersion::Implicit1_0)
                        .ok()
                        .and_then(|v| clean(v.as_ref()))
                });
        }
        if self.msg.is_none() {
            if let Some(kind) = MsgKind::from_tag(t) {
                if let Some(ns) = self.namespace_kind
                    && ns != kind
                {
                    self.out.warn(
                        None,
                        format!(
                            "the namespace says {} but the message is {}; read as {}",
                            ns.format(),
                            kind.format(),
                            kind.format()
                        ),
                    );
                }
                kind.format().clone_into(&mut self.out.format);
                self.msg = Some((kind, depth));
            }
            return Ok(());
        }
        let Some((_, msg_base)) = self.msg else {
            return Ok(());
        };
        if matches!(t, Tag::Stmt | Tag::Rpt | Tag::Ntfctn)
            && depth == msg_base + 1
            && self.stmt.is_none()
        {
            self.statements += 1;
            self.stmt = Some(StmtState {
                base: depth,
                number: self.statements,
                tx_start: self.out.transactions.len(),
                ..StmtState::default()
            });
            return Ok(());
        }
        let Some(stmt) = self.stmt.as_mut() else {
            return Ok(());
        };
        if depth == stmt.base + 1 {
            match t {
                Tag::Bal => {
                    self.bal = Some(BalState {
                        base: depth,
                        ..BalState::default()
                    });
                }
                Tag::Ntry => {
                    stmt.entries += 1;
                    let line = self.lines.line_at(self.text, pos);
                    self.entry = Some(EntryState {
                        base: depth,
                        number: stmt.entries,
                        start: pos,
                        line,
                        ..EntryState::default()
                    });
                    self.pending_rows += 1;
                    if self.pending_rows >= PROGRESS_EVERY {
                        ctx.progress.add_rows(u64::from(self.pending_rows));
                        self.pending_rows = 0;
                        if ctx.progress.is_cancelled() {
                            return Err(IngestError::Cancelled);
                        }
                    }
                }
                _ => {}
            }
            return Ok(());
        }
        if let Some(entry) = &self.entry
            && self.detail.is_none()
            && t == Tag::TxDtls
            && rel(&self.stack, entry.base) == [Tag::NtryDtls, Tag::TxDtls]
        {
            self.detail = Some(DetailState {
                base: depth,
                ..DetailState::default()
            });
            return Ok(());
        }
        if let Some(d) = self.detail.as_mut() {
            match rel(&self.stack, d.base) {
                [.., Tag::PrvtId, Tag::Othr] => {
                    d.other_id = None;
                    d.other_scheme = None;
                }
                [Tag::RtrInf] => d.returned = true,
                _ => {}
            }
        }
        Ok(())
    }

    fn read_root(&mut self, e: &BytesStart<'_>) {
        match root_namespace(e) {
            Some(ns) => match camt_namespace(&ns) {
                Some((kind, version)) => {
                    self.namespace_kind = Some(kind);
                    kind.format().clone_into(&mut self.out.format);
                    self.out.format_version = Some(version.to_owned());
                }
                None => self.out.warn(
                    None,
                    format!("unknown namespace '{ns}'; read by element names only"),
                ),
            },
            None => self.out.info(
                None,
                "document has no camt namespace; read by element names only (version unknown)",
            ),
        }
    }

    fn end(&mut self, raw: &str, end_pos: usize) {
        self.end_inner(raw, end_pos);
        self.stack.pop();
    }

    fn end_inner(&mut self, raw: &str, end_pos: usize) {
        let depth = self.stack.len().saturating_sub(1);
        if self.stack.is_empty() {
            return;
        }
        if let Some(d) = self.detail.as_mut() {
            if depth == d.base {
                if let (Some(d), Some(entry)) = (self.detail.take(), self.entry.as_mut()) {
                    entry.details.push(d);
                }
            } else {
                read_detail(d, rel(&self.stack, d.base), raw, &mut self.amt_ccy);
            }
            return;
        }
        if let Some(entry) = self.entry.as_mut() {
            if depth == entry.base {
                if let Some(entry) = self.entry.take() {
                    self.finish_entry(&entry, end_pos);
                }
            } else {
                read_entry(entry, rel(&self.stack, entry.base), raw, &mut self.amt_ccy);
            }
            return;
        }
        if let Some(bal) = self.bal.as_mut() {
            if depth == bal.base {
                if let Some(bal) = self.bal.take() {
                    self.finish_balance(bal);
                }
            } else {
                match rel(&self.stack, bal.base) {
                    [Tag::Tp, Tag::CdOrPrtry, Tag::Cd | Tag::Prtry] if bal.code.is_none() => {
                        bal.code = clean(raw);
                    }
                    [Tag::Amt] => {
                        bal.amount = Some(RawAmount {
                            text: raw.trim().to_owned(),
                            ccy: self.amt_ccy.take(),
                        });
                    }
                    [Tag::CdtDbtInd] => bal.cdi = clean(raw),
                    [Tag::Dt, Tag::Dt | Tag::DtTm] => bal.has_date = clean(raw).is_some(),
                    _ => {}
                }
            }
            return;
        }
        if let Some(stmt) = self.stmt.as_mut() {
            if depth == stmt.base {
                if let Some(stmt) = self.stmt.take() {
                    self.finish_statement(stmt);
                }
                return;
            }
            let v = || clean(raw);
            match rel(&self.stack, stmt.base) {
                [Tag::Id] => stmt.id = v(),
                [Tag::Acct] => stmt.has_acct = true,
                [Tag::Acct, Tag::Id, Tag::Iban] => {
                    if let Some(s) = v() {
                        let label = format!("statement {} account", stmt.number);
                        let (iban, other) =
                            account_id(&s, &label, &mut self.out, &mut self.warned_ibans);
                        stmt.account.iban = iban.or(stmt.account.iban.take());
                        stmt.account.account_number = other.or(stmt.account.account_number.take());
                    }
                }
                [Tag::Acct, Tag::Id, Tag::Othr, Tag::Id] => {
                    if let Some(s) = v() {
                        // Some banks put an IBAN into Othr/Id; keep it as IBAN when it is one.
                        match Iban::parse(&s) {
                            Ok(i) if stmt.account.iban.is_none() => {
                                stmt.account.iban = Some(i.as_str().to_owned());
                            }
                            _ => stmt.account.account_number = Some(s),
                        }
                    }
                }
                [Tag::Acct, Tag::Ccy] => stmt.ccy = v(),
                [Tag::Acct, Tag::Ownr, Tag::Nm] | [Tag::Acct, Tag::Ownr, Tag::Pty, Tag::Nm] => {
                    stmt.account.name = v();
                }
                [Tag::Acct, Tag::Svcr, Tag::FinInstnId, Tag::Bic] => stmt.account.bic = v(),
                [
                    Tag::Acct,
                    Tag::Svcr,
                    Tag::FinInstnId,
                    Tag::ClrSysMmbId,
                    Tag::MmbId,
                ] => stmt.account.bank_code = v(),
                _ => {}
            }
        }
    }

    fn finish_balance(&mut self, bal: BalState) {
        let Some(stmt) = self.stmt.as_mut() else {
            return;
        };
        let code = bal.code.clone().unwrap_or_default();
        let n = stmt.number;
        let slot = match code.as_str() {
            "OPBD" => &mut stmt.opening,
            "PRCD" => &mut stmt.previous_closing,
            "CLBD" => &mut stmt.closing,
            // ITBD / CLAV / FWAV / OPAV / ITAV / INFO …: not the booked day boundaries
            _ => return,
        };
        if !bal.has_date {
            self.out.warn(
                None,
                format!("statement {n} balance {code} has no date (Dt)"),
            );
        }
        let Some(raw) = bal.amount else {
            self.out.warn(
                None,
                format!("statement {n} balance {code} has no amount (Amt); balance ignored"),
            );
            return;
        };
        let parsed = match Money::parse(&raw.text, DecimalSeparator::Dot) {
            Ok(p) => p,
            Err(e) => {
                self.out.warn(
                    None,
                    format!(
                        "statement {n} balance {code} amount is invalid ({e}); balance ignored"
                    ),
                );
                return;
            }
        };
        let Some(sign) = sign_of(bal.cdi.as_deref()) else {
            self.out.warn(
                None,
                format!("statement {n} balance {code} has no valid credit/debit indicator (CdtDbtInd '{}'); balance ignored", bal.cdi.unwrap_or_default()),
            );
            return;
        };
        if parsed.money.is_negative() {
            self.out.warn(None, format!("statement {n} balance {code} amount '{}' carries a sign; combined with CdtDbtInd", raw.text));
        }
        if parsed.exact.is_some() {
            self.out.warn(None, format!("statement {n} balance {code} amount '{}' has more than two decimals; rounded to cents", raw.text));
        }
        let money = Money(parsed.money.cents() * sign);
        if slot.is_some() {
            self.out.warn(
                None,
                format!("statement {n} has more than one {code} balance; the first is used"),
            );
            return;
        }
        let ccy = raw.ccy.unwrap_or_default();
        *slot = Some((money, ccy.clone()));
        if stmt.balance_ccy.is_none() && !ccy.is_empty() {
            stmt.balance_ccy = Some(ccy);
        }
    }

    fn finish_statement(&mut self, stmt: StmtState) {
        let n = stmt.number;
        if !stmt.has_acct {
            self.out.warn(
                None,
                format!("statement {n} has no account (Acct); its transactions carry no account"),
            );
        }
        let currency = stmt
            .ccy
            .clone()
            .or_else(|| stmt.balance_ccy.clone())
            .unwrap_or_default();
        let mut balance = |b: Option<(Money, String)>, what: &str| -> Option<Money> {
            let (m, ccy) = b?;
            if !ccy.is_empty() && !currency.is_empty() && ccy != currency {
                self.out.warn(
                    None,
                    format!("statement {n} {what} balance is in {ccy}, the account in {currency}"),
                );
            }
            Some(m)
        };
        let opening = match stmt.opening {
            Some(o) => balance(Some(o), "opening"),
            None => balance(stmt.previous_closing, "opening (PRCD)"),
        };
        let closing = balance(stmt.closing, "closing");
        let label = match &stmt.id {
            Some(id) => format!("statement {n} (Id {id})"),
            None => format!("statement {n}"),
        };
        self.out.statements.push(StatementSummary {
            label,
            account: stmt.account,
            currency,
            opening,
            closing,
            tx_range: stmt.tx_start..self.out.transactions.len(),
        });
    }

    fn finish_entry(&mut self, e: &EntryState, end_pos: usize) {
        let Some(stmt) = self.stmt.as_ref() else {
            return;
        };
        let loc = |detail: Option<u32>| Locator::Entry {
            statement: stmt.number,
            entry: e.number,
            detail,
            line: Some(e.line),
        };
        let loc_text = loc(None).to_string();
        let n = e.number;
        let out = &mut self.out;

        let Some(raw) = e.amount.as_ref() else {
            out.row_error(
                Some(loc_text),
                format!("entry {n} has no amount (Amt); entry not loaded"),
            );
            return;
        };
        let parsed = match Money::parse(&raw.text, DecimalSeparator::Dot) {
            Ok(p) => p,
            Err(err) => {
                out.row_error(
                    Some(loc_text),
                    format!("entry {n} amount is invalid ({err}); entry not loaded"),
                );
                return;
            }
        };
        let Some(sign) = sign_of(e.cdi.as_deref()) else {
            out.row_error(
                Some(loc_text),
                format!("entry {n} has no valid credit/debit indicator (CdtDbtInd '{}'); entry not loaded", e.cdi.as_deref().unwrap_or_default()),
            );
            return;
        };
        let booked = match (
            e.booking.as_deref().and_then(iso_date),
            e.booking_dttm.as_deref(),
        ) {
            (Some(d), _) => Some((d, None)),
            (None, Some(dt)) => iso_datetime(dt)
                .map(|ts| (ts.date(), Some(ts)))
                .or_else(|| iso_date(dt).map(|d| (d, None))),
            (None, None) => None,
        };
        let value_date = e
            .value
            .as_deref()
            .and_then(iso_date)
            .or_else(|| e.value_dttm.as_deref().and_then(iso_date));
        let (booking_date, timestamp) = match (
            booked,
            e.booking.as_deref().or(e.booking_dttm.as_deref()),
            value_date,
        ) {
            (Some(b), _, _) => b,
            (None, Some(w), _) => {
                out.row_error(
                    Some(loc_text),
                    format!("entry {n} booking date '{w}' is invalid (BookgDt); entry not loaded"),
                );
                return;
            }
            (None, None, Some(v)) => {
                out.warn(
                    Some(loc_text.clone()),
                    format!("entry {n} has no booking date (BookgDt); the value date is used"),
                );
                (v, None)
            }
            (None, None, None) => {
                out.row_error(
                    Some(loc_text),
                    format!("entry {n} has no booking date (BookgDt); entry not loaded"),
                );
                return;
            }
        };
        match e.status.as_deref() {
            Some("PDNG") => out.warn(
                Some(loc_text.clone()),
                format!("entry {n} is pending (Sts PDNG)"),
            ),
            Some("INFO") => out.warn(
                Some(loc_text.clone()),
                format!("entry {n} is information only (Sts INFO)"),
            ),
            Some("BOOK") | None => {}
            Some(other) => out.warn(
                Some(loc_text.clone()),
                format!("entry {n} has an unknown status (Sts {other})"),
            ),
        }
        let currency = if let Some(c) = raw.ccy.clone().or_else(|| stmt.ccy.clone()) {
            c
        } else {
            out.warn(
                Some(loc_text.clone()),
                format!("entry {n} has no currency (Amt/@Ccy, Acct/Ccy); EUR assumed"),
            );
            "EUR".to_owned()
        };
        let reversal = matches!(e.reversal.as_deref(), Some("true" | "1"));
        let source = truncate_source(self.text.get(e.start..end_pos).unwrap_or_default());
        let entry_money = Money(parsed.money.cents() * sign);
        if parsed.money.is_negative() {
            out.warn(
                Some(loc_text.clone()),
                format!(
                    "entry {n} amount '{}' carries a sign; combined with CdtDbtInd",
                    raw.text
                ),
            );
        }

        let contradicting = e
            .details
            .iter()
            .filter(|d| sign_of(d.cdi.as_deref()).is_some_and(|s| s != sign))
            .count();
        if contradicting > 0 {
            // The entry's indicator is the booking on this account; a detail's indicator that
            // says otherwise is kept visible here and in source_text.
            out.warn(
                Some(loc_text.clone()),
                format!("entry {n}: {contradicting} transaction detail(s) carry a credit/debit indicator contradicting the entry's; the entry's is used"),
            );
        }
        let base = Transaction {
            locator: Some(loc(None)),
            booking_date,
            value_date,
            timestamp,
            currency: currency.clone(),
            account: stmt.account.clone(),
            booking_text: e.info.clone(),
            tx_code: e.code.render(),
            reversal,
            ..Transaction::default()
        };

        // Which amounts the details carry (multi-detail entries only).
        let parts: Vec<Option<(Money, Option<String>, String)>> = if e.details.len() > 1 {
            e.details
                .iter()
                .map(|d| {
                    let a = d.amount.as_ref()?;
                    let p = Money::parse(&a.text, DecimalSeparator::Dot).ok()?;
                    let exact = p.exact.map(|x| signed_exact(&x, sign));
                    Some((
                        Money(p.money.abs().cents() * sign),
                        exact,
                        a.ccy.clone().unwrap_or_else(|| currency.clone()),
                    ))
                })
                .collect()
        } else {
            Vec::new()
        };
        let split = !parts.is_empty() && parts.iter().all(Option::is_some);

        if split {
            let mut sum = Money::ZERO;
            let mut same_ccy = true;
            let total = e.details.len();
            for (k, (d, part)) in e.details.iter().zip(parts).enumerate() {
                let Some((money, exact, ccy)) = part else {
                    continue;
                };
                sum = sum.checked_add(money).unwrap_or(sum);
                same_ccy &= ccy == currency;
                let dl = loc(Some(k as u32 + 1));
                if let Some(x) = &exact {
                    out.warn(Some(dl.to_string()), format!("entry {n} detail {} amount {x} has more than two decimals; rounded to cents", k + 1));
                }
                let mut tx = base.clone();
                tx.locator = Some(dl);
                tx.amount = money;
                tx.amount_exact = exact;
                tx.currency = ccy;
                apply_detail(
                    &mut tx,
                    d,
                    sign > 0,
                    &mut DetailCtx {
                        out,
                        warned: &mut self.warned_ibans,
                        locator: &loc(Some(k as u32 + 1)).to_string(),
                    },
                );
                tx.source_text.clone_from(&source);
                out.transactions.push(tx);
            }
            if !same_ccy {
                out.warn(
                    Some(loc_text.clone()),
                    format!("entry {n}: its {total} transaction details are in another currency than the entry ({currency}); amounts not compared"),
                );
            } else if sum != entry_money {
                out.warn(
                    Some(loc_text.clone()),
                    format!(
                        "entry {n}: the {total} transaction details add up to {} but the entry amount is {}",
                        sum.format_plain(),
                        entry_money.format_plain()
                    ),
                );
            }
            return;
        }

        let mut tx = base;
        tx.amount = entry_money;
        tx.amount_exact = parsed.exact.as_deref().map(|x| signed_exact(x, sign));
        if tx.amount_exact.is_some() {
            out.warn(
                Some(loc_text.clone()),
                format!(
                    "entry {n} amount {} has more than two decimals; rounded to cents",
                    raw.text
                ),
            );
        }
        if let Some(d) = e.details.first() {
            if e.details.len() > 1 {
                out.warn(
                    Some(loc_text.clone()),
                    format!(
                        "entry {n} has {} transaction details without (valid) own amounts; loaded as one transaction with the entry amount and the first detail's parties (all details are in source_text)",
                        e.details.len()
                    ),
                );
            } else if let Some(a) = &d.amount {
                let detail_money = Money::parse(&a.text, DecimalSeparator::Dot)
                    .ok()
                    .map(|p| p.money.abs());
                let detail_ccy = a.ccy.as_deref().unwrap_or(&currency);
                if detail_money != Some(parsed.money.abs()) || detail_ccy != currency {
                    out.warn(
                        Some(loc_text.clone()),
                        format!("entry {n}: detail amount {} {detail_ccy} differs from the entry amount {} {currency}; the entry amount is used", a.text, raw.text),
                    );
                }
            }
            // The counterparty follows the booked direction.
            apply_detail(
                &mut tx,
                d,
                sign > 0,
                &mut DetailCtx {
                    out,
                    warned: &mut self.warned_ibans,
                    locator: &loc_text,
                },
            );
        }
        tx.source_text = source;
        out.transactions.push(tx);
    }

    fn finish(self, ctx: &ImportContext<'_>) -> Result<ImportOutput> {
        ctx.progress.add_rows(u64::from(self.pending_rows));
        let format = self.format_name();
        if !self.stack.is_empty() {
            let (line, _) = line_col(self.text, self.text.len());
            return Err(IngestError::malformed(
                format,
                format!(
                    "the document ends at line {line} with {} element(s) still open; the file is truncated",
                    self.stack.len()
                ),
            ));
        }
        let Some((kind, _)) = self.msg else {
            return Err(IngestError::malformed(
                format,
                "no camt message (BkToCstmrStmt, BkToCstmrAcctRpt or BkToCstmrDbtCdtNtfctn) in the document",
            ));
        };
        if self.statements == 0 {
            return Err(IngestError::malformed(
                format,
                format!(
                    "the document contains no {} (message {})",
                    kind.part(),
                    kind.format()
                ),
            ));
        }
        Ok(self.out)
    }
}

/// Puts the sign on an exact amount text from `Money::parse`.
fn signed_exact(exact: &str, sign: i64) -> String {
    let mag = exact.trim_start_matches('-');
    if sign < 0 {
        format!("-{mag}")
    } else {
        mag.to_owned()
    }
}

/// What `apply_detail` may write to besides the transaction.
struct DetailCtx<'a> {
    out: &'a mut ImportOutput,
    warned: &'a mut HashSet<String>,
    locator: &'a str,
}

/// Copies a transaction detail into `tx`; `credit` picks the counterparty side (the debtor
/// of a credit, the creditor of a debit).
fn apply_detail(tx: &mut Transaction, d: &DetailState, credit: bool, ctx: &mut DetailCtx<'_>) {
    let side = if credit { &d.debtor } else { &d.creditor };
    let (iban, other) = match &side.iban {
        Some(s) => account_id(
            s,
            &format!("{} counterparty", ctx.locator),
            ctx.out,
            ctx.warned,
        ),
        None => (None, None),
    };
    tx.counterparty = PartyRef {
        name: side.name.clone(),
        iban,
        account_number: other.or_else(|| side.other_account.clone()),
        bank_code: side.bank_code.clone(),
        bic: side.bic.clone(),
    };
    let mut purpose: Vec<String> = Vec::new();
    if !d.unstructured.is_empty() {
        purpose.push(d.unstructured.join(" "));
    }
    if !d.structured.is_empty() {
        purpose.push(d.structured.join(" "));
    }
    for (label, s) in [
        ("Ultimate debtor", &d.debtor),
        ("Ultimate creditor", &d.creditor),
    ] {
        if let Some(u) = &s.ultimate
            && s.name.as_ref() != Some(u)
        {
            purpose.push(format!("{label}: {u}"));
        }
    }
    if let Some(r) = &d.return_reason {
        purpose.push(format!("Return reason: {r}"));
    }
    if !purpose.is_empty() {
        tx.purpose = Some(purpose.join("; "));
    }
    if tx.booking_text.is_none() {
        tx.booking_text.clone_from(&d.info);
    }
    if let Some(code) = d.code.render() {
        tx.tx_code = Some(code);
    }
    tx.end_to_end_ref.clone_from(&d.end_to_end);
    tx.mandate_ref.clone_from(&d.mandate);
    tx.creditor_id.clone_from(&d.creditor_id);
    tx.reversal |= d.returned;
}

/// Reads an IBAN field: a valid IBAN, an IBAN with wrong check digits / length (kept, warned),
/// or something else (kept as account number, warned). Warns once per distinct value.
fn account_id(
    text: &str,
    place: &str,
    out: &mut ImportOutput,
    warned: &mut HashSet<String>,
) -> (Option<String>, Option<String>) {
    let norm = normalize_account_text(text);
    match Iban::parse(&norm) {
        Ok(i) => (Some(i.as_str().to_owned()), None),
        Err(IbanError::CheckDigits(_) | IbanError::Length(_)) => {
            if warned.insert(norm.clone()) {
                out.warn(None, format!("IBAN {norm} has wrong check digits or length (first seen: {place}); kept as written"));
            }
            (Some(norm), None)
        }
        Err(IbanError::Shape(_)) => {
            if warned.insert(norm.clone()) {
                out.warn(None, format!("'{norm}' in an IBAN field is not shaped like an IBAN (first seen: {place}); kept as account number"));
            }
            (None, Some(norm))
        }
    }
}

fn read_entry(e: &mut EntryState, rel: &[Tag], raw: &str, amt_ccy: &mut Option<String>) {
    let v = || clean(raw);
    match rel {
        [Tag::Amt] => {
            e.amount = Some(RawAmount {
                text: raw.trim().to_owned(),
                ccy: amt_ccy.take(),
            });
        }
        [Tag::CdtDbtInd] => e.cdi = v(),
        [Tag::RvslInd] => e.reversal = v(),
        [Tag::Sts] | [Tag::Sts, Tag::Cd | Tag::Prtry] => {
            if let Some(s) = v() {
                e.status = Some(s);
            }
        }
        [Tag::BookgDt, Tag::Dt] => e.booking = v(),
        [Tag::BookgDt, Tag::DtTm] => e.booking_dttm = v(),
        [Tag::ValDt, Tag::Dt] => e.value = v(),
        [Tag::ValDt, Tag::DtTm] => e.value_dttm = v(),
        [Tag::AddtlNtryInf] => {
            if let Some(s) = v() {
                e.info = Some(match e.info.take() {
                    Some(prev) => format!("{prev} {s}"),
                    None => s,
                });
            }
        }
        _ => {
            e.code.take(rel, v);
        }
    }
}

fn read_detail(d: &mut DetailState, rel: &[Tag], raw: &str, amt_ccy: &mut Option<String>) {
    let v = || clean(raw);
    let amount = |rank: u8, d: &mut DetailState, ccy: &mut Option<String>| {
        let a = RawAmount {
            text: raw.trim().to_owned(),
            ccy: ccy.take(),
        };
        if rank > d.amount_rank {
            d.amount = Some(a);
            d.amount_rank = rank;
        }
    };
    match rel {
        [Tag::Amt] => amount(3, d, amt_ccy),
        [Tag::AmtDtls, Tag::TxAmt, Tag::Amt] => amount(2, d, amt_ccy),
        [Tag::AmtDtls, Tag::InstdAmt, Tag::Amt] => amount(1, d, amt_ccy),
        [Tag::CdtDbtInd] => d.cdi = v(),
        [Tag::Refs, Tag::EndToEndId] => {
            d.end_to_end = v().filter(|s| !s.eq_ignore_ascii_case("NOTPROVIDED"));
        }
        [Tag::Refs, Tag::MndtId] => d.mandate = v(),
        [Tag::RltdPties, Tag::Dbtr, Tag::Nm] | [Tag::RltdPties, Tag::Dbtr, Tag::Pty, Tag::Nm] => {
            d.debtor.name = v();
        }
        [Tag::RltdPties, Tag::Cdtr, Tag::Nm] | [Tag::RltdPties, Tag::Cdtr, Tag::Pty, Tag::Nm] => {
            d.creditor.name = v();
        }
        [Tag::RltdPties, Tag::UltmtDbtr, Tag::Nm]
        | [Tag::RltdPties, Tag::UltmtDbtr, Tag::Pty, Tag::Nm] => d.debtor.ultimate = v(),
        [Tag::RltdPties, Tag::UltmtCdtr, Tag::Nm]
        | [Tag::RltdPties, Tag::UltmtCdtr, Tag::Pty, Tag::Nm] => d.creditor.ultimate = v(),
        [Tag::RltdPties, Tag::DbtrAcct, Tag::Id, Tag::Iban] => d.debtor.iban = v(),
        [Tag::RltdPties, Tag::CdtrAcct, Tag::Id, Tag::Iban] => d.creditor.iban = v(),
        [Tag::RltdPties, Tag::DbtrAcct, Tag::Id, Tag::Othr, Tag::Id] => {
            d.debtor.other_account = v();
        }
        [Tag::RltdPties, Tag::CdtrAcct, Tag::Id, Tag::Othr, Tag::Id] => {
            d.creditor.other_account = v();
        }
        [Tag::RltdAgts, Tag::DbtrAgt, Tag::FinInstnId, Tag::Bic] => d.debtor.bic = v(),
        [Tag::RltdAgts, Tag::CdtrAgt, Tag::FinInstnId, Tag::Bic] => d.creditor.bic = v(),
        [
            Tag::RltdAgts,
            Tag::DbtrAgt,
            Tag::FinInstnId,
            Tag::ClrSysMmbId,
            Tag::MmbId,
        ] => d.debtor.bank_code = v(),
        [
            Tag::RltdAgts,
            Tag::CdtrAgt,
            Tag::FinInstnId,
            Tag::ClrSysMmbId,
            Tag::MmbId,
        ] => d.creditor.bank_code = v(),
        [Tag::RmtInf, Tag::Ustrd] => d.unstructured.extend(v()),
        [Tag::RmtInf, Tag::Strd, Tag::CdtrRefInf, Tag::Ref]
        | [Tag::RmtInf, Tag::Strd, Tag::AddtlRmtInf] => d.structured.extend(v()),
        [Tag::AddtlTxInf] => d.info = v(),
        [Tag::RtrInf, Tag::Rsn, Tag::Cd | Tag::Prtry] => d.return_reason = v(),
        [Tag::RtrInf] => d.returned = true,
        [.., Tag::PrvtId, Tag::Othr, Tag::Id] if is_creditor_scheme_path(rel) => d.other_id = v(),
        [
            ..,
            Tag::PrvtId,
            Tag::Othr,
            Tag::SchmeNm,
            Tag::Prtry | Tag::Cd,
        ] if is_creditor_scheme_path(rel) => d.other_scheme = v(),
        [.., Tag::PrvtId, Tag::Othr] if is_creditor_scheme_path(rel) => {
            let sepa = d
                .other_scheme
                .as_deref()
                .is_none_or(|s| s.eq_ignore_ascii_case("SEPA"));
            if sepa && d.creditor_id.is_none() {
                d.creditor_id = d.other_id.take();
            }
            d.other_id = None;
            d.other_scheme = None;
        }
        _ => {
            d.code.take(rel, v);
        }
    }
}

/// Private ids of the creditor (or a creditor scheme id) are SEPA creditor identifiers.
fn is_creditor_scheme_path(rel: &[Tag]) -> bool {
    matches!(rel, [Tag::RltdPties, Tag::Cdtr | Tag::UltmtCdtr, ..])
        || rel.contains(&Tag::CdtrSchmeId)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gs_jobs::Progress;
    use gs_types::Severity;

    const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../../shared/fixtures/");

    fn fixture(rel: &str) -> Vec<u8> {
        let path = format!("{FIX}{rel}");
        std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
    }

    fn run_bytes(name: &str, bytes: &[u8]) -> Result<ImportOutput> {
        let file = SourceFile::from_bytes(name, bytes.to_vec());
        let progress = Progress::new();
        let ctx = ImportContext {
            mappings: &[],
            progress: &progress,
            frames: None,
        };
        CamtImporter.import(&file, &ctx)
    }

    fn detect_bytes(bytes: &[u8]) -> Option<u8> {
        CamtImporter.detect(&SourceFile::from_bytes("x.xml", bytes.to_vec()))
    }

    fn run_fixture(rel: &str) -> ImportOutput {
        let bytes = fixture(rel);
        assert!(
            detect_bytes(&bytes).is_some_and(|c| c >= 60),
            "{rel} not detected"
        );
        run_bytes(rel, &bytes).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    fn sum(out: &ImportOutput) -> i64 {
        out.transactions.iter().map(|t| t.amount.cents()).sum()
    }

    fn amounts(out: &ImportOutput) -> Vec<i64> {
        out.transactions.iter().map(|t| t.amount.cents()).collect()
    }

    fn warnings(out: &ImportOutput) -> Vec<&str> {
        out.issues
            .iter()
            .filter(|i| i.severity == Severity::Warning)
            .map(|i| i.message.as_str())
            .collect()
    }

    fn has_warning(out: &ImportOutput, needle: &str) -> bool {
        out.issues.iter().any(|i| i.message.contains(needle))
    }

    /// opening + entries == closing for statement `i` (both balances required).
    fn reconciles(out: &ImportOutput, i: usize) -> bool {
        let s = &out.statements[i];
        let entries: i64 = out.transactions[s.tx_range.clone()]
            .iter()
            .map(|t| t.amount.cents())
            .sum();
        s.opening.unwrap().cents() + entries == s.closing.unwrap().cents()
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    // ---- genkgo-camt ------------------------------------------------------------------------

    #[test]
    fn genkgo_multi_statement() {
        let out = run_fixture("genkgo-camt/camt053.v2.multi.statement.xml");
        assert_eq!(out.format, "camt.053");
        assert_eq!(out.format_version.as_deref(), Some("camt.053.001.02"));
        assert_eq!(amounts(&out), vec![885, -700]);
        assert_eq!(out.statements.len(), 2);
        assert_eq!(
            out.statements[0].label,
            "statement 1 (Id 253EURNL26VAYB8060476890)"
        );
        assert_eq!(out.statements[0].tx_range, 0..1);
        assert_eq!(out.statements[1].tx_range, 1..2);
        assert_eq!(out.statements[0].opening, Some(Money(1815)));
        assert_eq!(out.statements[0].closing, Some(Money(2700)));
        assert_eq!(out.statements[1].opening, Some(Money(2700)));
        assert_eq!(out.statements[1].closing, Some(Money(2000)));
        assert!(reconciles(&out, 0) && reconciles(&out, 1));
        let t = &out.transactions[1];
        assert_eq!(t.account.iban.as_deref(), Some("NL26VAYB8060476890"));
        assert_eq!(t.currency, "EUR");
        assert_eq!(t.booking_date, d(2014, 12, 31));
        assert_eq!(t.value_date, Some(d(2015, 1, 2)));
        // debit: the counterparty is the creditor
        assert_eq!(t.counterparty.name.as_deref(), Some("Company Name 2"));
        assert_eq!(t.counterparty.iban.as_deref(), Some("NL56AGDH9619008421"));
        assert_eq!(t.purpose.as_deref(), Some("Transaction Description 2"));
        assert_eq!(t.end_to_end_ref.as_deref(), Some("000000002"));
        assert_eq!(t.tx_code.as_deref(), Some("544"));
        assert_eq!(
            t.locator,
            Some(Locator::Entry {
                statement: 2,
                entry: 1,
                detail: None,
                line: Some(145)
            })
        );
        assert!(t.source_text.starts_with("<Ntry>") && t.source_text.ends_with("</Ntry>"));
        assert!(t.source_text.contains("<Amt Ccy=\"EUR\">7.00</Amt>"));
        assert!(!t.reversal);
    }

    #[test]
    fn genkgo_all_balance_types() {
        let out = run_fixture("genkgo-camt/camt053.v2.all-balance-types.xml");
        assert_eq!(amounts(&out), vec![885]);
        let s = &out.statements[0];
        // OPBD wins over PRCD; CLBD is the closing balance, CLAV/FWAV/ITBD/… are not.
        assert_eq!(s.opening, Some(Money(101)));
        assert_eq!(s.closing, Some(Money(404)));
        assert_eq!(s.currency, "EUR");
        assert_eq!(s.account.name.as_deref(), Some("FINPETROL"));
        // the file's own balances do not fit its single entry (1.01 + 8.85 != 4.04)
        assert!(!reconciles(&out, 0));
        let acct = &out.transactions[0].account;
        assert!(
            acct.iban.as_deref() == Some("CH2801234000123456789")
                || acct.account_number.as_deref() == Some("CH2801234000123456789")
        );
    }

    #[test]
    fn genkgo_five_decimals() {
        let out = run_fixture("genkgo-camt/camt053.v2.five.decimals.xml");
        assert_eq!(amounts(&out), vec![885]);
        // "8.850": the extra digits are zeros, so the amount is exact in cents
        assert_eq!(out.transactions[0].amount_exact, None);
        assert_eq!(out.statements[0].opening, Some(Money(1815)));
        assert_eq!(out.statements[0].closing, Some(Money(2705)));
        // 18.150 + 8.850 = 27.000, the file says 27.050: the orchestrator will flag this
        assert!(!reconciles(&out, 0));
        assert!(warnings(&out).is_empty(), "{:?}", warnings(&out));
    }

    #[test]
    fn genkgo_wrong_is_rejected() {
        let bytes = fixture("genkgo-camt/camt053.v2.wrong.xml");
        assert_eq!(detect_bytes(&bytes), Some(95));
        let err = run_bytes("wrong.xml", &bytes).unwrap_err().to_string();
        assert!(err.contains("no statement (Stmt)"), "{err}");
    }

    #[test]
    fn genkgo_v8() {
        let out = run_fixture("genkgo-camt/camt053.v8.xml");
        assert_eq!(out.format_version.as_deref(), Some("camt.053.001.08"));
        assert_eq!(amounts(&out), vec![885]);
        let t = &out.transactions[0];
        assert_eq!(t.booking_date, d(2014, 12, 31));
        assert_eq!(
            t.timestamp,
            Some(d(2014, 12, 31).and_hms_opt(13, 15, 0).unwrap())
        );
        assert_eq!(t.tx_code.as_deref(), Some("PMNT/RCDT/BOOK"));
        assert_eq!(t.counterparty.name.as_deref(), Some("NAME NAME"));
        assert_eq!(t.counterparty.iban.as_deref(), Some("NL56AGDH9619008421"));
        assert_eq!(t.purpose.as_deref(), Some("4654654654654654"));
        assert_eq!(t.end_to_end_ref.as_deref(), Some("MUELL/FINP/RA12345"));
        assert_eq!(t.account.name.as_deref(), Some("FINPETROL"));
        assert_eq!(t.account.iban.as_deref(), Some("NL26VAYB8060476890"));
        // the single detail says 0 SEK; the entry's 8.85 EUR is what was booked
        assert!(has_warning(&out, "differs from the entry amount"));
        // closing balance is a debit in another currency (the sample is synthetic)
        assert_eq!(out.statements[0].opening, Some(Money(1815)));
        assert_eq!(out.statements[0].closing, Some(Money(-2700)));
        assert!(has_warning(&out, "closing balance is in SEK"));
    }

    #[test]
    fn genkgo_camt054_batch() {
        let out = run_fixture("genkgo-camt/camt054.v8.xml");
        assert_eq!(out.format, "camt.054");
        assert_eq!(out.format_version.as_deref(), Some("camt.054.001.08"));
        // one DBIT entry with three details of their own amounts
        assert_eq!(amounts(&out), vec![-310, -320, -320]);
        assert_eq!(sum(&out), -950);
        for (k, t) in out.transactions.iter().enumerate() {
            assert_eq!(t.currency, "CHF");
            assert_eq!(
                t.locator,
                Some(Locator::Entry {
                    statement: 1,
                    entry: 1,
                    detail: Some(k as u32 + 1),
                    line: Some(63)
                })
            );
            assert_eq!(t.booking_text.as_deref(), Some("Order"));
            assert_eq!(t.tx_code.as_deref(), Some("PMNT/ICDT/DMCT"));
            assert_eq!(t.account.iban.as_deref(), Some("CH2801234000123456789"));
            assert_eq!(t.account.bic.as_deref(), Some("UBSWCHZH80A"));
            assert_eq!(t.account.name.as_deref(), Some("UNIFITS GmbH"));
        }
        let t = &out.transactions[0];
        assert_eq!(
            t.counterparty.name.as_deref(),
            Some("Example Creditor 3 - V1")
        );
        assert_eq!(
            t.counterparty.iban.as_deref(),
            Some("CH4112345003131313131")
        );
        assert_eq!(t.counterparty.bank_code.as_deref(), Some("100"));
        assert_eq!(
            t.end_to_end_ref.as_deref(),
            Some("UXC06170000006PI00001EE00001")
        );
        assert_eq!(
            t.purpose.as_deref(),
            Some(
                "Unstructured Remittance Information V1; ISR ref number V1 Additional Remittance Information V1"
            )
        );
        assert_eq!(
            out.transactions[1].counterparty.bic.as_deref(),
            Some("BANKCHBE")
        );
        assert!(out.transactions[2].purpose.as_deref().unwrap().starts_with(
            "Unstructured Remittance Information V3 block 1 Unstructured Remittance Information V3 block 2; Ref number V3 block 1"
        ));
        // details are CHF, the entry is 200000 SEK; the details say CRDT inside a DBIT entry
        assert!(has_warning(&out, "another currency than the entry"));
        assert!(has_warning(&out, "contradicting the entry's"));
        assert_eq!(out.statements.len(), 1);
        assert_eq!(out.statements[0].opening, None);
        assert_eq!(out.statements[0].closing, None);
    }

    #[test]
    fn genkgo_camt052_amount_zero_pending() {
        let out = run_fixture("genkgo-camt/camt052.v6.Amt-zero.xml");
        assert_eq!(out.format, "camt.052");
        assert_eq!(out.format_version.as_deref(), Some("camt.052.001.06"));
        // the single detail carries 0 USD; the entry books 200000 SEK debit
        assert_eq!(amounts(&out), vec![-20_000_000]);
        assert_eq!(out.transactions[0].currency, "SEK");
        assert!(has_warning(&out, "entry 1 is pending (Sts PDNG)"));
        assert!(has_warning(&out, "detail amount 0 USD differs"));
        assert_eq!(out.transactions[0].booking_text.as_deref(), Some("Credit"));
        // only an ITBD balance: neither opening nor closing
        assert_eq!(out.statements[0].opening, None);
        assert_eq!(out.statements[0].closing, None);
    }

    #[test]
    fn genkgo_only_dt_with_dttm() {
        let out = run_fixture("genkgo-camt/camt53.only-Dt-with-DtTm.xml");
        assert!(out.transactions.is_empty());
        assert_eq!(out.statements.len(), 1);
        assert_eq!(out.statements[0].opening, Some(Money(544_209)));
        assert_eq!(out.statements[0].closing, None);
        assert_eq!(out.statements[0].currency, "RON");
        assert_eq!(
            out.statements[0].account.iban.as_deref(),
            Some("GB33BUKB20201555555555")
        );
    }

    // ---- hbci4java --------------------------------------------------------------------------

    #[test]
    fn hbci_camt052_v2() {
        let out = run_fixture("hbci4java/test-camt-parse-05200102.xml");
        assert_eq!(amounts(&out), vec![1000, 50]);
        assert_eq!(out.statements[0].opening, Some(Money(10_000))); // PRCD
        assert_eq!(out.statements[0].closing, Some(Money(11_050)));
        assert!(reconciles(&out, 0));
        let t = &out.transactions[0];
        assert_eq!(t.tx_code.as_deref(), Some("NSTO+152+9201+000"));
        assert_eq!(t.booking_text.as_deref(), Some("DAUERAUFTRAG"));
        assert_eq!(t.counterparty.name.as_deref(), Some("Max Mustermann"));
        assert_eq!(t.counterparty.bic.as_deref(), Some("ABCDEFG2ABC"));
        assert_eq!(
            t.counterparty.iban.as_deref(),
            Some("DE12345678901234567891")
        );
        assert_eq!(t.purpose.as_deref(), Some("Verwendungszweck 1"));
        assert_eq!(t.account.bic.as_deref(), Some("ABCDEFG1ABC"));
        // made-up IBANs: kept, warned once each
        assert!(has_warning(
            &out,
            "IBAN DE12345678901234567891 has wrong check digits"
        ));
    }

    #[test]
    fn hbci_camt052_v8() {
        let out = run_fixture("hbci4java/test-camt-parse-05200108.xml");
        assert_eq!(out.format_version.as_deref(), Some("camt.052.001.08"));
        assert_eq!(amounts(&out), vec![-3400]);
        assert!(reconciles(&out, 0));
        let t = &out.transactions[0];
        assert_eq!(t.mandate_ref.as_deref(), Some("12345678/001"));
        assert_eq!(t.end_to_end_ref.as_deref(), Some("123456789012"));
        assert_eq!(t.creditor_id.as_deref(), Some("DE46ZZZ00000012345"));
        assert_eq!(t.counterparty.name.as_deref(), Some("Beispiel AG"));
        assert_eq!(t.tx_code.as_deref(), Some("PMNT/RDDT/ESDD"));
        assert_eq!(t.booking_text.as_deref(), Some("FOLGELASTSCHRIFT"));
        assert_eq!(t.account.bic.as_deref(), Some("ABCDEFG1ABC"));
        assert!(!has_warning(&out, "has no date"));
    }

    #[test]
    fn hbci_invalid_saldo() {
        let out = run_fixture("hbci4java/test-camt-parse-5200108-invalid-saldo.xml");
        assert_eq!(amounts(&out), vec![-3400]);
        // 100.0000000000005 and 66.0000000000001 round to cents, with warnings
        assert_eq!(out.statements[0].opening, Some(Money(10_000)));
        assert_eq!(out.statements[0].closing, Some(Money(6600)));
        assert!(reconciles(&out, 0));
        assert!(has_warning(
            &out,
            "balance OPBD amount '100.0000000000005' has more than two decimals"
        ));
        assert!(has_warning(
            &out,
            "balance CLBD amount '66.0000000000001' has more than two decimals"
        ));
    }

    #[test]
    fn hbci_missing_date() {
        // the balances lack their dates; the entry is complete
        let out = run_fixture("hbci4java/test-camt-parse-5200108-missing-date.xml");
        assert_eq!(amounts(&out), vec![-3400]);
        assert!(reconciles(&out, 0));
        assert!(has_warning(
            &out,
            "statement 1 balance OPBD has no date (Dt)"
        ));
        assert!(has_warning(
            &out,
            "statement 1 balance CLBD has no date (Dt)"
        ));
    }

    #[test]
    fn hbci_invalid_document() {
        let bytes = fixture("hbci4java/test-camt-parse-invalid.xml");
        // namespace "…:camt" without message/version: claimed weakly, then rejected clearly
        assert_eq!(detect_bytes(&bytes), Some(30));
        let err = run_bytes("invalid.xml", &bytes).unwrap_err().to_string();
        assert!(err.contains("no report (Rpt)"), "{err}");
    }

    #[test]
    fn hbci_ruecklastschrift() {
        let out = run_fixture("hbci4java/test-camt-ruecklastschrift.xml");
        assert_eq!(amounts(&out), vec![-5300]);
        let t = &out.transactions[0];
        assert!(t.reversal, "a return (RtrInf) is a reversal");
        assert_eq!(t.mandate_ref.as_deref(), Some("TEST1234"));
        assert_eq!(t.creditor_id.as_deref(), Some("DEE1234567890"));
        assert_eq!(t.counterparty.name.as_deref(), Some("Erwin Einzieher"));
        assert_eq!(
            t.purpose.as_deref(),
            Some("RUECKLASTSCHRIFT Sonstige Gruende; Return reason: MS03")
        );
        assert_eq!(t.booking_text.as_deref(), Some("LS RUECKBELASTUNG"));
        // too short for an IBAN: kept as account number, warned
        assert_eq!(t.account.account_number.as_deref(), Some("DE1234567890"));
        assert!(has_warning(
            &out,
            "'DE1234567890' in an IBAN field is not shaped like an IBAN"
        ));
        // instructed 50.00, booked 53.00 (3.00 charges)
        assert!(has_warning(
            &out,
            "detail amount 50.00 EUR differs from the entry amount 53.00 EUR"
        ));
        // the file's balances (100 → 100) do not include the 53.00 debit
        assert!(!reconciles(&out, 0));
        assert!(t.source_text.contains("\r\n"), "CRLF kept in source_text");
        assert_eq!(
            t.locator,
            Some(Locator::Entry {
                statement: 1,
                entry: 1,
                detail: None,
                line: Some(59)
            })
        );
    }

    // ---- ofxstatement-iso20022 --------------------------------------------------------------

    #[test]
    fn ofxstatement_camt052() {
        let out = run_fixture("ofxstatement-iso20022/camt052.xml");
        assert_eq!(amounts(&out), vec![-3000, -2600, -3452, 250, -16_338]);
        assert_eq!(sum(&out), -25_140);
        assert!(reconciles(&out, 0));
        let t = &out.transactions[1];
        assert_eq!(t.counterparty.name.as_deref(), Some("Tankstelle"));
        assert_eq!(t.counterparty.bic.as_deref(), Some("GENODE61APP"));
        assert_eq!(
            t.purpose.as_deref(),
            Some(
                "2021-02-03T17:46      Debitk.0 2024-12; Ultimate creditor: ZG RAIFFEISEN ENERGIE GMBH//KARLSRUHE/DE"
            )
        );
        assert_eq!(t.tx_code.as_deref(), Some("NDDT+106+9262+011"));
        assert_eq!(t.end_to_end_ref.as_deref(), Some("12345678"));
        assert_eq!(
            out.transactions[3].counterparty.name.as_deref(),
            Some("John Doe")
        );
    }

    #[test]
    fn ofxstatement_davider80() {
        let out = run_fixture("ofxstatement-iso20022/davider80.xml");
        assert_eq!(out.format_version.as_deref(), Some("camt.053.001.04"));
        assert_eq!(out.transactions.len(), 16);
        assert_eq!(sum(&out), -367_985);
        assert!(reconciles(&out, 0));
        let t = &out.transactions[0];
        assert_eq!(t.amount, Money(-90_530));
        assert_eq!(t.booking_date, d(2017, 4, 1)); // "2017-04-01+02:00"
        assert_eq!(t.value_date, Some(d(2017, 4, 3)));
        assert_eq!(t.tx_code.as_deref(), Some("PMNT/RDDT/PMDD"));
        assert_eq!(t.currency, "CHF");
        // multi-line AddtlNtryInf becomes one line
        assert_eq!(
            out.transactions[1].booking_text.as_deref(),
            Some("Acquisto MIGROS M ARBEDO-CAST 31.03.2017/13:30 / N. carta Maestro xxxxxxxx")
        );
        // a redacted IBAN is kept as account number, with a warning
        assert_eq!(
            t.account.account_number.as_deref(),
            Some("CHXXXXXXXXXXXXXXXXXXX")
        );
        assert!(has_warning(&out, "not shaped like an IBAN"));
    }

    #[test]
    fn ofxstatement_gcamp6() {
        let out = run_fixture("ofxstatement-iso20022/gcamp6.xml");
        assert_eq!(
            amounts(&out),
            vec![1_000_000, 100_000, 100_000, 100_000, 1000]
        );
        assert_eq!(out.transactions[0].currency, "XXX");
        assert_eq!(
            out.transactions[4].tx_code.as_deref(),
            Some("ACMT/ACOP/INTR")
        );
        assert_eq!(
            out.transactions[0].account.name.as_deref(),
            Some("Surname Name")
        );
        // opening 0.00 + 13010.00 != closing 10000.00 in the file itself
        assert_eq!(out.statements[0].opening, Some(Money(0)));
        assert_eq!(out.statements[0].closing, Some(Money(1_000_000)));
        assert!(!reconciles(&out, 0));
    }

    #[test]
    fn ofxstatement_simple() {
        let out = run_fixture("ofxstatement-iso20022/simple.xml");
        assert_eq!(amounts(&out), vec![-29, -29, -2819, -15_224]);
        assert!(reconciles(&out, 0));
        let t = &out.transactions[1];
        assert_eq!(
            t.timestamp,
            Some(d(2015, 12, 31).and_hms_opt(1, 12, 39).unwrap())
        );
        assert_eq!(t.end_to_end_ref, None, "NOTPROVIDED is no reference");
        assert_eq!(t.counterparty.name.as_deref(), Some("AB DNB Bankas"));
        assert_eq!(
            out.transactions[0].purpose.as_deref(),
            Some("Sąskaitos aptarnavimo mokestis")
        );
        assert_eq!(t.account.bic.as_deref(), Some("AGBLLT2XXXX"));
        assert_eq!(t.account.name.as_deref(), Some("John Doe"));
    }

    #[test]
    fn ofxstatement_unsupported_is_not_mine() {
        assert_eq!(
            detect_bytes(&fixture("ofxstatement-iso20022/unsupported.xml")),
            None
        );
    }

    #[test]
    fn mt940_fixture_is_not_mine() {
        assert_eq!(detect_bytes(&fixture("hbci4java/test-mt940-001.sta")), None);
    }

    // ---- inline edge cases ------------------------------------------------------------------

    fn doc(ns: &str, entries: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"{ns}\">\n<BkToCstmrStmt>\n<GrpHdr><MsgId>1</MsgId></GrpHdr>\n<Stmt>\n<Id>S1</Id>\n<Acct><Id><IBAN>DE89 3704 0044 0532 0130 00</IBAN></Id><Ccy>EUR</Ccy></Acct>\n{entries}</Stmt>\n</BkToCstmrStmt>\n</Document>\n"
        )
    }

    const NS53: &str = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02";

    fn ntry(amt: &str, cdi: &str, inner: &str) -> String {
        format!(
            "<Ntry>\n<Amt Ccy=\"EUR\">{amt}</Amt>\n<CdtDbtInd>{cdi}</CdtDbtInd>\n<Sts>BOOK</Sts>\n<BookgDt><Dt>2024-03-01</Dt></BookgDt>\n{inner}</Ntry>\n"
        )
    }

    #[test]
    fn missing_booking_date_is_a_row_error_and_the_rest_loads() {
        let bad = "<Ntry>\n<Amt Ccy=\"EUR\">5.00</Amt>\n<CdtDbtInd>CRDT</CdtDbtInd>\n</Ntry>\n";
        let value_only = "<Ntry>\n<Amt Ccy=\"EUR\">6.00</Amt>\n<CdtDbtInd>CRDT</CdtDbtInd>\n<ValDt><Dt>2024-03-05</Dt></ValDt>\n</Ntry>\n";
        let xml = doc(
            NS53,
            &format!("{}{bad}{value_only}", ntry("1.00", "DBIT", "")),
        );
        let out = run_bytes("a.xml", xml.as_bytes()).unwrap();
        assert_eq!(amounts(&out), vec![-100, 600]);
        let err = out
            .issues
            .iter()
            .find(|i| i.severity == Severity::Error)
            .unwrap();
        assert_eq!(err.locator.as_deref(), Some("statement=1 entry=2 line=14"));
        assert!(err.message.contains("no booking date"));
        assert_eq!(out.transactions[1].booking_date, d(2024, 3, 5));
        assert!(has_warning(
            &out,
            "entry 3 has no booking date (BookgDt); the value date is used"
        ));
        assert_eq!(out.statements[0].tx_range, 0..2);
    }

    #[test]
    fn invalid_amount_and_indicator_are_row_errors() {
        let xml = doc(
            NS53,
            &format!(
                "{}{}{}{}",
                ntry("abc", "DBIT", ""),
                ntry("1.00", "XXXX", ""),
                ntry("2.00", "CRDT", ""),
                ntry("3.00", "CRDT", "").replace("2024-03-01", "2024-13-01")
            ),
        );
        let out = run_bytes("a.xml", xml.as_bytes()).unwrap();
        assert_eq!(amounts(&out), vec![200]);
        let errors: Vec<&str> = out
            .issues
            .iter()
            .filter(|i| i.severity == Severity::Error)
            .map(|i| i.message.as_str())
            .collect();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[2].contains("booking date '2024-13-01' is invalid"));
    }

    #[test]
    fn sub_cent_amounts_keep_exact_text() {
        let xml = doc(NS53, &ntry("8.851", "DBIT", ""));
        let out = run_bytes("a.xml", xml.as_bytes()).unwrap();
        let t = &out.transactions[0];
        assert_eq!(t.amount, Money(-885));
        assert_eq!(t.amount_exact.as_deref(), Some("-8.851"));
        assert!(has_warning(&out, "more than two decimals"));
    }

    #[test]
    fn reversal_keeps_the_indicator_sign() {
        let xml = doc(NS53, &ntry("10.00", "DBIT", "<RvslInd>true</RvslInd>\n"));
        let out = run_bytes("a.xml", xml.as_bytes()).unwrap();
        assert_eq!(amounts(&out), vec![-1000]);
        assert!(out.transactions[0].reversal);
    }

    #[test]
    fn several_details_without_amounts_stay_one_transaction() {
        let inner = "<NtryDtls><TxDtls><RltdPties><Dbtr><Nm>A</Nm></Dbtr></RltdPties></TxDtls><TxDtls><RltdPties><Dbtr><Nm>B</Nm></Dbtr></RltdPties></TxDtls></NtryDtls>\n";
        let xml = doc(NS53, &ntry("12.00", "CRDT", inner));
        let out = run_bytes("a.xml", xml.as_bytes()).unwrap();
        assert_eq!(amounts(&out), vec![1200]);
        assert_eq!(out.transactions[0].counterparty.name.as_deref(), Some("A"));
        assert!(has_warning(
            &out,
            "2 transaction details without (valid) own amounts"
        ));
        assert_eq!(
            out.transactions[0].locator,
            Some(Locator::Entry {
                statement: 1,
                entry: 1,
                detail: None,
                line: Some(8)
            })
        );
    }

    #[test]
    fn detail_amounts_not_adding_up_are_reported() {
        let inner = "<NtryDtls><Btch><NbOfTxs>2</NbOfTxs></Btch><TxDtls><Amt Ccy=\"EUR\">4.00</Amt></TxDtls></NtryDtls><NtryDtls><TxDtls><AmtDtls><TxAmt><Amt Ccy=\"EUR\">5.00</Amt></TxAmt></AmtDtls></TxDtls></NtryDtls>\n";
        let xml = doc(NS53, &ntry("10.00", "DBIT", inner));
        let out = run_bytes("a.xml", xml.as_bytes()).unwrap();
        assert_eq!(amounts(&out), vec![-400, -500]);
        assert!(has_warning(
            &out,
            "the 2 transaction details add up to -9.00 but the entry amount is -10.00"
        ));
        let ok = doc(NS53, &ntry("9.00", "DBIT", inner));
        let out = run_bytes("a.xml", ok.as_bytes()).unwrap();
        assert_eq!(amounts(&out), vec![-400, -500]);
        assert!(!has_warning(&out, "add up to"));
    }

    #[test]
    fn no_namespace_prefixed_and_entities() {
        let plain = "<Document><BkToCstmrStmt><Stmt><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct><Ntry><Amt Ccy=\"EUR\">1</Amt><CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2024-01-01</Dt></BookgDt><AddtlNtryInf>M&amp;M &#228;&#x00FC; &foo;</AddtlNtryInf></Ntry></Stmt></BkToCstmrStmt></Document>";
        assert_eq!(detect_bytes(plain.as_bytes()), Some(60));
        let out = run_bytes("a.xml", plain.as_bytes()).unwrap();
        assert_eq!(out.format, "camt.053");
        assert_eq!(out.format_version, None);
        assert_eq!(
            out.transactions[0].booking_text.as_deref(),
            Some("M&M äü &foo;")
        );

        let prefixed = "<?xml version=\"1.0\"?><ns2:Document xmlns:ns2=\"urn:iso:std:iso:20022:tech:xsd:camt.054.001.04\"><ns2:BkToCstmrDbtCdtNtfctn><ns2:Ntfctn><ns2:Acct><ns2:Id><ns2:IBAN>DE89370400440532013000</ns2:IBAN></ns2:Id></ns2:Acct><ns2:Ntry><ns2:Amt Ccy=\"EUR\">2.50</ns2:Amt><ns2:CdtDbtInd>DBIT</ns2:CdtDbtInd><ns2:BookgDt><ns2:Dt>2024-01-01</ns2:Dt></ns2:BookgDt></ns2:Ntry></ns2:Ntfctn></ns2:BkToCstmrDbtCdtNtfctn></ns2:Document>";
        assert_eq!(detect_bytes(prefixed.as_bytes()), Some(95));
        let out = run_bytes("a.xml", prefixed.as_bytes()).unwrap();
        assert_eq!(out.format_version.as_deref(), Some("camt.054.001.04"));
        assert_eq!(amounts(&out), vec![-250]);
        assert_eq!(
            out.transactions[0].account.iban.as_deref(),
            Some("DE89370400440532013000")
        );
    }

    #[test]
    fn other_namespaces_are_not_mine() {
        for ns in [
            "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03",
            "urn:iso:std:iso:20022:tech:xsd:camt.086.001.02",
            "urn:iso:std:iso:20022:tech:xsd:camt.053.001.x",
            "http://example.com/camt.053.001.02",
        ] {
            let xml = doc(ns, "");
            assert_eq!(detect_bytes(xml.as_bytes()), None, "{ns}");
        }
        assert_eq!(
            detect_bytes(b"<html><body>BkToCstmrStmt</body></html>"),
            None
        );
        assert_eq!(detect_bytes(b":20:STARTUMS\n:25:12345678/1234\n"), None);
        assert_eq!(detect_bytes(doc(NS53, "").as_bytes()), Some(95));
        assert_eq!(
            camt_namespace("urn:iso:std:iso:20022:tech:xsd:camt.052.001.13")
                .map(|(k, v)| (k, v.to_owned())),
            Some((MsgKind::Report, "camt.052.001.13".to_owned()))
        );
    }

    #[test]
    fn broken_xml_names_the_line() {
        let xml = doc(NS53, &ntry("1.00", "DBIT", "<AddtlNtryInf>x</Wrong>\n"));
        let err = run_bytes("a.xml", xml.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("not well-formed at line 13"), "{err}");

        let full = doc(NS53, &ntry("1.00", "DBIT", ""));
        let cut = &full[..full.find("<Amt").unwrap()];
        let err = run_bytes("a.xml", cut.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("truncated"), "{err}");
    }

    #[test]
    fn statement_without_account_is_warned() {
        let xml = "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"><BkToCstmrStmt><Stmt><Id>X</Id><Ntry><Amt Ccy=\"EUR\">1</Amt><CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2024-01-01</Dt></BookgDt></Ntry></Stmt></BkToCstmrStmt></Document>";
        let out = run_bytes("a.xml", xml.as_bytes()).unwrap();
        assert_eq!(amounts(&out), vec![100]);
        assert!(out.transactions[0].account.is_empty());
        assert!(has_warning(&out, "statement 1 has no account (Acct)"));
    }

    #[test]
    fn pending_and_creditor_scheme() {
        let inner = "<NtryDtls><TxDtls><RltdPties><Cdtr><Nm>Gas AG</Nm><Id><PrvtId><Othr><Id>DE98ZZZ09999999999</Id><SchmeNm><Prtry>SEPA</Prtry></SchmeNm></Othr></PrvtId></Id></Cdtr><CdtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></CdtrAcct></RltdPties></TxDtls></NtryDtls>\n";
        let xml = doc(NS53, &ntry("3.00", "DBIT", inner).replace("BOOK", "PDNG"));
        let out = run_bytes("a.xml", xml.as_bytes()).unwrap();
        assert!(has_warning(&out, "entry 1 is pending (Sts PDNG)"));
        let t = &out.transactions[0];
        assert_eq!(t.creditor_id.as_deref(), Some("DE98ZZZ09999999999"));
        assert_eq!(t.counterparty.name.as_deref(), Some("Gas AG"));
        assert_eq!(
            t.counterparty.iban.as_deref(),
            Some("DE89370400440532013000")
        );
        // a national id is no creditor id
        let nidn = inner.replace("<Prtry>SEPA</Prtry>", "<Cd>NIDN</Cd>");
        let out = run_bytes("a.xml", doc(NS53, &ntry("3.00", "DBIT", &nidn)).as_bytes()).unwrap();
        assert_eq!(out.transactions[0].creditor_id, None);
    }

    #[test]
    fn long_entries_are_cut_in_source_text() {
        let long = format!("<AddtlNtryInf>{}</AddtlNtryInf>\n", "x".repeat(5000));
        let out = run_bytes("a.xml", doc(NS53, &ntry("1.00", "CRDT", &long)).as_bytes()).unwrap();
        let src = &out.transactions[0].source_text;
        assert_eq!(src.chars().count(), MAX_SOURCE_CHARS + 1);
        assert!(src.ends_with('…'));
    }

    #[test]
    fn many_entries_stream() {
        let mut entries = String::new();
        for i in 0..20_000 {
            entries.push_str(&ntry(
                &format!("{}.{:02}", i % 100, i % 97),
                if i % 3 == 0 { "DBIT" } else { "CRDT" },
                "",
            ));
        }
        let expected: i64 = (0..20_000i64)
            .map(|i| (i % 100 * 100 + i % 97) * if i % 3 == 0 { -1 } else { 1 })
            .sum();
        let out = run_bytes("big.xml", doc(NS53, &entries).as_bytes()).unwrap();
        assert_eq!(out.transactions.len(), 20_000);
        assert_eq!(sum(&out), expected);
        let last = out.transactions.last().unwrap();
        assert_eq!(
            last.locator,
            Some(Locator::Entry {
                statement: 1,
                entry: 20_000,
                detail: None,
                line: Some(8 + 19_999 * 6)
            })
        );
    }

    #[test]
    fn dates() {
        assert_eq!(iso_date("2017-04-01+02:00"), Some(d(2017, 4, 1)));
        assert_eq!(iso_date("2017-04-01"), Some(d(2017, 4, 1)));
        assert_eq!(iso_date("2017-02-30"), None);
        assert_eq!(iso_date("01.04.2017"), None);
        assert_eq!(
            iso_datetime("2025-07-23T00:00:00.000000000"),
            Some(d(2025, 7, 23).and_hms_opt(0, 0, 0).unwrap())
        );
        assert_eq!(
            iso_datetime("2014-12-31T13:15:00+01:00"),
            Some(d(2014, 12, 31).and_hms_opt(13, 15, 0).unwrap())
        );
        assert_eq!(
            iso_datetime("2014-12-31T13:15:00.5Z"),
            Some(d(2014, 12, 31).and_hms_milli_opt(13, 15, 0, 500).unwrap())
        );
        assert_eq!(iso_datetime("2014-12-31"), None);
        assert_eq!(iso_datetime("2014-12-31T1"), None);
    }

    #[test]
    fn cancellation_is_honoured() {
        let mut entries = String::new();
        for _ in 0..(PROGRESS_EVERY + 5) {
            entries.push_str(&ntry("1.00", "CRDT", ""));
        }
        let file = SourceFile::from_bytes("a.xml", doc(NS53, &entries).into_bytes());
        let progress = Progress::new();
        progress.cancel();
        let ctx = ImportContext {
            mappings: &[],
            progress: &progress,
            frames: None,
        };
        assert!(matches!(
            CamtImporter.import(&file, &ctx),
            Err(IngestError::Cancelled)
        ));
    }

    /// Throughput check on realistic batch-free entries with details (run with `--ignored`;
    /// meaningful in release builds).
    #[test]
    #[ignore = "timing only"]
    fn throughput() {
        let one = fixture("hbci4java/test-camt-parse-05200108.xml");
        let text = String::from_utf8(one).unwrap();
        let start = text.find("<Ntry>").unwrap();
        let end = text.find("</Ntry>").unwrap() + "</Ntry>".len();
        let entry = &text[start..end];
        let mut entries = String::new();
        while entries.len() < 20_000_000 {
            entries.push_str(entry);
            entries.push('\n');
        }
        let xml = doc(NS53, &entries);
        let t0 = std::time::Instant::now();
        let out = run_bytes("big.xml", xml.as_bytes()).unwrap();
        let secs = t0.elapsed().as_secs_f64();
        eprintln!(
            "{} MB, {} rows, {secs:.2} s, {:.1} MB/s",
            xml.len() / 1_000_000,
            out.transactions.len(),
            xml.len() as f64 / 1e6 / secs
        );
    }

    fn never_panics(bytes: &[u8]) {
        let _ = detect_bytes(bytes);
        let r = run_bytes("p.xml", bytes);
        assert!(!matches!(r, Err(IngestError::Panicked { .. })), "{r:?}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            never_panics(&bytes);
        }

        #[test]
        fn mutated_fixture_never_panics(
            edits in proptest::collection::vec((0usize..12_000, proptest::prelude::any::<u8>()), 0..8),
            cut in 0usize..12_000,
            which in 0usize..4,
        ) {
            let name = ["genkgo-camt/camt054.v8.xml", "hbci4java/test-camt-ruecklastschrift.xml", "ofxstatement-iso20022/simple.xml", "genkgo-camt/camt053.v8.xml"][which];
            let mut bytes = fixture(name);
            for (pos, b) in edits {
                let len = bytes.len();
                if let Some(x) = bytes.get_mut(pos % len) {
                    *x = b;
                }
            }
            bytes.truncate(cut.max(1).min(bytes.len()));
            never_panics(&bytes);
        }

        #[test]
        fn mutated_text_never_panics(
            insert in "[<>/&;\"a-zA-Z0-9 \\-.:]{0,20}",
            pos in 0usize..7000,
        ) {
            let text = String::from_utf8(fixture("genkgo-camt/camt053.v2.multi.statement.xml")).unwrap();
            let mut at = pos.min(text.len());
            while !text.is_char_boundary(at) { at -= 1; }
            let mutated = format!("{}{}{}", &text[..at], insert, &text[at..]);
            never_panics(mutated.as_bytes());
        }
    }
}
