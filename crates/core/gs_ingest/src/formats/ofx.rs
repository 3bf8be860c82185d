//! OFX reader: OFX 1.x (SGML, leaf elements usually unclosed) and OFX 2.x (XML).
//!
//! Both are read by one tolerant tag scanner instead of an XML parser, because OFX 1.x is not
//! XML. Aggregates (`<STMTRS>`, `<STMTTRN>`, ...) are closed in both versions; a leaf's value
//! is the text after its start tag up to the next `<`.
//!
//! Bank (`STMTRS`) and credit-card (`CCSTMTRS`) statements are read, several per file.
//! `LEDGERBAL` gives the closing balance; OFX has no opening balance, and none is made up
//! (so no reconciliation is possible for OFX). `value_date` is `DTAVAIL`, else `DTUSER`.

use gs_types::chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use gs_types::{Channel, DecimalSeparator, Locator, Money, PartyRef, Transaction};

use crate::error::{IngestError, Result};
use crate::importer::{ImportContext, ImportOutput, Importer, SourceFile, StatementSummary};

/// Importer for OFX files (Quicken / Microsoft Money / bank downloads).
#[derive(Debug, Default)]
pub struct OfxImporter;

const FORMAT: &str = "OFX";
const PROGRESS_EVERY: usize = 5000;

impl Importer for OfxImporter {
    fn id(&self) -> &'static str {
        "ofx"
    }

    fn detect(&self, file: &SourceFile) -> Option<u8> {
        let head = file.head(4096);
        let start = head.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
        if start.starts_with("OFXHEADER:") {
            return Some(95);
        }
        let upper = head.to_ascii_uppercase();
        if upper.contains("<?OFX") {
            return Some(95);
        }
        if upper.contains("<OFX>") {
            return Some(85);
        }
        None
    }

    fn import(&self, file: &SourceFile, ctx: &ImportContext<'_>) -> Result<ImportOutput> {
        let decoded = file.text();
        let mut out = ImportOutput::new("OFX");
        if decoded.had_errors {
            out.warn(
                None,
                format!(
                    "some bytes are not valid {} and were replaced by U+FFFD",
                    decoded.encoding
                ),
            );
        }
        read(&decoded.text, ctx, &mut out)?;
        Ok(out)
    }
}

/// One `<...>` tag found by the scanner.
struct Tag<'a> {
    /// Upper-case name without `/`.
    name: String,
    closing: bool,
    /// Byte offset of `<`.
    start: usize,
    /// Byte offset after `>`.
    end: usize,
    /// Text after the tag up to the next `<`, trimmed.
    value: &'a str,
}

/// Scans tags one after another; skips `<?...?>` and `<!...>`.
struct Scanner<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Iterator for Scanner<'a> {
    type Item = Tag<'a>;

    fn next(&mut self) -> Option<Tag<'a>> {
        loop {
            let rest = self.text.get(self.pos..)?;
            let lt = self.pos + rest.find('<')?;
            let after = self.text.get(lt + 1..)?;
            let gt_rel = after.find('>');
            let Some(gt_rel) = gt_rel else {
                self.pos = self.text.len();
                return None;
            };
            let inner = after.get(..gt_rel).unwrap_or("");
            let end = lt + 1 + gt_rel + 1;
            self.pos = end;
            if inner.starts_with('?') || inner.starts_with('!') {
                continue;
            }
            let (closing, name) = match inner.strip_prefix('/') {
                Some(n) => (true, n),
                None => (false, inner),
            };
            let name = name
                .split_whitespace()
                .next()
                .unwrap_or("")
                .trim_end_matches('/');
            if name.is_empty() {
                continue;
            }
            let tail = self.text.get(end..).unwrap_or("");
            let value = tail
                .get(..tail.find('<').unwrap_or(tail.len()))
                .unwrap_or("")
                .trim();
            return Some(Tag {
                name: name.to_ascii_uppercase(),
                closing,
                start: lt,
                end,
                value,
            });
        }
    }
}

