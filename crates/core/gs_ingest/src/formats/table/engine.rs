//! Rows to transactions under a resolved mapping (shared by the generic table reader and the
//! bank CSV profiles). Hot path: no per-field allocation except the strings a transaction
//! keeps.

use std::borrow::Cow;
use std::ops::Range;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use gs_jobs::Progress;
use gs_types::iban::{is_bic, normalize_account_text};
use gs_types::{
    DecimalSeparator, EvidenceIssue, Iban, IbanError, Locator, Money, PartyRef, Severity,
    SourceKind, Transaction,
};

use super::csvtok::{Tokenizer, split_ranges};
use crate::error::{IngestError, Result};
use crate::mapping::{Role, TableMapping, resolve_column};
use crate::rows::FrameSink;
use polars::prelude::{DataFrame, PlHashMap};
use polars_buffer::Buffer;

/// Read access to one row's cells.
pub(crate) trait Row {
    /// Number of cells.
    fn width(&self) -> usize;
    /// Trimmed text of cell `i`; `None` when empty or missing.
    fn text(&self, i: usize) -> Option<&str>;
    /// Numeric value of a spreadsheet cell.
    fn number(&self, _i: usize) -> Option<f64> {
        None
    }
    /// Date/time value of a spreadsheet cell.
    fn datetime(&self, _i: usize) -> Option<NaiveDateTime> {
        None
    }
}

impl Row for [Cow<'_, str>] {
    fn width(&self) -> usize {
        self.len()
    }
    fn text(&self, i: usize) -> Option<&str> {
        let t = self.get(i)?.trim();
        (!t.is_empty()).then_some(t)
    }
}

/// Cells trimmed once when the record was read (see [`trim_fields`]): `text` only checks for
/// emptiness. `process_row` reads most cells several times.
pub(crate) struct TrimmedRow<'r, 'a>(pub &'r [Cow<'a, str>]);

impl Row for TrimmedRow<'_, '_> {
    fn width(&self) -> usize {
        self.0.len()
    }
    fn text(&self, i: usize) -> Option<&str> {
        let t: &str = self.0.get(i)?;
        (!t.is_empty()).then_some(t)
    }
}

/// `str::trim`, with a fast answer for the common cell that starts and ends with a visible
/// ASCII character (Rust's `trim` decodes a char at each end and calls a pattern closure).
#[inline]
fn trim_fast(s: &str) -> &str {
    let b = s.as_bytes();
    let visible = |c: u8| c > b' ' && c < 0x80;
    match (b.first(), b.last()) {
        (Some(&f), Some(&l)) if visible(f) && visible(l) => s,
        (None, _) => s, // an empty cell (a third of a bank CSV's cells)
        _ => s.trim(),
    }
}

/// Trims every field in place (borrowed fields are re-sliced, not copied).
pub(crate) fn trim_fields(fields: &mut [Cow<'_, str>]) {
    for f in fields {
        match f {
            Cow::Borrowed(s) => *s = trim_fast(s),
            Cow::Owned(s) => {
                let t = s.trim();
                if t.len() != s.len() {
                    *s = t.to_owned();
                }
            }
        }
    }
}

impl Row for [String] {
    fn width(&self) -> usize {
        self.len()
    }
    fn text(&self, i: usize) -> Option<&str> {
        let t = self.get(i)?.trim();
        (!t.is_empty()).then_some(t)
    }
}

/// A spreadsheet cell: display text plus the typed value.
#[derive(Clone, Debug, Default)]
pub(crate) struct SheetCell {
    /// Text as shown (numbers without exponent).
    pub text: String,
    /// Numeric value.
    pub num: Option<f64>,
    /// Date/time value.
    pub dt: Option<NaiveDateTime>,
}

impl Row for [SheetCell] {
    fn width(&self) -> usize {
        self.len()
    }
    fn text(&self, i: usize) -> Option<&str> {
        let t = self.get(i)?.text.trim();
        (!t.is_empty()).then_some(t)
    }
    fn number(&self, i: usize) -> Option<f64> {
        self.get(i)?.num
    }
    fn datetime(&self, i: usize) -> Option<NaiveDateTime> {
        self.get(i)?.dt
    }
}

/// A mapping resolved against one header row.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    /// Column index per role ([`Role::index`]).
    pub col: [Option<usize>; Role::ALL.len()],
    /// Purpose columns, joined.
    pub purpose: Vec<usize>,
    /// Header texts (for messages).
    pub headers: Vec<String>,
    /// Decimal separator of text amounts.
    pub decimal: DecimalSeparator,
    /// chrono format of date cells.
    pub date_format: Option<String>,
    /// Constant statement account.
    pub const_account: PartyRef,
    /// Currency when there is no currency column.
    pub currency: Option<String>,
    /// Upper-case flag values meaning debit / credit.
    pub debit_values: Vec<String>,
    /// Upper-case flag values meaning credit.
    pub credit_values: Vec<String>,
    /// Rows name sender and receiver.
    pub ledger: bool,
    /// Day 0 of the step column.
    pub step_base: Option<NaiveDate>,
    /// comdirect packs the counterparty into "Buchungstext" with `Key:` labels.
    pub comdirect: bool,
    /// Rows without date and amount continue the previous row's text.
    pub continuation: bool,
    /// The flag column marks credits only ("CR"); unmarked rows are debits.
    pub cr_marks_credit: bool,
    /// Sign-dependent name columns (DKB, Postbank): the payer's and the payee's name; the
    /// counterparty is the payee of a debit and the payer of a credit.
    pub payer_payee_cols: Option<(usize, usize)>,
    /// Trailing-line prefixes to ignore.
    pub footer_prefixes: Vec<String>,
}

const DEFAULT_DEBIT: &[&str] = &[
    "S",
    "SOLL",
    "D",
    "DR",
    "DEBIT",
    "DEBET",
    "-",
    "AF",
    "LASTSCHRIFT",
    "A",
];
const DEFAULT_CREDIT: &[&str] = &[
    "H",
    "HABEN",
    "C",
    "CR",
    "K",
    "KREDIT",
    "CREDIT",
    "+",
    "BIJ",
    "GUTSCHRIFT",
];

