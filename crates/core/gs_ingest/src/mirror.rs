//! Mirror detection: the same transfer seen in the payer's and in the payee's statement (or in
//! a statement and a ledger). Both rows are kept with their provenance; the second one gets
//! `mirror_of = <primary tx_id>` so that later stages count the money once.

use std::collections::HashMap;

use gs_types::{Iban, PartyRef, SourceKind, Transaction, TxId};
use polars::prelude::{DataFrame, IdxCa, IdxSize, IntoColumn, PolarsResult, StringChunked};

/// A comparable account key: IBAN, or a German BLZ + account number converted to IBAN,
/// or the raw account key.
fn match_key(p: &PartyRef) -> Option<String> {
    if let Some(i) = &p.iban {
        return Some(i.clone());
    }
    if let (Some(blz), Some(acct)) = (&p.bank_code, &p.account_number)
        && let Some(iban) = Iban::from_german_account(blz, acct)
    {
        return Some(iban.as_str().to_owned());
    }
    p.account_key()
}

/// Account keys interned to small integers: computed once per row, compared as integers.
struct Keys {
    account: Vec<Option<u32>>,
    counterparty: Vec<Option<u32>>,
}

impl Keys {
    fn new(txs: &[Transaction]) -> Self {
        let mut ids: HashMap<String, u32> = HashMap::new();
        let mut intern = |p: &PartyRef| -> Option<u32> {
            // Fast path: an IBAN is its own key; look it up without allocating.
            if let Some(i) = &p.iban {
                if let Some(&id) = ids.get(i.as_str()) {
                    return Some(id);
                }
                let id = ids.len() as u32;
                ids.insert(i.clone(), id);
                return Some(id);
            }
            let k = match_key(p)?;
            let n = ids.len() as u32;
            Some(*ids.entry(k).or_insert(n))
        };
        let mut account = Vec::with_capacity(txs.len());
        let mut counterparty = Vec::with_capacity(txs.len());
        for t in txs {
            account.push(intern(&t.account));
            counterparty.push(intern(&t.counterparty));
        }
        Self {
            account,
            counterparty,
        }
    }

    /// (payer, payee) keys from the amount's sign.
    fn payer_payee(&self, txs: &[Transaction], i: usize) -> (Option<u32>, Option<u32>) {
        if txs[i].amount.is_negative() {
            (self.account[i], self.counterparty[i])
        } else {
            (self.counterparty[i], self.account[i])
        }
    }
}

/// Whose view a row is written from: the statement's account, or the ledger file.
#[derive(PartialEq, Eq)]
enum Perspective<'a> {
    Account(Option<u32>),
    Ledger(&'a str),
}

fn perspective<'a>(txs: &'a [Transaction], keys: &Keys, i: usize) -> Perspective<'a> {
    match txs[i].source_kind {
        SourceKind::Statement => Perspective::Account(keys.account[i]),
        SourceKind::Ledger => Perspective::Ledger(txs[i].evidence_id.0.as_str()),
    }
}

fn by_date(txs: &[Transaction], x: usize, y: usize) -> std::cmp::Ordering {
    (txs[x].booking_date, &txs[x].tx_id).cmp(&(txs[y].booking_date, &txs[y].tx_id))
}

/// Links mirrored rows in place; returns the number of rows marked as mirrors.
/// Rows match when payer, payee, currency and absolute amount are equal, booking dates are at
/// most `window_days` apart, and they are written from different perspectives. Where both rows
/// carry an end-to-end reference, the references must be equal.
pub fn link_mirrors(txs: &mut [Transaction], window_days: i64) -> usize {
    // Rows written from one perspective only (one account's statements, or one ledger file)
    // cannot mirror each other: skip the key interning and grouping (0.6 s for a
    // million-row single-account export).
    if single_perspective(txs) {
        return 0;
    }
    let keys = Keys::new(txs);
    let pairs = {
        let txs: &[Transaction] = txs;
        let mut pairs = first_pass(txs, &keys, window_days);
        second_pass(txs, &keys, window_days, &mut pairs);
        pairs
    };
    let mut marked = 0;
    for (x, y) in pairs {
        // Primary: the payer's own statement row (the money's origin), else the earlier row.
        let payer_view =
            |t: &Transaction| t.source_kind == SourceKind::Statement && t.amount.is_negative();
        let (primary, mirror) = if payer_view(&txs[y]) && !payer_view(&txs[x]) {
            (y, x)
        } else {
            (x, y)
        };
        let pid = txs[primary].tx_id.clone();
        if txs[mirror].mirror_of.is_none() && txs[primary].mirror_of.is_none() {
            txs[mirror].mirror_of = Some(pid);
            marked += 1;
        }
    }
    marked
}

