//! Balance reconciliation: opening + entries = closing per statement, and running balances.
//! A mismatch reveals missing pages or rows; it becomes a visible warning on the evidence.

use gs_types::{EvidenceIssue, Money, Severity, Transaction};
use polars::prelude::{ChunkAgg, DataFrame, PolarsResult, StringChunked};

use crate::importer::StatementSummary;

fn warn(locator: Option<String>, message: String) -> EvidenceIssue {
    EvidenceIssue {
        severity: Severity::Warning,
        locator,
        message,
    }
}

/// Checks each statement that has both balances. Returns warnings for mismatches.
pub fn statements(statements: &[StatementSummary], txs: &[Transaction]) -> Vec<EvidenceIssue> {
    statements_with(statements, txs.len(), |r| {
        txs[r].iter().map(|t| t.amount).sum()
    })
}

/// [`statements`] over a file's canonical frame (frame mode).
pub fn statements_in_frame(
    statements: &[StatementSummary],
    df: &DataFrame,
) -> PolarsResult<Vec<EvidenceIssue>> {
    if statements.is_empty() {
        return Ok(Vec::new());
    }
    let amounts = df.column("amount_cents")?.i64()?.clone();
    Ok(statements_with(statements, df.height(), |r| {
        let part = amounts.slice(r.start as i64, r.len());
        Money(part.sum().unwrap_or(0))
    }))
}

/// The check of [`statements`]; `sum` adds the amounts of a row range (within `n` rows).
fn statements_with(
    statements: &[StatementSummary],
    n: usize,
    sum: impl Fn(std::ops::Range<usize>) -> Money,
) -> Vec<EvidenceIssue> {
    let mut out = Vec::new();
    for s in statements {
        let (Some(opening), Some(closing)) = (s.opening, s.closing) else {
            continue;
        };
        if s.tx_range.start > s.tx_range.end || s.tx_range.end > n {
            out.push(warn(
                None,
                format!(
                    "{}: entry range {:?} out of bounds (importer bug)",
                    s.label, s.tx_range
                ),
            ));
            continue;
        }
        let entries = s.tx_range.len();
        let sum = sum(s.tx_range.clone());
        let expected = opening + sum;
        if expected != closing {
            out.push(warn(
                None,
                format!(
                    "balance mismatch in {}: opening {} + {} entries {} = {} but closing balance is {} (difference {}); entries or pages may be missing",
                    s.label,
                    opening.format_de(),
                    entries,
                    sum.format_de(),
                    expected.format_de(),
                    closing.format_de(),
                    (closing - expected).format_de()
                ),
            ));
        }
    }
    out
}

/// What the running-balance check reads of a row that states its balance.
struct BalanceRow<'a> {
    /// Statement account: IBAN, account number, bank code.
    account: [Option<&'a str>; 3],
    currency: &'a str,
    amount: Money,
    balance: Money,
    /// Position in the file's rows (for the locator of a break).
    pos: usize,
}

/// Checks running balances (`balance_after`) of consecutive rows of the same account in file
/// order, in whichever direction (oldest-first or newest-first) fits more rows. Reports the
/// first few breaks.
pub fn running_balances(txs: &[Transaction]) -> Vec<EvidenceIssue> {
    let rows: Vec<BalanceRow<'_>> = txs
        .iter()
        .enumerate()
        .filter_map(|(pos, t)| {
            Some(BalanceRow {
                account: [
                    t.account.iban.as_deref(),
                    t.account.account_number.as_deref(),
                    t.account.bank_code.as_deref(),
                ],
                currency: &t.currency,
                amount: t.amount,
                balance: t.balance_after?,
                pos,
            })
        })
        .collect();
    running_core(&rows, |pos| {
        txs[pos].locator.as_ref().map(ToString::to_string)
    })
}

