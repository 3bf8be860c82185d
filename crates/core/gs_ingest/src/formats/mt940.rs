//! MT940 (customer statement) and MT942 (interim report) reader with its own tolerant parser.
//!
//! The `mt940` crate was evaluated and not used: it rejects characters outside the SWIFT
//! character set and broken `:86:` fields, and real German bank files (and seized copies of
//! them) contain both. This reader keeps every entry it can read, records what it had to
//! guess as warnings, and never panics on hostile input.
//!
//! Decisions worth knowing when reading the output:
//! - An impossible day such as 30 February (some German banks use a 30/360 calendar for
//!   value dates) is clamped to the last day of that month with a warning; the raw `:61:`
//!   line stays in `source_text`. A month outside 1–12 makes the entry a row error.
//! - `booking_text` is `?00` of a structured `:86:`, else the `:61:` supplementary details,
//!   else the SWIFT transaction type (e.g. `NMSC`).
//! - `end_to_end_ref` is `EREF+` of the `:86:`, else the `:61:` customer reference (German
//!   banks put the SEPA end-to-end id there) unless it is `NONREF`.
//! - Entries before the first `:20:` (fragments) form an implicit statement, with a warning.
//! - The non-standard `:NS:` field (old Sparkasse/FinTS exports) is read only to fill what a
//!   missing `:86:` would have given: lines 01–14 purpose, 15–16 name, 33 bank code,
//!   34 account number (the meaning of the other codes differs between banks).
//! - Unstructured `:86:` in the Dutch `/KEY/value/` form (`/IBAN/`, `/BIC/`, `/NAME/`,
//!   `/REMI/`, `/EREF/`, `/MARF/`, `/CSID/`) is split into its fields.

use std::collections::BTreeSet;

use gs_types::chrono::NaiveDate;
use gs_types::iban::{is_bic, normalize_account_text};
use gs_types::{DecimalSeparator, Iban, IbanError, Locator, Money, PartyRef, Transaction};

use crate::error::{IngestError, Result};
use crate::importer::{ImportContext, ImportOutput, Importer, SourceFile, StatementSummary};
use crate::text::numbered_lines;

/// Importer for MT940 / MT942 statement files (any extension).
#[derive(Debug, Default)]
pub struct Mt940Importer;

impl Importer for Mt940Importer {
    fn id(&self) -> &'static str {
        "mt940"
    }

    fn detect(&self, file: &SourceFile) -> Option<u8> {
        detect_text(&file.head(8192))
    }

    fn import(&self, file: &SourceFile, ctx: &ImportContext<'_>) -> Result<ImportOutput> {
        let decoded = file.text();
        let mut out = ImportOutput::new("MT940");
        if decoded.had_errors {
            out.warn(
                None,
                format!(
                    "some bytes are not valid {} and were replaced by U+FFFD",
                    decoded.encoding
                ),
            );
        }
        parse_text(&decoded.text, ctx, &mut out)?;
        Ok(out)
    }
}

const FORMAT: &str = "MT940";
/// How many entries between progress reports / cancellation checks.
const PROGRESS_EVERY: usize = 2000;

/// Content check on the head of a file.
fn detect_text(head: &str) -> Option<u8> {
    let mut has20 = false;
    let mut has25 = false;
    let mut has_body = false;
    let mut has_any = false;
    for (_, raw) in numbered_lines(head).take(400) {
        let line = clean_line_start(raw);
        let line = match line.find("{4:") {
            Some(p) => line.get(p + 3..).unwrap_or(""),
            None => line,
        };
        let Some((tag, _)) = split_tag(line) else {
            continue;
        };
        match tag.to_ascii_uppercase().as_str() {
            "20" => has20 = true,
            "25" => has25 = true,
            "61" | "60F" | "60M" | "28C" | "28" | "13D" | "34F" => has_body = true,
            "86" | "62F" | "62M" => has_any = true,
            _ => {}
        }
    }
    match (has20, has25, has_body, has_any) {
        (true, true, _, _) => Some(95),
        (true, false, true, _) => Some(75),
        (false, _, true, _) => Some(40),
        (_, _, _, true) => Some(20),
        _ => None,
    }
}

/// Drops leading SWIFT transmission control characters (SOH/STX/ETX) and whitespace.
fn clean_line_start(line: &str) -> &str {
    line.trim_start_matches(|c: char| c.is_control() || c == ' ')
}

/// Splits `:TAG:rest` where TAG is two alphanumerics and an optional letter (`20`, `28C`, `NS`).
fn split_tag(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix(':')?;
    let end = rest.bytes().take(5).position(|b| b == b':')?;
    split_tag_body(rest, end)
}

fn split_tag_body(rest: &str, end: usize) -> Option<(&str, &str)> {
    let tag = rest.get(..end)?;
    let b = tag.as_bytes();
    let ok = match b.len() {
        2 => b.iter().all(u8::is_ascii_alphanumeric),
        3 => b[..2].iter().all(u8::is_ascii_digit) && b[2].is_ascii_alphabetic(),
        _ => false,
    };
    ok.then(|| (tag, rest.get(end + 1..).unwrap_or("")))
}

/// Tag written without its leading colon (`86:...`), used when a bank wrapped the `:`.
fn split_tag_no_colon(line: &str) -> Option<(&str, &str)> {
    let end = line.bytes().take(4).position(|b| b == b':')?;
    if end < 2 || !line.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    split_tag_body(line, end)
}

/// One tagged field: the tag line and its continuation lines (`lines[start..end]`).
struct Field<'a> {
    tag: String,
    /// Index of the tag line in the line list.
    start: usize,
    /// One past the last continuation line.
    end: usize,
    /// Content on the tag line after the tag.
    first: &'a str,
}

/// A physical line (1-based number) after `@@` splitting and control-character cleanup.
type Line<'a> = (u32, &'a str);

struct Lexed<'a> {
    lines: Vec<Line<'a>>,
    fields: Vec<Field<'a>>,
    ignored_lines: usize,
    first_ignored: Option<(u32, &'a str)>,
    control_chars: usize,
    first_control_line: Option<u32>,
}

fn lex(text: &str) -> Lexed<'_> {
    let mut lines: Vec<Line<'_>> = Vec::new();
    let mut control_chars = 0usize;
    let mut first_control_line = None;
    for (no, raw) in numbered_lines(text) {
        for piece in raw.split("@@") {
            // Control bytes at line ends (SOH/ETX framing, stray bytes) are dropped, inside a
            // line they are kept (the text is evidence); all but the framing are counted for
            // one warning.
            let inner = piece.trim_end_matches(|c: char| c.is_whitespace() || c.is_control());
            let trimmed_start = inner.trim_start_matches(|c: char| c.is_control() && c != '\t');
            let n = piece
                .chars()
                .filter(|c| c.is_control() && !matches!(*c, '\t' | '\u{1}' | '\u{2}' | '\u{3}'))
                .count();
            if n > 0 {
                control_chars += n;
                first_control_line.get_or_insert(no);
            }
            lines.push((no, trimmed_start));
        }
    }
    let mut fields: Vec<Field<'_>> = Vec::new();
    let mut ignored_lines = 0usize;
    let mut first_ignored = None;
    let mut open = false;
    let mut i = 0usize;
    while i < lines.len() {
        let (no, line) = lines[i];
        let t = line.trim();
        let mut tagged = split_tag(line);
        if tagged.is_none()
            && let Some(p) = line.find("{4:")
        {
            // `{1:...}{2:...}{4:` envelope, maybe with the first tag on the same line.
            if let Some(rest) = line.get(p + 3..) {
                tagged = split_tag(rest);
            }
            if tagged.is_none() {
                open = false;
                i += 1;
                continue;
            }
        }
        if tagged.is_none() && t == ":" {
            // A bank wrapped `:86:` as ":" + "86:...": join the two lines.
            if let Some(&(_, next)) = lines.get(i + 1)
                && let Some((tag, rest)) = split_tag_no_colon(next)
            {
                if let Some(f) = fields.last_mut().filter(|_| open) {
                    f.end = i;
                }
                fields.push(Field {
                    tag: tag.to_ascii_uppercase(),
                    start: i,
                    end: i + 2,
                    first: rest,
                });
                open = true;
                i += 2;
                continue;
            }
        }
        if let Some((tag, rest)) = tagged {
            if let Some(f) = fields.last_mut().filter(|_| open) {
                f.end = i;
            }
            fields.push(Field {
                tag: tag.to_ascii_uppercase(),
                start: i,
                end: i + 1,
                first: rest,
            });
            open = true;
        } else if t == "-"
            || t.starts_with("-}")
            || t == "}"
            || (t.starts_with('{') && t.as_bytes().get(2) == Some(&b':'))
        {
            open = false;
        } else if open {
            if let Some(f) = fields.last_mut() {
                f.end = i + 1;
            }
        } else if !t.is_empty() {
            ignored_lines += 1;
            first_ignored.get_or_insert((no, t));
        }
        i += 1;
    }
    Lexed {
        lines,
        fields,
        ignored_lines,
        first_ignored,
        control_chars,
        first_control_line,
    }
}

