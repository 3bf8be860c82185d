//! A seeded ledger of canonical transactions at any size, with injected typology instances and
//! their ground truth: for measuring detection (recall / precision per typology) and for the
//! analysis benchmarks, without writing and parsing evidence files.
//!
//! The world: `persons` private accounts whose statements are all in the evidence (each
//! booking appears once, on the account it was read from; transfers between two persons are
//! emitted on the payer's statement only, so there are no mirror pairs), employers,
//! landlords, direct-debit creditors, shops, own savings accounts and family abroad in
//! countries that are **not** on the high-risk lists (TR, PL, RO, PK, AE). Everyday life per
//! person and month: salary, rent, three direct debits, two to seven card payments, one or two
//! cash withdrawals, one transfer to another person, for some a savings transfer and a family
//! remittance — about 120 bookings a year.
//!
//! Injected per typology: `instances` instances on hosts drawn from the persons (hidden in
//! their everyday traffic) or on new accounts where the typology needs one (collection account,
//! fan-out payees, donors). See [`KINDS`].

// g / w / d / a / h: generator, world, day, amount, host — the module is a long list of
// short recipes and reads best with these names.
#![allow(clippy::many_single_char_names)]

use chrono::NaiveDate;
use gs_types::{Channel, Iban, Money, PartyRef, SourceKind, Transaction, TxId};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::names;
use crate::util::plus_days;

/// The injected typology kinds, in report order.
pub const KINDS: &[&str] = &[
    "structuring_cash_10000",
    "structuring_cash_2500",
    "structuring_transfer_1000",
    "structuring_other_15000",
    "small_donors",
    "pass_through_chain",
    "cycle",
    "fan_out",
    "scatter_gather",
    "gather_scatter",
    "corridor",
    "dormant_reactivation",
    "behaviour_jump",
];

/// Listed corridor countries the generator can make IBANs for (on `assets/high_risk_countries.toml`).
const LISTED: &[&str] = &["LB", "IR", "MC", "BG"];
/// Ordinary remittance countries (not on the lists).
const FAMILY: &[&str] = &["TR", "PL", "RO", "PK", "AE"];

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LedgerConfig {
    /// Seed of the `ChaCha8Rng`.
    pub seed: u64,
    /// Private accounts with statements.
    pub persons: usize,
    /// Days covered (from `start`).
    pub days: u32,
    /// First day.
    pub start: NaiveDate,
    /// Instances per typology kind.
    pub instances: usize,
}

impl LedgerConfig {
    /// About `n` transactions over one year: persons = n / 120, instances per kind =
    /// persons / 60 (at least 4), so that every host is a person with a year of everyday
    /// history (about 17 hosts per round of instances).
    pub fn for_transactions(n: usize, seed: u64) -> Self {
        let persons = (n / 120).max(40);
        Self {
            seed,
            persons,
            days: 365,
            start: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default(),
            instances: (persons / 60).max(4),
        }
    }
}

/// One injected instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Instance {
    /// `<kind>-<n>`.
    pub id: String,
    /// One of [`KINDS`].
    pub kind: &'static str,
    /// Its transactions.
    pub tx_ids: Vec<String>,
    /// IBANs of the accounts the typology is about (host, collection account, intermediaries).
    pub accounts: Vec<String>,
}

/// The generated ledger.
#[derive(Clone, Debug)]
pub struct Ledger {
    /// All transactions (background and injected), in generation order.
    pub transactions: Vec<Transaction>,
    /// Injected instances.
    pub instances: Vec<Instance>,
    /// Configuration used.
    pub config: LedgerConfig,
}

#[derive(Clone)]
struct Acct {
    name: String,
    iban: String,
}

impl Acct {
    fn side(&self) -> PartyRef {
        PartyRef {
            name: Some(self.name.clone()),
            iban: Some(self.iban.clone()),
            ..Default::default()
        }
    }
}

struct Gen {
    rng: ChaCha8Rng,
    cfg: LedgerConfig,
    out: Vec<Transaction>,
    serial: u64,
    acct_serial: u64,
}

impl Gen {
    fn de_acct(&mut self, name: String) -> Acct {
        self.acct_serial += 1;
        let (_, blz, _) = crate::model::BANKS
            .choose(&mut self.rng)
            .copied()
            .unwrap_or(("", "37050198", ""));
        let konto = format!("{:010}", 1_000_000_000 + self.acct_serial * 7 + 3);
        let iban = Iban::from_german_account(blz, &konto)
            .map(|i| i.as_str().to_owned())
            .unwrap_or_default();
        Acct { name, iban }
    }