/// Decodes the five XML entities (OFX 1.x uses them as well).
fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// `YYYYMMDD[HHMMSS[.XXX]][[+-h:TZ]]`: the date, and the time when one was written.
fn ofx_datetime(s: &str) -> Option<(NaiveDate, Option<NaiveDateTime>)> {
    let s = s.trim();
    let d = s.get(..8)?;
    if !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        d.get(..4)?.parse().ok()?,
        d.get(4..6)?.parse().ok()?,
        d.get(6..8)?.parse().ok()?,
    )?;
    let time = s
        .get(8..14)
        .filter(|t| t.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|t| {
            NaiveTime::from_hms_opt(
                t.get(..2)?.parse().ok()?,
                t.get(2..4)?.parse().ok()?,
                t.get(4..6)?.parse().ok()?,
            )
        });
    // Midnight / noon placeholders ("...000000", "...120000") carry no time of day.
    let ts = time
        .filter(|t| {
            *t != NaiveTime::MIN
                && *t != NaiveTime::from_hms_opt(12, 0, 0).unwrap_or(NaiveTime::MIN)
        })
        .map(|t| date.and_time(t));
    Some((date, ts))
}

fn ofx_amount(s: &str) -> std::result::Result<gs_types::ParsedAmount, String> {
    let sep = if s.contains(',') && !s.contains('.') {
        DecimalSeparator::Comma
    } else {
        DecimalSeparator::Dot
    };
    Money::parse(s, sep).map_err(|e| e.to_string())
}

#[derive(Default)]
struct TxBuild {
    start: usize,
    line: u32,
    trntype: Option<String>,
    posted: Option<String>,
    user: Option<String>,
    avail: Option<String>,
    amount: Option<String>,
    fitid: Option<String>,
    name: Option<String>,
    memo: Option<String>,
    checknum: Option<String>,
    refnum: Option<String>,
    payee_name: Option<String>,
    counter: PartyRef,
    currency: Option<String>,
}

struct StmtBuild {
    number: u32,
    currency: Option<String>,
    account: PartyRef,
    closing: Option<Money>,
    tx_start: usize,
    entries: u32,
}

/// Which aggregate the scanner is inside (the innermost relevant one).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    None,
    AcctFrom,
    AcctTo,
    LedgerBal,
    OtherBal,
    Payee,
}

fn channel_for(trntype: &str, negative: bool) -> Channel {
    match trntype {
        "DIRECTDEBIT" => Channel::DirectDebit,
        "REPEATPMT" => Channel::StandingOrder,
        "FEE" | "SRVCHG" | "INT" => Channel::Fee,
        "POS" => Channel::Card,
        "XFER" | "DIRECTDEP" => Channel::Transfer,
        "CASH" | "ATM" => {
            if negative {
                Channel::CashWithdrawal
            } else {
                Channel::CashDeposit
            }
        }
        _ => Channel::Unknown,
    }
}

