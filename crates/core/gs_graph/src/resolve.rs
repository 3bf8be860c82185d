//! Entity resolution: which transaction sides belong to the same party.
//!
//! Every side of every transaction is reduced to one *identity key* (an "atom"):
//! `IBAN:<validated IBAN>` (also when the IBAN was derived from a German BLZ + Kontonummer),
//! `ACCT:<account text>` for accounts without a valid IBAN, `NAME:<normalised name>` for sides
//! that carry only a name, and the special keys `CASH` and `UNKNOWN`. Equal keys are the same
//! party by fact. Similar names of different keys are only *proposals*: they are merged when
//! the caller accepts proposals ([`ResolveOptions::accept_proposals`]) or a manual decision
//! says so ([`ManualDecisions`]). Every merge is recorded with its reason and confidence.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use gs_types::{Channel, Iban, PartyRef, Transaction, iban};
use serde::{Deserialize, Serialize};

use crate::util::{self, NormName};

/// Index of a party in [`Parties::parties`]. Parties are sorted by [`Party::uid`], so the
/// index is the same for the same input in any order; across different evidence sets use
/// the `uid`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct PartyId(pub u32);

impl PartyId {
    /// As a vector index.
    pub fn idx(self) -> usize {
        self.0 as usize
    }
}

/// What a party is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartyKind {
    /// Identified by at least one account (IBAN or account number).
    Account,
    /// Known only by name.
    NameOnly,
    /// Cash paid in or taken out (one pseudo-party).
    Cash,
    /// A side with nothing to identify it (one pseudo-party).
    Unknown,
}

/// A resolved party.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Party {
    /// Index in the sorted party list.
    pub id: PartyId,
    /// Stable id: `CASH`, `UNKNOWN`, or `P-` + 12 hex digits of a hash of the smallest
    /// identity key. Does not depend on input order.
    pub uid: String,
    /// Kind.
    pub kind: PartyKind,
    /// Most frequent written name (ties: alphabetically first).
    pub display_name: String,
    /// Distinct written names (sorted; at most [`MAX_NAMES`] kept).
    pub names: Vec<String>,
    /// Normalised name (sorted tokens, legal form removed) of the display name.
    pub normalized_name: String,
    /// Legal form found in the display name.
    pub legal_form: Option<String>,
    /// Validated IBANs (sorted).
    pub ibans: Vec<String>,
    /// IBANs that were derived from BLZ + Kontonummer (subset of `ibans`).
    pub derived_ibans: Vec<String>,
    /// Account texts without a valid IBAN (invalid IBANs, foreign account numbers).
    pub other_accounts: Vec<String>,
    /// BICs seen (sorted).
    pub bics: Vec<String>,
    /// Countries of the party's accounts (IBAN country, else BIC country); payment corridor
    /// only, never a person's nationality.
    pub account_countries: Vec<String>,
    /// Identity keys merged into this party (sorted).
    pub keys: Vec<String>,
    /// Category ids from the category list (sorted).
    pub categories: Vec<String>,
    /// True when the evidence shows this party's own account activity (statement account or
    /// a side of a ledger row), so its in- and outflows are fully visible.
    pub observed: bool,
    /// Number of (non-mirror) transactions on either side.
    pub tx_count: u32,
}

/// Most distinct written names kept per party (a bank statement repeats the holder's name on
/// every row; keeping every variant of a hub's counterparty names would only cost memory).
pub const MAX_NAMES: usize = 64;

/// How certain a merge is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeKind {
    /// Same identity key (same IBAN): a fact.
    Fact,
    /// IBAN computed from BLZ + Kontonummer by the plain rule (bank exceptions possible).
    Derived,
    /// Name similarity only: not merged unless accepted.
    Proposal,
    /// A manual decision.
    Manual,
}

/// Why sides were (or could be) merged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MergeReason {
    /// The two identity keys concerned (sorted).
    pub keys: [String; 2],
    /// Kind.
    pub kind: MergeKind,
    /// Human-readable reason, e.g. `same IBAN`, `name similarity 0.93 + same bank`.
    pub reason: String,
    /// Confidence in 0..=1.
    pub confidence: f64,
    /// Whether the merge was applied.
    pub applied: bool,
}

/// Manual merge/split decisions applied on top of the automatic resolution (identity keys as
/// in [`Party::keys`], e.g. `IBAN:DE89370400440532013000`, `NAME:anna schmidt`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManualDecisions {
    /// Groups of keys that are one party.
    pub merge: Vec<Vec<String>>,
    /// Pairs of keys that must stay apart (blocks proposals between their parties).
    pub split: Vec<[String; 2]>,
}