impl Plan {
    /// Resolves `m` against `headers`. Err names a column the mapping refers to that the header
    /// lacks, or a missing date/amount role.
    pub fn from_mapping(m: &TableMapping, headers: &[String]) -> Result<Plan, String> {
        let mut col = [None; Role::ALL.len()];
        let mut purpose = Vec::new();
        for role in Role::ALL {
            for r in m.refs(role) {
                let Some(i) = resolve_column(r, headers) else {
                    return Err(format!(
                        "column '{r}' (role {}) is not in the header",
                        role.as_str()
                    ));
                };
                if role == Role::Purpose {
                    purpose.push(i);
                } else {
                    col[role.index()] = Some(i);
                }
            }
        }
        let has = |r: Role| col[r.index()].is_some();
        if !has(Role::BookingDate) && !has(Role::Timestamp) && !has(Role::Step) {
            return Err("no date column (Buchungstag/Datum/Date)".to_owned());
        }
        if !has(Role::Amount) && !has(Role::Debit) && !has(Role::Credit) {
            return Err("no amount column (Betrag/Soll/Haben/Amount)".to_owned());
        }
        let decimal = match m.decimal.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("comma" | ",") => DecimalSeparator::Comma,
            Some("dot" | ".") => DecimalSeparator::Dot,
            _ => DecimalSeparator::Auto,
        };
        let mut const_account = PartyRef {
            name: m.account_name.clone(),
            bic: m.account_bic.clone(),
            bank_code: m.account_bank_code.clone(),
            account_number: m.account_number.clone(),
            ..PartyRef::default()
        };
        if let Some(i) = &m.account_iban {
            let (iban, num, _) = account_text(i);
            const_account.iban = iban;
            if const_account.account_number.is_none() {
                const_account.account_number = num;
            }
        }
        let up = |v: &[String]| {
            v.iter()
                .map(|s| s.trim().to_uppercase())
                .collect::<Vec<_>>()
        };
        let ledger = (has(Role::SenderAccount) || has(Role::SenderName))
            && (has(Role::ReceiverAccount) || has(Role::ReceiverName));
        Ok(Plan {
            col,
            purpose,
            headers: headers.to_vec(),
            decimal,
            date_format: m.date_format.clone(),
            const_account,
            currency: m.currency.clone(),
            debit_values: up(&m.debit_values),
            credit_values: up(&m.credit_values),
            ledger,
            step_base: m
                .step_base_date
                .as_deref()
                .and_then(|b| NaiveDate::parse_from_str(b, "%Y-%m-%d").ok()),
            comdirect: false,
            continuation: false,
            cr_marks_credit: m.debit_values.iter().any(|v| v.trim().is_empty()),
            payer_payee_cols: None,
            footer_prefixes: m.skip_footer_matching.clone(),
        })
    }

    fn c(&self, r: Role) -> Option<usize> {
        self.col[r.index()]
    }

    fn header(&self, i: usize) -> &str {
        self.headers.get(i).map_or("?", String::as_str)
    }
}

/// What a run of rows produced.
#[derive(Debug, Default)]
pub(crate) struct ChunkOut {
    /// Transactions in row order.
    pub txs: Vec<Transaction>,
    /// Issues in row order.
    pub issues: Vec<EvidenceIssue>,
    /// First opening balance row.
    pub opening: Option<Money>,
    /// Last closing balance row.
    pub closing: Option<Money>,
    /// Locators of pending (vorgemerkt) rows.
    pub pending: Vec<String>,
    /// Continuation rows merged.
    pub continued: usize,
    /// Rows read.
    pub rows: u64,
    /// Frame mode: completed rows as frame chunks, in row order, before `txs`.
    pub frames: Vec<DataFrame>,
    /// Frame mode: flushed rows that had no currency (the sink filled in EUR).
    pub flushed_without_currency: usize,
    /// Frame mode over a shared text: rows keep no `source_text` (their record's byte range in
    /// the text becomes the column).
    source_spans: bool,
    last_account: Option<(String, PartyRef)>,
    word_memo: WordMemo,
}

/// Keyword tests of texts that repeat from row to row (booking texts, status texts), each
/// distinct text tested once.
#[derive(Debug, Default)]
struct WordMemo {
    reversal: TextMemo,
    pending: TextMemo,
}

/// Answers by text, found by the text's hash and compared inline
/// ([`gs_types::schema::same_str`]: a `String` key's `==` calls `memcmp`, slow here per call).
#[derive(Debug, Default)]
struct TextMemo {
    known: PlHashMap<u64, Vec<(String, bool)>>,
    len: usize,
}

impl WordMemo {
    /// Distinct texts remembered per kind: beyond that (a text per row) every row is tested.
    const MAX: usize = 4096;

    fn cached(memo: &mut TextMemo, text: &str, test: impl Fn(&str) -> bool) -> bool {
        use std::hash::BuildHasher as _;
        let h = memo.known.hasher().hash_one(text);
        if let Some(&(_, v)) = memo.known.get(&h).and_then(|seen| {
            seen.iter()
                .find(|(t, _)| gs_types::schema::same_str(t, text))
        }) {
            return v;
        }
        let v = test(text);
        if memo.len < Self::MAX {
            memo.known.entry(h).or_default().push((text.to_owned(), v));
            memo.len += 1;
        }
        v
    }

    /// Booking text of a reversal / return (Storno, Rücklastschrift, Retoure, Rückbuchung).
    fn reversal(&mut self, booking_text: &str) -> bool {
        Self::cached(&mut self.reversal, booking_text, |bt| {
            [
                "storno",
                "cklastschrift",
                "retoure",
                "ckbuchung",
                "reversal",
                "return",
            ]
            .iter()
            .any(|k| contains_ci(bt, k))
        })
    }

    /// Status text of a pending (vorgemerkt) booking.
    fn pending(&mut self, status: &str) -> bool {
        Self::cached(&mut self.pending, status, |s| {
            contains_ci(s, "vorgemerkt") || contains_ci(s, "pending") || contains_ci(s, "vormerk")
        })
    }
}

impl ChunkOut {
    /// Appends a later chunk.
    pub fn append(&mut self, mut o: ChunkOut) {
        self.txs.append(&mut o.txs);
        self.frames.append(&mut o.frames);
        self.flushed_without_currency += o.flushed_without_currency;
        self.issues.append(&mut o.issues);
        if self.opening.is_none() {
            self.opening = o.opening;
        }
        if o.closing.is_some() {
            self.closing = o.closing;
        }
        self.pending.append(&mut o.pending);
        self.continued += o.continued;
        self.rows += o.rows;
    }

    fn issue(&mut self, severity: Severity, loc: &Locator, message: String) {
        self.issues.push(EvidenceIssue {
            severity,
            locator: Some(loc.to_string()),
            message,
        });
    }
}

/// Splits account text into (IBAN, account number, warning).
pub(crate) fn account_text(raw: &str) -> (Option<String>, Option<String>, Option<String>) {
    let t = raw.trim().trim_matches('"').trim();
    if t.is_empty() {
        return (None, None, None);
    }
    let b = t.as_bytes();
    let iban_shaped = b.len() >= 15
        && b.len() <= 42
        && b[0].is_ascii_alphabetic()
        && b[1].is_ascii_alphabetic()
        && b[2].is_ascii_digit()
        && b[3].is_ascii_digit()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b' ' || *c == b'-');
    if iban_shaped {
        // hot path: a compact German IBAN with valid check digits is what Iban::parse accepts
        // (length 22, mod 97 = 1) without its allocations
        if b.len() == 22 && b[0] == b'D' && b[1] == b'E' && de_iban_ok(b) {
            return (Some(t.to_owned()), None, None);
        }
        match Iban::parse(t) {
            Ok(i) => return (Some(i.as_str().to_owned()), None, None),
            Err(IbanError::CheckDigits(_) | IbanError::Length(_)) => {
                let n = normalize_account_text(t);
                let w = format!(
                    "IBAN '{n}' fails its check (wrong check digits or length); kept as written"
                );
                return (Some(n), None, Some(w));
            }
            Err(IbanError::Shape(_)) => {}
        }
    }
    (None, Some(t.to_owned()), None)
}

/// ISO 7064 mod 97-10 of a compact `DEkk` + 18 digits IBAN.
fn de_iban_ok(b: &[u8]) -> bool {
    if !b[4..].iter().all(u8::is_ascii_digit) || !b[2].is_ascii_digit() || !b[3].is_ascii_digit() {
        return false;
    }
    // BBAN, then "DE" as 13 14, then the check digits: 24 digits, taken seven at a time (one
    // remainder per seven digits instead of one per digit)
    let mut digits = [0u8; 24];
    digits[..18].copy_from_slice(&b[4..22]);
    digits[18..22].copy_from_slice(b"1314");
    digits[22..].copy_from_slice(&b[2..4]);
    let rem = digits.chunks(7).fold(0u64, |rem, chunk| {
        let (value, scale) = chunk.iter().fold((0u64, 1u64), |(v, s), &c| {
            (v * 10 + u64::from(c - b'0'), s * 10)
        });
        (rem * scale + value) % 97
    });
    rem == 1
}