fn read(text: &str, ctx: &ImportContext<'_>, out: &mut ImportOutput) -> Result<()> {
    out.format_version = header_version(text);
    let mut statements = 0u32;
    let mut stmt: Option<StmtBuild> = None;
    let mut tx: Option<TxBuild> = None;
    let mut agg = Ctx::None;
    let mut saw_ofx = false;
    // Line numbers are counted incrementally as the scanner moves forward.
    let mut line_pos = (0usize, 1u32);
    let mut line_of = |pos: usize| -> u32 {
        if let Some(chunk) = text.as_bytes().get(line_pos.0..pos) {
            #[allow(
                clippy::naive_bytecount,
                reason = "no bytecount crate; runs once over the file"
            )]
            let n = chunk.iter().filter(|b| **b == b'\n').count();
            line_pos.1 = line_pos
                .1
                .saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
            line_pos.0 = pos;
        }
        line_pos.1
    };
    let mut since_report = 0usize;
    for tag in (Scanner { text, pos: 0 }) {
        let name = tag.name.as_str();
        if tag.closing {
            match name {
                "STMTTRN" => {
                    if let (Some(t), Some(st)) = (tx.take(), stmt.as_mut()) {
                        finish_tx(t, st, text, tag.end, out);
                        since_report += 1;
                        if since_report >= PROGRESS_EVERY {
                            ctx.progress.add_rows(since_report as u64);
                            since_report = 0;
                            if ctx.progress.is_cancelled() {
                                return Err(IngestError::Cancelled);
                            }
                        }
                    }
                }
                "BANKACCTFROM" | "CCACCTFROM" | "BANKACCTTO" | "CCACCTTO" | "LEDGERBAL"
                | "AVAILBAL" | "PAYEE" => {
                    agg = Ctx::None;
                }
                "BANKTRANLIST" => {
                    if let (Some(t), Some(st)) = (tx.take(), stmt.as_mut()) {
                        finish_tx(t, st, text, tag.start, out);
                    }
                }
                "STMTRS" | "CCSTMTRS" => {
                    if let Some(t) = tx.take()
                        && let Some(st) = stmt.as_mut()
                    {
                        finish_tx(t, st, text, tag.start, out);
                    }
                    if let Some(st) = stmt.take() {
                        finish_stmt(st, out);
                    }
                }
                _ => {}
            }
            continue;
        }
        match name {
            "OFX" => saw_ofx = true,
            "STMTRS" | "CCSTMTRS" => {
                if let Some(st) = stmt.take() {
                    finish_stmt(st, out);
                }
                statements += 1;
                stmt = Some(StmtBuild {
                    number: statements,
                    currency: None,
                    account: PartyRef::default(),
                    closing: None,
                    tx_start: out.transactions.len(),
                    entries: 0,
                });
            }
            "STMTTRN" => {
                // SGML files sometimes leave STMTTRN unclosed: a new one ends the previous.
                if let (Some(t), Some(st)) = (tx.take(), stmt.as_mut()) {
                    finish_tx(t, st, text, tag.start, out);
                }
                if stmt.is_none() {
                    out.warn(
                        Some(format!("line={}", line_of(tag.start))),
                        "transaction outside a statement (no STMTRS) ignored",
                    );
                    continue;
                }
                tx = Some(TxBuild {
                    start: tag.start,
                    line: line_of(tag.start),
                    ..TxBuild::default()
                });
            }
            "BANKACCTFROM" | "CCACCTFROM" => agg = Ctx::AcctFrom,
            "BANKACCTTO" | "CCACCTTO" => agg = Ctx::AcctTo,
            "LEDGERBAL" | "AVAILBAL" => {
                if let (Some(t), Some(st)) = (tx.take(), stmt.as_mut()) {
                    finish_tx(t, st, text, tag.start, out);
                }
                agg = if name == "LEDGERBAL" {
                    Ctx::LedgerBal
                } else {
                    Ctx::OtherBal
                };
            }
            "PAYEE" => agg = Ctx::Payee,
            "BANKTRANLIST" => {
                if let (Some(t), Some(st)) = (tx.take(), stmt.as_mut()) {
                    finish_tx(t, st, text, tag.start, out);
                }
            }
            _ => leaf(
                name,
                tag.value,
                agg,
                &mut stmt,
                &mut tx,
                out,
                line_of(tag.start),
            ),
        }
    }
    if let (Some(t), Some(st)) = (tx.take(), stmt.as_mut()) {
        finish_tx(t, st, text, text.len(), out);
    }
    if let Some(st) = stmt.take() {
        out.warn(
            None,
            format!(
                "statement {} is not closed (</STMTRS> missing): file truncated?",
                st.number
            ),
        );
        finish_stmt(st, out);
    }
    ctx.progress.add_rows(since_report as u64);
    if !saw_ofx {
        return Err(IngestError::malformed(FORMAT, "no <OFX> element found"));
    }
    if statements == 0 {
        out.info(
            None,
            "OFX file has no bank or credit-card statement (STMTRS/CCSTMTRS)",
        );
    }
    Ok(())
}

fn header_version(text: &str) -> Option<String> {
    let head = text.get(..text.len().min(2048)).or_else(|| text.get(..))?;
    for line in head.lines() {
        let l = line.trim();
        if let Some(v) = l.strip_prefix("VERSION:") {
            return Some(v.trim().to_owned());
        }
        if let Some(p) = l.find("<?OFX")
            && let Some(rest) = l.get(p..)
            && let Some(vp) = rest.find("VERSION=\"")
        {
            let v = rest.get(vp + 9..)?;
            return v.split('"').next().map(str::to_owned);
        }
    }
    None
}