impl Field<'_> {
    /// Content lines: the rest of the tag line, then continuation lines.
    fn content<'b>(&'b self, lines: &'b [Line<'b>]) -> impl Iterator<Item = &'b str> + 'b {
        let cont = lines.get(self.start + 1..self.end).unwrap_or(&[]);
        let first_is_tag_line = !(self.end >= self.start + 2
            && lines.get(self.start).is_some_and(|l| l.1.trim() == ":"));
        let (first, cont) = if first_is_tag_line {
            (self.first, cont)
        } else {
            (self.first, cont.get(1..).unwrap_or(&[]))
        };
        std::iter::once(first).chain(cont.iter().map(|l| l.1))
    }

    fn source<'b>(&self, lines: &'b [Line<'b>]) -> impl Iterator<Item = &'b str> + 'b {
        lines
            .get(self.start..self.end)
            .unwrap_or(&[])
            .iter()
            .map(|l| l.1)
    }

    fn line_no(&self, lines: &[Line<'_>]) -> u32 {
        lines.get(self.start).map_or(0, |l| l.0)
    }

    fn single(&self) -> &str {
        self.first.trim()
    }
}

/// A statement being collected.
struct Stmt {
    number: u32,
    ref20: String,
    ref28: Option<String>,
    account: PartyRef,
    currency: Option<String>,
    opening: Option<Money>,
    closing: Option<Money>,
    closing_seen: bool,
    tx_start: usize,
    entries: u32,
    sums: Vec<(bool, u64, Money, u32)>,
}

impl Stmt {
    fn new(number: u32, ref20: String, tx_start: usize) -> Self {
        Self {
            number,
            ref20,
            ref28: None,
            account: PartyRef::default(),
            currency: None,
            opening: None,
            closing: None,
            closing_seen: false,
            tx_start,
            entries: 0,
            sums: Vec::new(),
        }
    }

    fn label(&self) -> String {
        match &self.ref28 {
            Some(r) => format!("statement {} (:20: {}, :28C: {r})", self.number, self.ref20),
            None => format!("statement {} (:20: {})", self.number, self.ref20),
        }
    }
}

/// The entry last read from `:61:`, waiting for its `:86:`.
struct Pending {
    /// Index in `out.transactions`; `None` when the `:61:` was a row error (its `:86:` is
    /// then part of the dropped entry, already reported).
    idx: Option<usize>,
    locator: String,
    has_86: bool,
    ns: Option<(usize, usize)>,
}

struct Parser<'a, 'o> {
    lines: &'a [Line<'a>],
    out: &'o mut ImportOutput,
    stmt: Option<Stmt>,
    statements: u32,
    pending: Option<Pending>,
    unknown_subfields: BTreeSet<String>,
    unknown_tags: BTreeSet<String>,
    account_warnings: BTreeSet<String>,
    mt942: bool,
}

fn parse_text(text: &str, ctx: &ImportContext<'_>, out: &mut ImportOutput) -> Result<()> {
    let lexed = lex(text);
    if !lexed.fields.iter().any(|f| f.tag == "20" || f.tag == "61") {
        return Err(IngestError::malformed(
            FORMAT,
            "no statement found: the file has neither a :20: nor a :61: field (fragment?)",
        ));
    }
    if text.contains('\u{FFFD}') {
        let line = numbered_lines(text)
            .find(|(_, l)| l.contains('\u{FFFD}'))
            .map_or(0, |(n, _)| n);
        out.warn(None, format!("text contains U+FFFD replacement characters (encoding damage), first at line {line}"));
    }
    if lexed.control_chars > 0 {
        out.warn(
            None,
            format!(
                "{} stray control character(s) in the text, first at line {}",
                lexed.control_chars,
                lexed.first_control_line.unwrap_or(0)
            ),
        );
    }
    if let Some((no, first)) = lexed.first_ignored {
        let sample: String = first.chars().take(40).collect();
        out.info(
            None,
            format!(
                "{} line(s) outside any field ignored (SWIFT header lines?), first at line {no}: '{sample}'",
                lexed.ignored_lines
            ),
        );
    }
    let mut p = Parser {
        lines: &lexed.lines,
        out,
        stmt: None,
        statements: 0,
        pending: None,
        unknown_subfields: BTreeSet::new(),
        unknown_tags: BTreeSet::new(),
        account_warnings: BTreeSet::new(),
        mt942: false,
    };
    let mut since_report = 0usize;
    for f in &lexed.fields {
        if f.tag == "61" {
            since_report += 1;
            if since_report >= PROGRESS_EVERY {
                ctx.progress.add_rows(since_report as u64);
                since_report = 0;
                if ctx.progress.is_cancelled() {
                    return Err(IngestError::Cancelled);
                }
            }
        }
        p.field(f);
    }
    ctx.progress.add_rows(since_report as u64);
    p.close_pending();
    p.finish_statement();
    if !p.unknown_subfields.is_empty() {
        let list: Vec<String> = p
            .unknown_subfields
            .iter()
            .map(|s| format!("?{s}"))
            .collect();
        p.out.info(
            None,
            format!(
                ":86: subfields {} are not interpreted (kept in source_text)",
                list.join(", ")
            ),
        );
    }
    if !p.unknown_tags.is_empty() {
        let list: Vec<String> = p.unknown_tags.iter().map(|s| format!(":{s}:")).collect();
        p.out
            .warn(None, format!("unknown tags {} ignored", list.join(", ")));
    }
    if p.mt942 {
        p.out.format = "MT942".into();
    }
    Ok(())
}

impl Parser<'_, '_> {
    fn field(&mut self, f: &Field<'_>) {
        let tag = f.tag.as_str();
        if tag != "86" && tag != "NS" {
            self.close_pending();
        }
        match tag {
            "20" => {
                self.finish_statement();
                self.statements += 1;
                let tx_start = self.out.transactions.len();
                self.stmt = Some(Stmt::new(self.statements, f.single().to_owned(), tx_start));
            }
            // :21: related reference, :64:/:65: available balances: not needed for the table.
            "21" | "64" | "65" => {}
            "25" => self.account(f),
            "28C" | "28" => {
                let v = f.single().to_owned();
                self.stmt_mut(f).ref28 = Some(v);
            }
            "60F" | "60M" | "62F" | "62M" => self.balance(f),
            "13" | "13D" | "34F" => self.mt942 = true,
            "90D" | "90C" => {
                self.mt942 = true;
                self.sum_line(f);
            }
            "61" => self.entry(f),
            "86" => self.details(f),
            "NS" => {
                if let Some(pend) = self.pending.as_mut() {
                    pend.ns = Some((f.start, f.end));
                }
            }
            other => {
                self.unknown_tags.insert(other.to_owned());
            }
        }
    }

    /// The current statement, creating an implicit one for fragments without `:20:`.
    fn stmt_mut(&mut self, f: &Field<'_>) -> &mut Stmt {
        if self.stmt.is_none() {
            self.statements += 1;
            let line = f.line_no(self.lines);
            self.out.warn(
                Some(format!("line={line}")),
                format!(
                    "statement {} has no :20: (fields before the first :20:), line {line}",
                    self.statements
                ),
            );
            self.stmt = Some(Stmt::new(
                self.statements,
                String::new(),
                self.out.transactions.len(),
            ));
        }
        // The statement was created just above when missing.
        self.stmt
            .get_or_insert_with(|| Stmt::new(0, String::new(), 0))
    }

    fn account(&mut self, f: &Field<'_>) {
        let line = f.line_no(self.lines);
        let raw = f.content(self.lines).collect::<Vec<_>>().join(" ");
        let st = self.stmt_mut(f);
        if st.entries > 0 || st.account.account_key().is_some() {
            let n = st.number;
            let sample: String = raw.chars().take(40).collect();
            self.out.warn(
                Some(format!("line={line}")),
                format!("statement {n}: unexpected second :25: ignored ('{sample}'), line {line}"),
            );
            return;
        }
        let (acct, cur, warn) = parse_account(&raw);
        let st = self.stmt_mut(f);
        st.account = acct;
        if st.currency.is_none() {
            st.currency = cur;
        }
        let n = st.number;
        // Files with one message per day repeat the same account: warn once per file.
        if let Some(w) = warn
            && self.account_warnings.insert(w.clone())
        {
            self.out.warn(
                Some(format!("line={line}")),
                format!("statement {n}: {w} (:25:)"),
            );
        }
    }

