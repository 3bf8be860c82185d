//! Application state: the case (evidence + transactions) and the table's filter/sort/selection.
//! Pure data and logic, no drawing: tested without a window.

use std::collections::BTreeSet;
use std::sync::Arc;

use gs_types::chrono::NaiveDate;
use gs_types::{EvidenceFile, EvidenceStatus, Money, Severity, Transaction};
use serde::{Deserialize, Serialize};

/// Preferences stored by eframe between runs (UI only; case data lives in the case file).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct UiPrefs {
    /// UI language.
    pub lang: gs_ui::Lang,
    /// Recently opened evidence folders, newest first (max 10).
    pub recent: Vec<String>,
    /// Evidence panel filter.
    pub problems_only: bool,
}

impl Default for UiPrefs {
    fn default() -> Self {
        let lang =
            sys_locale::get_locale().map_or(gs_ui::Lang::De, |l| gs_ui::Lang::from_locale(&l));
        Self {
            lang,
            recent: Vec::new(),
            problems_only: false,
        }
    }
}

/// Table columns that can be sorted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SortColumn {
    /// Booking date.
    BookingDate,
    /// Value date.
    ValueDate,
    /// Amount.
    Amount,
    /// Account (IBAN / number).
    Account,
    /// Counterparty name.
    Counterparty,
    /// Purpose.
    Purpose,
    /// Channel.
    Channel,
    /// Evidence path + locator.
    Source,
}

/// The transaction filter (all parts combined with AND; empty parts ignored).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TxFilter {
    /// Case-insensitive text searched in names, purpose, booking text, IBANs, references.
    pub text: String,
    /// Earliest booking date.
    pub date_from: Option<NaiveDate>,
    /// Latest booking date.
    pub date_to: Option<NaiveDate>,
    /// Smallest absolute amount.
    pub amount_min: Option<Money>,
    /// Largest absolute amount.
    pub amount_max: Option<Money>,
    /// Statement account key.
    pub account: Option<String>,
}

impl TxFilter {
    /// True when nothing is filtered.
    pub fn is_empty(&self) -> bool {
        *self == TxFilter::default()
    }

    fn matches(&self, t: &Transaction, needle: &str) -> bool {
        if let Some(d) = self.date_from
            && t.booking_date < d
        {
            return false;
        }
        if let Some(d) = self.date_to
            && t.booking_date > d
        {
            return false;
        }
        let abs = t.amount.abs();
        if self.amount_min.is_some_and(|m| abs < m) || self.amount_max.is_some_and(|m| abs > m) {
            return false;
        }
        if let Some(a) = &self.account
            && t.account.account_key().as_ref() != Some(a)
        {
            return false;
        }
        if needle.is_empty() {
            return true;
        }
        let fields = [
            t.account.name.as_deref(),
            t.account.iban.as_deref(),
            t.account.account_number.as_deref(),
            t.counterparty.name.as_deref(),
            t.counterparty.iban.as_deref(),
            t.counterparty.account_number.as_deref(),
            t.purpose.as_deref(),
            t.booking_text.as_deref(),
            t.end_to_end_ref.as_deref(),
            t.mandate_ref.as_deref(),
            Some(t.evidence_path.as_str()),
        ];
        fields.iter().flatten().any(|f| contains_ci(f, needle))
    }
}

/// Case-insensitive `contains` without allocating for ASCII haystacks.
fn contains_ci(haystack: &str, needle_lower: &str) -> bool {
    if haystack.is_ascii() && needle_lower.is_ascii() {
        let h = haystack.as_bytes();
        let n = needle_lower.as_bytes();
        if n.len() > h.len() {
            return false;
        }
        return h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n));
    }
    haystack.to_lowercase().contains(needle_lower)
}

/// The loaded case.
#[derive(Default)]
pub struct Case {
    /// Evidence manifest (all batches, sorted by path).
    pub evidence: Vec<EvidenceFile>,
    /// All transactions (shared with views and benchmarks without copying).
    pub transactions: Arc<Vec<Transaction>>,
    /// Statement accounts, sorted.
    pub accounts: Vec<String>,
    /// Rows marked as mirrors.
    pub mirrors: usize,
    /// Name shown in the title (first evidence folder).
    pub name: Option<String>,
    /// Earliest and latest booking date (computed once per change, not per frame).
    pub span: Option<(NaiveDate, NaiveDate)>,
}

impl Case {
    /// Adds an ingest result: byte-identical files already loaded are listed as duplicates,
    /// mirrors are re-linked over the whole case.
    pub fn merge(&mut self, mut result: gs_ingest::IngestResult, window_days: i64) {
        let known: BTreeSet<String> = self.evidence.iter().map(|e| e.sha256.clone()).collect();
        let mut dropped: BTreeSet<String> = BTreeSet::new();
        for e in &mut result.manifest {
            if known.contains(&e.sha256)
                && matches!(e.status, EvidenceStatus::Loaded { .. })
                && e.format.as_deref() != Some("ZIP archive")
            {
                e.status = EvidenceStatus::Skipped {
                    reason: "identical content already loaded in this case".to_owned(),
                };
                dropped.insert(e.path.clone());
            }
        }
        let mut txs: Vec<Transaction> =
            Arc::unwrap_or_clone(std::mem::take(&mut self.transactions));
        txs.extend(
            result
                .transactions
                .into_iter()
                .filter(|t| !dropped.contains(&t.evidence_path)),
        );
        for t in &mut txs {
            t.mirror_of = None;
        }
        self.mirrors = gs_ingest::mirror::link_mirrors(&mut txs, window_days);
        self.evidence.extend(result.manifest);
        self.evidence.sort_by(|a, b| a.path.cmp(&b.path));
        self.transactions = Arc::new(txs);
        self.recompute();
    }