/// The string columns [`link_mirrors`] reads (keep in step with it: the frame-mode tests
/// compare both ways on the demo case's mirrored transfers).
const MIRROR_FIELDS: &[&str] = &[
    "tx_id",
    "evidence_id",
    "source_kind",
    "currency",
    "account_iban",
    "account_number",
    "account_bank_code",
    "counterparty_iban",
    "counterparty_account",
    "counterparty_bank_code",
    "end_to_end_ref",
    "mirror_of",
];

/// [`link_mirrors`] on a canonical frame (frame mode): sets the `mirror_of` column. Rows
/// written from one perspective (one account's statements, one ledger file: the big-export
/// case) are recognised on the columns. Otherwise the fields mirror linking reads are read
/// back into (otherwise empty) transactions, linked and the column replaced.
pub fn link_mirrors_in_frame(df: &mut DataFrame, window_days: i64) -> PolarsResult<usize> {
    if single_perspective_in_frame(df)? {
        return Ok(0);
    }
    // Both passes pair rows of equal currency and absolute amount only, and only rows of
    // different perspectives. So only (currency, |amount|) buckets holding rows of two or
    // more written perspectives can give pairs, and linking just those buckets' rows gives
    // the same pairs as linking all rows (a million-row export beside a few statements of
    // other accounts: a few thousand rows instead of a million).
    let rows = mirror_candidates(df)?;
    if rows.is_empty() {
        return Ok(0);
    }
    let idx = IdxCa::from_vec("idx".into(), rows.iter().map(|&r| r as IdxSize).collect());
    let subset = df.take(&idx)?;
    let mut txs = gs_types::schema::from_frame_fields(&subset, &|c| MIRROR_FIELDS.contains(&c))?;
    let n = link_mirrors(&mut txs, window_days);
    if n > 0 {
        let mut linked: std::collections::HashMap<usize, &str> = std::collections::HashMap::new();
        for (&row, t) in rows.iter().zip(&txs) {
            if let Some(m) = &t.mirror_of {
                linked.insert(row, m.0.as_str());
            }
        }
        let old = df.column("mirror_of")?.str()?.clone();
        let col: StringChunked = old
            .iter()
            .enumerate()
            .map(|(i, v)| linked.get(&i).copied().or(v))
            .collect();
        df.replace("mirror_of", col.with_name("mirror_of".into()).into_column())?;
    }
    Ok(n)
}

/// Rows in (currency, |amount|) buckets that hold rows written from two or more perspectives
/// (raw statement account, or the ledger file), in row order.
fn mirror_candidates(df: &DataFrame) -> PolarsResult<Vec<usize>> {
    let s = |name: &str| -> PolarsResult<&StringChunked> { df.column(name)?.str() };
    let (kind, evidence, iban, number, bank, currency) = (
        s("source_kind")?,
        s("evidence_id")?,
        s("account_iban")?,
        s("account_number")?,
        s("account_bank_code")?,
        s("currency")?,
    );
    let amount = df.column("amount_cents")?.i64()?;
    let mut perspectives: HashMap<[Option<&str>; 4], u32> = HashMap::new();
    // bucket → (first perspective, several perspectives seen)
    let mut buckets: HashMap<(i64, Option<&str>), (u32, bool)> = HashMap::new();
    let mut keys: Vec<(i64, Option<&str>)> = Vec::with_capacity(df.height());
    let ledger = Some(SourceKind::Ledger.as_str());
    for ((((k, e), (i, nb)), b), (a, c)) in kind
        .iter()
        .zip(evidence.iter())
        .zip(iban.iter().zip(number.iter()))
        .zip(bank.iter())
        .zip(amount.iter().zip(currency.iter()))
    {
        let p = if k == ledger {
            [k, e, None, None]
        } else {
            [k, i, nb, b]
        };
        let next = perspectives.len() as u32;
        let pid = *perspectives.entry(p).or_insert(next);
        let key = (a.unwrap_or(0).abs(), c);
        buckets
            .entry(key)
            .and_modify(|(first, many)| *many |= *first != pid)
            .or_insert((pid, false));
        keys.push(key);
    }
    Ok(keys
        .iter()
        .enumerate()
        .filter(|(_, k)| buckets.get(k).is_some_and(|&(_, many)| many))
        .map(|(i, _)| i)
        .collect())
}