    fn foreign_acct(&mut self, name: String, country: &str) -> Acct {
        self.acct_serial += 1;
        let len = gs_types::iban::length_of(country).unwrap_or(22);
        let digits = len.saturating_sub(4);
        let body = format!("{:0width$}", self.acct_serial * 7919 + 11, width = digits);
        let body = body.get(body.len().saturating_sub(digits)..).unwrap_or("0");
        let iban = Iban::from_bban(country, body)
            .map(|i| i.as_str().to_owned())
            .unwrap_or_default();
        Acct { name, iban }
    }

    fn person_name(&mut self) -> String {
        let f = names::FIRST
            .choose(&mut self.rng)
            .copied()
            .unwrap_or("Anna");
        let l = names::LAST
            .choose(&mut self.rng)
            .copied()
            .unwrap_or("Schmidt");
        format!("{f} {l}")
    }

    fn company_name(&mut self) -> String {
        let l = names::LAST
            .choose(&mut self.rng)
            .copied()
            .unwrap_or("Schmidt");
        let s = names::SECTORS
            .choose(&mut self.rng)
            .copied()
            .unwrap_or("Handel");
        let f = names::LEGAL_FORMS
            .choose(&mut self.rng)
            .copied()
            .unwrap_or("GmbH");
        format!("{l} {s} {f}")
    }

    fn day(&self, d: u32) -> NaiveDate {
        plus_days(self.cfg.start, u64::from(d))
    }

    /// Emits one booking on `acct`'s statement: `cents` > 0 received from `cp`, < 0 paid to it.
    fn emit(
        &mut self,
        acct: &Acct,
        cp: Option<&Acct>,
        cents: i64,
        day: u32,
        channel: Channel,
        purpose: &str,
    ) -> String {
        self.serial += 1;
        let id = format!("L{:09}", self.serial);
        let date = self.day(day.min(self.cfg.days.saturating_sub(1)));
        self.out.push(Transaction {
            tx_id: TxId(id.clone()),
            evidence_path: "ledger".to_owned(),
            source_kind: SourceKind::default(),
            booking_date: date,
            value_date: Some(date),
            amount: Money(cents),
            currency: "EUR".to_owned(),
            account: acct.side(),
            counterparty: cp.map(Acct::side).unwrap_or_default(),
            purpose: Some(purpose.to_owned()),
            channel,
            ..Default::default()
        });
        id
    }

    fn cents(&mut self, lo_eur: i64, hi_eur: i64) -> i64 {
        self.rng.random_range(lo_eur * 100..=hi_eur * 100)
    }
}

struct World {
    persons: Vec<Acct>,
    savings: Vec<Option<Acct>>,
    family: Vec<Option<Acct>>,
    employer: Vec<usize>,
    salary: Vec<i64>,
    rent: Vec<i64>,
    landlord: Vec<usize>,
    debits: Vec<[usize; 3]>,
    employers: Vec<Acct>,
    landlords: Vec<Acct>,
    creditors: Vec<Acct>,
    shops: Vec<Acct>,
    /// Last active day of a person's everyday life (dormant hosts stop early).
    active_until: Vec<u32>,
}