    fn balance(&mut self, f: &Field<'_>) {
        let line = f.line_no(self.lines);
        let tag = f.tag.clone();
        let parsed = parse_balance(f.single());
        let st = self.stmt_mut(f);
        let n = st.number;
        match parsed {
            Ok(b) => {
                if b.currency.is_none() {
                    self.out.warn(
                        Some(format!("line={line}")),
                        format!("statement {n}: balance :{tag}: has no currency, line {line}"),
                    );
                }
                let st = self.stmt_mut(f);
                if st.currency.is_none() {
                    st.currency.clone_from(&b.currency);
                }
                if tag.starts_with("60") {
                    st.opening = Some(b.amount);
                } else {
                    st.closing = Some(b.amount);
                    st.closing_seen = true;
                }
                if b.exact.is_some() {
                    self.out.warn(
                        Some(format!("line={line}")),
                        format!("statement {n}: balance :{tag}: has sub-cent digits"),
                    );
                }
            }
            Err(e) => {
                self.out.warn(
                    Some(format!("line={line}")),
                    format!("statement {n}: balance :{tag}: unreadable ({e}), line {line}"),
                );
                if tag.starts_with("62") {
                    self.stmt_mut(f).closing_seen = true;
                }
            }
        }
    }

    fn sum_line(&mut self, f: &Field<'_>) {
        let line = f.line_no(self.lines);
        let debit = f.tag == "90D";
        if let Some((count, sum)) = parse_sum(f.single()) {
            let st = self.stmt_mut(f);
            // Each check walks the statement's entries: a bounded number keeps hostile files
            // with thousands of :90D: lines linear.
            if st.sums.len() < 4 {
                st.sums.push((debit, count, sum, line));
            } else {
                let n = st.number;
                self.out.warn(
                    Some(format!("line={line}")),
                    format!("statement {n}: extra :{}: not checked, line {line}", f.tag),
                );
            }
        } else {
            let n = self.stmt_mut(f).number;
            self.out.warn(
                Some(format!("line={line}")),
                format!("statement {n}: :{}: unreadable, line {line}", f.tag),
            );
        }
    }

    fn entry(&mut self, f: &Field<'_>) {
        let line = f.line_no(self.lines);
        let st = self.stmt_mut(f);
        st.entries += 1;
        let locator = Locator::Entry {
            statement: st.number,
            entry: st.entries,
            detail: None,
            line: Some(line),
        };
        let loc_text = locator.to_string();
        let account = st.account.clone();
        let currency = st.currency.clone();
        let content: Vec<&str> = f.content(self.lines).collect();
        let source_text = f.source(self.lines).collect::<Vec<_>>().join("\n");
        let e = match parse_61(&content) {
            Ok(e) => e,
            Err(msg) => {
                self.out.row_error(
                    Some(loc_text),
                    format!("entry not read: {msg} (:61: at line {line})"),
                );
                self.pending = Some(Pending {
                    idx: None,
                    locator: String::new(),
                    has_86: false,
                    ns: None,
                });
                return;
            }
        };
        if let Some(raw) = e.value_clamped {
            self.out.warn(
                Some(loc_text.clone()),
                format!(
                    "value date {raw} does not exist; read as {} (last day of the month)",
                    e.value_date
                ),
            );
        }
        if let Some(raw) = e.booking_clamped {
            self.out.warn(
                Some(loc_text.clone()),
                format!("booking date {raw} does not exist; read as last day of the month"),
            );
        }
        if let Some(exact) = &e.amount.exact {
            self.out.warn(
                Some(loc_text.clone()),
                format!("amount {exact} has more than two decimals; rounded to cents"),
            );
        }
        let mut money = e.amount.money;
        // RD (reversal of a debit) brings money back; RC (reversal of a credit) takes it away.
        if e.debit {
            money = money.neg();
        }
        let tx = Transaction {
            locator: Some(locator),
            booking_date: e.booking_date.unwrap_or(e.value_date),
            value_date: Some(e.value_date),
            amount: money,
            amount_exact: e
                .amount
                .exact
                .map(|x| if e.debit { format!("-{x}") } else { x }),
            currency: currency.unwrap_or_default(),
            account,
            booking_text: e.supplementary.clone().or_else(|| e.tx_type.clone()),
            end_to_end_ref: e.customer_ref.clone(),
            reversal: e.reversal,
            source_text,
            ..Transaction::default()
        };
        let idx = self.out.transactions.len();
        self.out.transactions.push(tx);
        self.pending = Some(Pending {
            idx: Some(idx),
            locator: loc_text,
            has_86: false,
            ns: None,
        });
    }

    fn details(&mut self, f: &Field<'_>) {
        let Some(pend) = self.pending.as_mut().filter(|p| !p.has_86) else {
            let text = f.content(self.lines).collect::<Vec<_>>().join(" ");
            let sample: String = text.trim().chars().take(80).collect();
            let line = f.line_no(self.lines);
            self.out.info(
                Some(format!("line={line}")),
                format!("statement-level :86: information: '{sample}', line {line}"),
            );
            return;
        };
        pend.has_86 = true;
        let Some(idx) = pend.idx else { return };
        let loc = pend.locator.clone();
        let content: Vec<&str> = f.content(self.lines).collect();
        let d = parse_86(&content);
        let mut warnings = Vec::new();
        if d.broken {
            warnings.push(":86: subfield structure is broken; purpose kept as raw text".to_owned());
        }
        for code in &d.unknown {
            self.unknown_subfields.insert(code.clone());
        }
        let Some(tx) = self.out.transactions.get_mut(idx) else {
            return;
        };
        tx.source_text.push('\n');
        let src = f.source(self.lines).collect::<Vec<_>>().join("\n");
        tx.source_text.push_str(&src);
        tx.tx_code = d.gvc;
        if d.booking_text.is_some() {
            tx.booking_text = d.booking_text;
        }
        tx.purpose = d.purpose;
        // "NOTPROVIDED" is SEPA's placeholder for "no end-to-end id", not a reference.
        if let Some(e) = d
            .eref
            .filter(|e| !e.trim().eq_ignore_ascii_case("NOTPROVIDED"))
        {
            tx.end_to_end_ref = Some(e);
        }
        tx.mandate_ref = d.mref;
        tx.creditor_id = d.cred;
        tx.counterparty = d.counterparty;
        warnings.extend(d.warnings);
        for w in warnings {
            self.out.warn(Some(loc.clone()), w);
        }
    }

    fn close_pending(&mut self) {
        let Some(p) = self.pending.take() else { return };
        let Some(idx) = p.idx.filter(|_| !p.has_86) else {
            return;
        };
        if let Some((start, end)) = p.ns {
            let ns_lines = self.lines.get(start..end).unwrap_or(&[]);
            if let Some(tx) = self.out.transactions.get_mut(idx) {
                apply_ns(tx, ns_lines);
            }
            self.out.info(
                Some(p.locator),
                "entry has no :86:; details read from the non-standard :NS: field",
            );
        } else {
            self.out.warn(
                Some(p.locator),
                "entry has no :86: details (purpose and counterparty unknown)",
            );
        }
    }

    fn finish_statement(&mut self) {
        self.close_pending();
        let Some(st) = self.stmt.take() else { return };
        let end = self.out.transactions.len();
        let currency = st.currency.clone();
        if currency.is_none() && end > st.tx_start {
            self.out.warn(
                None,
                format!(
                    "statement {}: currency unknown (no balance line); recorded as XXX",
                    st.number
                ),
            );
        }
        let cur = currency.unwrap_or_else(|| "XXX".to_owned());
        for tx in self
            .out
            .transactions
            .get_mut(st.tx_start..end)
            .unwrap_or(&mut [])
        {
            if tx.currency.is_empty() {
                tx.currency.clone_from(&cur);
            }
        }
        if !self.mt942 {
            if st.opening.is_none() {
                self.out.warn(
                    None,
                    format!("statement {} has no opening balance (:60F:)", st.number),
                );
            }
            if !st.closing_seen {
                self.out.warn(
                    None,
                    format!("statement {} has no closing balance (:62F:)", st.number),
                );
            }
        }
        for &(debit, count, sum, line) in &st.sums {
            let txs = self.out.transactions.get(st.tx_start..end).unwrap_or(&[]);
            let (n, total) = txs
                .iter()
                .filter(|t| {
                    if debit {
                        t.amount.is_negative()
                    } else {
                        !t.amount.is_negative()
                    }
                })
                .fold((0u64, 0i64), |(n, s), t| {
                    (n + 1, s.saturating_add(t.amount.cents().saturating_abs()))
                });
            if n != count || total != sum.cents() {
                let tag = if debit { "90D" } else { "90C" };
                self.out.warn(
                    Some(format!("line={line}")),
                    format!(
                        "statement {}: :{tag}: states {count} entries / {} but the statement has {n} / {}, line {line}",
                        st.number,
                        sum,
                        Money(total)
                    ),
                );
            }
        }
        self.out.statements.push(StatementSummary {
            label: st.label(),
            account: st.account.clone(),
            currency: cur,
            opening: st.opening,
            closing: st.closing,
            tx_range: st.tx_start..end,
        });
    }
}