/// Resolution parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResolveOptions {
    /// Jaro-Winkler similarity of normalised names from which a proposal is made.
    pub name_threshold: f64,
    /// Merge name proposals (default false: name-only matches of different accounts stay apart).
    pub accept_proposals: bool,
    /// Name tokens shared by more parties than this are not used for candidate pairs (keeps
    /// fuzzy matching near-linear; such tokens are common surnames or words like "gmbh").
    pub max_block: usize,
    /// Upper bound on compared name pairs.
    pub max_pairs: usize,
}

impl Default for ResolveOptions {
    fn default() -> Self {
        Self {
            name_threshold: 0.92,
            accept_proposals: false,
            max_block: 200,
            max_pairs: 5_000_000,
        }
    }
}

/// One category of counterparties.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryDef {
    /// Id (e.g. `money_service`).
    pub id: String,
    /// German label.
    #[serde(default)]
    pub label_de: String,
    /// English label.
    #[serde(default)]
    pub label_en: String,
    /// Name patterns (token sequences).
    #[serde(default)]
    pub name_patterns: Vec<String>,
    /// BIC prefixes.
    #[serde(default)]
    pub bic_prefixes: Vec<String>,
    /// Canonical legal forms.
    #[serde(default)]
    pub legal_forms: Vec<String>,
}

/// The versioned category list (`assets/counterparty_categories.toml`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryList {
    /// Version of the list.
    pub version: String,
    /// Categories.
    #[serde(default, rename = "category")]
    pub categories: Vec<CategoryDef>,
}

/// Errors loading data files.
#[derive(Debug, thiserror::Error)]
pub enum DataFileError {
    /// File could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// Path.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// TOML did not parse.
    #[error("invalid data file {path}: {message}")]
    Parse {
        /// Path or `<embedded>`.
        path: String,
        /// Parser message.
        message: String,
    },
}

pub(crate) fn load_toml<T: serde::de::DeserializeOwned>(
    path: &std::path::Path,
) -> Result<T, DataFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| DataFileError::Io {
        path: path.display().to_string(),
        source,
    })?;
    parse_toml(&text, &path.display().to_string())
}