/// Builds a ledger. Same configuration → identical transactions and instances.
pub fn ledger(cfg: &LedgerConfig) -> Ledger {
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(cfg.seed),
        cfg: cfg.clone(),
        out: Vec::with_capacity(cfg.persons * 130),
        serial: 0,
        acct_serial: 0,
    };
    let n = cfg.persons.max(40);
    let mut w = World {
        persons: Vec::with_capacity(n),
        savings: Vec::with_capacity(n),
        family: Vec::with_capacity(n),
        employer: Vec::with_capacity(n),
        salary: Vec::with_capacity(n),
        rent: Vec::with_capacity(n),
        landlord: Vec::with_capacity(n),
        debits: Vec::with_capacity(n),
        employers: Vec::new(),
        landlords: Vec::new(),
        creditors: Vec::new(),
        shops: Vec::new(),
        active_until: vec![cfg.days; n],
    };
    for _ in 0..(n / 25).max(3) {
        let name = g.company_name();
        let a = g.de_acct(name);
        w.employers.push(a);
    }
    for _ in 0..(n / 15).max(3) {
        let name = if g.rng.random_bool(0.5) {
            g.person_name()
        } else {
            format!("{} Wohnungsbau GmbH", g.person_name())
        };
        let a = g.de_acct(name);
        w.landlords.push(a);
    }
    for (name, ..) in names::CREDITORS {
        let a = g.de_acct((*name).to_owned());
        w.creditors.push(a);
    }
    for k in 0..(n / 20).max(names::MERCHANTS.len()) {
        let (base, ..) = names::MERCHANTS[k % names::MERCHANTS.len()];
        let name = if k < names::MERCHANTS.len() {
            base.to_owned()
        } else {
            format!("{base} Filiale {k}")
        };
        let a = g.de_acct(name);
        w.shops.push(a);
    }
    for _ in 0..n {
        let name = g.person_name();
        let a = g.de_acct(name.clone());
        w.persons.push(a);
        let sav = if g.rng.random_bool(0.3) {
            Some(g.de_acct(name))
        } else {
            None
        };
        w.savings.push(sav);
        let fam = if g.rng.random_bool(0.08) {
            let c = FAMILY.choose(&mut g.rng).copied().unwrap_or("TR");
            let fname = g.person_name();
            Some(g.foreign_acct(fname, c))
        } else {
            None
        };
        w.family.push(fam);
        w.employer.push(g.rng.random_range(0..w.employers.len()));
        let s = g.cents(1_800, 4_800);
        w.salary.push(s);
        w.rent.push(g.cents(450, 1_400).min(s / 2));
        w.landlord.push(g.rng.random_range(0..w.landlords.len()));
        let c = w.creditors.len();
        w.debits.push([
            g.rng.random_range(0..c),
            g.rng.random_range(0..c),
            g.rng.random_range(0..c),
        ]);
    }

    // hosts: distinct persons, drawn once
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..order.len()).rev() {
        let j = g.rng.random_range(0..=i);
        order.swap(i, j);
    }
    let mut hosts = order.into_iter();
    let mut instances = Vec::new();
    // dormant hosts are chosen first: their everyday life stops after day 60
    let dormant: Vec<usize> = (0..cfg.instances).filter_map(|_| hosts.next()).collect();
    for &h in &dormant {
        w.active_until[h] = 60;
    }

    everyday(&mut g, &w);
    inject(&mut g, &w, &mut hosts, &dormant, &mut instances);
    Ledger {
        transactions: g.out,
        instances,
        config: cfg.clone(),
    }
}

fn everyday(g: &mut Gen, w: &World) {
    let days = g.cfg.days;
    let months = days / 30;
    for p in 0..w.persons.len() {
        let me = w.persons[p].clone();
        let until = w.active_until[p];
        for m in 0..=months {
            let base = m * 30;
            if base >= days {
                break;
            }
            let ok = |d: u32| d < until && d < days;
            let d = base + g.rng.random_range(26..30);
            if ok(d) {
                let s = w.salary[p] + g.rng.random_range(-2_000..2_000);
                let e = w.employers[w.employer[p]].clone();
                g.emit(&me, Some(&e), s, d, Channel::Transfer, "Lohn/Gehalt");
            }
            let d = base + g.rng.random_range(0..3);
            if ok(d) {
                let l = w.landlords[w.landlord[p]].clone();
                g.emit(
                    &me,
                    Some(&l),
                    -w.rent[p],
                    d,
                    Channel::StandingOrder,
                    "Miete",
                );
            }
            for k in 0..3 {
                let d = base + g.rng.random_range(0..28);
                if ok(d) {
                    let c = w.creditors[w.debits[p][k]].clone();
                    let a = g.cents(15, 120);
                    g.emit(&me, Some(&c), -a, d, Channel::DirectDebit, "Lastschrift");
                }
            }
            for _ in 0..g.rng.random_range(2..8) {
                let d = base + g.rng.random_range(0..30);
                if ok(d) {
                    let s = w.shops.choose(&mut g.rng).cloned();
                    let a = g.cents(3, 120);
                    g.emit(&me, s.as_ref(), -a, d, Channel::Card, "Kartenzahlung");
                }
            }
            for _ in 0..g.rng.random_range(1..3) {
                let d = base + g.rng.random_range(0..30);
                if ok(d) {
                    let a = g.rng.random_range(1..=15) * 2_000;
                    g.emit(&me, None, -a, d, Channel::CashWithdrawal, "Geldautomat");
                }
            }
            if g.rng.random_bool(0.8) {
                let d = base + g.rng.random_range(0..30);
                let q = g.rng.random_range(0..w.persons.len());
                // nobody pays into an account that has gone quiet
                if ok(d) && q != p && d < w.active_until[q] {
                    let other = w.persons[q].clone();
                    let a = g.cents(10, 300);
                    g.emit(&me, Some(&other), -a, d, Channel::Transfer, "Danke");
                }
            }
            if let Some(s) = &w.savings[p] {
                let d = base + g.rng.random_range(0..3);
                if ok(d) {
                    let a = g.rng.random_range(1..=10) * 5_000;
                    g.emit(&me, Some(s), -a, d, Channel::StandingOrder, "Sparen");
                }
            }
            if let Some(f) = &w.family[p] {
                let d = base + g.rng.random_range(0..30);
                if ok(d) {
                    let a = g.cents(100, 400);
                    g.emit(&me, Some(f), -a, d, Channel::Transfer, "Familie");
                }
            }
        }
    }
}