/// IBAN-shaped: two letters, two digits, 11–30 alphanumerics.
fn iban_like(s: &str) -> bool {
    let b = s.as_bytes();
    (15..=34).contains(&b.len())
        && b[0].is_ascii_alphabetic()
        && b[1].is_ascii_alphabetic()
        && b[2].is_ascii_digit()
        && b[3].is_ascii_digit()
        && b.iter().all(u8::is_ascii_alphanumeric)
}

/// Normalises an IBAN-shaped text; keeps it even with bad check digits, returning a warning.
fn take_iban(raw: &str) -> (String, Option<String>) {
    match Iban::parse(raw) {
        Ok(i) => (i.as_str().to_owned(), None),
        Err(IbanError::CheckDigits(_)) => {
            let n = normalize_account_text(raw);
            let w = format!("IBAN {n} has wrong check digits");
            (n, Some(w))
        }
        Err(IbanError::Length(_) | IbanError::Shape(_)) => {
            let n = normalize_account_text(raw);
            let w = format!("IBAN {n} has the wrong length for its country");
            (n, Some(w))
        }
    }
}

/// `:25:` forms: `BLZ/Kontonummer`, IBAN, `BIC/IBAN`, `BIC/account/CCY`, `IBAN CCY`.
fn parse_account(raw: &str) -> (PartyRef, Option<String>, Option<String>) {
    let mut acct = PartyRef::default();
    let mut currency = None;
    let mut warn = None;
    let mut words = raw.split_whitespace();
    let main = words.next().unwrap_or("");
    if let Some(w) = words.next()
        && w.len() == 3
        && w.chars().all(|c| c.is_ascii_alphabetic())
    {
        currency = Some(w.to_ascii_uppercase());
    }
    let parts: Vec<&str> = main.split('/').filter(|p| !p.is_empty()).collect();
    if parts.len() >= 2 && parts[0].chars().all(|c| c.is_ascii_digit()) {
        acct.bank_code = Some(parts[0].to_owned());
        acct.account_number = Some(parts[1].to_owned());
        return (acct, currency, warn);
    }
    for (i, part) in parts.iter().enumerate() {
        let up = part.to_ascii_uppercase();
        if acct.bic.is_none() && is_bic(&up) && i + 1 < parts.len() {
            acct.bic = Some(up);
        } else if acct.iban.is_none() && acct.account_number.is_none() && iban_like(&up) {
            let (iban, w) = take_iban(&up);
            acct.iban = Some(iban);
            warn = w;
        } else if i > 0 && up.len() == 3 && up.chars().all(|c| c.is_ascii_alphabetic()) {
            currency = Some(up);
        } else if acct.account_number.is_none() && acct.iban.is_none() {
            acct.account_number = Some((*part).to_owned());
        }
    }
    if acct.iban.is_none() && acct.account_number.is_none() && !raw.trim().is_empty() {
        acct.account_number = Some(raw.trim().to_owned());
    }
    (acct, currency, warn)
}

struct Balance {
    amount: Money,
    exact: Option<String>,
    currency: Option<String>,
}

/// `C230209EUR100,00`; some exports leave out the currency.
fn parse_balance(s: &str) -> std::result::Result<Balance, String> {
    let s = s.trim();
    let mark = s.chars().next().map(|c| c.to_ascii_uppercase());
    let debit = match mark {
        Some('C') => false,
        Some('D') => true,
        _ => return Err(format!("'{s}' has no C/D mark")),
    };
    let date = s.get(1..7).ok_or_else(|| format!("'{s}' is too short"))?;
    if !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("'{s}' has no YYMMDD date"));
    }
    let rest = s.get(7..).unwrap_or("");
    let (currency, amount) = match rest.get(..3) {
        Some(c) if c.bytes().all(|b| b.is_ascii_alphabetic()) => {
            (Some(c.to_ascii_uppercase()), rest.get(3..).unwrap_or(""))
        }
        _ => (None, rest),
    };
    if amount.is_empty()
        || !amount
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b',' || b == b'.')
    {
        return Err(format!("'{s}' has no amount"));
    }
    let p = Money::parse(amount, DecimalSeparator::Comma).map_err(|e| e.to_string())?;
    let money = if debit { p.money.neg() } else { p.money };
    Ok(Balance {
        amount: money,
        exact: p.exact,
        currency,
    })
}

/// `:90D:`/`:90C:`: count, currency, amount.
fn parse_sum(s: &str) -> Option<(u64, Money)> {
    let s = s.trim();
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let count: u64 = s.get(..digits)?.parse().ok()?;
    let amount = s.get(digits + 3..)?;
    Some((
        count,
        Money::parse(amount, DecimalSeparator::Comma).ok()?.money,
    ))
}

fn last_day_of_month(y: i32, m: u32) -> Option<NaiveDate> {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    NaiveDate::from_ymd_opt(ny, nm, 1)?.pred_opt()
}

/// A date from parts; an impossible day 29–31 is clamped to the month's last day (`true`).
fn make_date(y: i32, m: u32, d: u32) -> Option<(NaiveDate, bool)> {
    if let Some(date) = NaiveDate::from_ymd_opt(y, m, d) {
        return Some((date, false));
    }
    if (1..=12).contains(&m) && (29..=31).contains(&d) {
        return last_day_of_month(y, m).map(|x| (x, true));
    }
    None
}

struct Entry61 {
    value_date: NaiveDate,
    value_clamped: Option<String>,
    booking_date: Option<NaiveDate>,
    booking_clamped: Option<String>,
    debit: bool,
    reversal: bool,
    amount: gs_types::ParsedAmount,
    tx_type: Option<String>,
    customer_ref: Option<String>,
    supplementary: Option<String>,
}

/// A byte cursor over `:61:` content that skips line breaks between elements (banks wrap
/// the line in odd places).
struct Cur<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Cur<'a> {
    fn skip_nl(&mut self) {
        while self.s.as_bytes().get(self.i).is_some_and(|b| *b == b'\n') {
            self.i += 1;
        }
    }
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.i).copied()
    }
    fn digits(&mut self, n: usize) -> Option<&'a str> {
        self.skip_nl();
        let d = self.s.get(self.i..self.i + n)?;
        if d.bytes().all(|b| b.is_ascii_digit()) {
            self.i += n;
            Some(d)
        } else {
            None
        }
    }
    fn rest_of_line(&mut self) -> &'a str {
        let rest = self.s.get(self.i..).unwrap_or("");
        let end = rest.find('\n').unwrap_or(rest.len());
        self.i += end;
        rest.get(..end).unwrap_or("")
    }
}

fn num(s: &str) -> u32 {
    s.parse().unwrap_or(0)
}