/// [`running_balances`] over a file's canonical frame (frame mode).
pub fn running_balances_in_frame(df: &DataFrame) -> PolarsResult<Vec<EvidenceIssue>> {
    let balance = df.column("balance_after_cents")?.i64()?;
    if balance.null_count() == balance.len() {
        return Ok(Vec::new());
    }
    let s = |name: &str| -> PolarsResult<&StringChunked> { df.column(name)?.str() };
    let (iban, number, bank, currency) = (
        s("account_iban")?,
        s("account_number")?,
        s("account_bank_code")?,
        s("currency")?,
    );
    let amount = df.column("amount_cents")?.i64()?;
    let rows: Vec<BalanceRow<'_>> = balance
        .iter()
        .zip(amount.iter())
        .zip(iban.iter().zip(number.iter()).zip(bank.iter()))
        .zip(currency.iter())
        .enumerate()
        .filter_map(|(pos, (((b, a), ((i, n), k)), c))| {
            Some(BalanceRow {
                account: [i, n, k],
                currency: c.unwrap_or_default(),
                amount: Money(a.unwrap_or_default()),
                balance: Money(b?),
                pos,
            })
        })
        .collect();
    let locators = s("locator")?;
    Ok(running_core(&rows, |pos| {
        locators.get(pos).map(str::to_owned)
    }))
}

/// The check of [`running_balances`] on the rows that state a balance, in file order.
fn running_core(
    rows: &[BalanceRow<'_>],
    locator: impl Fn(usize) -> Option<String>,
) -> Vec<EvidenceIssue> {
    // Consecutive rows of one account and currency.
    let pairs_of = || {
        rows.windows(2).filter_map(|w| {
            let (a, b) = (&w[0], &w[1]);
            (a.account == b.account && a.currency == b.currency).then_some((a, b))
        })
    };
    let mut forward_ok = 0usize;
    let mut backward_ok = 0usize;
    let mut pairs = 0usize;
    for (a, b) in pairs_of() {
        pairs += 1;
        if a.balance + b.amount == b.balance {
            forward_ok += 1;
        }
        if b.balance + a.amount == a.balance {
            backward_ok += 1;
        }
    }
    if pairs == 0 {
        return Vec::new();
    }
    let forward = forward_ok >= backward_ok;
    let mut out = Vec::new();
    let mut breaks = 0usize;
    for (a, b) in pairs_of() {
        let ok = if forward {
            a.balance + b.amount == b.balance
        } else {
            b.balance + a.amount == a.balance
        };
        if !ok {
            breaks += 1;
            if breaks <= 5 {
                let later = if forward { b } else { a };
                out.push(warn(
                    locator(later.pos),
                    format!(
                        "running balance breaks: {} after the previous row does not follow from {} and the amount {}; rows may be missing",
                        later.balance.format_de(),
                        (if forward { a.balance } else { b.balance }).format_de(),
                        later.amount.format_de()
                    ),
                ));
            }
        }
    }
    if breaks > 5 {
        out.push(warn(
            None,
            format!("running balance breaks at {breaks} rows in total (first 5 listed)"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use gs_types::{Locator, PartyRef};

    fn tx(row: u32, cents: i64, bal: i64) -> Transaction {
        Transaction {
            amount: Money(cents),
            balance_after: Some(Money(bal)),
            currency: "EUR".into(),
            account: PartyRef {
                iban: Some("DE89370400440532013000".into()),
                ..Default::default()
            },
            locator: Some(Locator::Row { sheet: None, row }),
            ..Default::default()
        }
    }

    #[test]
    fn statement_mismatch_is_reported() {
        let txs = vec![tx(1, 100, 0), tx(2, -50, 0)];
        let ok = StatementSummary {
            label: "statement 1".into(),
            opening: Some(Money(1000)),
            closing: Some(Money(1050)),
            tx_range: 0..2,
            ..Default::default()
        };
        assert!(statements(std::slice::from_ref(&ok), &txs).is_empty());
        let bad = StatementSummary {
            closing: Some(Money(1000)),
            ..ok
        };
        let w = statements(&[bad], &txs);
        assert_eq!(w.len(), 1);
        assert!(
            w[0].message.contains("balance mismatch in statement 1"),
            "{}",
            w[0].message
        );
        assert!(
            w[0].message.contains("difference -0,50"),
            "{}",
            w[0].message
        );
    }

    #[test]
    fn running_balances_both_orders() {
        let fwd = vec![tx(1, 100, 1100), tx(2, -50, 1050), tx(3, 25, 1075)];
        assert!(running_balances(&fwd).is_empty());
        let newest_first = vec![tx(1, 25, 1075), tx(2, -50, 1050), tx(3, 100, 1100)];
        assert!(running_balances(&newest_first).is_empty());
        let gap = vec![
            tx(1, 100, 1100),
            tx(2, -50, 1050),
            tx(3, 25, 1000),
            tx(4, 10, 1010),
        ];
        let w = running_balances(&gap);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].locator.as_deref(), Some("row=3"));
    }
}