#[allow(clippy::too_many_lines)]
fn inject(
    g: &mut Gen,
    w: &World,
    hosts: &mut impl Iterator<Item = usize>,
    dormant: &[usize],
    instances: &mut Vec<Instance>,
) {
    let days = g.cfg.days;
    // typologies start after 120 days (the behaviour rule needs history) and end 30 days early
    let span = days.saturating_sub(160).max(1);
    let mut host = |g: &mut Gen| -> Acct {
        if let Some(h) = hosts.next() {
            w.persons[h].clone()
        } else {
            let name = g.person_name();
            g.de_acct(name)
        }
    };
    for k in 0..g.cfg.instances {
        let mut push = |kind: &'static str, tx_ids: Vec<String>, accounts: Vec<&Acct>| {
            instances.push(Instance {
                id: format!("{kind}-{k}"),
                kind,
                tx_ids,
                accounts: accounts.iter().map(|a| a.iban.clone()).collect(),
            });
        };
        let start = |g: &mut Gen| 120 + g.rng.random_range(0..span);

        // structuring: cash deposits 9,000–9,990 €
        let h = host(g);
        let mut d = start(g);
        let mut ids = Vec::new();
        for _ in 0..g.rng.random_range(4..8) {
            let a = g.rng.random_range(180..200) * 5_000;
            ids.push(g.emit(&h, None, a, d, Channel::CashDeposit, "Bareinzahlung"));
            d += g.rng.random_range(1..5);
        }
        push("structuring_cash_10000", ids, vec![&h]);

        // structuring: cash deposits 2,260–2,490 €
        let h = host(g);
        let mut d = start(g);
        let mut ids = Vec::new();
        for _ in 0..g.rng.random_range(4..7) {
            let a = g.rng.random_range(226..250) * 1_000;
            ids.push(g.emit(&h, None, a, d, Channel::CashDeposit, "Einzahlung"));
            d += g.rng.random_range(1..5);
        }
        push("structuring_cash_2500", ids, vec![&h]);

        // structuring: money transfers 905–995 € abroad (ordinary countries)
        let h = host(g);
        let mut d = start(g);
        let mut ids = Vec::new();
        let rcpt: Vec<Acct> = (0..g.rng.random_range(1..4))
            .map(|_| {
                let c = FAMILY.choose(&mut g.rng).copied().unwrap_or("TR");
                let n = g.person_name();
                g.foreign_acct(n, c)
            })
            .collect();
        for _ in 0..g.rng.random_range(5..9) {
            let a = g.cents(905, 995);
            let r = rcpt.choose(&mut g.rng).cloned();
            ids.push(g.emit(&h, r.as_ref(), -a, d, Channel::Transfer, "Unterstützung"));
            d += g.rng.random_range(1..4);
        }
        push("structuring_transfer_1000", ids, vec![&h]);

        // structuring: transfers in 13,600–14,950 €
        let h = host(g);
        let src = {
            let n = g.company_name();
            g.de_acct(n)
        };
        let mut d = start(g);
        let mut ids = Vec::new();
        for _ in 0..g.rng.random_range(3..6) {
            let a = g.rng.random_range(136..150) * 10_000;
            ids.push(g.emit(&h, Some(&src), a, d, Channel::Transfer, "Anzahlung"));
            d += g.rng.random_range(1..6);
        }
        push("structuring_other_15000", ids, vec![&h]);

        // small donors: a new collection account, 25–60 donors of 10–150 €, then out-flow
        let club = {
            let n = format!("{} Hilfe e.V.", g.person_name());
            g.de_acct(n)
        };
        for m in 0..(days / 30) {
            for j in 0..5u32 {
                let who = (k * 5 + j as usize) % w.persons.len();
                // members pay while their own account is active
                if m * 30 + j < days.min(w.active_until[who]) {
                    let mm = w.persons[who].clone();
                    g.emit(
                        &club,
                        Some(&mm),
                        2_000,
                        m * 30 + j,
                        Channel::StandingOrder,
                        "Beitrag",
                    );
                }
            }
        }
        let d0 = start(g);
        let len = g.rng.random_range(10..26);
        let mut ids = Vec::new();
        let mut total = 0;
        for _ in 0..g.rng.random_range(25..61) {
            let donor = {
                let n = g.person_name();
                g.de_acct(n)
            };
            let a = g.rng.random_range(2..31) * 500;
            total += a;
            let d = d0 + g.rng.random_range(0..len);
            ids.push(g.emit(&club, Some(&donor), a, d, Channel::Transfer, "Spende"));
        }
        let out_d = d0 + len + g.rng.random_range(1..6);
        let c = LISTED
            .iter()
            .chain(FAMILY)
            .copied()
            .collect::<Vec<_>>()
            .choose(&mut g.rng)
            .copied()
            .unwrap_or("TR");
        let abroad = {
            let n = g.company_name();
            g.foreign_acct(n, c)
        };
        ids.push(g.emit(
            &club,
            Some(&abroad),
            -(total * 7 / 10),
            out_d,
            Channel::Transfer,
            "Projekt",
        ));
        ids.push(g.emit(
            &club,
            None,
            -(total * 2 / 10),
            out_d + 1,
            Channel::CashWithdrawal,
            "Auszahlung",
        ));
        push("small_donors", ids, vec![&club]);

        // pass-through chain through 2–3 busy persons, ending abroad
        let src = {
            let n = g.company_name();
            g.de_acct(n)
        };
        let mids: Vec<Acct> = (0..g.rng.random_range(2..4)).map(|_| host(g)).collect();
        let end = {
            let c = FAMILY.choose(&mut g.rng).copied().unwrap_or("TR");
            let n = g.person_name();
            g.foreign_acct(n, c)
        };
        let mut d = start(g);
        let mut a = g.cents(3_000, 20_000);
        let mut ids = vec![g.emit(&mids[0], Some(&src), a, d, Channel::Transfer, "Rechnung")];
        for (j, m) in mids.iter().enumerate() {
            d += g.rng.random_range(0..3);
            a -= a * g.rng.random_range(5..50) / 1_000;
            let next = mids.get(j + 1).unwrap_or(&end);
            ids.push(g.emit(m, Some(next), -a, d, Channel::Transfer, "Weiterleitung"));
        }
        push("pass_through_chain", ids, mids.iter().collect());

        // cycle over 3–5 persons
        let ring: Vec<Acct> = (0..g.rng.random_range(3..6)).map(|_| host(g)).collect();
        let mut d = start(g);
        let mut a = g.cents(5_000, 30_000);
        let mut ids = Vec::new();
        for (j, m) in ring.iter().enumerate() {
            let next = &ring[(j + 1) % ring.len()];
            ids.push(g.emit(m, Some(next), -a, d, Channel::Transfer, "Ausgleich"));
            d += g.rng.random_range(1..4);
            a -= a * g.rng.random_range(0..30) / 1_000;
        }
        push("cycle", ids, ring.iter().collect());

        // fan-out: 10–18 new payees within 12 days
        let h = host(g);
        let d0 = start(g);
        let mut ids = Vec::new();
        for _ in 0..g.rng.random_range(10..19) {
            let r = {
                let n = g.person_name();
                g.de_acct(n)
            };
            let a = g.cents(200, 2_000);
            let d = d0 + g.rng.random_range(0..12);
            ids.push(g.emit(&h, Some(&r), -a, d, Channel::Transfer, "Auszahlung"));
        }
        push("fan_out", ids, vec![&h]);

        // scatter-gather: source → 3–6 new intermediaries → one target
        let s = host(g);
        let t = {
            let n = g.company_name();
            g.de_acct(n)
        };
        let d0 = start(g);
        let mut ids = Vec::new();
        let mut mids = Vec::new();
        for _ in 0..g.rng.random_range(3..7) {
            let m = {
                let n = g.person_name();
                g.de_acct(n)
            };
            let a = g.cents(2_000, 9_000);
            let d = d0 + g.rng.random_range(0..3);
            ids.push(g.emit(&s, Some(&m), -a, d, Channel::Transfer, "Darlehen"));
            let d2 = d + g.rng.random_range(2..8);
            ids.push(g.emit(
                &m,
                Some(&t),
                -(a * 95 / 100),
                d2,
                Channel::Transfer,
                "Rückzahlung",
            ));
            mids.push(m);
        }
        push("scatter_gather", ids, vec![&s]);

        // gather-scatter: 5–9 new payers in, then 5–9 new payees out
        let h = host(g);
        let d0 = start(g);
        let mut ids = Vec::new();
        for _ in 0..g.rng.random_range(5..10) {
            let p = {
                let n = g.person_name();
                g.de_acct(n)
            };
            let a = g.cents(1_000, 5_000);
            let d = d0 + g.rng.random_range(0..10);
            ids.push(g.emit(&h, Some(&p), a, d, Channel::Transfer, "Rückzahlung"));
        }
        for _ in 0..g.rng.random_range(5..10) {
            let p = {
                let n = g.person_name();
                g.de_acct(n)
            };
            let a = g.cents(800, 4_000);
            let d = d0 + 10 + g.rng.random_range(1..10);
            ids.push(g.emit(&h, Some(&p), -a, d, Channel::Transfer, "Auszahlung"));
        }
        push("gather_scatter", ids, vec![&h]);

        // corridor: 1–3 transfers to an account in a listed country
        let h = host(g);
        let c = LISTED.choose(&mut g.rng).copied().unwrap_or("LB");
        let r = {
            let n = g.company_name();
            g.foreign_acct(n, c)
        };
        let mut d = start(g);
        let mut ids = Vec::new();
        for _ in 0..g.rng.random_range(1..4) {
            let a = g.cents(1_000, 9_000);
            ids.push(g.emit(&h, Some(&r), -a, d, Channel::Transfer, "Projekt"));
            d += g.rng.random_range(1..20);
        }
        push("corridor", ids, vec![&h]);

        // dormant account reactivated after day 280
        if let Some(&p) = dormant.get(k) {
            let h = w.persons[p].clone();
            let src = {
                let n = g.company_name();
                g.de_acct(n)
            };
            let d = 280 + g.rng.random_range(0..days.saturating_sub(300).max(1));
            let mut ids = Vec::new();
            for j in 0..g.rng.random_range(1..3) {
                let a = g.cents(6_000, 25_000);
                ids.push(g.emit(
                    &h,
                    Some(&src),
                    a,
                    d + j * 3,
                    Channel::Transfer,
                    "Gutschrift",
                ));
            }
            push("dormant_reactivation", ids, vec![&h]);
        }

        // behaviour jump: 3–4 large transfers in from new counterparties within 10 days
        // (30,000–72,000 €, several times a person's usual monthly volume)
        let h = host(g);
        let d0 = start(g);
        let mut ids = Vec::new();
        for _ in 0..g.rng.random_range(3..5) {
            let p = {
                let n = g.company_name();
                g.de_acct(n)
            };
            let a = g.cents(10_000, 18_000);
            let d = d0 + g.rng.random_range(0..10);
            ids.push(g.emit(&h, Some(&p), a, d, Channel::Transfer, "Honorar"));
        }
        push("behaviour_jump", ids, vec![&h]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_is_reproducible_sized_and_labelled() {
        let cfg = LedgerConfig::for_transactions(10_000, 7);
        let a = ledger(&cfg);
        let b = ledger(&cfg);
        assert_eq!(a.transactions, b.transactions);
        assert_eq!(a.instances, b.instances);
        let n = a.transactions.len();
        assert!((8_000..14_000).contains(&n), "{n} transactions");
        let ids: std::collections::HashSet<&str> =
            a.transactions.iter().map(|t| t.tx_id.0.as_str()).collect();
        assert_eq!(ids.len(), n, "unique tx ids");
        for kind in KINDS {
            let k: Vec<&Instance> = a.instances.iter().filter(|i| i.kind == *kind).collect();
            assert_eq!(k.len(), cfg.instances, "{kind}");
            for i in k {
                assert!(!i.tx_ids.is_empty());
                assert!(
                    i.tx_ids.iter().all(|t| ids.contains(t.as_str())),
                    "{}",
                    i.id
                );
            }
        }
        for t in &a.transactions {
            for side in [&t.account, &t.counterparty] {
                if let Some(i) = &side.iban {
                    assert!(Iban::parse(i).is_ok(), "{i}");
                }
            }
        }
        assert_ne!(
            ledger(&LedgerConfig { seed: 8, ..cfg }).transactions,
            a.transactions
        );
    }
}