fn parse_61(content: &[&str]) -> std::result::Result<Entry61, String> {
    let joined = content.join("\n");
    let mut c = Cur {
        s: joined.trim_start(),
        i: 0,
    };
    let vd = c.digits(6).ok_or("no YYMMDD value date")?;
    let yy = i32::try_from(num(vd.get(..2).unwrap_or("0"))).unwrap_or(0);
    let year = if yy < 70 { 2000 + yy } else { 1900 + yy };
    let (value_date, clamped) = make_date(
        year,
        num(vd.get(2..4).unwrap_or("")),
        num(vd.get(4..6).unwrap_or("")),
    )
    .ok_or_else(|| format!("value date {vd} is not a date"))?;
    let value_clamped = clamped.then(|| vd.to_owned());
    let mut booking_date = None;
    let mut booking_clamped = None;
    c.skip_nl();
    if c.peek().is_some_and(|b| b.is_ascii_digit())
        && let Some(bd) = c.digits(4)
    {
        let (m, d) = (
            num(bd.get(..2).unwrap_or("")),
            num(bd.get(2..).unwrap_or("")),
        );
        // Booking date MMDD: the year closest to the value date (handles Dec/Jan crossings).
        let best = [year - 1, year, year + 1]
            .iter()
            .filter_map(|y| make_date(*y, m, d))
            .min_by_key(|(date, _)| (*date - value_date).num_days().abs());
        match best {
            Some((date, cl)) => {
                booking_date = Some(date);
                if cl {
                    booking_clamped = Some(bd.to_owned());
                }
            }
            None => return Err(format!("booking date {bd} is not a date")),
        }
    }
    c.skip_nl();
    let mut reversal = false;
    let mark = c.peek().map(|b| b.to_ascii_uppercase());
    if mark == Some(b'R')
        && c.s
            .as_bytes()
            .get(c.i + 1)
            .is_some_and(|b| matches!(b.to_ascii_uppercase(), b'C' | b'D'))
    {
        reversal = true;
        c.i += 1;
    }
    let debit_mark = match c.peek().map(|b| b.to_ascii_uppercase()) {
        Some(b'C') => false,
        Some(b'D') => true,
        _ => return Err("no debit/credit mark (C, D, RC, RD)".to_owned()),
    };
    c.i += 1;
    // RC = reversal of a credit: money leaves; RD = reversal of a debit: money comes back.
    let debit = debit_mark != reversal;
    c.skip_nl();
    if c.peek().is_some_and(|b| b.is_ascii_alphabetic()) {
        c.i += 1; // funds code: third letter of the currency
    }
    c.skip_nl();
    let rest = c.s.get(c.i..).unwrap_or("");
    let alen = rest
        .bytes()
        // '.' is taken too so that a wrong decimal point fails loudly instead of cutting the
        // amount at the point.
        .take_while(|b| b.is_ascii_digit() || *b == b',' || *b == b'.')
        .count();
    let amount_text = rest.get(..alen).unwrap_or("");
    if !amount_text.bytes().any(|b| b.is_ascii_digit()) {
        return Err("no amount".to_owned());
    }
    let amount =
        Money::parse(amount_text, DecimalSeparator::Comma).map_err(|e| format!("amount: {e}"))?;
    c.i += alen;
    c.skip_nl();
    let line = c.rest_of_line();
    let upper_start = line.get(..6).map(str::to_ascii_uppercase);
    let (tx_type, refs) = if line.starts_with("//") || upper_start.as_deref() == Some("NONREF") {
        (None, line)
    } else if line
        .as_bytes()
        .first()
        .is_some_and(|b| matches!(b.to_ascii_uppercase(), b'N' | b'F' | b'S'))
        && let Some(t) = line.get(..4)
    {
        let t = t.trim();
        (Some(t.to_ascii_uppercase()), line.get(4..).unwrap_or(""))
    } else {
        (None, line)
    };
    // Customer reference up to "//", bank reference after it (kept in source_text only).
    let cust = refs.split("//").next().unwrap_or("").trim();
    let customer_ref = (!cust.is_empty()
        && !cust.eq_ignore_ascii_case("NONREF")
        && !cust.eq_ignore_ascii_case("NOTPROVIDED"))
    .then(|| cust.to_owned());
    let supp: Vec<&str> =
        c.s.get(c.i..)
            .unwrap_or("")
            .split('\n')
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
    let supplementary = (!supp.is_empty()).then(|| supp.join(" "));
    Ok(Entry61 {
        value_date,
        value_clamped,
        booking_date,
        booking_clamped,
        debit,
        reversal,
        amount,
        tx_type,
        customer_ref,
        supplementary,
    })
}

/// What a `:86:` field gave.
#[derive(Default)]
struct Details {
    gvc: Option<String>,
    booking_text: Option<String>,
    purpose: Option<String>,
    counterparty: PartyRef,
    eref: Option<String>,
    mref: Option<String>,
    cred: Option<String>,
    broken: bool,
    unknown: Vec<String>,
    warnings: Vec<String>,
}

/// Joins purpose lines of fixed width: a full line (`width` chars) was cut mid-word, a
/// shorter one ended at a word boundary.
fn join_fixed(parts: &[&str], width: usize) -> String {
    let mut out = String::new();
    let mut prev_len = width;
    for p in parts {
        if p.trim().is_empty() {
            continue;
        }
        if !out.is_empty() && prev_len < width && !out.ends_with(' ') && !p.starts_with(' ') {
            out.push(' ');
        }
        out.push_str(p);
        prev_len = p.chars().count();
    }
    out
}

fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

fn collapse_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn parse_86(content: &[&str]) -> Details {
    let raw: String = content.concat();
    let b = raw.as_bytes();
    let structured = b.len() >= 6
        && b[..3].iter().all(u8::is_ascii_digit)
        && !b[3].is_ascii_alphanumeric()
        && !b[3].is_ascii_whitespace()
        && b[3].is_ascii()
        && b[4].is_ascii_digit()
        && b[5].is_ascii_digit();
    if !structured {
        return unstructured_86(content);
    }
    let mut d = Details {
        gvc: raw.get(..3).map(str::to_owned),
        ..Details::default()
    };
    let sep = b[3];
    let body = raw.get(3..).unwrap_or("");
    // Subfields: `<sep>NN value`; a separator not followed by two digits breaks the structure.
    let mut fields: Vec<(u8, &str)> = Vec::new();
    for (k, chunk) in body.split(sep as char).enumerate() {
        if k == 0 {
            continue;
        }
        let code = chunk
            .get(..2)
            .filter(|c| c.bytes().all(|x| x.is_ascii_digit()));
        match code.and_then(|c| c.parse::<u8>().ok()) {
            Some(n) => fields.push((n, chunk.get(2..).unwrap_or(""))),
            None => d.broken = true,
        }
    }
    let known = |c: u8| matches!(c, 0 | 10 | 20..=34 | 60..=63);
    if !fields.iter().any(|f| known(f.0)) {
        // "123-45 text" is free text that merely looks structured.
        return unstructured_86(content);
    }
    if d.broken {
        d.purpose = non_empty(&raw);
        return d;
    }
    let mut purpose_parts: Vec<(u8, &str)> = Vec::new();
    let mut name = Vec::new();
    for &(code, v) in &fields {
        match code {
            0 => d.booking_text = non_empty(v),
            10 | 34 => {}
            20..=29 | 60..=63 => purpose_parts.push((code, v)),
            30 => {
                let t = v.trim();
                if is_bic(&t.to_ascii_uppercase()) && !t.bytes().all(|x| x.is_ascii_digit()) {
                    d.counterparty.bic = Some(t.to_ascii_uppercase());
                } else if !t.is_empty() {
                    d.counterparty.bank_code = Some(t.to_owned());
                }
            }
            31 => {
                let t = normalize_account_text(v);
                if iban_like(&t) {
                    let (iban, w) = take_iban(&t);
                    d.counterparty.iban = Some(iban);
                    d.warnings.extend(w);
                } else if !t.is_empty() {
                    d.counterparty.account_number = Some(v.trim().to_owned());
                }
            }
            32 | 33 => name.push(v),
            other => d.unknown.push(format!("{other:02}")),
        }
    }
    purpose_parts.sort_by_key(|p| p.0);
    let texts: Vec<&str> = purpose_parts.iter().map(|p| p.1).collect();
    let joined = join_fixed(&texts, 27);
    apply_sepa(&joined, &mut d);
    let n = collapse_ws(&join_fixed(&name, 27));
    if !n.is_empty() {
        d.counterparty.name = Some(n);
    }
    d
}

const SEPA_KEYS: [&str; 12] = [
    "EREF+", "KREF+", "MREF+", "CRED+", "DEBT+", "SVWZ+", "ABWA+", "ABWE+", "IBAN+", "BIC+",
    "COAM+", "OAMT+",
];