fn leaf(
    name: &str,
    value: &str,
    agg: Ctx,
    stmt: &mut Option<StmtBuild>,
    tx: &mut Option<TxBuild>,
    out: &mut ImportOutput,
    line: u32,
) {
    let v = unescape(value);
    if v.is_empty() {
        return;
    }
    if let Some(t) = tx.as_mut() {
        match (agg, name) {
            (Ctx::AcctTo, "BANKID") => t.counter.bank_code = Some(v),
            (Ctx::AcctTo, "ACCTID") => set_account(&mut t.counter, &v),
            (Ctx::Payee, "NAME") | (_, "PAYEE") => t.payee_name = Some(v),
            (_, "TRNTYPE") => t.trntype = Some(v.to_ascii_uppercase()),
            (_, "DTPOSTED") => t.posted = Some(v),
            (_, "DTUSER") => t.user = Some(v),
            (_, "DTAVAIL") => t.avail = Some(v),
            (_, "TRNAMT") => t.amount = Some(v),
            (_, "FITID") => t.fitid = Some(v),
            (_, "NAME") => t.name = Some(v),
            (_, "MEMO") => t.memo = Some(v),
            (_, "CHECKNUM") => t.checknum = Some(v),
            (_, "REFNUM") => t.refnum = Some(v),
            (_, "CURSYM") => t.currency = Some(v.to_ascii_uppercase()),
            _ => {}
        }
        return;
    }
    let Some(st) = stmt.as_mut() else { return };
    match (agg, name) {
        (_, "CURDEF") => st.currency = Some(v.to_ascii_uppercase()),
        (Ctx::AcctFrom, "BANKID") => st.account.bank_code = Some(v),
        (Ctx::AcctFrom, "ACCTID") => set_account(&mut st.account, &v),
        (Ctx::LedgerBal, "BALAMT") => match ofx_amount(&v) {
            Ok(p) => st.closing = Some(p.money),
            Err(e) => out.warn(
                Some(format!("line={line}")),
                format!(
                    "statement {}: LEDGERBAL unreadable ({e}), line {line}",
                    st.number
                ),
            ),
        },
        _ => {}
    }
}

/// ACCTID may be an IBAN (European banks) or a plain account number.
fn set_account(p: &mut PartyRef, v: &str) {
    let n = gs_types::iban::normalize_account_text(v);
    if let Ok(iban) = gs_types::Iban::parse(&n) {
        p.iban = Some(iban.as_str().to_owned());
    } else {
        p.account_number = Some(v.to_owned());
    }
}

fn finish_tx(t: TxBuild, st: &mut StmtBuild, text: &str, end: usize, out: &mut ImportOutput) {
    st.entries += 1;
    let locator = Locator::Entry {
        statement: st.number,
        entry: st.entries,
        detail: None,
        line: Some(t.line),
    };
    let loc = locator.to_string();
    let source_text = text.get(t.start..end).unwrap_or("").trim_end().to_owned();
    let Some(amount_text) = t.amount.as_deref() else {
        out.row_error(Some(loc), "transaction not read: no TRNAMT");
        return;
    };
    let parsed = match ofx_amount(amount_text) {
        Ok(p) => p,
        Err(e) => {
            out.row_error(Some(loc), format!("transaction not read: TRNAMT {e}"));
            return;
        }
    };
    let posted = t
        .posted
        .as_deref()
        .and_then(ofx_datetime)
        .or_else(|| t.user.as_deref().and_then(ofx_datetime));
    let Some((booking_date, timestamp)) = posted else {
        out.row_error(
            Some(loc),
            format!(
                "transaction not read: DTPOSTED '{}' is not a date",
                t.posted.as_deref().unwrap_or("")
            ),
        );
        return;
    };
    if t.posted.as_deref().and_then(ofx_datetime).is_none() {
        out.warn(
            Some(loc.clone()),
            "DTPOSTED missing or unreadable; DTUSER used as booking date",
        );
    }
    if let Some(exact) = &parsed.exact {
        out.warn(
            Some(loc.clone()),
            format!("amount {exact} has more than two decimals; rounded to cents"),
        );
    }
    let value_date = t
        .avail
        .as_deref()
        .or(t.user.as_deref())
        .and_then(ofx_datetime)
        .map(|d| d.0);
    let mut counterparty = t.counter;
    counterparty.name = t.payee_name.or(t.name);
    let mut purpose = t.memo;
    if let Some(c) = t.checknum {
        let p = purpose.take().map_or_else(
            || format!("CHECKNUM {c}"),
            |m| format!("{m} (CHECKNUM {c})"),
        );
        purpose = Some(p);
    }
    let trntype = t.trntype.unwrap_or_default();
    let channel = channel_for(&trntype, parsed.money.is_negative());
    out.transactions.push(Transaction {
        locator: Some(locator),
        booking_date,
        value_date,
        timestamp,
        amount: parsed.money,
        amount_exact: parsed.exact,
        currency: t
            .currency
            .or_else(|| st.currency.clone())
            .unwrap_or_default(),
        account: st.account.clone(),
        counterparty,
        purpose,
        booking_text: (!trntype.is_empty()).then_some(trntype),
        end_to_end_ref: t.fitid.or(t.refnum),
        channel,
        source_text,
        ..Transaction::default()
    });
}