fn bank_text(raw: &str, party: &mut PartyRef) {
    let t = raw.trim();
    if t.is_empty() {
        return;
    }
    if is_bic(t) {
        party.bic = Some(t.to_owned());
    } else {
        party.bank_code = Some(t.to_owned());
    }
}

/// Fast `dd.mm.yy`, `dd.mm.yyyy`, `yyyy-mm-dd`; same results as `gs_types::dates::parse_date`.
pub(crate) fn fast_date(t: &str) -> Option<NaiveDate> {
    let b = t.as_bytes();
    let d2 = |i: usize| -> Option<u32> {
        let x = *b.get(i)?;
        let y = *b.get(i + 1)?;
        (x.is_ascii_digit() && y.is_ascii_digit())
            .then(|| u32::from(x - b'0') * 10 + u32::from(y - b'0'))
    };
    match b.len() {
        8 if b[2] == b'.' && b[5] == b'.' => {
            let yy = d2(6)? as i32;
            let year = if yy < 70 { 2000 + yy } else { 1900 + yy };
            NaiveDate::from_ymd_opt(year, d2(3)?, d2(0)?)
        }
        10 if b[2] == b'.' && b[5] == b'.' => {
            let year = (d2(6)? * 100 + d2(8)?) as i32;
            NaiveDate::from_ymd_opt(year, d2(3)?, d2(0)?)
        }
        10 if b[4] == b'-' && b[7] == b'-' => {
            let year = (d2(0)? * 100 + d2(2)?) as i32;
            NaiveDate::from_ymd_opt(year, d2(5)?, d2(8)?)
        }
        _ => None,
    }
}

/// Fast path for plain amounts (`-1234,56`, `1234.5`, `+12`): same result as `Money::parse`
/// where it answers; `None` sends the text to `Money::parse`.
pub(crate) fn fast_amount(t: &str, sep: DecimalSeparator) -> Option<Money> {
    let dec = match sep {
        DecimalSeparator::Comma => b',',
        DecimalSeparator::Dot => b'.',
        DecimalSeparator::Auto => return None,
    };
    let b = t.as_bytes();
    let (neg, body) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    if body.is_empty() || body.len() > 16 {
        return None;
    }
    let mut units: i64 = 0;
    let mut i = 0;
    while i < body.len() && body[i].is_ascii_digit() {
        units = units * 10 + i64::from(body[i] - b'0');
        i += 1;
    }
    if i == 0 {
        return None;
    }
    let mut cents = units.checked_mul(100)?;
    if i < body.len() {
        if body[i] != dec {
            return None;
        }
        let frac = &body[i + 1..];
        if frac.len() > 2 || !frac.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let d0 = frac.first().map_or(0, |d| i64::from(d - b'0'));
        let d1 = frac.get(1).map_or(0, |d| i64::from(d - b'0'));
        cents += d0 * 10 + d1;
    }
    Some(Money(if neg { -cents } else { cents }))
}

fn parse_money(t: &str, sep: DecimalSeparator) -> Result<gs_types::ParsedAmount, String> {
    if let Some(m) = fast_amount(t, sep) {
        return Ok(gs_types::ParsedAmount {
            money: m,
            exact: None,
        });
    }
    Money::parse(t, sep).map_err(|e| e.to_string())
}

/// Exact decimal text of a spreadsheet float: six decimals (Excel's own precision for money
/// is far below f64 noise), trailing zeros dropped so that `amount_exact` reads "0.125".
fn float_text(v: f64) -> String {
    let t = format!("{v:.6}");
    let t = t.trim_end_matches('0');
    t.strip_suffix('.').unwrap_or(t).to_owned()
}

fn amount_cell<R: Row + ?Sized>(
    plan: &Plan,
    row: &R,
    i: usize,
) -> Option<Result<gs_types::ParsedAmount, String>> {
    if let Some(v) = row.number(i) {
        if !v.is_finite() {
            return Some(Err(format!("'{v}' is not an amount")));
        }
        return Some(
            Money::parse(&float_text(v), DecimalSeparator::Dot).map_err(|e| e.to_string()),
        );
    }
    let t = row.text(i)?;
    Some(parse_money(t, plan.decimal))
}

const DT_FORMATS: &[&str] = &[
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
];

fn parse_timestamp_text(t: &str) -> Option<NaiveDateTime> {
    let t = t.trim().trim_end_matches('Z');
    DT_FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
}

/// Parses a date cell with an optional chrono format.
pub(crate) fn parse_date_text(t: &str, fmt: Option<&str>) -> Option<NaiveDate> {
    if let Some(f) = fmt {
        return NaiveDate::parse_from_str(t, f)
            .ok()
            .or_else(|| NaiveDateTime::parse_from_str(t, f).ok().map(|d| d.date()));
    }
    fast_date(t).or_else(|| gs_types::dates::parse_date(t))
}

fn date_cell<R: Row + ?Sized>(plan: &Plan, row: &R, i: usize) -> Option<Result<NaiveDate, String>> {
    if let Some(dt) = row.datetime(i) {
        return Some(Ok(dt.date()));
    }
    if let Some(v) = row.number(i) {
        return Some(gs_types::dates::from_excel_serial(v).ok_or_else(|| format!("{v}")));
    }
    let t = row.text(i)?;
    Some(parse_date_text(t, plan.date_format.as_deref()).ok_or_else(|| t.to_owned()))
}

fn eq_any(t: &str, list: &[&str]) -> bool {
    list.iter().any(|k| t.eq_ignore_ascii_case(k))
}

/// ASCII-case-insensitive substring test. Runs several times per row (reversal and pending
/// keywords): candidates are found by their first byte with a SIMD search.
fn contains_ci(hay: &str, needle: &str) -> bool {
    let h = hay.as_bytes();
    let n = needle.as_bytes();
    let Some((&first, rest)) = n.split_first() else {
        return true;
    };
    let Some(last_start) = h.len().checked_sub(n.len()) else {
        return false;
    };
    let (lo, up) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
    memchr::memchr2_iter(lo, up, &h[..=last_start])
        .any(|p| h[p + 1..p + n.len()].eq_ignore_ascii_case(rest))
}

/// Balance/summary row kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SummaryKind {
    /// Opening balance.
    Opening,
    /// Closing balance.
    Closing,
    /// Totals and other non-transaction lines.
    Other,
}

const OPENING: &[&str] = &[
    "alter kontostand",
    "anfangssaldo",
    "opening balance",
    "saldo alt",
    "kontostand alt",
    "startsaldo",
    "anfangsbestand",
    "saldo iniziale",
    "beginsaldo",
    "saldo anterior",
    "sold initial",
    "previous balance",
];
const CLOSING: &[&str] = &[
    "neuer kontostand",
    "endsaldo",
    "closing balance",
    "saldo neu",
    "kontostand neu",
    "schlusssaldo",
    "schlußsaldo",
    "endbestand",
    "kontostand",
    "saldo finale",
    "eindsaldo",
    "sold final",
    "new balance",
];
const OTHER: &[&str] = &[
    "summe",
    "total",
    "totale",
    "saldo",
    "turnover",
    "umsatzsumme",
    "abschluss",
    "summe soll",
    "summe haben",
    "gesamt",
    "zwischensumme",
    "gesamtsumme",
    "totals",
    "rulaj",
    "rulaj total",
    "total debit",
    "total credit",
];