/// [`single_perspective`] on the frame's columns.
fn single_perspective_in_frame(df: &DataFrame) -> PolarsResult<bool> {
    if df.height() == 0 {
        return Ok(true);
    }
    let one = |name: &str| gs_types::schema::one_str_value(df.column(name)?);
    let Some(kind) = one("source_kind")? else {
        return Ok(false);
    };
    Ok(if kind == Some(SourceKind::Ledger.as_str()) {
        one("evidence_id")?.is_some()
    } else {
        one("account_iban")?.is_some()
            && one("account_bank_code")?.is_some()
            && one("account_number")?.is_some()
    })
}

/// True when every row is written from the same perspective (see [`perspective`]): the same
/// statement account (same IBAN, bank code and account number), or the same ledger file.
fn single_perspective(txs: &[Transaction]) -> bool {
    let Some(first) = txs.first() else {
        return true;
    };
    let same_account = |t: &Transaction| {
        t.account.iban == first.account.iban
            && t.account.bank_code == first.account.bank_code
            && t.account.account_number == first.account.account_number
    };
    txs.iter().all(|t| {
        t.source_kind == first.source_kind
            && match t.source_kind {
                SourceKind::Statement => same_account(t),
                SourceKind::Ledger => t.evidence_id == first.evidence_id,
            }
    })
}

fn first_pass(txs: &[Transaction], keys: &Keys, window_days: i64) -> Vec<(usize, usize)> {
    // Group by (payer, payee, |amount|, currency) by sorting row indices: no map entry or vector
    // per group, which matters with a million rows and almost as many distinct groups.
    let mut rows: Vec<(u32, u32, i64, usize)> = Vec::new();
    for (i, t) in txs.iter().enumerate() {
        if t.amount.cents() == 0 || t.reversal {
            continue;
        }
        let (Some(a), Some(b)) = keys.payer_payee(txs, i) else {
            continue;
        };
        if a != b {
            rows.push((a, b, t.amount.cents().abs(), i));
        }
    }
    let group_key = |r: &(u32, u32, i64, usize)| (r.0, r.1, r.2, txs[r.3].currency.as_str());
    rows.sort_unstable_by(|x, y| {
        group_key(x)
            .cmp(&group_key(y))
            .then_with(|| by_date(txs, x.3, y.3))
    });
    let mut pairs = Vec::new();
    let mut start = 0;
    while start < rows.len() {
        let mut end = start + 1;
        while end < rows.len() && group_key(&rows[end]) == group_key(&rows[start]) {
            end += 1;
        }
        if end - start >= 2 {
            let idx: Vec<usize> = rows[start..end].iter().map(|r| r.3).collect();
            pair_group(txs, keys, window_days, &idx, &mut pairs);
        }
        start = end;
    }
    pairs
}

/// Pairs rows of one group (sorted by date) greedily: each with the next unpaired row of another
/// perspective within the window.
fn pair_group(
    txs: &[Transaction],
    keys: &Keys,
    window_days: i64,
    idx: &[usize],
    pairs: &mut Vec<(usize, usize)>,
) {
    let mut used = vec![false; idx.len()];
    for i in 0..idx.len() {
        if used[i] {
            continue;
        }
        let a = &txs[idx[i]];
        let pa = perspective(txs, keys, idx[i]);
        for j in i + 1..idx.len() {
            if used[j] {
                continue;
            }
            let b = &txs[idx[j]];
            if (b.booking_date - a.booking_date).num_days() > window_days {
                break;
            }
            if perspective(txs, keys, idx[j]) == pa {
                continue;
            }
            if let (Some(ea), Some(eb)) = (&a.end_to_end_ref, &b.end_to_end_ref)
                && ea != eb
            {
                continue;
            }
            used[i] = true;
            used[j] = true;
            pairs.push((idx[i], idx[j]));
            break;
        }
    }
}