fn finish_stmt(st: StmtBuild, out: &mut ImportOutput) {
    let end = out.transactions.len();
    let currency = st.currency.clone().unwrap_or_else(|| {
        out.warn(
            None,
            format!(
                "statement {}: no CURDEF; currency recorded as XXX",
                st.number
            ),
        );
        "XXX".to_owned()
    });
    for t in out
        .transactions
        .get_mut(st.tx_start..end)
        .unwrap_or(&mut [])
    {
        if t.currency.is_empty() {
            t.currency.clone_from(&currency);
        }
    }
    let acct = st.account.account_key().unwrap_or_default();
    out.statements.push(StatementSummary {
        label: format!("statement {} (ACCTID {acct})", st.number),
        account: st.account,
        currency,
        opening: None,
        closing: st.closing,
        tx_range: st.tx_start..end,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use gs_jobs::Progress;
    use gs_types::Severity;

    const FIX: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../../shared/fixtures/ofxparse/"
    );

    fn import_bytes(bytes: Vec<u8>) -> Result<ImportOutput> {
        let progress = Progress::new();
        let ctx = ImportContext {
            mappings: &[],
            progress: &progress,
            frames: None,
        };
        OfxImporter.import(&SourceFile::from_bytes("x.ofx", bytes), &ctx)
    }

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{FIX}{name}")).unwrap()
    }

    #[test]
    fn sgml_checking_statement() {
        let bytes = fixture("checking.ofx");
        assert_eq!(
            OfxImporter.detect(&SourceFile::from_bytes("c.ofx", bytes.clone())),
            Some(95)
        );
        let out = import_bytes(bytes).unwrap();
        assert_eq!(out.format_version.as_deref(), Some("102"));
        assert_eq!(out.transactions.len(), 3);
        assert_eq!(
            out.transactions
                .iter()
                .map(|t| t.amount.cents())
                .sum::<i64>(),
            -5950
        );
        assert_eq!(out.statements.len(), 1);
        let st = &out.statements[0];
        assert_eq!(st.closing, Some(Money(10_099)));
        assert_eq!(st.opening, None);
        assert_eq!(st.account.bank_code.as_deref(), Some("5472369148"));
        assert_eq!(st.account.account_number.as_deref(), Some("1452687~7"));
        let t = &out.transactions[2];
        assert_eq!(t.amount.cents(), -2500);
        assert_eq!(t.currency, "USD");
        assert_eq!(t.booking_date, NaiveDate::from_ymd_opt(2011, 4, 7).unwrap());
        assert_eq!(t.end_to_end_ref.as_deref(), Some("0000488"));
        assert_eq!(
            t.counterparty.name.as_deref(),
            Some("RETURNED CHECK FEE, CHECK # 319")
        );
        assert_eq!(
            t.purpose.as_deref(),
            Some("RETURNED CHECK FEE, CHECK # 319 FOR $45.33 ON 04/07/11 (CHECKNUM 319)")
        );
        assert_eq!(t.booking_text.as_deref(), Some("CHECK"));
        assert_eq!(
            t.locator.as_ref().unwrap().to_string(),
            "statement=1 entry=3 line=62"
        );
        assert!(t.source_text.starts_with("<STMTTRN>") && t.source_text.ends_with("</STMTTRN>"));
        assert!(out.issues.is_empty(), "{:?}", out.issues);
    }

    #[test]
    fn xml_multiple_accounts() {
        let bytes = fixture("multiple_accounts2.ofx");
        assert_eq!(
            OfxImporter.detect(&SourceFile::from_bytes("m.ofx", bytes.clone())),
            Some(95)
        );
        let out = import_bytes(bytes).unwrap();
        assert_eq!(out.format_version.as_deref(), Some("211"));
        assert_eq!(out.transactions.len(), 0);
        assert_eq!(out.statements.len(), 2);
        assert_eq!(
            out.statements[0].account.account_number.as_deref(),
            Some("9100")
        );
        assert_eq!(
            out.statements[1].account.account_number.as_deref(),
            Some("9200")
        );
        assert_eq!(out.statements[0].closing, Some(Money(11_100)));
        assert_eq!(out.statements[1].closing, Some(Money(22_200)));
    }

    #[test]
    fn credit_card_unclosed_and_broken_transactions() {
        let text = "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\n\n<OFX><CREDITCARDMSGSRSV1><CCSTMTTRNRS><CCSTMTRS>\
<CURDEF>EUR<CCACCTFROM><ACCTID>DE89 3704 0044 0532 0130 00</CCACCTFROM>\n<BANKTRANLIST>\n\
<STMTTRN><TRNTYPE>POS<DTPOSTED>20240105143000[+1:CET]<TRNAMT>-12,50<FITID>A1<NAME>Caf&eacute; &amp; Bar\n\
<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>2024XX05<TRNAMT>-1.00<FITID>A2\n\
<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20240106<TRNAMT>abc<FITID>A3\n\
<STMTTRN><TRNTYPE>ATM<DTPOSTED>20240107<DTUSER>20240106<TRNAMT>-50.005<FITID>A4\n\
</BANKTRANLIST><LEDGERBAL><BALAMT>-62.51<DTASOF>20240107</LEDGERBAL></CCSTMTRS></CCSTMTTRNRS></CREDITCARDMSGSRSV1></OFX>";
        let out = import_bytes(text.as_bytes().to_vec()).unwrap();
        assert_eq!(out.transactions.len(), 2);
        let t = &out.transactions[0];
        assert_eq!(t.amount.cents(), -1250);
        assert_eq!(t.account.iban.as_deref(), Some("DE89370400440532013000"));
        assert_eq!(t.counterparty.name.as_deref(), Some("Caf&eacute; & Bar"));
        assert_eq!(t.channel, Channel::Card);
        assert_eq!(
            t.timestamp.map(|x| x.to_string()).as_deref(),
            Some("2024-01-05 14:30:00")
        );
        let atm = &out.transactions[1];
        assert_eq!(atm.amount.cents(), -5001);
        assert_eq!(atm.amount_exact.as_deref(), Some("-50.005"));
        assert_eq!(atm.value_date, NaiveDate::from_ymd_opt(2024, 1, 6));
        assert_eq!(atm.channel, Channel::CashWithdrawal);
        let errors: Vec<_> = out
            .issues
            .iter()
            .filter(|i| i.severity == Severity::Error)
            .collect();
        assert_eq!(errors.len(), 2, "{:?}", out.issues);
        assert_eq!(
            errors[0].locator.as_deref(),
            Some("statement=1 entry=2 line=8")
        );
        assert_eq!(out.statements[0].closing, Some(Money(-6251)));
    }

    #[test]
    fn truncated_and_foreign_files() {
        let out = import_bytes(b"<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>USD<STMTTRN><TRNAMT>5.00<DTPOSTED>20200101".to_vec()).unwrap();
        assert_eq!(out.transactions.len(), 1);
        assert!(out.issues.iter().any(|i| i.message.contains("not closed")));
        assert!(import_bytes(b"<html><body>no</body></html>".to_vec()).is_err());
        let f = SourceFile::from_bytes("a.xml", b"<?xml version=\"1.0\"?><Document/>".to_vec());
        assert_eq!(OfxImporter.detect(&f), None);
    }

    #[test]
    fn other_fixtures_are_not_detected() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../../shared/fixtures/");
        let mut checked = 0;
        for dir in std::fs::read_dir(root).unwrap() {
            let dir = dir.unwrap().path();
            for f in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = f.path();
                let name = path.to_string_lossy().to_string();
                if !path.is_file()
                    || path
                        .extension()
                        .is_some_and(|e| e.eq_ignore_ascii_case("ofx"))
                {
                    continue;
                }
                let file = SourceFile::from_bytes(&name, std::fs::read(&path).unwrap());
                assert_eq!(OfxImporter.detect(&file), None, "{name}");
                checked += 1;
            }
        }
        assert!(checked > 50, "fixtures not found: {checked}");
    }

    proptest::proptest! {
        #[test]
        fn random_and_mutated_input_never_panics(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400),
            edits in proptest::collection::vec((0usize..1800, proptest::num::u8::ANY), 1..20),
            cut in 0usize..1800,
        ) {
            let _ = import_bytes(bytes.clone());
            let mut with = b"<OFX><STMTRS><STMTTRN>".to_vec();
            with.extend_from_slice(&bytes);
            let _ = import_bytes(with);
            let mut f = fixture("checking.ofx");
            for (pos, b) in edits {
                if let Some(x) = f.get_mut(pos) {
                    *x = b;
                }
            }
            f.truncate(cut);
            let _ = import_bytes(f);
        }
    }
}