/// Prefixes that make a cell a summary label ("Kontostand vom 31.12.2025", "Summe Umsätze").
const LABEL_PREFIXES: &[(&str, SummaryKind)] = &[
    ("kontostand vom", SummaryKind::Closing),
    ("summe ", SummaryKind::Other),
    ("total ", SummaryKind::Other),
    ("totale ", SummaryKind::Other),
    ("totals ", SummaryKind::Other),
];

/// The byte lengths a summary label can have, by its first two letters (either case): bit
/// `len` of `LABEL_LENGTHS[first - 'a'][second - 'a']`; a prefix of [`LABEL_PREFIXES`] allows every
/// longer length. Most cells (amounts, dates, IBANs, names, booking texts, a bank's "Umsatz
/// gebucht" on every row) are ruled out by their first two bytes and their length.
static LABEL_LENGTHS: [[u64; 26]; 26] = label_lengths();

const fn label_lengths() -> [[u64; 26]; 26] {
    const fn slot(label: &str) -> Option<(usize, usize)> {
        let b = label.as_bytes();
        if b.len() < 2 || !b[0].is_ascii_lowercase() || !b[1].is_ascii_lowercase() {
            return None;
        }
        Some(((b[0] - b'a') as usize, (b[1] - b'a') as usize))
    }
    let mut t = [[0u64; 26]; 26];
    let lists: [&[&str]; 3] = [OPENING, CLOSING, OTHER];
    let mut l = 0;
    while l < lists.len() {
        let mut i = 0;
        while i < lists[l].len() {
            let label = lists[l][i];
            if let Some((a, b)) = slot(label)
                && label.len() < 64
            {
                t[a][b] |= 1 << label.len();
            }
            i += 1;
        }
        l += 1;
    }
    let mut i = 0;
    while i < LABEL_PREFIXES.len() {
        let prefix = LABEL_PREFIXES[i].0;
        if let Some((a, b)) = slot(prefix)
            && prefix.len() < 63
        {
            t[a][b] |= !0u64 << (prefix.len() + 1);
        }
        i += 1;
    }
    t
}

/// The lengths a label starting like `t` can have (see [`LABEL_LENGTHS`]); 0: none.
#[inline]
fn label_lengths_of(t: &str) -> u64 {
    let [a, b, ..] = t.as_bytes() else {
        return 0;
    };
    let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
    if !a.is_ascii_lowercase() || !b.is_ascii_lowercase() {
        return 0;
    }
    LABEL_LENGTHS[usize::from(a - b'a')][usize::from(b - b'a')]
}

/// Classifies a cell text as a balance/summary label. Runs for most cells of every row: the
/// first two letters rule out nearly all of them here, inlined.
#[inline]
pub(crate) fn summary_label(t: &str) -> Option<SummaryKind> {
    let t = trim_fast(t);
    match label_lengths_of(t) {
        0 => None,
        lengths => label_of_length(t, lengths),
    }
}

/// [`summary_label`] of a cell that starts like a label (`lengths`: the lengths it may have).
fn label_of_length(mut t: &str, lengths: u64) -> Option<SummaryKind> {
    if t.ends_with(':') {
        t = t.trim_end_matches(':').trim_end();
    }
    if t.len() < 4 || t.len() > 40 || lengths & (1 << t.len()) == 0 {
        return None;
    }
    // whole labels, in list order (an opening label wins over a closing one of equal text)
    for (list, kind) in [
        (OPENING, SummaryKind::Opening),
        (CLOSING, SummaryKind::Closing),
        (OTHER, SummaryKind::Other),
    ] {
        if eq_any(t, list) {
            return Some(kind);
        }
    }
    LABEL_PREFIXES
        .iter()
        .find(|(p, _)| {
            t.len() > p.len() && t.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes())
        })
        .map(|&(_, kind)| kind)
}

/// Value of a balance row: the first money cell after the label (with an S/H or D/K flag right
/// after it).
pub(crate) fn summary_value<R: Row + ?Sized>(
    row: &R,
    label: usize,
    sep: DecimalSeparator,
) -> Option<Money> {
    let mut i = label + 1;
    while i < row.width() {
        if let Some(v) = row.number(i) {
            return Money::parse(&format!("{v:.6}"), DecimalSeparator::Dot)
                .ok()
                .map(|p| p.money);
        }
        if let Some(t) = row.text(i)
            && !t.contains(':')
            && fast_date(t).is_none()
            && let Ok(p) = parse_money(t, sep)
                .or_else(|_| Money::parse(t, DecimalSeparator::Auto).map_err(|e| e.to_string()))
        {
            let mut m = p.money;
            if let Some(f) = row.text(i + 1)
                && (f.eq_ignore_ascii_case("S")
                    || f.eq_ignore_ascii_case("D")
                    || f.eq_ignore_ascii_case("DR"))
            {
                m = m.abs().neg();
            }
            return Some(m);
        }
        i += 1;
    }
    None
}