pub(crate) fn parse_toml<T: serde::de::DeserializeOwned>(
    text: &str,
    path: &str,
) -> Result<T, DataFileError> {
    toml::from_str(text).map_err(|e| DataFileError::Parse {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

const DEFAULT_CATEGORIES: &str = include_str!("../../../../assets/counterparty_categories.toml");

impl CategoryList {
    /// The shipped list.
    pub fn default_list() -> Self {
        parse_toml(
            DEFAULT_CATEGORIES,
            "<embedded counterparty_categories.toml>",
        )
        .unwrap_or_default()
    }

    /// Loads a user list.
    pub fn load(path: &std::path::Path) -> Result<Self, DataFileError> {
        load_toml(path)
    }

    /// Name patterns as token lists, per category (computed once per resolution).
    fn pattern_tokens(&self) -> Vec<Vec<Vec<String>>> {
        self.categories
            .iter()
            .map(|c| {
                c.name_patterns
                    .iter()
                    .map(|p| util::tokens(p))
                    .filter(|t| !t.is_empty())
                    .collect()
            })
            .collect()
    }

    /// Category ids matching a party (sorted, distinct).
    fn match_party(
        &self,
        pats: &[Vec<Vec<String>>],
        names: &[String],
        bics: &[String],
        legal_forms: &[String],
    ) -> Vec<String> {
        let name_toks: Vec<Vec<String>> = names.iter().map(|n| util::tokens(n)).collect();
        let mut out = BTreeSet::new();
        for (c, cp) in self.categories.iter().zip(pats) {
            let by_name = cp.iter().any(|pt| {
                name_toks
                    .iter()
                    .any(|nt| nt.windows(pt.len()).any(|w| w == pt.as_slice()))
            });
            let by_bic = c
                .bic_prefixes
                .iter()
                .any(|p| !p.is_empty() && bics.iter().any(|b| b.starts_with(&p.to_uppercase())));
            let by_form = c
                .legal_forms
                .iter()
                .any(|f| legal_forms.iter().any(|l| l == f));
            if by_name || by_bic || by_form {
                out.insert(c.id.clone());
            }
        }
        out.into_iter().collect()
    }
}

/// Result of resolution.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Parties {
    /// Parties sorted by `uid`; `parties[i].id == PartyId(i)`.
    pub parties: Vec<Party>,
    /// Payer party per transaction (same index as the input).
    pub tx_payer: Vec<PartyId>,
    /// Payee party per transaction.
    pub tx_payee: Vec<PartyId>,
    /// Every merge and proposal with its reason (sorted by keys).
    pub merges: Vec<MergeReason>,
    /// Manual decision keys that matched no identity key (so the user sees typos).
    pub unmatched_manual_keys: Vec<String>,
    /// Version of the category list used.
    pub categories_version: String,
    /// (category id, German label, English label) of the list used.
    pub category_labels: Vec<(String, String, String)>,
}

impl Parties {
    /// Party by id.
    pub fn get(&self, id: PartyId) -> Option<&Party> {
        self.parties.get(id.idx())
    }

    /// True for CASH and UNKNOWN.
    pub fn is_special(&self, id: PartyId) -> bool {
        self.get(id)
            .is_none_or(|p| matches!(p.kind, PartyKind::Cash | PartyKind::Unknown))
    }
}

/// Identity key of one side.
struct SideKey {
    key: String,
    iban: Option<String>,
    derived: Option<String>,
    other_account: Option<String>,
}

fn side_key(p: &PartyRef, cash: bool) -> SideKey {
    let none = |key: String| SideKey {
        key,
        iban: None,
        derived: None,
        other_account: None,
    };
    if cash {
        return none("CASH".to_owned());
    }
    if let Some(text) = p.iban.as_deref().filter(|t| !t.trim().is_empty()) {
        let norm = iban::normalize_account_text(text);
        return match Iban::parse(&norm) {
            Ok(i) => SideKey {
                key: format!("IBAN:{i}"),
                iban: Some(i.as_str().to_owned()),
                derived: None,
                other_account: None,
            },
            Err(_) => SideKey {
                key: format!("ACCT:{norm}"),
                iban: None,
                derived: None,
                other_account: Some(norm),
            },
        };
    }
    let acct = p
        .account_number
        .as_deref()
        .map(iban::normalize_account_text)
        .filter(|a| !a.is_empty());
    let blz = p
        .bank_code
        .as_deref()
        .map(iban::normalize_account_text)
        .filter(|a| !a.is_empty());
    if let Some(a) = &acct {
        if a.len() >= 15
            && let Ok(i) = Iban::parse(a)
        {
            return SideKey {
                key: format!("IBAN:{i}"),
                iban: Some(i.as_str().to_owned()),
                derived: None,
                other_account: None,
            };
        }
        if let Some(b) = &blz {
            if let Some(i) = Iban::from_german_account(b, a) {
                return SideKey {
                    key: format!("IBAN:{i}"),
                    iban: Some(i.as_str().to_owned()),
                    derived: Some(format!("{b}/{a}")),
                    other_account: None,
                };
            }
            let t = format!("{b}/{a}");
            return SideKey {
                key: format!("ACCT:{t}"),
                iban: None,
                derived: None,
                other_account: Some(t),
            };
        }
        return SideKey {
            key: format!("ACCT:{a}"),
            iban: None,
            derived: None,
            other_account: Some(a.clone()),
        };
    }
    if let Some(n) = p.name.as_deref() {
        let nn = util::normalize_name(n);
        if !nn.sorted.is_empty() {
            return none(format!("NAME:{}", nn.sorted));
        }
    }
    none("UNKNOWN".to_owned())
}

#[derive(Default)]
struct AtomAcc {
    names: BTreeMap<String, u32>,
    bics: BTreeSet<String>,
    iban: Option<String>,
    derived_from: BTreeSet<String>,
    other_account: BTreeSet<String>,
    observed: bool,
    tx_count: u32,
}

impl AtomAcc {
    fn add(&mut self, p: &PartyRef, k: &SideKey, observed: bool) {
        if let Some(n) = p.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            if let Some(c) = self.names.get_mut(n) {
                *c += 1;
            } else if self.names.len() < MAX_NAMES {
                self.names.insert(n.to_owned(), 1);
            }
        }
        if let Some(b) = p.bic.as_deref() {
            let b = b.trim().to_uppercase();
            if iban::is_bic(&b) && self.bics.len() < MAX_NAMES {
                self.bics.insert(b);
            }
        }
        if self.iban.is_none() {
            self.iban.clone_from(&k.iban);
        }
        if let Some(d) = &k.derived
            && self.derived_from.len() < MAX_NAMES
            && !self.derived_from.contains(d)
        {
            self.derived_from.insert(d.clone());
        }
        if let Some(o) = &k.other_account
            && self.other_account.len() < MAX_NAMES
            && !self.other_account.contains(o)
        {
            self.other_account.insert(o.clone());
        }
        self.observed |= observed;
        self.tx_count = self.tx_count.saturating_add(1);
    }

    fn display_name(&self) -> Option<&str> {
        // max count; ties → alphabetically first (BTreeMap order, strict >)
        let mut best: Option<(&str, u32)> = None;
        for (n, c) in &self.names {
            if best.is_none_or(|(_, bc)| *c > bc) {
                best = Some((n.as_str(), *c));
            }
        }
        best.map(|(n, _)| n)
    }
}

/// Interns one side's identity key and adds the side to its atom (`add`: `Some(observed)`;
/// `None` for mirror rows, which only register the key). A statement repeats its own IBAN on
/// every row and counterparties recur, so the key is memoised by the raw IBAN text, or by the
/// raw name when the side has nothing else: validation and name normalisation run once per
/// distinct text.
fn visit<'a>(
    p: &'a PartyRef,
    cash: bool,
    add: Option<bool>,
    memo: &mut HashMap<(bool, &'a str), (u32, SideKey)>,
    seen: &mut HashMap<String, u32>,
    accs: &mut Vec<AtomAcc>,
) -> u32 {
    let memo_key = if cash {
        None
    } else if let Some(i) = p.iban.as_deref().filter(|t| !t.trim().is_empty()) {
        Some((true, i))
    } else if p.account_number.is_none() {
        p.name.as_deref().map(|n| (false, n))
    } else {
        None
    };
    let apply = |id: u32, k: &SideKey, accs: &mut Vec<AtomAcc>| {
        if let (Some(observed), Some(a)) = (add, accs.get_mut(id as usize)) {
            a.add(p, k, observed);
        }
    };
    if let Some(mk) = memo_key
        && let Some((id, k)) = memo.get(&mk)
    {
        apply(*id, k, accs);
        return *id;
    }
    let k = side_key(p, cash);
    let id = if let Some(&i) = seen.get(&k.key) {
        i
    } else {
        let i = accs.len() as u32;
        seen.insert(k.key.clone(), i);
        accs.push(AtomAcc::default());
        i
    };
    apply(id, &k, accs);
    if let Some(mk) = memo_key {
        memo.insert(mk, (id, k));
    }
    id
}

struct Dsu {
    parent: Vec<u32>,
}

impl Dsu {
    fn new(n: usize) -> Self {
        Self {
            parent: (0..n as u32).collect(),
        }
    }
    fn find(&mut self, mut x: u32) -> u32 {
        while let Some(&p) = self.parent.get(x as usize) {
            if p == x {
                break;
            }
            let gp = self.parent.get(p as usize).copied().unwrap_or(p);
            if let Some(slot) = self.parent.get_mut(x as usize) {
                *slot = gp;
            }
            x = p;
        }
        x
    }
    /// Union keeping the smaller root (deterministic).
    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            if let Some(slot) = self.parent.get_mut(hi as usize) {
                *slot = lo;
            }
        }
    }
}

