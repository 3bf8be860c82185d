//! Balance reconciliation: opening + entries = closing per statement, and running balances.
//! A mismatch reveals missing pages or rows; it becomes a visible warning on the evidence.

use gs_types::{EvidenceIssue, Money, Severity, Transaction};

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
    let mut out = Vec::new();
    for s in statements {
        let (Some(opening), Some(closing)) = (s.opening, s.closing) else {
            continue;
        };
        let Some(entries) = txs.get(s.tx_range.clone()) else {
            out.push(warn(
                None,
                format!(
                    "{}: entry range {:?} out of bounds (importer bug)",
                    s.label, s.tx_range
                ),
            ));
            continue;
        };
        let sum: Money = entries.iter().map(|t| t.amount).sum();
        let expected = opening + sum;
        if expected != closing {
            out.push(warn(
                None,
                format!(
                    "balance mismatch in {}: opening {} + {} entries {} = {} but closing balance is {} (difference {}); entries or pages may be missing",
                    s.label,
                    opening.format_de(),
                    entries.len(),
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

/// Same statement account (compared field by field: no allocation per row pair).
fn same_account(a: &Transaction, b: &Transaction) -> bool {
    a.account.iban == b.account.iban
        && a.account.account_number == b.account.account_number
        && a.account.bank_code == b.account.bank_code
}

/// Checks running balances (`balance_after`) of consecutive rows of the same account in file
/// order, in whichever direction (oldest-first or newest-first) fits more rows. Reports the
/// first few breaks.
pub fn running_balances(txs: &[Transaction]) -> Vec<EvidenceIssue> {
    let rows: Vec<&Transaction> = txs.iter().filter(|t| t.balance_after.is_some()).collect();
    // Consecutive rows of one account and currency, with both balances.
    let pairs_of = || {
        rows.windows(2).filter_map(|w| {
            let (a, b) = (w[0], w[1]);
            let both = a.balance_after.zip(b.balance_after)?;
            (same_account(a, b) && a.currency == b.currency).then_some((a, b, both))
        })
    };
    let mut forward_ok = 0usize;
    let mut backward_ok = 0usize;
    let mut pairs = 0usize;
    for (a, b, (ba, bb)) in pairs_of() {
        pairs += 1;
        if ba + b.amount == bb {
            forward_ok += 1;
        }
        if bb + a.amount == ba {
            backward_ok += 1;
        }
    }
    if pairs == 0 {
        return Vec::new();
    }
    let forward = forward_ok >= backward_ok;
    let mut out = Vec::new();
    let mut breaks = 0usize;
    for (a, b, (ba, bb)) in pairs_of() {
        let ok = if forward {
            ba + b.amount == bb
        } else {
            bb + a.amount == ba
        };
        if !ok {
            breaks += 1;
            if breaks <= 5 {
                let later = if forward { b } else { a };
                out.push(warn(
                    later.locator.as_ref().map(ToString::to_string),
                    format!(
                        "running balance breaks: {} after the previous row does not follow from {} and the amount {}; rows may be missing",
                        later.balance_after.unwrap_or_default().format_de(),
                        (if forward { ba } else { bb }).format_de(),
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