/// Reads one row. `raw` is the source text kept with the transaction.
#[allow(clippy::many_single_char_names)] // d/c/i/n/w: debit, credit, iban, number, warning
pub(crate) fn process_row<R: Row + ?Sized>(
    plan: &Plan,
    row: &R,
    loc: &Locator,
    raw: &str,
    out: &mut ChunkOut,
) {
    out.rows += 1;
    let w = row.width();
    let Some(first) = (0..w).find_map(|i| row.text(i)) else {
        return; // empty row
    };
    if plan
        .footer_prefixes
        .iter()
        .any(|p| !p.is_empty() && first.starts_with(p.as_str()))
    {
        out.issue(
            Severity::Info,
            loc,
            format!(
                "footer line skipped (starts with '{}')",
                first.chars().take(40).collect::<String>()
            ),
        );
        return;
    }
    // balance and summary lines: a short label cell
    for i in 0..w.min(40) {
        let Some(t) = row.text(i) else { continue };
        if t.len() > 40 || t.len() < 4 {
            continue;
        }
        let Some(kind) = summary_label(t) else {
            continue;
        };
        // "Total"/"Saldo"/"Summe" in a dated row are only a summary when they are not a name
        // and the row has no counterparty: a card payment at a "TOTAL" station must stay
        if kind == SummaryKind::Other && dated_row(plan, row) {
            let name_cols = [
                plan.c(Role::CounterpartyName),
                plan.c(Role::SenderName),
                plan.c(Role::ReceiverName),
            ];
            let in_name = name_cols.contains(&Some(i));
            let has_cp = name_cols.iter().flatten().any(|&c| row.text(c).is_some());
            if in_name || has_cp {
                continue;
            }
        }
        let mut value = summary_value(row, i, plan.decimal);
        if let Some(a) = plan.c(Role::Amount)
            && let Some(Ok(p)) = amount_cell(plan, row, a)
        {
            let mut m = p.money;
            if let Some(f) = plan.c(Role::DebitCreditFlag).and_then(|f| row.text(f)) {
                match flag_kind(plan, f) {
                    Some(true) => m = m.abs().neg(),
                    Some(false) => m = m.abs(),
                    None => {}
                }
            }
            value = Some(m);
        }
        match kind {
            SummaryKind::Opening => {
                if out.opening.is_none() {
                    out.opening = value;
                }
                out.issue(
                    Severity::Info,
                    loc,
                    format!("opening balance line ('{t}') is not a transaction"),
                );
            }
            SummaryKind::Closing => {
                out.closing = value.or(out.closing);
                out.issue(
                    Severity::Info,
                    loc,
                    format!("closing balance line ('{t}') is not a transaction"),
                );
            }
            SummaryKind::Other => {
                out.issue(
                    Severity::Info,
                    loc,
                    format!("summary line ('{t}') is not a transaction"),
                );
            }
        }
        return;
    }
    let date_col = plan.c(Role::BookingDate).or(plan.c(Role::Timestamp));
    let amount_cols = [
        plan.c(Role::Amount),
        plan.c(Role::Debit),
        plan.c(Role::Credit),
    ];
    let amounts_empty = amount_cols
        .iter()
        .flatten()
        .all(|&i| row.text(i).is_none() && row.number(i).is_none());
    let date_empty = date_col.is_none_or(|i| {
        row.text(i).is_none() && row.number(i).is_none() && row.datetime(i).is_none()
    });
    if plan.continuation && date_empty && amounts_empty {
        let text: Vec<&str> = (0..w).filter_map(|i| row.text(i)).collect();
        if let Some(prev) = out.txs.last_mut() {
            let joined = text.join(" ");
            match &mut prev.purpose {
                Some(p) => {
                    p.push(' ');
                    p.push_str(&joined);
                }
                None => prev.purpose = Some(joined),
            }
            prev.source_text.push('\n');
            prev.source_text.push_str(raw);
            out.continued += 1;
        } else {
            out.issue(
                Severity::Error,
                loc,
                format!(
                    "row without date and amount before any transaction: '{}'",
                    text.join(" | ")
                ),
            );
        }
        return;
    }
    // booking date
    let mut timestamp = None;
    let mut pending_date = false;
    let booking_date = if let Some(i) = plan.c(Role::BookingDate) {
        match date_cell(plan, row, i) {
            Some(Ok(d)) => d,
            // comdirect/DKB write "offen" for bookings not yet booked: use the value date
            Some(Err(t))
                if ["offen", "vorgemerkt", "pending"]
                    .iter()
                    .any(|k| t.eq_ignore_ascii_case(k))
                    && let Some(Some(Ok(v))) =
                        plan.c(Role::ValueDate).map(|v| date_cell(plan, row, v)) =>
            {
                pending_date = true;
                v
            }
            Some(Err(t)) if amounts_empty => {
                // notes and disclaimers under a table: no amount, so no money is lost
                let short: String = t.chars().take(60).collect();
                out.issue(
                    Severity::Info,
                    loc,
                    format!("line without date and amount skipped: '{short}'"),
                );
                return;
            }
            Some(Err(t)) => {
                out.issue(
                    Severity::Error,
                    loc,
                    format!(
                        "booking date '{t}' is not a date (column '{}'); row dropped",
                        plan.header(i)
                    ),
                );
                return;
            }
            None => {
                out.issue(
                    Severity::Error,
                    loc,
                    format!(
                        "booking date is empty (column '{}'); row dropped",
                        plan.header(i)
                    ),
                );
                return;
            }
        }
    } else if let Some(i) = plan.c(Role::Timestamp) {
        let ts = row
            .datetime(i)
            .or_else(|| row.text(i).and_then(parse_timestamp_text));
        if let Some(ts) = ts {
            timestamp = Some(ts);
            ts.date()
        } else {
            let t = row.text(i).unwrap_or("");
            if let Some(d) = parse_date_text(t, plan.date_format.as_deref()) {
                d
            } else {
                out.issue(
                    Severity::Error,
                    loc,
                    format!(
                        "timestamp '{t}' is not a date (column '{}'); row dropped",
                        plan.header(i)
                    ),
                );
                return;
            }
        }
    } else if let (Some(i), Some(base)) = (plan.c(Role::Step), plan.step_base) {
        let t = row.text(i).unwrap_or("");
        if let Some(d) = t
            .parse::<i64>()
            .ok()
            .and_then(|s| base.checked_add_signed(chrono::Duration::try_days(s)?))
        {
            d
        } else {
            out.issue(
                Severity::Error,
                loc,
                format!(
                    "step '{t}' is not a day number (column '{}'); row dropped",
                    plan.header(i)
                ),
            );
            return;
        }
    } else {
        out.issue(
            Severity::Error,
            loc,
            "no date column; row dropped".to_owned(),
        );
        return;
    };
    // amount
    let mut amount_exact = None;
    let amount = if let Some(i) = plan.c(Role::Amount) {
        match amount_cell(plan, row, i) {
            Some(Ok(p)) => {
                amount_exact = p.exact;
                let mut m = p.money;
                let flag = plan
                    .c(Role::DebitCreditFlag)
                    .and_then(|f| row.text(f).map(|t| (f, t)));
                match flag {
                    Some((f, t)) => match flag_kind(plan, t) {
                        Some(true) => m = m.abs().neg(),
                        Some(false) => m = m.abs(),
                        None => {
                            out.issue(
                                Severity::Error,
                                loc,
                                format!("debit/credit flag '{t}' is neither debit nor credit (column '{}'); row dropped", plan.header(f)),
                            );
                            return;
                        }
                    },
                    None if plan.cr_marks_credit => m = m.abs().neg(),
                    None => {}
                }
                m
            }
            Some(Err(e)) => {
                out.issue(
                    Severity::Error,
                    loc,
                    format!("amount: {e} (column '{}'); row dropped", plan.header(i)),
                );
                return;
            }
            None => {
                out.issue(
                    Severity::Error,
                    loc,
                    format!("amount is empty (column '{}'); row dropped", plan.header(i)),
                );
                return;
            }
        }
    } else {
        let d = plan
            .c(Role::Debit)
            .and_then(|i| amount_cell(plan, row, i).map(|r| (i, r)));
        let c = plan
            .c(Role::Credit)
            .and_then(|i| amount_cell(plan, row, i).map(|r| (i, r)));
        let mut val = |x: Option<(usize, Result<gs_types::ParsedAmount, String>)>| -> std::result::Result<Option<Money>, String> {
            match x {
                None => Ok(None),
                Some((_, Ok(p))) => {
                    if p.exact.is_some() {
                        amount_exact = p.exact;
                    }
                    Ok(Some(p.money))
                }
                Some((i, Err(e))) => Err(format!("amount: {e} (column '{}'); row dropped", plan.header(i))),
            }
        };
        let dv = match val(d) {
            Ok(v) => v,
            Err(e) => {
                out.issue(Severity::Error, loc, e);
                return;
            }
        };
        let cv = match val(c) {
            Ok(v) => v,
            Err(e) => {
                out.issue(Severity::Error, loc, e);
                return;
            }
        };
        match (dv, cv) {
            (Some(d), Some(c)) if d != Money::ZERO && c != Money::ZERO => {
                out.issue(
                    Severity::Error,
                    loc,
                    format!("both debit ({d}) and credit ({c}) are filled; row dropped"),
                );
                return;
            }
            (Some(d), _) if d != Money::ZERO => d.abs().neg(),
            (_, Some(c)) => c,
            (Some(d), None) => d,
            (None, None) => {
                out.issue(
                    Severity::Error,
                    loc,
                    "no amount in debit or credit column; row dropped".to_owned(),
                );
                return;
            }
        }
    };
    let mut tx = Transaction {
        booking_date,
        amount,
        timestamp,
        locator: Some(loc.clone()),
        ..Transaction::default()
    };
    if let Some(e) = amount_exact {
        out.issue(
            Severity::Warning,
            loc,
            format!("amount '{e}' has digits beyond cents; rounded to {amount}"),
        );
        tx.amount_exact = Some(e);
    }
    let txt = |r: Role| plan.c(r).and_then(|i| row.text(i));
    if let Some(i) = plan.c(Role::ValueDate)
        && let Some(r) = date_cell(plan, row, i)
    {
        match r {
            Ok(d) => tx.value_date = Some(d),
            Err(t) => out.issue(
                Severity::Warning,
                loc,
                format!(
                    "value date '{t}' is not a date (column '{}'); left empty",
                    plan.header(i)
                ),
            ),
        }
    }
    if let Some(i) = plan.c(Role::Time)
        && tx.timestamp.is_none()
    {
        let t = row
            .datetime(i)
            .map(|d| d.time())
            .or_else(|| {
                row.number(i).and_then(|v| {
                    NaiveTime::from_num_seconds_from_midnight_opt(
                        ((v.fract() * 86_400.0).round() as u32).min(86_399),
                        0,
                    )
                })
            })
            .or_else(|| {
                row.text(i).and_then(|t| {
                    NaiveTime::parse_from_str(t, "%H:%M:%S")
                        .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M"))
                        .ok()
                })
            });
        tx.timestamp = t.map(|t| booking_date.and_time(t));
    }
    tx.currency = txt(Role::Currency)
        .map(|c| {
            if c.bytes().all(|b| b.is_ascii_uppercase()) {
                c.to_owned() // "EUR": no case mapping needed
            } else {
                c.to_uppercase()
            }
        })
        .or_else(|| plan.currency.clone())
        .unwrap_or_default();
    // parties
    let warn_iban = |out: &mut ChunkOut, w: Option<String>| {
        if let Some(w) = w {
            out.issue(Severity::Warning, loc, w);
        }
    };
    if plan.ledger {
        tx.source_kind = SourceKind::Ledger;
        tx.amount = tx.amount.abs().neg();
        if let Some(t) = txt(Role::SenderAccount) {
            let (i, n, w) = account_text(t);
            tx.account.iban = i;
            tx.account.account_number = n;
            warn_iban(out, w);
        }
        tx.account.name = txt(Role::SenderName).map(str::to_owned);
        if let Some(t) = txt(Role::ReceiverAccount) {
            let (i, n, w) = account_text(t);
            tx.counterparty.iban = i;
            tx.counterparty.account_number = n;
            warn_iban(out, w);
        }
        tx.counterparty.name = txt(Role::ReceiverName).map(str::to_owned);
    } else {
        // statement account: constant, then columns (cached: usually the same on every row)
        let acct_raw = txt(Role::AccountIban).or(txt(Role::AccountNumber));
        let mut account = match (acct_raw, &out.last_account) {
            (Some(r), Some((last, p))) if gs_types::schema::same_str(last, r) => p.clone(),
            (Some(r), _) => {
                let (i, n, w) = account_text(r);
                let mut p = plan.const_account.clone();
                if i.is_some() {
                    p.iban = i;
                }
                if n.is_some() {
                    p.account_number = n;
                }
                warn_iban(out, w);
                out.last_account = Some((r.to_owned(), p.clone()));
                p
            }
            (None, _) => plan.const_account.clone(),
        };
        if let Some(n) = txt(Role::AccountName) {
            account.name = Some(n.to_owned());
        }
        if let Some(b) = txt(Role::AccountBic) {
            bank_text(b, &mut account);
        }
        if let Some(b) = txt(Role::AccountBankCode) {
            bank_text(b, &mut account);
        }
        tx.account = account;
        tx.counterparty.name = txt(Role::CounterpartyName).map(str::to_owned);
        for r in [Role::CounterpartyIban, Role::CounterpartyAccount] {
            if let Some(t) = txt(r) {
                let (i, n, w) = account_text(t);
                if i.is_some() {
                    tx.counterparty.iban = i;
                }
                if n.is_some() {
                    tx.counterparty.account_number = n;
                }
                warn_iban(out, w);
            }
        }
        for r in [Role::CounterpartyBic, Role::CounterpartyBankCode] {
            if let Some(t) = txt(r) {
                bank_text(t, &mut tx.counterparty);
            }
        }
    }
    // texts
    let mut purpose: Option<String> = None;
    for &i in &plan.purpose {
        if let Some(t) = row.text(i) {
            match &mut purpose {
                Some(p) => {
                    p.push(' ');
                    p.push_str(t);
                }
                None => purpose = Some(t.to_owned()),
            }
        }
    }
    tx.booking_text = txt(Role::BookingText).map(str::to_owned);
    tx.tx_code = txt(Role::TxCode).map(str::to_owned);
    tx.end_to_end_ref = txt(Role::EndToEndRef)
        .filter(|t| !t.eq_ignore_ascii_case("NOTPROVIDED"))
        .map(str::to_owned);
    tx.mandate_ref = txt(Role::MandateRef).map(str::to_owned);
    tx.creditor_id = txt(Role::CreditorId).map(str::to_owned);
    if let Some(p) = &purpose
        && p.contains('+')
    {
        sepa_keys(p, &mut tx);
    }
    if plan.comdirect
        && let Some(p) = &purpose
        && let Some(np) = comdirect_text(p, &mut tx)
    {
        purpose = Some(np);
    }
    if let Some((payer, payee)) = plan.payer_payee_cols {
        let (cp, own) = if tx.amount.is_negative() {
            (payee, payer)
        } else {
            (payer, payee)
        };
        if tx.counterparty.name.is_none() {
            tx.counterparty.name = row.text(cp).map(str::to_owned);
        }
        if tx.account.name.is_none() {
            tx.account.name = row.text(own).map(str::to_owned);
        }
    }
    tx.purpose = purpose;
    if let Some(i) = plan.c(Role::BalanceAfter)
        && let Some(r) = amount_cell(plan, row, i)
    {
        match r {
            Ok(p) => tx.balance_after = Some(p.money),
            Err(e) => out.issue(
                Severity::Warning,
                loc,
                format!("balance: {e} (column '{}'); left empty", plan.header(i)),
            ),
        }
    }
    if let Some(bt) = &tx.booking_text {
        tx.reversal = out.word_memo.reversal(bt);
    }
    if pending_date || txt(Role::Status).is_some_and(|s| out.word_memo.pending(s)) {
        out.pending.push(loc.to_string());
    }
    if !out.source_spans {
        raw.clone_into(&mut tx.source_text);
    }
    out.txs.push(tx);
}