fn bank_of(acc: &AtomAcc) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if let Some(i) = &acc.iban
        && let Ok(i) = Iban::parse(i)
        && let Some(blz) = i.german_blz()
    {
        out.insert(format!("BLZ:{blz}"));
    }
    for b in &acc.bics {
        if let Some(p) = b.get(..8) {
            out.insert(format!("BIC:{p}"));
        }
    }
    out
}

/// Resolves parties from all transactions. Mirror rows are resolved too (their sides are the
/// same parties), but do not count in `tx_count`.
pub fn resolve(
    txs: &[Transaction],
    cats: &CategoryList,
    opts: &ResolveOptions,
    manual: &ManualDecisions,
) -> Parties {
    // 1. atoms, interned on first sight (ids in first-seen order), renumbered in key order below
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut accs: Vec<AtomAcc> = Vec::new();
    let mut memo: HashMap<(bool, &str), (u32, SideKey)> = HashMap::new();
    let mut side_ids: Vec<(u32, u32)> = Vec::with_capacity(txs.len());
    for t in txs {
        let cash = matches!(t.channel, Channel::CashDeposit | Channel::CashWithdrawal);
        let ledger = t.source_kind == gs_types::SourceKind::Ledger;
        let mirror = t.mirror_of.is_some();
        let ia = visit(
            &t.account,
            false,
            (!mirror).then_some(true),
            &mut memo,
            &mut seen,
            &mut accs,
        );
        let ic = visit(
            &t.counterparty,
            cash,
            (!mirror).then_some(ledger),
            &mut memo,
            &mut seen,
            &mut accs,
        );
        if mirror && let Some(a) = accs.get_mut(ia as usize) {
            a.observed = true;
        }
        side_ids.push((ia, ic));
    }
    drop(memo);
    let mut by_key: Vec<(String, u32)> = seen.into_iter().collect();
    by_key.sort_unstable();
    let mut renum = vec![0u32; by_key.len()];
    for (new, (_, old)) in by_key.iter().enumerate() {
        if let Some(r) = renum.get_mut(*old as usize) {
            *r = new as u32;
        }
    }
    let mut slots: Vec<Option<AtomAcc>> = accs.into_iter().map(Some).collect();
    let atoms: Vec<AtomAcc> = by_key
        .iter()
        .map(|(_, old)| {
            slots
                .get_mut(*old as usize)
                .and_then(Option::take)
                .unwrap_or_default()
        })
        .collect();
    let keys: Vec<String> = by_key.into_iter().map(|(k, _)| k).collect();
    let key_idx: HashMap<&str, u32> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i as u32))
        .collect();
    let norm: Vec<NormName> = atoms
        .iter()
        .map(|a| {
            a.display_name()
                .map(util::normalize_name)
                .unwrap_or_default()
        })
        .collect();

    let mut merges: Vec<MergeReason> = Vec::new();
    for (k, a) in keys.iter().zip(&atoms) {
        for d in &a.derived_from {
            merges.push(MergeReason {
                keys: [format!("BLZ/KTO:{d}"), k.clone()],
                kind: MergeKind::Derived,
                reason: "IBAN derived from BLZ/account".to_owned(),
                confidence: 0.95,
                applied: true,
            });
        }
        if k.starts_with("IBAN:") && a.names.len() > 1 {
            merges.push(MergeReason {
                keys: [k.clone(), k.clone()],
                kind: MergeKind::Fact,
                reason: format!("same IBAN ({} written names)", a.names.len()),
                confidence: 1.0,
                applied: true,
            });
        }
    }

    // 2. union-find: manual merges, then proposals
    let mut dsu = Dsu::new(keys.len());
    let mut unmatched = BTreeSet::new();
    let lookup = |k: &str, unmatched: &mut BTreeSet<String>| {
        let r = key_idx.get(k).copied();
        if r.is_none() {
            unmatched.insert(k.to_owned());
        }
        r
    };
    for group in &manual.merge {
        let ids: Vec<u32> = group
            .iter()
            .filter_map(|k| lookup(k, &mut unmatched))
            .collect();
        for w in ids.windows(2) {
            if let [a, b] = w {
                dsu.union(*a, *b);
                let (ka, kb) = (keys[*a as usize].clone(), keys[*b as usize].clone());
                let pair = if ka <= kb { [ka, kb] } else { [kb, ka] };
                merges.push(MergeReason {
                    keys: pair,
                    kind: MergeKind::Manual,
                    reason: "manual decision".to_owned(),
                    confidence: 1.0,
                    applied: true,
                });
            }
        }
    }
    let splits: Vec<(u32, u32)> = manual
        .split
        .iter()
        .filter_map(|[a, b]| Some((lookup(a, &mut unmatched)?, lookup(b, &mut unmatched)?)))
        .collect();

    // candidate pairs from shared rare tokens
    let mut index: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for (i, (k, n)) in keys.iter().zip(&norm).enumerate() {
        if k == "CASH" || k == "UNKNOWN" {
            continue;
        }
        for tok in n.sorted.split(' ').filter(|t| t.len() >= 2) {
            let v = index.entry(tok).or_default();
            if v.last() != Some(&(i as u32)) {
                v.push(i as u32);
            }
        }
    }
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    'blocks: for v in index.values() {
        if v.len() < 2 || v.len() > opts.max_block {
            continue;
        }
        for (x, &a) in v.iter().enumerate() {
            for &b in v.iter().skip(x + 1) {
                if pairs.len() >= opts.max_pairs {
                    break 'blocks;
                }
                pairs.push((a, b));
            }
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    let banks: Vec<BTreeSet<String>> = atoms.iter().map(bank_of).collect();
    let mut proposals: Vec<(u32, u32, f64, String)> = Vec::new();
    for (a, b) in pairs {
        let (na, nb) = (&norm[a as usize].sorted, &norm[b as usize].sorted);
        let sim = strsim::jaro_winkler(na, nb);
        if sim < opts.name_threshold {
            continue;
        }
        let same_bank = !banks[a as usize].is_disjoint(&banks[b as usize]);
        let (conf, reason) = if same_bank {
            (
                (sim + 0.03).min(0.99),
                format!("name similarity {sim:.2} + same bank"),
            )
        } else {
            (sim.min(0.97), format!("name similarity {sim:.2}"))
        };
        proposals.push((a, b, conf, reason));
    }
    for (a, b, conf, reason) in proposals {
        let mut applied = false;
        if opts.accept_proposals {
            let (ra, rb) = (dsu.find(a), dsu.find(b));
            let blocked = splits.iter().any(|&(x, y)| {
                let (rx, ry) = (dsu.find(x), dsu.find(y));
                (rx == ra && ry == rb) || (rx == rb && ry == ra)
            });
            if !blocked {
                dsu.union(a, b);
                applied = true;
            }
        }
        merges.push(MergeReason {
            keys: [keys[a as usize].clone(), keys[b as usize].clone()],
            kind: MergeKind::Proposal,
            reason,
            confidence: conf,
            applied,
        });
    }
    merges.sort_by(|x, y| {
        x.keys
            .cmp(&y.keys)
            .then(x.kind.cmp(&y.kind))
            .then(x.reason.cmp(&y.reason))
    });

    // 3. parties from components
    let mut comps: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for i in 0..keys.len() as u32 {
        comps.entry(dsu.find(i)).or_default().push(i);
    }
    let pats = cats.pattern_tokens();
    let mut built: Vec<(Party, Vec<u32>)> = Vec::with_capacity(comps.len());
    for members in comps.into_values() {
        let first = &keys[members[0] as usize];
        let uid = if first == "CASH" || first == "UNKNOWN" {
            first.clone()
        } else {
            format!(
                "P-{}",
                util::stable_hash_hex([first.as_str()])
                    .get(..12)
                    .unwrap_or_default()
            )
        };
        let mut names: BTreeMap<String, u32> = BTreeMap::new();
        let mut ibans = BTreeSet::new();
        let mut derived = BTreeSet::new();
        let mut other = BTreeSet::new();
        let mut bics = BTreeSet::new();
        let mut observed = false;
        let mut tx_count = 0u32;
        for &m in &members {
            let a = &atoms[m as usize];
            for (n, c) in &a.names {
                *names.entry(n.clone()).or_default() += c;
            }
            if let Some(i) = &a.iban {
                ibans.insert(i.clone());
                if !a.derived_from.is_empty() {
                    derived.insert(i.clone());
                }
            }
            other.extend(a.other_account.iter().cloned());
            bics.extend(a.bics.iter().cloned());
            observed |= a.observed;
            tx_count = tx_count.saturating_add(a.tx_count);
        }
        let kind = match first.as_str() {
            "CASH" => PartyKind::Cash,
            "UNKNOWN" if members.len() == 1 => PartyKind::Unknown,
            _ if members.iter().any(|&m| {
                keys[m as usize].starts_with("IBAN:") || keys[m as usize].starts_with("ACCT:")
            }) =>
            {
                PartyKind::Account
            }
            _ => PartyKind::NameOnly,
        };
        let mut best: Option<(&String, u32)> = None;
        for (n, c) in &names {
            if best.is_none_or(|(_, bc)| *c > bc) {
                best = Some((n, *c));
            }
        }
        let display_name = match (kind, best) {
            (PartyKind::Cash, _) => "CASH".to_owned(),
            (PartyKind::Unknown, _) => "UNKNOWN".to_owned(),
            (_, Some((n, _))) => n.clone(),
            (_, None) => ibans
                .iter()
                .next()
                .or(other.iter().next())
                .cloned()
                .unwrap_or_else(|| first.clone()),
        };
        let nn = util::normalize_name(&display_name);
        let mut countries = BTreeSet::new();
        for i in &ibans {
            if let Some(c) = i.get(..2) {
                countries.insert(c.to_owned());
            }
        }
        if ibans.is_empty() {
            for b in &bics {
                if let Some(c) = iban::bic_country(b) {
                    countries.insert(c.to_owned());
                }
            }
        }
        let name_list: Vec<String> = names.keys().take(MAX_NAMES).cloned().collect();
        let bic_list: Vec<String> = bics.into_iter().collect();
        let forms: Vec<String> = name_list
            .iter()
            .filter_map(|n| util::normalize_name(n).legal_form.map(str::to_owned))
            .collect();
        let categories = if matches!(kind, PartyKind::Cash | PartyKind::Unknown) {
            Vec::new()
        } else {
            cats.match_party(&pats, &name_list, &bic_list, &forms)
        };
        built.push((
            Party {
                id: PartyId(0),
                uid,
                kind,
                display_name,
                names: name_list,
                normalized_name: nn.sorted,
                legal_form: nn.legal_form.map(str::to_owned),
                ibans: ibans.into_iter().collect(),
                derived_ibans: derived.into_iter().collect(),
                other_accounts: other.into_iter().collect(),
                bics: bic_list,
                account_countries: countries.into_iter().collect(),
                keys: members.iter().map(|&m| keys[m as usize].clone()).collect(),
                categories,
                observed,
                tx_count,
            },
            members,
        ));
    }
    built.sort_by(|a, b| a.0.uid.cmp(&b.0.uid).then_with(|| a.0.keys.cmp(&b.0.keys)));
    let mut atom_party = vec![PartyId(0); keys.len()];
    let mut parties = Vec::with_capacity(built.len());
    for (i, (mut p, members)) in built.into_iter().enumerate() {
        p.id = PartyId(i as u32);
        for m in members {
            if let Some(slot) = atom_party.get_mut(m as usize) {
                *slot = p.id;
            }
        }
        parties.push(p);
    }
    let pid = |old: u32| {
        renum
            .get(old as usize)
            .and_then(|&i| atom_party.get(i as usize))
            .copied()
            .unwrap_or_default()
    };
    let mut tx_payer = Vec::with_capacity(txs.len());
    let mut tx_payee = Vec::with_capacity(txs.len());
    for (t, &(ka, kc)) in txs.iter().zip(&side_ids) {
        let (a, c) = (pid(ka), pid(kc));
        if t.amount.is_negative() {
            tx_payer.push(a);
            tx_payee.push(c);
        } else {
            tx_payer.push(c);
            tx_payee.push(a);
        }
    }
    Parties {
        parties,
        tx_payer,
        tx_payee,
        merges,
        unmatched_manual_keys: unmatched.into_iter().collect(),
        categories_version: cats.version.clone(),
        category_labels: cats
            .categories
            .iter()
            .map(|c| (c.id.clone(), c.label_de.clone(), c.label_en.clone()))
            .collect(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use gs_types::{Money, TxId};

    pub(crate) fn side(name: Option<&str>, iban: Option<&str>) -> PartyRef {
        PartyRef {
            name: name.map(Into::into),
            iban: iban.map(Into::into),
            ..Default::default()
        }
    }

    pub(crate) fn tx(id: &str, acct: PartyRef, cp: PartyRef, cents: i64, day: u32) -> Transaction {
        Transaction {
            tx_id: TxId(id.into()),
            booking_date: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
                + chrono::Days::new(u64::from(day)),
            amount: Money(cents),
            currency: "EUR".into(),
            account: acct,
            counterparty: cp,
            channel: Channel::Transfer,
            ..Default::default()
        }
    }

    const A: &str = "DE89370400440532013000";

    #[test]
    fn same_iban_is_a_fact_and_blz_konto_derives_the_same_iban() {
        let me = side(Some("Ich"), Some("DE02120300000000202051"));
        let mut legacy = PartyRef {
            name: Some("Müller GmbH".into()),
            ..Default::default()
        };
        legacy.bank_code = Some("37040044".into());
        legacy.account_number = Some("0532013000".into());
        let txs = vec![
            tx(
                "1",
                me.clone(),
                side(Some("Mueller GmbH"), Some(A)),
                -100,
                0,
            ),
            tx(
                "2",
                me.clone(),
                side(Some("MÜLLER G.m.b.H."), Some("de89 3704 0044 0532 0130 00")),
                -100,
                1,
            ),
            tx("3", me, legacy, -100, 2),
        ];
        let p = resolve(
            &txs,
            &CategoryList::default_list(),
            &ResolveOptions::default(),
            &ManualDecisions::default(),
        );
        assert_eq!(p.parties.len(), 2);
        assert_eq!(p.tx_payee[0], p.tx_payee[1]);
        assert_eq!(p.tx_payee[0], p.tx_payee[2]);
        let m = p.get(p.tx_payee[0]).unwrap();
        assert_eq!(m.ibans, vec![A.to_owned()]);
        assert_eq!(m.derived_ibans, vec![A.to_owned()]);
        assert_eq!(m.normalized_name, "mueller");
        assert_eq!(m.legal_form.as_deref(), Some("GmbH"));
        assert!(
            p.merges.iter().any(
                |r| r.kind == MergeKind::Derived && r.reason == "IBAN derived from BLZ/account"
            )
        );
        assert!(
            p.merges
                .iter()
                .any(|r| r.kind == MergeKind::Fact && r.reason.starts_with("same IBAN"))
        );
        // payer is the statement account for negative amounts
        assert_eq!(p.get(p.tx_payer[0]).unwrap().display_name, "Ich");
        assert!(p.get(p.tx_payer[0]).unwrap().observed);
        assert!(!m.observed);
    }

    #[test]
    fn name_similarity_of_different_ibans_is_only_a_proposal() {
        let me = side(Some("Ich"), Some("DE02120300000000202051"));
        let txs = vec![
            tx(
                "1",
                me.clone(),
                side(Some("Hilfswerk Müller e.V."), Some(A)),
                -100,
                0,
            ),
            tx(
                "2",
                me.clone(),
                side(Some("Hilfswerk Mueller"), Some("DE12500105170648489890")),
                -100,
                1,
            ),
            tx(
                "3",
                me,
                side(Some("Ganz Anders AG"), Some("DE02500105170137075030")),
                -100,
                1,
            ),
        ];
        let cats = CategoryList::default_list();
        let p = resolve(
            &txs,
            &cats,
            &ResolveOptions::default(),
            &ManualDecisions::default(),
        );
        assert_eq!(p.parties.len(), 4);
        let prop: Vec<&MergeReason> = p
            .merges
            .iter()
            .filter(|m| m.kind == MergeKind::Proposal)
            .collect();
        assert_eq!(prop.len(), 1);
        assert!(!prop[0].applied);
        assert!(prop[0].confidence >= 0.92);
        assert!(
            prop[0].reason.starts_with("name similarity 1.00"),
            "{}",
            prop[0].reason
        );
        // e.V. makes the party an NPO by legal form (a category, not a judgement)
        assert!(
            p.get(p.tx_payee[0])
                .unwrap()
                .categories
                .contains(&"npo".to_owned())
        );
        // accepted proposals merge
        let opts = ResolveOptions {
            accept_proposals: true,
            ..Default::default()
        };
        let q = resolve(&txs, &cats, &opts, &ManualDecisions::default());
        assert_eq!(q.parties.len(), 3);
        assert_eq!(q.tx_payee[0], q.tx_payee[1]);
        // a split decision blocks the proposal
        let manual = ManualDecisions {
            split: vec![[format!("IBAN:{A}"), "IBAN:DE12500105170648489890".into()]],
            ..Default::default()
        };
        let r = resolve(&txs, &cats, &opts, &manual);
        assert_eq!(r.parties.len(), 4);
        // manual merge works on any keys and reports unknown keys
        let manual = ManualDecisions {
            merge: vec![vec![
                format!("IBAN:{A}"),
                "IBAN:DE02500105170137075030".into(),
                "NOPE".into(),
            ]],
            split: vec![],
        };
        let s = resolve(&txs, &cats, &ResolveOptions::default(), &manual);
        assert_eq!(s.parties.len(), 3);
        assert_eq!(s.tx_payee[0], s.tx_payee[2]);
        assert_eq!(s.unmatched_manual_keys, vec!["NOPE".to_owned()]);
    }

    #[test]
    fn cash_unknown_and_categories() {
        let me = side(Some("Ich"), Some(A));
        let mut dep = tx("1", me.clone(), PartyRef::default(), 900_000, 0);
        dep.channel = Channel::CashDeposit;
        let fee = tx("2", me.clone(), PartyRef::default(), -500, 0);
        let wu = tx(
            "3",
            me.clone(),
            side(Some("WESTERN UNION INTL"), None),
            -5000,
            1,
        );
        let mut wise = tx("4", me, side(Some("X"), Some("BE12345678901234")), -5000, 1);
        wise.counterparty.bic = Some("TRWIBEB1XXX".into());
        let p = resolve(
            &[dep, fee, wu, wise],
            &CategoryList::default_list(),
            &ResolveOptions::default(),
            &ManualDecisions::default(),
        );
        assert_eq!(p.get(p.tx_payer[0]).unwrap().kind, PartyKind::Cash);
        assert_eq!(p.get(p.tx_payee[1]).unwrap().kind, PartyKind::Unknown);
        assert_eq!(p.get(p.tx_payee[2]).unwrap().kind, PartyKind::NameOnly);
        assert_eq!(
            p.get(p.tx_payee[2]).unwrap().categories,
            vec!["money_service".to_owned()]
        );
        // invalid IBAN kept as account text, BIC prefix gives the category
        let w = p.get(p.tx_payee[3]).unwrap();
        assert_eq!(w.other_accounts, vec!["BE12345678901234".to_owned()]);
        assert_eq!(w.categories, vec!["money_service".to_owned()]);
        assert_eq!(w.account_countries, vec!["BE".to_owned()]);
    }

    #[test]
    fn party_ids_do_not_depend_on_order() {
        let me = side(Some("Ich"), Some("DE02120300000000202051"));
        let mut txs = vec![
            tx("1", me.clone(), side(Some("B"), Some(A)), -100, 0),
            tx("2", me.clone(), side(Some("Anna Schmidt"), None), -100, 1),
            tx("3", me, side(Some("Schmidt, Anna"), None), 100, 2),
        ];
        let cats = CategoryList::default_list();
        let p = resolve(
            &txs,
            &cats,
            &ResolveOptions::default(),
            &ManualDecisions::default(),
        );
        txs.reverse();
        let q = resolve(
            &txs,
            &cats,
            &ResolveOptions::default(),
            &ManualDecisions::default(),
        );
        assert_eq!(p.parties, q.parties);
        assert_eq!(p.parties.len(), 3);
        assert_eq!(q.tx_payer[0], q.tx_payee[1]);
    }
}