/// Splits the SEPA keys (`EREF+`, `SVWZ+`, ...) out of a joined purpose.
fn apply_sepa(text: &str, d: &mut Details) {
    let mut hits: Vec<(usize, &str)> = Vec::new();
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if !matches!(
            b,
            b'E' | b'K' | b'M' | b'C' | b'D' | b'S' | b'A' | b'I' | b'B' | b'O'
        ) {
            continue;
        }
        if i > 0 && bytes[i - 1].is_ascii_alphabetic() {
            continue;
        }
        if let Some(k) = SEPA_KEYS
            .iter()
            .find(|k| bytes.get(i..i + k.len()) == Some(k.as_bytes()))
        {
            hits.push((i, k));
        }
    }
    if hits.is_empty() {
        d.purpose = non_empty(text);
        return;
    }
    let mut purpose: Vec<String> = Vec::new();
    if let Some(pre) = text.get(..hits[0].0).and_then(non_empty) {
        purpose.push(pre);
    }
    let mut extra: Vec<String> = Vec::new();
    for (k, &(pos, key)) in hits.iter().enumerate() {
        let end = hits.get(k + 1).map_or(text.len(), |h| h.0);
        let Some(v) = text.get(pos + key.len()..end).and_then(non_empty) else {
            continue;
        };
        match key {
            "EREF+" => d.eref = Some(v),
            "MREF+" => d.mref = Some(v),
            "CRED+" => d.cred = Some(v),
            "SVWZ+" => purpose.push(v),
            "ABWA+" => extra.push(format!("ABWA: {v}")),
            "ABWE+" => extra.push(format!("ABWE: {v}")),
            "IBAN+" if d.counterparty.iban.is_none() => {
                let t = normalize_account_text(&v);
                if iban_like(&t) {
                    let (iban, w) = take_iban(&t);
                    d.counterparty.iban = Some(iban);
                    d.warnings.extend(w);
                }
            }
            "BIC+" if d.counterparty.bic.is_none() => d.counterparty.bic = Some(v),
            _ => {}
        }
    }
    purpose.extend(extra);
    d.purpose = (!purpose.is_empty()).then(|| purpose.join(" "));
}

fn unstructured_86(content: &[&str]) -> Details {
    let mut d = Details::default();
    let mut lines: Vec<&str> = content.to_vec();
    // GVC 999 is the ZKA code for "unstructured details".
    if let Some(first) = lines.first_mut()
        && let Some(rest) = first.strip_prefix("999")
    {
        d.gvc = Some("999".into());
        *first = rest;
    }
    let joined = join_fixed(&lines, 65);
    if !slash_keywords(&joined, &mut d) {
        d.purpose = non_empty(&joined);
    }
    d
}

/// Keys of the Dutch / SWIFT "structured" `:86:` form (`/NAME/Shop/REMI/text`).
const SLASH_KEYS: [&str; 15] = [
    "IBAN", "BIC", "NAME", "REMI", "EREF", "MARF", "CSID", "TRTP", "ADDR", "ISDT", "RTRN", "ORDP",
    "BENM", "CNTP", "PREF",
];

/// Reads `/KEY/value/KEY/value` details; false when the text is not in that form.
fn slash_keywords(text: &str, details: &mut Details) -> bool {
    let trimmed = text.trim();
    if !trimmed.starts_with('/')
        || !["/NAME/", "/REMI/", "/IBAN/", "/EREF/"]
            .iter()
            .any(|k| trimmed.contains(k))
    {
        return false;
    }
    let mut key: Option<&str> = None;
    let mut value: Vec<&str> = Vec::new();
    let mut pairs: Vec<(&str, String)> = Vec::new();
    for tok in trimmed.split('/').skip(1) {
        if let Some(found) = SLASH_KEYS.iter().find(|k| **k == tok) {
            if let Some(prev) = key.take() {
                pairs.push((prev, value.join("/")));
            }
            key = Some(found);
            value.clear();
        } else {
            value.push(tok);
        }
    }
    if let Some(prev) = key {
        pairs.push((prev, value.join("/")));
    }
    for (key_name, raw) in pairs {
        let Some(v) = non_empty(&raw) else { continue };
        match key_name {
            "IBAN" => {
                let n = normalize_account_text(&v);
                if iban_like(&n) {
                    let (iban, w) = take_iban(&n);
                    details.counterparty.iban = Some(iban);
                    details.warnings.extend(w);
                } else {
                    details.counterparty.account_number = Some(v);
                }
            }
            "BIC" => details.counterparty.bic = Some(v),
            "NAME" => details.counterparty.name = Some(v),
            "REMI" => details.purpose = Some(v),
            "EREF" => details.eref = Some(v),
            "MARF" => details.mref = Some(v),
            "CSID" => details.cred = Some(v),
            _ => {}
        }
    }
    true
}