/// True when the row's booking date cell holds a date.
fn dated_row<R: Row + ?Sized>(plan: &Plan, row: &R) -> bool {
    plan.c(Role::BookingDate)
        .or(plan.c(Role::Timestamp))
        .is_some_and(|i| {
            row.datetime(i).is_some()
                || matches!(date_cell(plan, row, i), Some(Ok(_)))
                || row.text(i).and_then(parse_timestamp_text).is_some()
        })
}

/// `Some(true)` = debit, `Some(false)` = credit, `None` = unknown flag.
fn flag_kind(plan: &Plan, t: &str) -> Option<bool> {
    let t = t.trim();
    if !plan.debit_values.is_empty() || !plan.credit_values.is_empty() {
        if plan.debit_values.iter().any(|v| v.eq_ignore_ascii_case(t)) {
            return Some(true);
        }
        if plan.credit_values.iter().any(|v| v.eq_ignore_ascii_case(t)) {
            return Some(false);
        }
        return None;
    }
    if eq_any(t, DEFAULT_DEBIT) {
        Some(true)
    } else if eq_any(t, DEFAULT_CREDIT) {
        Some(false)
    } else {
        None
    }
}

/// SEPA keys inside a Verwendungszweck (`EREF+… MREF+… CRED+… SVWZ+…`).
fn sepa_keys(p: &str, tx: &mut Transaction) {
    const KEYS: &[&str] = &[
        "EREF+", "KREF+", "MREF+", "CRED+", "DEBT+", "SVWZ+", "ABWA+", "ABWE+", "IBAN+", "BIC+",
        "COAM+", "OAMT+",
    ];
    let mut found: Vec<(usize, &str)> = KEYS
        .iter()
        .filter_map(|k| p.find(k).map(|i| (i, *k)))
        .collect();
    if found.is_empty() {
        return;
    }
    found.sort_unstable();
    for (n, &(pos, key)) in found.iter().enumerate() {
        let vstart = pos + key.len();
        let vend = found.get(n + 1).map_or(p.len(), |x| x.0);
        let Some(v) = p.get(vstart..vend).map(str::trim).filter(|v| !v.is_empty()) else {
            continue;
        };
        match key {
            "EREF+" if tx.end_to_end_ref.is_none() && !v.eq_ignore_ascii_case("NOTPROVIDED") => {
                tx.end_to_end_ref = Some(v.to_owned());
            }
            "MREF+" if tx.mandate_ref.is_none() => tx.mandate_ref = Some(v.to_owned()),
            "CRED+" if tx.creditor_id.is_none() => tx.creditor_id = Some(v.to_owned()),
            _ => {}
        }
    }
}