/// Many exports (ING, PDF statements) name the counterparty without its IBAN. Such a row of
/// account A matches an unpaired row of account B whose counterparty *is* A, with the same
/// absolute amount and currency, opposite sign and a booking date in the window.
fn second_pass(
    txs: &[Transaction],
    keys: &Keys,
    window_days: i64,
    pairs: &mut Vec<(usize, usize)>,
) {
    let mut paired = vec![false; txs.len()];
    for &(x, y) in pairs.iter() {
        paired[x] = true;
        paired[y] = true;
    }
    let eligible = |i: usize| {
        let t = &txs[i];
        !paired[i]
            && !t.reversal
            && t.amount.cents() != 0
            && t.source_kind == SourceKind::Statement
            && keys.account[i].is_some()
    };
    let open: Vec<usize> = (0..txs.len())
        .filter(|&i| eligible(i) && keys.counterparty[i].is_none())
        .collect();
    let open_accounts: std::collections::HashSet<u32> =
        open.iter().filter_map(|&i| keys.account[i]).collect();
    // Only rows that could answer an open row are indexed.
    let mut by_cp: HashMap<(u32, i64, &str), Vec<usize>> = HashMap::new();
    for (i, t) in txs.iter().enumerate() {
        if let Some(cp) = keys.counterparty[i]
            && open_accounts.contains(&cp)
            && eligible(i)
        {
            by_cp
                .entry((cp, t.amount.cents().abs(), t.currency.as_str()))
                .or_default()
                .push(i);
        }
    }
    let mut open = open;
    open.sort_by(|&x, &y| by_date(txs, x, y));
    for i in open {
        let a = &txs[i];
        let Some(acct) = keys.account[i] else {
            continue;
        };
        let Some(cands) = by_cp.get(&(acct, a.amount.cents().abs(), a.currency.as_str())) else {
            continue;
        };
        let mut best: Option<(i64, &TxId, usize)> = None;
        for &j in cands {
            let b = &txs[j];
            if paired[j]
                || b.amount.is_negative() == a.amount.is_negative()
                || keys.account[j] == Some(acct)
            {
                continue;
            }
            let days = (b.booking_date - a.booking_date).num_days().abs();
            if days > window_days {
                continue;
            }
            if let (Some(ea), Some(eb)) = (&a.end_to_end_ref, &b.end_to_end_ref)
                && ea != eb
            {
                continue;
            }
            if best.is_none_or(|(d, id, _)| (days, &b.tx_id) < (d, id)) {
                best = Some((days, &b.tx_id, j));
            }
        }
        if let Some((_, _, j)) = best {
            paired[i] = true;
            paired[j] = true;
            pairs.push((i, j));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gs_types::{Money, TxId};

    fn party(iban: &str) -> PartyRef {
        PartyRef {
            iban: Some(iban.into()),
            ..Default::default()
        }
    }

    fn tx(id: &str, acct: &str, cp: &str, cents: i64, day: u32) -> Transaction {
        Transaction {
            tx_id: TxId(id.into()),
            account: party(acct),
            counterparty: party(cp),
            amount: Money(cents),
            currency: "EUR".into(),
            booking_date: gs_types::chrono::NaiveDate::from_ymd_opt(2025, 3, day).unwrap(),
            ..Default::default()
        }
    }

    const A: &str = "DE89370400440532013000";
    const B: &str = "DE02120300000000202051";

    #[test]
    fn frame_linking_looks_only_at_shared_amounts_and_gives_the_same_pairs() {
        let c = "DE75512108001245126199";
        let txs = vec![
            tx("a1", A, B, -5000, 3),  // bucket 50 € also seen from B: candidate
            tx("a2", A, c, -700, 3),   // 7 € only from A's view: not a candidate
            tx("a3", A, c, -700, 9),   // 7 € only from A's view: not a candidate
            tx("b1", B, A, 5000, 4),   // candidate (mirror of a1)
            tx("b2", B, c, -1234, 5),  // only B: not a candidate
            tx("a4", A, B, -5000, 30), // candidate, no partner in the window
        ];
        let mut df = gs_types::schema::to_frame(&txs).unwrap();
        assert_eq!(mirror_candidates(&df).unwrap(), vec![0, 3, 5]);
        let mut plain = txs.clone();
        let n = link_mirrors(&mut plain, 4);
        assert_eq!(link_mirrors_in_frame(&mut df, 4).unwrap(), n);
        assert_eq!(n, 1);
        assert!(
            gs_types::schema::to_frame(&plain)
                .unwrap()
                .equals_missing(&df)
        );
    }

    #[test]
    fn links_payer_and_payee_views() {
        let mut txs = vec![
            tx("in", B, A, 5000, 4),
            tx("out", A, B, -5000, 3),
            tx("other", A, B, -5000, 20),
        ];
        assert_eq!(link_mirrors(&mut txs, 4), 1);
        assert_eq!(
            txs[0].mirror_of,
            Some(TxId("out".into())),
            "payee row mirrors the payer row"
        );
        assert_eq!(txs[1].mirror_of, None);
        assert_eq!(
            txs[2].mirror_of, None,
            "a second transfer 17 days later is not a mirror"
        );
    }

    #[test]
    fn same_account_twice_is_not_a_mirror() {
        let mut txs = vec![tx("r1", A, B, -5000, 3), tx("r2", A, B, -5000, 3)];
        assert!(single_perspective(&txs));
        assert_eq!(link_mirrors(&mut txs, 4), 0);
    }

    #[test]
    fn one_perspective_is_recognised_and_two_are_not() {
        // one account's statement, even with a look-alike in and out
        let one = vec![tx("o", A, B, -5000, 3), tx("i", A, B, 5000, 3)];
        assert!(single_perspective(&one));
        assert!(single_perspective(&[]));
        // a second account, or the same account written as bank code + number
        let two = vec![tx("o", A, B, -5000, 3), tx("i", B, A, 5000, 3)];
        assert!(!single_perspective(&two));
        let mut other_form = tx("x", A, B, -5000, 3);
        other_form.account = PartyRef {
            bank_code: Some("37040044".into()),
            account_number: Some("532013000".into()),
            ..Default::default()
        };
        assert!(!single_perspective(&[tx("o", A, B, -5000, 3), other_form]));
        // a ledger row next to a statement row
        let mut ledger = tx("l", A, B, -5000, 3);
        ledger.source_kind = SourceKind::Ledger;
        assert!(!single_perspective(&[tx("o", A, B, -5000, 3), ledger]));
    }

    #[test]
    fn counterparty_without_iban_matches_the_other_statement() {
        let mut out = tx("out", A, B, -2290, 6);
        out.counterparty = PartyRef {
            name: Some("Erika Muster".into()),
            ..Default::default()
        };
        let mut txs = vec![out, tx("in", B, A, 2290, 6), tx("later", B, A, 2290, 30)];
        assert_eq!(link_mirrors(&mut txs, 4), 1);
        assert_eq!(txs[1].mirror_of, Some(TxId("out".into())));
        assert_eq!(txs[2].mirror_of, None);
        // Same sign on both sides is not a mirror.
        let mut out2 = tx("o2", A, B, 2290, 6);
        out2.counterparty = PartyRef::default();
        let mut t2 = vec![out2, tx("i2", B, A, 2290, 6)];
        assert_eq!(link_mirrors(&mut t2, 4), 0);
    }

    #[test]
    fn german_account_numbers_match_ibans() {
        let mut a = tx("out", A, B, -700, 3);
        a.counterparty = PartyRef {
            bank_code: Some("12030000".into()),
            account_number: Some("202051".into()),
            ..Default::default()
        };
        let mut txs = vec![a, tx("in", B, A, 700, 3)];
        assert_eq!(link_mirrors(&mut txs, 4), 1);
    }
}