    /// Recomputes the derived fields (accounts, date span) after `transactions` changed.
    pub fn recompute(&mut self) {
        let txs = &self.transactions;
        let accounts: BTreeSet<String> =
            txs.iter().filter_map(|t| t.account.account_key()).collect();
        self.accounts = accounts.into_iter().collect();
        let min = txs.iter().map(|t| t.booking_date).min();
        let max = txs.iter().map(|t| t.booking_date).max();
        self.span = min.zip(max);
    }

    /// A cheap copy for a background job to merge into (transactions are shared, not copied).
    #[must_use]
    pub fn snapshot(&self) -> Case {
        Case {
            evidence: self.evidence.clone(),
            transactions: Arc::clone(&self.transactions),
            accounts: self.accounts.clone(),
            mirrors: self.mirrors,
            name: self.name.clone(),
            span: self.span,
        }
    }

    /// Files with failures, warnings or dropped rows.
    pub fn has_problem(e: &EvidenceFile) -> bool {
        matches!(e.status, EvidenceStatus::Failed { .. })
            || e.issues.iter().any(|i| i.severity >= Severity::Warning)
    }

    /// Earliest and latest booking date.
    pub fn date_span(&self) -> Option<(NaiveDate, NaiveDate)> {
        self.span
    }
}

/// Filtered and sorted view of the transactions.
#[derive(Clone, Debug, Default)]
pub struct TableView {
    /// Active filter.
    pub filter: TxFilter,
    /// Sort column and ascending flag.
    pub sort: Option<(SortColumn, bool)>,
    /// Indices into the case's transactions, in display order.
    pub rows: Vec<u32>,
    /// Selected transaction (index into the case's transactions).
    pub selected: Option<usize>,
}

impl TableView {
    /// Recomputes `rows` from the case, the filter and the sort order.
    pub fn refresh(&mut self, case: &Case) {
        let needle = self.filter.text.trim().to_lowercase();
        let txs = &case.transactions;
        self.rows = txs
            .iter()
            .enumerate()
            .filter(|(_, t)| self.filter.matches(t, &needle))
            .map(|(i, _)| i as u32)
            .collect();
        if let Some((col, asc)) = self.sort {
            sort_rows(&mut self.rows, txs, col, asc);
        }
        if let Some(s) = self.selected
            && s >= txs.len()
        {
            self.selected = None;
        }
    }

    /// Sorts by `col`; the same column again flips the order.
    pub fn sort_by(&mut self, col: SortColumn, case: &Case) {
        let asc = match self.sort {
            Some((c, asc)) if c == col => !asc,
            _ => true,
        };
        self.sort = Some((col, asc));
        sort_rows(&mut self.rows, &case.transactions, col, asc);
    }
}

fn sort_rows(rows: &mut [u32], txs: &[Transaction], col: SortColumn, asc: bool) {
    let t = |i: &u32| &txs[*i as usize];
    // Stable sorts keep file order among equal keys: reproducible displays.
    match col {
        SortColumn::BookingDate => rows.sort_by_key(|i| t(i).booking_date),
        SortColumn::ValueDate => rows.sort_by_key(|i| t(i).value_date),
        SortColumn::Amount => rows.sort_by_key(|i| t(i).amount),
        // The account key is built (allocated) once per row, not once per comparison.
        SortColumn::Account => rows.sort_by_cached_key(|i| t(i).account.account_key()),
        SortColumn::Counterparty => {
            rows.sort_by(|a, b| t(a).counterparty.name.cmp(&t(b).counterparty.name));
        }
        SortColumn::Purpose => rows.sort_by(|a, b| t(a).purpose.cmp(&t(b).purpose)),
        SortColumn::Channel => rows.sort_by_key(|i| t(i).channel),
        SortColumn::Source => rows.sort_by(|a, b| {
            (&t(a).evidence_path, &t(a).locator).cmp(&(&t(b).evidence_path, &t(b).locator))
        }),
    }
    if !asc {
        rows.reverse();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gs_types::PartyRef;

    fn tx(day: u32, cents: i64, name: &str) -> Transaction {
        Transaction {
            booking_date: NaiveDate::from_ymd_opt(2025, 3, day).unwrap(),
            amount: Money(cents),
            currency: "EUR".into(),
            account: PartyRef {
                iban: Some("DE89370400440532013000".into()),
                ..Default::default()
            },
            counterparty: PartyRef {
                name: Some(name.into()),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn case() -> Case {
        Case {
            transactions: Arc::new(vec![
                tx(3, -5000, "Müller GmbH"),
                tx(1, 120_000, "Arbeitgeber AG"),
                tx(2, -999_000, "Bargeld"),
            ]),
            ..Default::default()
        }
    }

    #[test]
    fn filter_and_sort() {
        let c = case();
        let mut v = TableView::default();
        v.refresh(&c);
        assert_eq!(v.rows, vec![0, 1, 2]);
        v.sort_by(SortColumn::BookingDate, &c);
        assert_eq!(v.rows, vec![1, 2, 0]);
        v.sort_by(SortColumn::BookingDate, &c);
        assert_eq!(v.rows, vec![0, 2, 1]);
        v.filter.text = "MÜLLER".into();
        v.refresh(&c);
        assert_eq!(v.rows, vec![0]);
        v.filter = TxFilter {
            amount_min: Some(Money(100_000)),
            ..Default::default()
        };
        v.refresh(&c);
        assert_eq!(
            v.rows,
            vec![2, 1],
            "absolute amounts, sort kept (descending dates)"
        );
        v.filter = TxFilter {
            date_to: NaiveDate::from_ymd_opt(2025, 3, 1),
            ..Default::default()
        };
        v.refresh(&c);
        assert_eq!(v.rows, vec![1]);
    }
}