/// comdirect "Buchungstext": `Auftraggeber: X Buchungstext: Y Empfänger: Z Kto/IBAN: … BLZ/BIC: …`.
fn comdirect_text(bt: &str, tx: &mut Transaction) -> Option<String> {
    const KEYS: &[&str] = &[
        "Auftraggeber:",
        "Empfänger:",
        "Buchungstext:",
        "Kto/IBAN:",
        "BLZ/BIC:",
        "Ref.",
        "Zahlungspflichtiger:",
    ];
    let mut found: Vec<(usize, &str)> = Vec::new();
    for k in KEYS {
        let mut from = 0;
        while let Some(i) = bt.get(from..).and_then(|s| s.find(k)) {
            found.push((from + i, k));
            from += i + k.len();
        }
    }
    if found.is_empty() {
        return None;
    }
    found.sort_unstable();
    let mut text_parts: Vec<&str> = Vec::new();
    let (mut payer, mut payee): (Option<&str>, Option<&str>) = (None, None);
    if let Some(pre) = found
        .first()
        .and_then(|f| bt.get(..f.0))
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        text_parts.push(pre);
    }
    for (n, &(pos, key)) in found.iter().enumerate() {
        let vend = found.get(n + 1).map_or(bt.len(), |x| x.0);
        let Some(v) = bt
            .get(pos + key.len()..vend)
            .map(str::trim)
            .filter(|v| !v.is_empty())
        else {
            continue;
        };
        match key {
            "Auftraggeber:" | "Zahlungspflichtiger:" => payer = payer.or(Some(v)),
            "Empfänger:" => payee = payee.or(Some(v)),
            "Buchungstext:" => text_parts.push(v),
            "Kto/IBAN:" => {
                let (i, n, _) = account_text(v);
                tx.counterparty.iban = i.or(tx.counterparty.iban.take());
                tx.counterparty.account_number = n.or(tx.counterparty.account_number.take());
            }
            "BLZ/BIC:" => bank_text(v, &mut tx.counterparty),
            "Ref." if tx.end_to_end_ref.is_none() => tx.end_to_end_ref = Some(v.to_owned()),
            _ => {}
        }
    }
    let cp = if tx.amount.is_negative() {
        payee.or(payer)
    } else {
        payer.or(payee)
    };
    if tx.counterparty.name.is_none() {
        tx.counterparty.name = cp.map(str::to_owned);
    }
    (!text_parts.is_empty()).then(|| text_parts.join(" "))
}

/// Frame mode settings of a parse: the sink, and the shared text `source_text` may point into.
#[derive(Clone, Copy, Default)]
pub(crate) struct FrameOut<'s> {
    /// Where batches of rows go (frame mode); `None`: rows stay transactions.
    pub sink: Option<&'s FrameSink>,
    /// The parsed text as an Arrow buffer (only used when it is the very same bytes).
    pub shared: Option<&'s Buffer<u8>>,
}

/// Parses text records in `range` (starting on `line`). Returns `Ok(None)` when the range did not
/// end on a record boundary (quote parity was wrong; the caller re-parses sequentially).
fn parse_range(
    plan: &Plan,
    text: &str,
    delim: u8,
    range: Range<usize>,
    line: u32,
    frames: FrameOut<'_>,
    progress: &Progress,
) -> Result<Option<ChunkOut>> {
    let FrameOut { sink, shared } = frames;
    let mut tok = Tokenizer::new(text, delim, range.start, line);
    let mut fields: Vec<Cow<'_, str>> = Vec::with_capacity(plan.headers.len() + 2);
    // frame mode: rows go into the batch as soon as no continuation row can extend them any
    // more (at once, or when the next row starts)
    let keep = usize::from(plan.continuation);
    // source_text as byte ranges of the shared text: only where a row is one record
    // (continuation rows append to the row before)
    let spans = sink.is_some() && shared.is_some() && !plan.continuation;
    let mut batch = sink.map(|s| if spans { s.span_batch() } else { s.batch() });
    let mut out = ChunkOut {
        txs: Vec::with_capacity(if batch.is_some() {
            keep + 1
        } else {
            (range.end - range.start) / 160 + 1
        }),
        source_spans: spans,
        ..ChunkOut::default()
    };
    let frame_err = |e: polars::prelude::PolarsError| IngestError::Frame(e.to_string());
    let mut since = 0u64;
    while tok.pos() < range.end {
        let Some(rec) = tok.next_record(&mut fields) else {
            break;
        };
        let raw = text.get(rec.start..rec.end).unwrap_or("");
        trim_fields(&mut fields);
        process_row(
            plan,
            &TrimmedRow(&fields),
            &Locator::Row {
                sheet: None,
                row: rec.line,
            },
            raw,
            &mut out,
        );
        if let Some(b) = &mut batch
            && out.txs.len() > keep
        {
            // without spans at most `keep + 1` rows wait here; with spans exactly the row of
            // this record (continuation plans never take spans)
            let span = spans.then_some((rec.start, raw.len()));
            let ready = out.txs.len() - keep;
            for t in &mut out.txs[..ready] {
                b.push(t, span);
            }
            out.txs.drain(..ready);
            if b.is_full() {
                let (df, missing) = b.take(shared).map_err(frame_err)?;
                out.flushed_without_currency += missing;
                out.frames.push(df);
            }
        }
        since += 1;
        if since >= 4096 {
            progress.add_rows(since);
            since = 0;
            if progress.is_cancelled() {
                return Err(IngestError::Cancelled);
            }
        }
    }
    progress.add_rows(since);
    if tok.pos() != range.end {
        return Ok(None);
    }
    if let Some(b) = &mut batch {
        for t in &mut out.txs {
            b.push(t, None);
        }
        if !b.is_empty() {
            let (df, missing) = b.take(shared).map_err(frame_err)?;
            out.flushed_without_currency += missing;
            out.frames.push(df);
        }
        out.txs = Vec::new();
    }
    Ok(Some(out))
}