/// Fills fields from a non-standard `:NS:` block (only what is still empty).
fn apply_ns(tx: &mut Transaction, ns_lines: &[Line<'_>]) {
    let mut purpose = Vec::new();
    let mut name = Vec::new();
    for (k, (_, l)) in ns_lines.iter().enumerate() {
        let l = if k == 0 {
            split_tag(l).map_or(*l, |t| t.1)
        } else {
            l
        };
        let Some(code) = l.get(..2).and_then(|c| c.parse::<u8>().ok()) else {
            continue;
        };
        let v = l.get(2..).unwrap_or("");
        match code {
            1..=14 => purpose.push(v.trim()),
            15 | 16 => name.push(v),
            33 => {
                tx.counterparty.bank_code =
                    tx.counterparty.bank_code.take().or_else(|| non_empty(v));
            }
            34 => {
                tx.counterparty.account_number = tx
                    .counterparty
                    .account_number
                    .take()
                    .or_else(|| non_empty(v));
            }
            _ => {}
        }
    }
    let p = purpose
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if tx.purpose.is_none() && !p.is_empty() {
        tx.purpose = Some(p);
    }
    let n: String = name.concat();
    if tx.counterparty.name.is_none()
        && let Some(n) = non_empty(&n)
    {
        tx.counterparty.name = Some(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gs_jobs::Progress;
    use gs_types::Severity;

    const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../../shared/fixtures/");

    fn run_bytes(name: &str, bytes: Vec<u8>) -> Result<ImportOutput> {
        let progress = Progress::new();
        let ctx = ImportContext {
            mappings: &[],
            progress: &progress,
            frames: None,
        };
        let file = SourceFile::from_bytes(name, bytes);
        Mt940Importer.import(&file, &ctx)
    }

    fn run(text: &str) -> ImportOutput {
        run_bytes("inline.sta", text.as_bytes().to_vec()).unwrap()
    }

    fn fixture(rel: &str) -> SourceFile {
        let path = format!("{FIX}{rel}");
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        SourceFile::from_bytes(rel, bytes)
    }

    fn import_fixture(rel: &str) -> Result<ImportOutput> {
        let progress = Progress::new();
        let ctx = ImportContext {
            mappings: &[],
            progress: &progress,
            frames: None,
        };
        Mt940Importer.import(&fixture(rel), &ctx)
    }

    fn sum(out: &ImportOutput) -> i64 {
        out.transactions.iter().map(|t| t.amount.cents()).sum()
    }

    /// Labels of statements where opening + entries != closing (both balances present).
    fn unreconciled(out: &ImportOutput) -> Vec<String> {
        out.statements
            .iter()
            .filter_map(|s| {
                let (o, c) = (s.opening?, s.closing?);
                let total: i64 = out.transactions[s.tx_range.clone()]
                    .iter()
                    .map(|t| t.amount.cents())
                    .sum();
                (o.cents() + total != c.cents()).then(|| s.label.clone())
            })
            .collect()
    }

    fn has_issue(out: &ImportOutput, sev: Severity, needle: &str) -> bool {
        out.issues
            .iter()
            .any(|i| i.severity == sev && i.message.contains(needle))
    }

    #[test]
    fn fixtures_counts_sums_and_balances() {
        // (file, statements, transactions, sum in cents, statements whose balances do not add up)
        let cases: &[(&str, usize, usize, i64, usize)] = &[
            ("hbci4java/test-mt940-001.sta", 1, 2, 300, 0),
            ("hbci4java/test-mt940-002.sta", 1, 2, 300, 0),
            ("php-mt940/Bunq_sample.txt", 1, 111, -2667, 0),
            // Opening 0,00, one debit of 20000,00, closing 0,00: the sample itself does not add up.
            ("php-mt940/Hsbc_sample.txt", 1, 1, -2_000_000, 1),
            ("php-mt940/Kontist_sample.txt", 1, 6, 39_576, 0),
            ("php-mt940/Penta_sample.txt", 1, 30, -1_057_630, 0),
            ("php-mt940/Spk_sample.txt", 4, 10, 91_532, 0),
            ("php-mt940/Zetb_sample.txt", 1, 8, -374_391, 0),
            ("wolph-mt940/ASNB_mt940.txt", 0, 8, 5694, 0),
            (
                "wolph-mt940/betterplace_sepa_mt9401.sta",
                26,
                97,
                -926_913_590,
                0,
            ),
            (
                "wolph-mt940/betterplace_with_binary_character.sta",
                2,
                4,
                -17_906_675,
                0,
            ),
            // The anonymised ABN AMRO sample does not add up in the file itself
            // (3236,28 - 321,44 != 876,84; 2876,84 - 24,49 != 1849,75).
            ("wolph-mt940/jejik_abnamro.sta", 2, 10, -34_593, 2),
            ("wolph-mt940/mBank_mt940.sta", 1, 3, 3, 0),
            (
                "wolph-mt940/sberbank_171011_01234945.sta",
                1,
                3,
                -943_700,
                0,
            ),
            // 25170637,10 + 2066637,00 - 3078850,50 != 25281687,60: the sample does not add up.
            (
                "wolph-mt940/self-provided_raiffeisen-cmi.sta",
                1,
                7,
                -101_221_350,
                1,
            ),
            ("wolph-mt940/self-provided_raphaelm.sta", 3, 9, 9_500_000, 0),
        ];
        for &(file, stmts, n, total, bad) in cases {
            let out = import_fixture(file).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(out.transactions.len(), n, "{file}: transactions");
            assert_eq!(sum(&out), total, "{file}: sum");
            if stmts > 0 {
                assert_eq!(out.statements.len(), stmts, "{file}: statements");
            }
            let unrec = unreconciled(&out);
            assert_eq!(unrec.len(), bad, "{file}: unreconciled {unrec:?}");
            assert!(
                !has_issue(&out, Severity::Error, ""),
                "{file}: row errors {:?}",
                out.issues
            );
            for t in &out.transactions {
                assert!(
                    t.locator.is_some() && t.source_text.contains(":61:"),
                    "{file}: provenance"
                );
                assert_eq!(t.currency.len(), 3, "{file}: currency");
            }
            assert!(
                Mt940Importer
                    .detect(&fixture(file))
                    .is_some_and(|c| c >= 40),
                "{file}: detect"
            );
        }
    }

    #[test]
    fn asn_envelopes_give_one_statement_per_message() {
        let out = import_fixture("wolph-mt940/ASNB_mt940.txt").unwrap();
        assert!(out.statements.len() > 8);
        assert!(unreconciled(&out).is_empty());
        assert_eq!(
            out.statements[0].account.iban.as_deref(),
            Some("NL81ASNB9999999999")
        );
        let t = &out.transactions[0];
        assert_eq!(t.amount.cents(), -6500);
        assert_eq!(
            t.purpose.as_deref(),
            Some("NL47INGB9999999999 hr gjlm paulissen Betaling sieraden")
        );
    }

    #[test]
    fn dutch_slash_details_and_empty_tag_lines() {
        let out = import_fixture("php-mt940/Bunq_sample.txt").unwrap();
        let t = &out.transactions[0];
        assert_eq!(t.counterparty.iban.as_deref(), Some("NL65BUNQ2206724936"));
        assert_eq!(t.counterparty.name.as_deref(), Some("P.C. Wacki"));
        assert_eq!(t.purpose, None);
        let t = &out.transactions[2];
        assert_eq!(t.counterparty.name.as_deref(), Some("www.thomann.de"));
        assert_eq!(t.purpose.as_deref(), Some("www.thomann.de Burgebrach, DE"));
        assert_eq!(
            out.statements[0].account.iban.as_deref(),
            Some("NL10BUNQ2290325473")
        );
        // ASN writes ":86:" alone on its line and the text below it.
        let out = import_fixture("wolph-mt940/ASNB_mt940.txt").unwrap();
        let t = out
            .transactions
            .iter()
            .find(|t| t.amount.cents() == -165)
            .unwrap();
        assert_eq!(
            t.purpose.as_deref(),
            Some("Kosten gebruik betaalrekening inclusief 1 betaalpas")
        );
        assert!(!has_issue(&out, Severity::Warning, "no :86:"));
        let iban_warnings = out
            .issues
            .iter()
            .filter(|i| i.message.contains("NL81ASNB9999999999"))
            .count();
        assert_eq!(iban_warnings, 1);
    }

    #[test]
    fn german_sepa_details_and_reversal() {
        let out = import_fixture("wolph-mt940/betterplace_sepa_mt9401.sta").unwrap();
        let st = &out.statements[0];
        assert_eq!(st.account.bank_code.as_deref(), Some("50880050"));
        assert_eq!(st.account.account_number.as_deref(), Some("0194774600888"));
        assert_eq!(
            st.label,
            "statement 1 (:20: T089413946000001, :28C: 00004/00001)"
        );
        let first = &out.transactions[0];
        assert_eq!(first.amount.cents(), 30_000);
        assert_eq!(first.tx_code.as_deref(), Some("159"));
        assert_eq!(first.booking_text.as_deref(), Some("RETOURE"));
        assert_eq!(
            first.end_to_end_ref.as_deref(),
            Some(
                "TFNR 40005 00005 MTLG:Grund nicht spezifiziert Reject aus SEPA-Ueberweisungsauftrag"
            )
        );
        // 0709040904RCR204,88: reversal of a credit takes money away.
        let rev = &out.transactions[5];
        assert!(rev.reversal);
        assert_eq!(rev.amount.cents(), -20_488);
        let t = out
            .transactions
            .iter()
            .find(|t| t.source_text.contains("EndToEndIdTFNR20004000"))
            .unwrap();
        assert_eq!(
            t.end_to_end_ref.as_deref(),
            Some("EndToEndIdTFNR2000400001")
        );
        assert!(
            t.purpose
                .as_deref()
                .unwrap()
                .starts_with("TO 13 TFNr 20004 Eingangskanal Mint"),
            "{:?}",
            t.purpose
        );
        assert_eq!(t.counterparty.bic.as_deref(), Some("PBNKDEFF100"));
        assert_eq!(
            t.counterparty.iban.as_deref(),
            Some("DE42100100100043921105")
        );
        assert_eq!(
            t.counterparty.name.as_deref(),
            Some("Richter Renate 70 Zeichen Beginn Fuellzeichen xxxxxxxx")
        );
        assert_eq!(t.booking_date, NaiveDate::from_ymd_opt(2007, 9, 4).unwrap());
    }

    #[test]
    fn customer_reference_is_the_end_to_end_id_without_eref() {
        let out = import_fixture("hbci4java/test-mt940-001.sta").unwrap();
        let t = &out.transactions[0];
        assert_eq!(
            t.end_to_end_ref.as_deref(),
            Some("2023-02-09-08.37.18.054696")
        );
        assert_eq!(t.counterparty.name.as_deref(), Some("Max Mustermann"));
        assert_eq!(t.purpose.as_deref(), Some("Test 1"));
        assert_eq!(t.tx_code.as_deref(), Some("152"));
        let out = import_fixture("php-mt940/Hsbc_sample.txt").unwrap();
        assert_eq!(
            out.transactions[0].end_to_end_ref.as_deref(),
            Some("1004688128")
        );
        let out = import_fixture("wolph-mt940/jejik_abnamro.sta").unwrap();
        assert_eq!(out.transactions[0].end_to_end_ref, None);
    }

    #[test]
    fn gv_codes_and_missing_details() {
        let out = import_fixture("wolph-mt940/self-provided_gv_codes.sta").unwrap();
        assert_eq!(out.transactions.len(), 2);
        let t = &out.transactions[0];
        assert_eq!(t.tx_code.as_deref(), Some("835"));
        assert_eq!(t.end_to_end_ref.as_deref(), Some("1234567890123 PAYPAL"));
        assert_eq!(t.mandate_ref.as_deref(), Some("12AB234CD6E7F"));
        assert_eq!(t.creditor_id.as_deref(), Some("AB12CDE0000000000000000034"));
        assert_eq!(t.booking_text.as_deref(), Some("NMSC"));
        assert_eq!(
            t.counterparty.name.as_deref(),
            Some("PayPal (Europe) S.a.r.l. et")
        );
        assert!(t.purpose.as_deref().unwrap().contains("SPOTIFY"));
        assert!(has_issue(&out, Severity::Warning, "entry has no :86:"));
        assert!(has_issue(
            &out,
            Severity::Warning,
            "statement 1 has no closing balance (:62F:)"
        ));
        assert_eq!(out.statements[0].closing, None);
    }

    #[test]
    fn malformed_fixtures_are_reported() {
        let out = import_fixture("wolph-mt940/self-provided_malformed_details.sta").unwrap();
        assert_eq!(out.transactions.len(), 1);
        assert_eq!(out.transactions[0].amount.cents(), -23_315);
        assert!(has_issue(
            &out,
            Severity::Warning,
            "subfield structure is broken"
        ));
        assert!(
            out.transactions[0]
                .purpose
                .as_deref()
                .unwrap()
                .contains("Finanzamt Sentinel")
        );
        assert_eq!(out.transactions[0].tx_code.as_deref(), Some("105"));

        let out = import_fixture("wolph-mt940/betterplace_sepa_snippet_broken.sta").unwrap();
        assert_eq!(out.transactions.len(), 1);
        assert_eq!(sum(&out), 5_099_005);
        assert!(has_issue(&out, Severity::Warning, "unexpected second :25:"));
        assert!(has_issue(&out, Severity::Warning, "entry has no :86:"));
        assert_eq!(
            unreconciled(&out).len(),
            1,
            "truncated statement cannot add up"
        );

        let err = import_fixture("wolph-mt940/betterplace_missing_crlf_at_end.sta").unwrap_err();
        assert!(err.to_string().contains("no statement found"), "{err}");

        let out = import_fixture("wolph-mt940/self-provided_sparkassen.sta").unwrap();
        assert_eq!(out.transactions.len(), 1);
        let t = &out.transactions[0];
        assert_eq!(t.amount.cents(), 3000);
        assert_eq!(t.tx_code.as_deref(), Some("166"));
        assert_eq!(t.purpose.as_deref(), Some("Test"));
        assert_eq!(t.currency, "XXX");
        assert!(has_issue(&out, Severity::Warning, "has no :20:"));
    }

    #[test]
    fn february_30_is_clamped_with_a_warning() {
        let out = import_fixture("wolph-mt940/self-provided_february_30.sta").unwrap();
        assert_eq!(out.transactions.len(), 1);
        let t = &out.transactions[0];
        assert_eq!(t.value_date, NaiveDate::from_ymd_opt(2016, 2, 29));
        assert_eq!(t.booking_date, NaiveDate::from_ymd_opt(2016, 3, 1).unwrap());
        assert_eq!(t.amount.cents(), -600);
        assert!(has_issue(
            &out,
            Severity::Warning,
            "value date 160230 does not exist"
        ));
        assert!(unreconciled(&out).is_empty());
    }

    #[test]
    fn year_end_booking_dates_and_marks() {
        let text = ":20:X\n:25:DE89370400440532013000\n:28C:1/1\n:60F:C231231EUR100,00\n\
:61:2312310102D10,00NTRFNONREF\n:86:Text\n\
:61:2401021231RD5,00NTRFNONREF//B1\n:86:Storno\n\
:61:240102c1,00NMSC\n:62F:C240102EUR96,00\n";
        let out = run(text);
        assert_eq!(out.transactions.len(), 3);
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        assert_eq!(out.transactions[0].booking_date, d(2024, 1, 2));
        assert_eq!(out.transactions[0].value_date, Some(d(2023, 12, 31)));
        assert_eq!(out.transactions[1].booking_date, d(2023, 12, 31));
        assert_eq!(out.transactions[1].amount.cents(), 500);
        assert!(out.transactions[1].reversal);
        assert_eq!(out.transactions[2].amount.cents(), 100);
        assert_eq!(
            out.statements[0].account.iban.as_deref(),
            Some("DE89370400440532013000")
        );
        assert!(unreconciled(&out).is_empty());
    }

    #[test]
    fn at_separators_and_mt942_sums() {
        let text = ":20:INTRADAY@@:25:12345678/99@@:28C:1@@:34F:EUR0,@@:13D:2401021200+0100@@\
:61:240102D10,00NTRFNONREF@@:86:166?00UEBERWEISUNG?20Miete?32Vermieter@@\
:90D:2EUR10,00@@:90C:0EUR0,00@@-";
        let out = run(text);
        assert_eq!(out.format, "MT942");
        assert_eq!(out.transactions.len(), 1);
        assert_eq!(out.transactions[0].purpose.as_deref(), Some("Miete"));
        assert_eq!(
            out.transactions[0].booking_text.as_deref(),
            Some("UEBERWEISUNG")
        );
        assert!(has_issue(&out, Severity::Warning, ":90D: states 2 entries"));
        assert!(!has_issue(&out, Severity::Warning, ":90C:"));
    }

    #[test]
    fn bad_iban_kept_with_warning_and_bad_entry_is_a_row_error() {
        let text = ":20:X\n:25:DE89370400440532013001\n:60F:C240101EUR0,00\n:61:24013XC1,00NMSC\n\
:61:240102C2,00NMSC\n:86:166?31DE00123456780000000000?32X\n:62F:C240102EUR2,00\n";
        let out = run(text);
        assert_eq!(out.transactions.len(), 1);
        assert!(has_issue(&out, Severity::Error, "entry not read"));
        assert!(has_issue(
            &out,
            Severity::Warning,
            "DE89370400440532013001 has wrong check digits"
        ));
        assert_eq!(
            out.transactions[0].counterparty.iban.as_deref(),
            Some("DE00123456780000000000")
        );
        assert_eq!(
            out.transactions[0].locator.as_ref().unwrap().to_string(),
            "statement=1 entry=2 line=5"
        );
    }

    #[test]
    fn decimal_point_amount_is_a_row_error_not_a_truncated_amount() {
        let text = ":20:X\n:25:1/2\n:60F:C240101EUR0,00\n:61:240102C1234.56NMSC\n:86:x\n:62F:C240102EUR0,00\n";
        let out = run(text);
        assert!(out.transactions.is_empty());
        assert!(has_issue(&out, Severity::Error, "1234.56"));
        // The dropped entry's :86: is not mistaken for statement-level information.
        assert!(
            !out.issues
                .iter()
                .any(|i| i.message.contains("statement-level"))
        );
    }

    #[test]
    fn free_text_that_looks_structured_stays_free_text() {
        let text = ":20:X\n:25:1/2\n:60F:C240101EUR0,00\n:61:240102C2,00NMSC\n:86:123-45 Rechnung 7\n:62F:C240102EUR2,00\n";
        let out = run(text);
        assert_eq!(
            out.transactions[0].purpose.as_deref(),
            Some("123-45 Rechnung 7")
        );
        assert_eq!(out.transactions[0].tx_code, None);
    }

    #[test]
    fn windows_1252_text_is_decoded() {
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(
            ":20:STARTUMS\r\n:25:12345678/1\r\n:60F:C240101EUR0,00\r\n:61:240102C2,00NMSC\r\n\
:86:166?00GUTSCHRIFT?20Gebühr für Überweisung?32Müller\r\n:62F:C240102EUR2,00\r\n-\r\n",
        );
        let out = run_bytes("x.sta", bytes.into_owned()).unwrap();
        assert_eq!(
            out.transactions[0].counterparty.name.as_deref(),
            Some("Müller")
        );
        assert_eq!(
            out.transactions[0].purpose.as_deref(),
            Some("Gebühr für Überweisung")
        );
    }

    #[test]
    fn other_fixtures_are_not_detected() {
        let mut checked = 0;
        for dir in std::fs::read_dir(FIX).unwrap() {
            let dir = dir.unwrap().path();
            for f in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = f.path();
                let name = path.to_string_lossy().to_string();
                if name.contains("mt940") || !path.is_file() {
                    continue;
                }
                let file = SourceFile::from_bytes(&name, std::fs::read(&path).unwrap());
                assert_eq!(Mt940Importer.detect(&file), None, "{name}");
                checked += 1;
            }
        }
        assert!(checked > 30, "fixtures not found: {checked}");
    }

    #[test]
    fn not_mt940_is_not_detected() {
        let f = SourceFile::from_bytes("a.csv", b"Datum;Betrag\n01.01.2024;1,00\n".to_vec());
        assert_eq!(Mt940Importer.detect(&f), None);
        assert!(run_bytes("a.csv", b"Datum;Betrag\n".to_vec()).is_err());
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            let _ = run_bytes("r.sta", bytes.clone());
            let mut with_tag = b":20:X\n:61:".to_vec();
            with_tag.extend_from_slice(&bytes);
            let _ = run_bytes("r.sta", with_tag);
        }

        #[test]
        fn mutated_fixture_never_panics(edits in proptest::collection::vec((0usize..28_000, proptest::num::u8::ANY), 1..20), cut in 0usize..28_000) {
            let mut bytes = std::fs::read(format!("{FIX}wolph-mt940/betterplace_sepa_mt9401.sta")).unwrap();
            for (pos, b) in edits {
                if let Some(x) = bytes.get_mut(pos) {
                    *x = b;
                }
            }
            bytes.truncate(cut.max(1));
            let _ = run_bytes("m.sta", bytes);
        }
    }
}