/// Parses the records of `text[from..]` (first record on `line`), in parallel for big inputs.
/// With a frame sink (frame mode) the rows come back as frame chunks, not as transactions;
/// when `shared` holds `text` itself (same bytes), `source_text` values point into it.
pub(crate) fn parse_text(
    plan: &Plan,
    text: &str,
    delim: u8,
    from: usize,
    line: u32,
    frames: FrameOut<'_>,
    progress: &Progress,
) -> Result<ChunkOut> {
    use rayon::prelude::*;
    let frames = FrameOut {
        sink: frames.sink,
        shared: frames
            .shared
            .filter(|b| std::ptr::eq(b.as_slice(), text.as_bytes())),
    };
    // continuation rows refer to the row before, which may sit in the previous chunk
    let big = !plan.continuation && text.len().saturating_sub(from) > (4 << 20);
    if big {
        // parts of ~2 MiB (at least four per thread): a thread that falls behind (another
        // job, a slow page) leaves the others a short tail, not a quarter of the file
        let parts = (rayon::current_num_threads() * 4).max((text.len() - from) >> 21);
        let ranges = split_ranges(text, from, line, parts);
        if ranges.len() > 1 {
            let results: Vec<Result<Option<ChunkOut>>> = ranges
                .into_par_iter()
                .map(|(r, l)| parse_range(plan, text, delim, r, l, frames, progress))
                .collect();
            let mut all = ChunkOut::default();
            let total: usize = results
                .iter()
                .map(|r| {
                    r.as_ref()
                        .ok()
                        .and_then(Option::as_ref)
                        .map_or(0, |c| c.txs.len())
                })
                .sum();
            all.txs.reserve_exact(total);
            let mut consistent = true;
            for r in results {
                if let Some(c) = r? {
                    all.append(c);
                } else {
                    consistent = false;
                    break;
                }
            }
            if consistent {
                return Ok(all);
            }
        }
    }
    let end = text.len();
    let r = parse_range(plan, text, delim, from..end, line, frames, progress)?;
    Ok(r.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_labels_survive_the_start_and_length_filter() {
        for (list, kind) in [
            (OPENING, SummaryKind::Opening),
            (CLOSING, SummaryKind::Closing),
            (OTHER, SummaryKind::Other),
        ] {
            for label in list {
                // "kontostand" is a closing label; an opening label of equal text wins
                let want = if OPENING.contains(label) {
                    SummaryKind::Opening
                } else {
                    kind
                };
                for cell in [
                    (*label).to_owned(),
                    label.to_uppercase(),
                    format!("  {label}: "),
                ] {
                    assert_eq!(summary_label(&cell), Some(want), "{cell:?}");
                }
            }
        }
        assert_eq!(
            summary_label("Kontostand vom 31.12.2025"),
            Some(SummaryKind::Closing)
        );
        assert_eq!(summary_label("Summe Umsätze"), Some(SummaryKind::Other));
        assert_eq!(summary_label("TOTALS March"), Some(SummaryKind::Other));
        assert_eq!(summary_label("Umsatzsumme:"), Some(SummaryKind::Other));
        for (prefix, kind) in LABEL_PREFIXES {
            assert_eq!(
                summary_label(&format!("{prefix}x")),
                Some(*kind),
                "{prefix:?}"
            );
        }
        for cell in [
            "",
            "Umsatz gebucht",
            "DE59370501982420164873",
            "-29,70",
            "31.12.25",
            "Bäckerei Schulte",
            "Miete",
        ] {
            assert_eq!(summary_label(cell), None, "{cell:?}");
        }
    }

    #[test]
    fn contains_ci_is_a_case_insensitive_substring_test() {
        let naive = |h: &str, n: &str| {
            n.is_empty()
                || h.as_bytes()
                    .windows(n.len())
                    .any(|w| w.eq_ignore_ascii_case(n.as_bytes()))
        };
        for h in [
            "",
            "S",
            "Storno",
            "SEPA-STORNO",
            "xstornx",
            "Rücklastschrift",
            "RÜCKLASTSCHRIFT",
            "sto",
        ] {
            for n in ["", "s", "storno", "cklastschrift", "sto", "x"] {
                assert_eq!(contains_ci(h, n), naive(h, n), "{h:?} {n:?}");
            }
        }
    }

    #[test]
    fn trim_fast_is_trim() {
        for s in [
            "",
            " ",
            "a",
            " a",
            "a ",
            "\u{a0}Müller\u{a0}",
            "Müller",
            "ü",
            "x\t",
            "\r\nx",
            "a b",
            "\u{2003}",
            "€",
            "1,00 €",
        ] {
            assert_eq!(trim_fast(s), s.trim(), "{s:?}");
        }
    }

    #[test]
    fn fast_paths_agree_with_gs_types() {
        for t in [
            "22.02.18",
            "01.01.1999",
            "2018-03-01",
            "31.02.20",
            "1.2.20",
            "aa.bb.cc",
        ] {
            if let Some(d) = fast_date(t) {
                assert_eq!(Some(d), gs_types::dates::parse_date(t), "{t}");
            }
        }
        for t in [
            "-36,99", "+50,00", "12", "1234,5", "-0,01", "1.234,56", "12,345",
        ] {
            if let Some(m) = fast_amount(t, DecimalSeparator::Comma) {
                assert_eq!(
                    m,
                    Money::parse(t, DecimalSeparator::Comma).unwrap().money,
                    "{t}"
                );
            }
        }
        assert_eq!(
            fast_amount("-36,99", DecimalSeparator::Comma),
            Some(Money(-3699))
        );
        assert_eq!(fast_amount("1.234,56", DecimalSeparator::Comma), None);
        // the German IBAN check equals the full parser's on every check-digit pair
        for bban in [
            "370501982420164873",
            "120300000000202051",
            "999999999999999999",
        ] {
            for k in 0..100 {
                let iban = format!("DE{k:02}{bban}");
                assert_eq!(
                    de_iban_ok(iban.as_bytes()),
                    gs_types::Iban::parse(&iban).is_ok(),
                    "{iban}"
                );
            }
        }
        assert!(de_iban_ok(b"DE59370501982420164873"));
    }

    proptest::proptest! {
        #[test]
        fn fast_amount_matches(s in "[-+]?[0-9]{0,14}([,.][0-9]{0,3})?") {
            for sep in [DecimalSeparator::Comma, DecimalSeparator::Dot] {
                if let Some(m) = fast_amount(&s, sep) {
                    proptest::prop_assert_eq!(Some(m), Money::parse(&s, sep).ok().map(|p| p.money));
                }
            }
        }

        #[test]
        fn fast_date_matches(d in 1u32..32, m in 1u32..13, y in 0u32..3000) {
            for t in [format!("{d:02}.{m:02}.{:02}", y % 100), format!("{d:02}.{m:02}.{y:04}"), format!("{y:04}-{m:02}-{d:02}")] {
                if let Some(x) = fast_date(&t) {
                    proptest::prop_assert_eq!(Some(x), gs_types::dates::parse_date(&t));
                }
            }
        }
    }
}
