//! The generated world: parties, the evidence accounts, every booking, injected typologies.
//!
//! Everything is drawn from one `ChaCha8Rng` in a fixed order, so a seed fully determines the
//! world. Renderers only format what is here; the ground truth is computed from this model.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use gs_types::Iban;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::Config;
use crate::names;
use crate::util::{bday_in, creditor_id, month_end, month_start, plus_days};

/// What a party is in the case (the truth's `role`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Role {
    Suspect,
    Donor,
    Mule,
    Normal,
    Business,
    Msb,
    Crypto,
    Prepaid,
    Foreign,
}

/// A person, company or institution; `iban` is `None` for card merchants.
#[derive(Clone, Debug)]
pub(crate) struct Party {
    pub name: String,
    pub iban: Option<Iban>,
    pub bic: String,
    pub bank: String,
    pub role: Role,
}

/// The format an evidence account's statements are delivered in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fmt {
    SparkasseCsv,
    Camt,
    DkbCsv,
    IngCsv,
    Mt940,
    CamtZip,
    Xlsx,
    Pdf,
}

/// Everyday behaviour profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Profile {
    Person,
    Club,
    Company,
}

/// An account whose statements are in the evidence folder.
#[derive(Clone, Debug)]
pub(crate) struct EvAccount {
    pub party: usize,
    pub blz: String,
    pub account_number: String,
    pub bank: &'static str,
    pub bic: &'static str,
    pub fmt: Fmt,
    pub opening: i64,
    pub profile: Profile,
}

/// Booking kinds; each format renders them with its own texts and codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    TransferIn,
    TransferOut,
    SalaryIn,
    StandingOrder,
    DirectDebit,
    Card,
    CashOut,
    CashIn,
    Fee,
    BatchOut,
}

impl Fmt {
    /// Name of the statement format (for the truth).
    pub fn name(self) -> &'static str {
        match self {
            Fmt::SparkasseCsv => "Sparkasse CSV-CAMT V2",
            Fmt::Camt => "camt.053",
            Fmt::DkbCsv => "DKB CSV",
            Fmt::IngCsv => "ING CSV",
            Fmt::Mt940 => "MT940",
            Fmt::CamtZip => "camt.053 (zip)",
            Fmt::Xlsx => "xlsx ledger",
            Fmt::Pdf => "PDF statement",
        }
    }
}

impl Kind {
    /// German business transaction code (GVC, DK/ZKA).
    pub fn gvc(self) -> &'static str {
        match self {
            Kind::TransferIn => "166",
            Kind::TransferOut => "177",
            Kind::SalaryIn => "153",
            Kind::StandingOrder => "152",
            Kind::DirectDebit => "005",
            Kind::Card => "106",
            Kind::CashOut => "083",
            Kind::CashIn => "082",
            Kind::Fee => "805",
            Kind::BatchOut => "191",
        }
    }

    /// SWIFT transaction type for MT940 `:61:` and the CAMT proprietary code.
    pub fn swift(self) -> &'static str {
        match self {
            Kind::TransferIn | Kind::TransferOut | Kind::SalaryIn | Kind::BatchOut => "NTRF",
            Kind::StandingOrder => "NSTO",
            Kind::DirectDebit => "NDDT",
            Kind::Card | Kind::CashOut | Kind::CashIn => "NMSC",
            Kind::Fee => "NCHG",
        }
    }

    /// Booking text in MT940 `?00` and CAMT `AddtlNtryInf`.
    pub fn mt940_text(self) -> &'static str {
        match self {
            Kind::TransferIn => "SEPA GUTSCHRIFT",
            Kind::TransferOut => "SEPA UEBERWEISUNG",
            Kind::SalaryIn => "SEPA GUTSCHRIFT LOHN",
            Kind::StandingOrder => "SEPA DAUERAUFTRAG",
            Kind::DirectDebit => "SEPA LASTSCHRIFT",
            Kind::Card => "KARTENZAHLUNG",
            Kind::CashOut => "BARGELDAUSZAHLUNG",
            Kind::CashIn => "BARGELDEINZAHLUNG",
            Kind::Fee => "ENTGELTABSCHLUSS",
            Kind::BatchOut => "SEPA SAMMELUEBERWEISUNG",
        }
    }

    /// Sparkasse CSV `Buchungstext`.
    pub fn spk_text(self) -> &'static str {
        match self {
            Kind::TransferIn => "GUTSCHR. UEBERWEISUNG",
            Kind::TransferOut => "ONLINE-UEBERWEISUNG",
            Kind::SalaryIn => "LOHN  GEHALT",
            Kind::StandingOrder => "DAUERAUFTRAG",
            Kind::DirectDebit => "FOLGELASTSCHRIFT",
            Kind::Card => "KARTENZAHLUNG",
            Kind::CashOut => "BARGELDAUSZAHLUNG",
            Kind::CashIn => "BARGELDEINZAHLUNG",
            Kind::Fee => "ENTGELTABSCHLUSS",
            Kind::BatchOut => "SAMMEL-UEBERWEISUNG",
        }
    }

    /// ING CSV `Buchungstext`.
    pub fn ing_text(self) -> &'static str {
        match self {
            Kind::TransferIn => "Gutschrift",
            Kind::TransferOut | Kind::BatchOut => "Ueberweisung",
            Kind::SalaryIn => "Gehalt/Rente",
            Kind::StandingOrder => "Dauerauftrag/Terminueberweisung",
            Kind::DirectDebit | Kind::Card => "Lastschrift",
            Kind::CashOut => "Abbuchung",
            Kind::CashIn => "Einzahlung",
            Kind::Fee => "Entgelt",
        }
    }

    /// Booking text on the PDF statement.
    pub fn pdf_text(self) -> &'static str {
        match self {
            Kind::TransferIn => "SEPA-Gutschrift",
            Kind::TransferOut => "SEPA-Überweisung",
            Kind::SalaryIn => "Lohn/Gehalt",
            Kind::StandingOrder => "Dauerauftrag",
            Kind::DirectDebit => "SEPA-Lastschrift",
            Kind::Card => "Kartenzahlung",
            Kind::CashOut => "Bargeldauszahlung",
            Kind::CashIn => "Bargeldeinzahlung",
            Kind::Fee => "Entgelt",
            Kind::BatchOut => "SEPA-Sammelüberweisung",
        }
    }

    /// CAMT `BkTxCd/Domn`: domain, family, sub-family.
    pub fn bank_tx_code(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Kind::TransferIn => ("PMNT", "RCDT", "ESCT"),
            Kind::TransferOut | Kind::BatchOut => ("PMNT", "ICDT", "ESCT"),
            Kind::SalaryIn => ("PMNT", "RCDT", "SALA"),
            Kind::StandingOrder => ("PMNT", "ICDT", "STDO"),
            Kind::DirectDebit => ("PMNT", "RDDT", "ESDD"),
            Kind::Card => ("PMNT", "CCRD", "POSD"),
            Kind::CashOut => ("PMNT", "CCRD", "CWDL"),
            Kind::CashIn => ("PMNT", "CNTR", "CDPT"),
            Kind::Fee => ("ACMT", "MDOP", "CHRG"),
        }
    }
}

/// One payment inside a batch booking (CAMT `TxDtls`).
#[derive(Clone, Debug)]
pub(crate) struct Detail {
    pub cp: usize,
    pub amount: i64,
    pub purpose: String,
    pub e2e: String,
}

/// One booking on an evidence account, signed from that account's view.
#[derive(Clone, Debug)]
pub(crate) struct Booking {
    pub id: usize,
    pub acct: usize,
    pub date: NaiveDate,
    pub valuta: NaiveDate,
    pub amount: i64,
    pub kind: Kind,
    pub cp: Option<usize>,
    pub purpose: String,
    pub e2e: Option<String>,
    pub mandate: Option<String>,
    pub creditor_id: Option<String>,
    pub details: Vec<Detail>,
}

/// An injected typology instance.
#[derive(Clone, Debug)]
pub(crate) struct Typology {
    pub id: String,
    pub kind: &'static str,
    pub description: String,
    pub accounts: Vec<usize>,
    pub bookings: Vec<usize>,
    pub props: BTreeMap<String, serde_json::Value>,
}

/// The whole generated case.
#[derive(Clone, Debug)]
pub(crate) struct World {
    pub config: Config,
    pub parties: Vec<Party>,
    pub accounts: Vec<EvAccount>,
    pub bookings: Vec<Booking>,
    pub typologies: Vec<Typology>,
    /// (debit booking, credit booking) of transfers between two evidence accounts.
    pub mirrors: Vec<(usize, usize)>,
    /// Bookings left out of the MT940 file on purpose (balance mismatch).
    pub omitted: BTreeSet<usize>,
    /// Month index of the PDF statement.
    pub pdf_month: u32,
    /// Month index of the MT940 statement with the missing entry.
    pub mismatch_month: u32,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
}

/// Evidence account indices (fixed roles in the case).
pub(crate) const A_SPK: usize = 0;
pub(crate) const B_CLUB: usize = 1;
pub(crate) const C_DKB: usize = 2;
pub(crate) const D_ING: usize = 3;
pub(crate) const E_MT940: usize = 4;
pub(crate) const F_COMPANY: usize = 5;
pub(crate) const G_N26: usize = 6;
pub(crate) const H_PDF: usize = 7;

/// Banks: name, BLZ, BIC.
pub(crate) const BANKS: &[(&str, &str, &str)] = &[
    ("Sparkasse KölnBonn", "37050198", "COLSDE33XXX"),
    ("Berliner Volksbank", "10090000", "BEVODEBBXXX"),
    ("DKB Deutsche Kreditbank AG", "12030000", "BYLADEM1001"),
    ("ING-DiBa AG", "50010517", "INGDDEFFXXX"),
    ("Commerzbank", "10040000", "COBADEBBXXX"),
    ("Deutsche Bank", "10070000", "DEUTDEBBXXX"),
    ("Postbank", "10010010", "PBNKDEFFXXX"),
    ("N26 Bank SE", "10011001", "NTSBDEB1XXX"),
    ("Sparkasse Musterstadt", "25050180", "SPKHDE2HXXX"),
    ("Hamburger Sparkasse", "20050550", "HASPDEHHXXX"),
    ("Volksbank Mittelhessen", "51390000", "VBMHDE5FXXX"),
];

/// Countries treated as high-risk payment corridors in this synthetic case: both are on the
/// shipped lists (`assets/high_risk_countries.toml`, as of 2025-08-05). TR, AE and PK appear as
/// ordinary family remittances and must not be reported as corridors.
pub(crate) const HIGH_RISK: &[&str] = &["LB", "IR"];

struct Gen {
    rng: ChaCha8Rng,
    w: World,
    serial: u32,
}

/// Builds the world for a configuration.
pub(crate) fn build(config: &Config) -> World {
    let months = config.months.max(4);
    let start = month_start(config.start, 0);
    let mut config = config.clone();
    config.months = months;
    config.start = start;
    let world = World {
        period_start: start,
        period_end: month_end(start, months - 1),
        config: config.clone(),
        parties: Vec::new(),
        accounts: Vec::new(),
        bookings: Vec::new(),
        typologies: Vec::new(),
        mirrors: Vec::new(),
        omitted: BTreeSet::new(),
        pdf_month: 2,
        mismatch_month: 3.min(months - 1),
    };
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(config.seed),
        w: world,
        serial: 1000,
    };
    g.setup_accounts();
    g.everyday();
    g.family_transfers();
    g.typologies();
    g.mark_high_risk();
    g.choose_omitted();
    g.w
}

impl Gen {
    fn next_serial(&mut self) -> u32 {
        self.serial += 1;
        self.serial
    }

    fn person_name(&mut self) -> String {
        let f = names::FIRST.choose(&mut self.rng).copied().unwrap_or("Max");
        let l = names::LAST
            .choose(&mut self.rng)
            .copied()
            .unwrap_or("Mustermann");
        format!("{f} {l}")
    }

    fn company_name(&mut self) -> String {
        let l = names::LAST
            .choose(&mut self.rng)
            .copied()
            .unwrap_or("Muster");
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

    fn account_number(&mut self) -> String {
        let n: u64 = self.rng.random_range(1_000_000_000..9_999_999_999);
        n.to_string()
    }

    /// A German party at a random (or given) bank.
    fn de_party(&mut self, name: String, role: Role, bank: Option<usize>) -> usize {
        let b = bank.unwrap_or_else(|| self.rng.random_range(0..BANKS.len()));
        let (bank_name, blz, bic) = BANKS[b % BANKS.len()];
        let acct = self.account_number();
        let iban = Iban::from_german_account(blz, &acct);
        self.w.parties.push(Party {
            name,
            iban,
            bic: bic.to_owned(),
            bank: bank_name.to_owned(),
            role,
        });
        self.w.parties.len() - 1
    }

    /// A party abroad with a valid IBAN of `country`.
    fn foreign_party(&mut self, name: String, country: &str, role: Role) -> usize {
        let digits = |rng: &mut ChaCha8Rng, n: usize| -> String {
            (0..n)
                .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
                .collect()
        };
        let letters = |rng: &mut ChaCha8Rng, n: usize| -> String {
            (0..n)
                .map(|_| char::from(b'A' + rng.random_range(0..26u8)))
                .collect()
        };
        let (bban, bic, bank) = match country {
            "TR" => (
                format!("{}0{}", digits(&mut self.rng, 5), digits(&mut self.rng, 16)),
                "TGBATRISXXX",
                "Bank in TR",
            ),
            "AE" => (
                format!("{}{}", digits(&mut self.rng, 3), digits(&mut self.rng, 16)),
                "EBILAEADXXX",
                "Bank in AE",
            ),
            "LB" => (
                format!("{}{}", digits(&mut self.rng, 4), digits(&mut self.rng, 20)),
                "BLOMLBBXXXX",
                "Bank in LB",
            ),
            "PK" => (
                format!("{}{}", letters(&mut self.rng, 4), digits(&mut self.rng, 16)),
                "HABBPKKAXXX",
                "Bank in PK",
            ),
            "IR" => (digits(&mut self.rng, 22), "BMJIIRTHXXX", "Bank in IR"),
            "NL" => (
                format!("{}{}", letters(&mut self.rng, 4), digits(&mut self.rng, 10)),
                "INGBNL2AXXX",
                "Bank in NL",
            ),
            "AT" => (digits(&mut self.rng, 16), "GIBAATWWXXX", "Bank in AT"),
            "IE" => (
                format!("{}{}", letters(&mut self.rng, 4), digits(&mut self.rng, 14)),
                "BOFIIE2DXXX",
                "Bank in IE",
            ),
            "BE" => (digits(&mut self.rng, 12), "GEBABEBBXXX", "Bank in BE"),
            "LT" => (digits(&mut self.rng, 16), "REVOLT21XXX", "Bank in LT"),
            _ => (
                format!("{}{}", letters(&mut self.rng, 4), digits(&mut self.rng, 14)),
                "BARCGB22XXX",
                "Bank in GB",
            ),
        };
        let iban = Iban::from_bban(country, &bban);
        self.w.parties.push(Party {
            name,
            iban,
            bic: bic.to_owned(),
            bank: bank.to_owned(),
            role,
        });
        self.w.parties.len() - 1
    }

    /// A card merchant (no account).
    fn merchant(&mut self, name: &str) -> usize {
        if let Some(i) = self
            .w
            .parties
            .iter()
            .position(|p| p.name == name && p.iban.is_none())
        {
            return i;
        }
        self.w.parties.push(Party {
            name: name.to_owned(),
            iban: None,
            bic: String::new(),
            bank: String::new(),
            role: Role::Business,
        });
        self.w.parties.len() - 1
    }

    fn setup_accounts(&mut self) {
        // (bank index, format, profile, role, opening range in euros)
        type Spec = (usize, Fmt, Profile, Role, (i64, i64));
        let specs: [Spec; 8] = [
            (
                0,
                Fmt::SparkasseCsv,
                Profile::Person,
                Role::Suspect,
                (1_500, 4_000),
            ),
            (1, Fmt::Camt, Profile::Club, Role::Suspect, (2_000, 5_000)),
            (2, Fmt::DkbCsv, Profile::Person, Role::Mule, (300, 1_500)),
            (3, Fmt::IngCsv, Profile::Person, Role::Mule, (500, 2_000)),
            (4, Fmt::Mt940, Profile::Person, Role::Mule, (800, 2_500)),
            (
                5,
                Fmt::CamtZip,
                Profile::Company,
                Role::Business,
                (15_000, 40_000),
            ),
            (7, Fmt::Xlsx, Profile::Person, Role::Suspect, (1_000, 3_000)),
            (8, Fmt::Pdf, Profile::Person, Role::Normal, (9_000, 14_000)),
        ];
        for (bank, fmt, profile, role, (lo, hi)) in specs {
            let name = match profile {
                Profile::Person => self.person_name(),
                Profile::Club => "Brückenbau Kultur- und Bildungsverein e.V.".to_owned(),
                Profile::Company => {
                    let l = names::LAST
                        .choose(&mut self.rng)
                        .copied()
                        .unwrap_or("Muster");
                    format!("{l} Handelsgesellschaft UG (haftungsbeschränkt)")
                }
            };
            let (bank_name, blz, bic) = BANKS[bank];
            let account_number = self.account_number();
            let iban = Iban::from_german_account(blz, &account_number);
            self.w.parties.push(Party {
                name,
                iban,
                bic: bic.to_owned(),
                bank: bank_name.to_owned(),
                role,
            });
            let opening = self.rng.random_range(lo..hi) * 100 + self.rng.random_range(0..100);
            self.w.accounts.push(EvAccount {
                party: self.w.parties.len() - 1,
                blz: blz.to_owned(),
                account_number,
                bank: bank_name,
                bic,
                fmt,
                opening,
                profile,
            });
        }
    }

    /// `d` plus a random number of days from `r`, moved to a business day in the period.
    fn after<R: rand::distr::uniform::SampleRange<u64>>(
        &mut self,
        d: NaiveDate,
        r: R,
    ) -> NaiveDate {
        let n = self.rng.random_range(r);
        self.clamp_date(plus_days(d, n))
    }

    /// `d` plus a random number of business days from `r`, inside the period.
    fn after_bdays<R: rand::distr::uniform::SampleRange<u64>>(
        &mut self,
        d: NaiveDate,
        r: R,
    ) -> NaiveDate {
        let n = self.rng.random_range(r);
        let mut x = d;
        for _ in 0..n {
            x = plus_days(x, 1);
            while matches!(x.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun) {
                x = plus_days(x, 1);
            }
        }
        self.clamp_date(x)
    }

    fn clamp_date(&self, d: NaiveDate) -> NaiveDate {
        bday_in(d, self.w.period_start, self.w.period_end)
    }

    fn day_in_month(&mut self, m: u32, lo: u32, hi: u32) -> NaiveDate {
        let first = month_start(self.w.period_start, m);
        let last = month_end(self.w.period_start, m);
        let len = last.day();
        let day = self.rng.random_range(lo.min(len)..=hi.min(len)).max(1);
        first.with_day(day).unwrap_or(first)
    }

    /// Adds a booking; the date is moved to a business day inside the period.
    fn book(
        &mut self,
        acct: usize,
        date: NaiveDate,
        kind: Kind,
        amount: i64,
        cp: Option<usize>,
        purpose: String,
    ) -> usize {
        let date = self.clamp_date(date);
        let id = self.w.bookings.len();
        self.w.bookings.push(Booking {
            id,
            acct,
            date,
            valuta: date,
            amount,
            kind,
            cp,
            purpose,
            e2e: None,
            mandate: None,
            creditor_id: None,
            details: Vec::new(),
        });
        id
    }

    fn e2e(&mut self) -> String {
        const ALNUM: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
        (0..16)
            .map(|_| char::from(ALNUM[self.rng.random_range(0..ALNUM.len())]))
            .collect()
    }

    /// A transfer between two evidence accounts: a debit on one and a credit on the other.
    fn transfer_between(
        &mut self,
        from: usize,
        to: usize,
        date: NaiveDate,
        amount: i64,
        purpose: &str,
    ) -> (usize, usize) {
        let e2e = self.e2e();
        let from_party = self.w.accounts[from].party;
        let to_party = self.w.accounts[to].party;
        let out = self.book(
            from,
            date,
            Kind::TransferOut,
            -amount,
            Some(to_party),
            purpose.to_owned(),
        );
        let inn = self.book(
            to,
            date,
            Kind::TransferIn,
            amount,
            Some(from_party),
            purpose.to_owned(),
        );
        self.w.bookings[out].e2e = Some(e2e.clone());
        self.w.bookings[inn].e2e = Some(e2e);
        self.w.mirrors.push((out, inn));
        (out, inn)
    }

    /// A transfer to or from an outside party with an end-to-end reference.
    fn transfer_ext(
        &mut self,
        acct: usize,
        date: NaiveDate,
        amount: i64,
        cp: usize,
        purpose: &str,
    ) -> usize {
        let kind = if amount < 0 {
            Kind::TransferOut
        } else {
            Kind::TransferIn
        };
        let id = self.book(acct, date, kind, amount, Some(cp), purpose.to_owned());
        let e2e = if self.rng.random_bool(0.3) {
            "NOTPROVIDED".to_owned()
        } else {
            self.e2e()
        };
        self.w.bookings[id].e2e = Some(e2e);
        id
    }

    fn everyday(&mut self) {
        let months = self.w.config.months;
        let activity = self.w.config.activity.max(1);
        // Background population shared by all accounts.
        let n_persons = self.w.config.persons.max(20);
        let mut people = Vec::with_capacity(n_persons);
        for _ in 0..n_persons {
            let name = self.person_name();
            people.push(self.de_party(name, Role::Normal, None));
        }
        let mut employers = Vec::new();
        for _ in 0..6 {
            let name = self.company_name();
            employers.push(self.de_party(name, Role::Business, None));
        }
        let landlord_co = self.de_party(
            "Wohnungsbaugesellschaft Musterstadt mbH".to_owned(),
            Role::Business,
            Some(9),
        );
        let mut creditors = Vec::new();
        for &(name, national, lo, hi, stem) in names::CREDITORS {
            let p = self.de_party(name.to_owned(), Role::Business, None);
            creditors.push((p, creditor_id(national), lo, hi, stem));
        }
        let tax_office = self.de_party("Finanzamt Musterstadt".to_owned(), Role::Business, Some(6));
        let foreign_normal = [
            self.foreign_person("NL", Role::Foreign),
            self.foreign_person("AT", Role::Foreign),
            self.foreign_person("GB", Role::Foreign),
        ];

        let n_accounts = self.w.accounts.len();
        for a in 0..n_accounts {
            let profile = self.w.accounts[a].profile;
            let fee = match self.w.accounts[a].blz.as_str() {
                "37050198" | "25050180" => Some(695),
                "10040000" => Some(990),
                "10090000" => Some(790),
                "10070000" => Some(1990),
                _ => None,
            };
            match profile {
                Profile::Person => self.person_everyday(
                    a,
                    months,
                    activity,
                    &people,
                    &employers,
                    landlord_co,
                    &creditors,
                    &foreign_normal,
                ),
                Profile::Club => {
                    self.club_everyday(a, months, activity, &people, landlord_co, &creditors);
                }
                Profile::Company => self.company_everyday(
                    a, months, activity, &people, &employers, tax_office, &creditors,
                ),
            }
            if let Some(fee) = fee {
                for m in 0..months {
                    let d = month_end(self.w.period_start, m);
                    let text = format!("Entgeltabrechnung {:02}/{}", d.month(), d.year());
                    self.book(a, d, Kind::Fee, -fee, None, text);
                }
            }
        }
    }

    /// Everyday transfers between evidence accounts (they appear in both statements).
    fn family_transfers(&mut self) {
        for m in 0..self.w.config.months {
            let d = self.day_in_month(m, 12, 18);
            let amount = self.rng.random_range(15..40) * 1_000;
            self.transfer_between(A_SPK, H_PDF, d, amount, "Taschengeld");
            if self.rng.random_bool(0.6) {
                let d = self.day_in_month(m, 5, 25);
                let amount = self.rng.random_range(50..300) * 100;
                self.transfer_between(D_ING, C_DKB, d, amount, "Rückzahlung");
            }
        }
    }

    fn person_name_owned(&mut self) -> String {
        self.person_name()
    }

    fn foreign_person(&mut self, country: &str, role: Role) -> usize {
        let name = self.person_name();
        self.foreign_party(name, country, role)
    }

    fn foreign_company(&mut self, country: &str, role: Role) -> usize {
        let name = self.company_name();
        self.foreign_party(name, country, role)
    }

    fn de_company(&mut self) -> usize {
        let name = self.company_name();
        self.de_party(name, Role::Business, None)
    }

    fn de_person(&mut self, role: Role) -> usize {
        let name = self.person_name();
        self.de_party(name, role, None)
    }

    #[allow(clippy::too_many_arguments)]
    fn person_everyday(
        &mut self,
        a: usize,
        months: u32,
        activity: u32,
        people: &[usize],
        employers: &[usize],
        landlord_co: usize,
        creditors: &[(usize, String, i64, i64, &'static str)],
        foreign_normal: &[usize],
    ) {
        let employer = employers.choose(&mut self.rng).copied().unwrap_or(0);
        let salary = self.rng.random_range(1_850..3_900) * 100 + self.rng.random_range(0..100);
        let pers_nr = self.rng.random_range(10_000..99_999);
        let landlord = if self.rng.random_bool(0.5) {
            landlord_co
        } else {
            people.choose(&mut self.rng).copied().unwrap_or(0)
        };
        let rent = self.rng.random_range(45..115) * 1000;
        let mut my_creditors: Vec<(usize, String, i64, &'static str, String)> = Vec::new();
        let n_cred = self.rng.random_range(3..=4);
        let chosen: Vec<_> = creditors
            .choose_multiple(&mut self.rng, n_cred)
            .cloned()
            .collect();
        for c in &chosen {
            let amount = self.rng.random_range(c.2..=c.3);
            let mandate = format!(
                "M{}{:06}",
                c.1.get(7..10).unwrap_or("000"),
                self.rng.random_range(0..999_999)
            );
            my_creditors.push((c.0, c.1.clone(), amount, c.4, mandate));
        }
        let family = people.choose(&mut self.rng).copied().unwrap_or(0);
        let friend = people.choose(&mut self.rng).copied().unwrap_or(0);
        let card_range = if a == H_PDF { 9..13 } else { 5..10 };
        for m in 0..months {
            let ms = month_start(self.w.period_start, m);
            let mm = format!("{:02}/{}", ms.month(), ms.year());
            // salary at the end of the month
            let d = self.day_in_month(m, 27, 30);
            let id = self.book(
                a,
                d,
                Kind::SalaryIn,
                salary,
                Some(employer),
                format!("LOHN/GEHALT {mm} PERS.NR. {pers_nr}"),
            );
            self.w.bookings[id].e2e = Some(format!("LG{}{:02}{pers_nr}", ms.year(), ms.month()));
            // rent
            let d = self.day_in_month(m, 1, 3);
            let id = self.book(
                a,
                d,
                Kind::StandingOrder,
                -rent,
                Some(landlord),
                format!("Miete {mm} Whg. 2. OG links"),
            );
            self.w.bookings[id].e2e = Some("NOTPROVIDED".to_owned());
            // direct debits
            for (cp, cred, amount, stem, mandate) in my_creditors.clone() {
                if stem == "Rundfunkbeitrag" && m % 3 != 0 {
                    continue;
                }
                let d = self.day_in_month(m, 2, 15);
                let kd = self.rng.random_range(1_000_000..9_999_999);
                let id = self.book(
                    a,
                    d,
                    Kind::DirectDebit,
                    -amount,
                    Some(cp),
                    format!("{stem} {mm} Kd-Nr. {kd}"),
                );
                let serial = self.next_serial();
                let b = &mut self.w.bookings[id];
                b.mandate = Some(mandate);
                b.creditor_id = Some(cred);
                b.e2e = Some(format!("{}{serial}", ms.format("%Y%m")));
            }
            // card payments
            // The PDF account keeps a fixed volume so that its statement stays two pages long.
            let n = if a == H_PDF {
                self.rng.random_range(card_range.clone())
            } else {
                self.rng.random_range(card_range.clone()) * activity
            };
            for _ in 0..n {
                let &(name, lo, hi) = names::MERCHANTS.choose(&mut self.rng).unwrap_or(&(
                    "REWE Markt GmbH",
                    500,
                    900,
                ));
                let cp = self.merchant(name);
                let d = self.day_in_month(m, 1, 31);
                let amount = self.rng.random_range(lo..=hi);
                let (hh, mi) = (self.rng.random_range(8..20), self.rng.random_range(0..60));
                let card = self.rng.random_range(1..3);
                let purpose = format!(
                    "{}T{hh:02}.{mi:02} Debitk.{card} {}-12",
                    d.format("%Y-%m-%d"),
                    ms.year() + 2
                );
                self.book(a, d, Kind::Card, -amount, Some(cp), purpose);
            }
            // ATM
            for _ in 0..self.rng.random_range(1..=3) {
                let d = self.day_in_month(m, 1, 31);
                let amount = [5_000, 10_000, 15_000, 20_000, 25_000, 30_000]
                    .choose(&mut self.rng)
                    .copied()
                    .unwrap_or(5_000);
                let ga = self.rng.random_range(1000..9999);
                let (hh, mi) = (self.rng.random_range(7..23), self.rng.random_range(0..60));
                let purpose = format!(
                    "GA NR{ga:08} BLZ{} 0 {}/{hh:02}.{mi:02}UHR",
                    self.w.accounts[a].blz,
                    d.format("%d.%m")
                );
                self.book(a, d, Kind::CashOut, -amount, None, purpose);
            }
            if self.rng.random_bool(0.35) {
                let d = self.day_in_month(m, 1, 28);
                let amount = self.rng.random_range(5..40) * 1000;
                let text = [
                    "Zuschuss",
                    "Geburtstag",
                    "Rückzahlung",
                    "Danke fürs Auslegen",
                ]
                .choose(&mut self.rng)
                .copied()
                .unwrap_or("Zuschuss");
                self.transfer_ext(a, d, -amount, family, text);
            }
            if self.rng.random_bool(0.25) {
                let d = self.day_in_month(m, 1, 28);
                let amount = self.rng.random_range(2_000..30_000);
                self.transfer_ext(a, d, amount, friend, "Rückzahlung Urlaub");
            }
            if self.rng.random_bool(0.08) {
                let d = self.day_in_month(m, 1, 28);
                let amount = self.rng.random_range(200..900) * 100;
                let cp = foreign_normal.choose(&mut self.rng).copied().unwrap_or(0);
                self.transfer_ext(a, d, -amount, cp, "Ferienwohnung Anzahlung");
            }
        }
    }

    fn club_everyday(
        &mut self,
        a: usize,
        months: u32,
        activity: u32,
        people: &[usize],
        landlord_co: usize,
        creditors: &[(usize, String, i64, i64, &'static str)],
    ) {
        let n_members = (self.rng.random_range(10..16) * activity as usize).min(people.len());
        let members: Vec<usize> = people
            .choose_multiple(&mut self.rng, n_members)
            .copied()
            .collect();
        let fees: Vec<i64> = members
            .iter()
            .map(|_| {
                [1_000, 1_500, 2_000, 2_500]
                    .choose(&mut self.rng)
                    .copied()
                    .unwrap_or(1_000)
            })
            .collect();
        let printer = self.company_name();
        let printer = self.de_party(printer, Role::Business, None);
        for m in 0..months {
            let ms = month_start(self.w.period_start, m);
            let mm = format!("{:02}/{}", ms.month(), ms.year());
            for (i, &p) in members.iter().enumerate() {
                if self.rng.random_bool(0.85) {
                    let d = self.day_in_month(m, 1, 10);
                    self.transfer_ext(a, d, fees[i], p, &format!("Mitgliedsbeitrag {mm}"));
                }
            }
            let d = self.day_in_month(m, 1, 3);
            let id = self.book(
                a,
                d,
                Kind::StandingOrder,
                -35_000,
                Some(landlord_co),
                format!("Miete Vereinsraum {mm}"),
            );
            self.w.bookings[id].e2e = Some("NOTPROVIDED".to_owned());
            for c in creditors.iter().take(2) {
                let d = self.day_in_month(m, 2, 15);
                let amount = i64::midpoint(c.2, c.3);
                let id = self.book(
                    a,
                    d,
                    Kind::DirectDebit,
                    -amount,
                    Some(c.0),
                    format!("{} {mm} Vereinsraum", c.4),
                );
                let serial = self.next_serial();
                let b = &mut self.w.bookings[id];
                b.mandate = Some(format!("V-{}", c.1.get(7..).unwrap_or("0")));
                b.creditor_id = Some(c.1.clone());
                b.e2e = Some(format!("{}{serial}", ms.format("%Y%m")));
            }
            if self.rng.random_bool(0.4) {
                let d = self.day_in_month(m, 5, 25);
                let amount = self.rng.random_range(4_000..35_000);
                let nr = self.rng.random_range(100..999);
                self.transfer_ext(
                    a,
                    d,
                    -amount,
                    printer,
                    &format!("Rechnung {nr}/{} Flyer", ms.year()),
                );
            }
        }
        // One batch payment of expense refunds to three members (a CAMT entry with several TxDtls).
        let d = self.day_in_month(0, 20, 24);
        let mut details = Vec::new();
        for &p in members.iter().take(3) {
            let amount = -self.rng.random_range(2_000..12_000);
            let e2e = self.e2e();
            details.push(Detail {
                cp: p,
                amount,
                purpose: "Auslagenerstattung Sommerfest".to_owned(),
                e2e,
            });
        }
        let total: i64 = details.iter().map(|d| d.amount).sum();
        let id = self.book(
            a,
            d,
            Kind::BatchOut,
            total,
            None,
            "SAMMLER 3 POSTEN".to_owned(),
        );
        self.w.bookings[id].details = details;
        self.w.bookings[id].e2e = Some("NOTPROVIDED".to_owned());
    }

    #[allow(clippy::too_many_arguments)]
    fn company_everyday(
        &mut self,
        a: usize,
        months: u32,
        activity: u32,
        people: &[usize],
        employers: &[usize],
        tax_office: usize,
        creditors: &[(usize, String, i64, i64, &'static str)],
    ) {
        let mut customers = Vec::new();
        for _ in 0..6 {
            let n = self.company_name();
            customers.push(self.de_party(n, Role::Business, None));
        }
        let suppliers: Vec<usize> = employers.to_vec();
        let staff: Vec<usize> = people.iter().rev().take(3).copied().collect();
        let wages: Vec<i64> = staff
            .iter()
            .map(|_| self.rng.random_range(1_800..2_900) * 100)
            .collect();
        let landlord = self.company_name();
        let landlord = self.de_party(landlord, Role::Business, None);
        let mut invoice = 100;
        for m in 0..months {
            let ms = month_start(self.w.period_start, m);
            let mm = format!("{:02}/{}", ms.month(), ms.year());
            for _ in 0..self.rng.random_range(4..8) * activity {
                invoice += 1;
                let d = self.day_in_month(m, 1, 28);
                let amount =
                    self.rng.random_range(300..6_000) * 100 + self.rng.random_range(0..100);
                let cp = customers.choose(&mut self.rng).copied().unwrap_or(0);
                self.transfer_ext(a, d, amount, cp, &format!("RE-{}-{invoice:04}", ms.year()));
            }
            for _ in 0..self.rng.random_range(3..6) * activity {
                let d = self.day_in_month(m, 1, 28);
                let amount =
                    self.rng.random_range(200..4_000) * 100 + self.rng.random_range(0..100);
                let cp = suppliers.choose(&mut self.rng).copied().unwrap_or(0);
                let nr = self.rng.random_range(1000..9999);
                self.transfer_ext(
                    a,
                    d,
                    -amount,
                    cp,
                    &format!("Rechnung {nr}/{} Kd-Nr. 20417", ms.year()),
                );
            }
            for (i, &s) in staff.iter().enumerate() {
                let d = self.day_in_month(m, 27, 28);
                self.transfer_ext(a, d, -wages[i], s, &format!("Lohn {mm}"));
            }
            let d = self.day_in_month(m, 1, 3);
            let id = self.book(
                a,
                d,
                Kind::StandingOrder,
                -145_000,
                Some(landlord),
                format!("Miete Lager/Büro {mm}"),
            );
            self.w.bookings[id].e2e = Some("NOTPROVIDED".to_owned());
            let d = self.day_in_month(m, 10, 10);
            let vat = self.rng.random_range(800..3_500) * 100;
            let prev = month_start(ms, 0).pred_opt().unwrap_or(ms);
            self.transfer_ext(
                a,
                d,
                -vat,
                tax_office,
                &format!(
                    "USt-VA {:02}/{} StNr 123/456/78901",
                    prev.month(),
                    prev.year()
                ),
            );
            if let Some(c) = creditors.get(1) {
                let d = self.day_in_month(m, 2, 15);
                let id = self.book(
                    a,
                    d,
                    Kind::DirectDebit,
                    -c.3,
                    Some(c.0),
                    format!("{} {mm} Geschäftskunden", c.4),
                );
                let b = &mut self.w.bookings[id];
                b.mandate = Some(format!("GK-{}", c.1.get(7..).unwrap_or("0")));
                b.creditor_id = Some(c.1.clone());
                b.e2e = Some(format!("GK{}", ms.format("%Y%m")));
            }
        }
    }

    fn typology(
        &mut self,
        id: &str,
        kind: &'static str,
        description: &str,
        accounts: Vec<usize>,
        bookings: Vec<usize>,
        props: Vec<(&str, serde_json::Value)>,
    ) {
        self.w.typologies.push(Typology {
            id: id.to_owned(),
            kind,
            description: description.to_owned(),
            accounts,
            bookings,
            props: props.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        });
    }

    fn acct_party(&self, a: usize) -> usize {
        self.w.accounts[a].party
    }

    #[allow(clippy::many_single_char_names)] // d/o/i: date, out and in booking of a hop
    fn typologies(&mut self) {
        let months = self.w.config.months;
        let last = months - 1;
        let ps = self.w.period_start;

        // --- STR-1: cash deposits just below 10,000 EUR on the Sparkasse account.
        let mut ids = Vec::new();
        let mut d = self.day_in_month(1, 3, 8);
        let mut amounts = Vec::new();
        for _ in 0..5 {
            let amount = self.rng.random_range(180..=199) * 5_000;
            amounts.push(amount);
            ids.push(self.book(
                A_SPK,
                d,
                Kind::CashIn,
                amount,
                None,
                "Bareinzahlung".to_owned(),
            ));
            d = self.after_bdays(d, 1..=2);
        }
        let window = self.window(&ids);
        self.typology(
            "STR-1",
            "structuring",
            "cash deposits repeatedly just below 10,000 EUR within days",
            vec![self.acct_party(A_SPK)],
            ids,
            vec![
                ("threshold_cents", 1_000_000.into()),
                ("band_low_cents", 900_000.into()),
                ("window_days", window.into()),
            ],
        );

        // --- STR-2: cash deposits just below 2,500 EUR (occasional cash) on the DKB account.
        let mut ids = Vec::new();
        let mut d = self.day_in_month(2, 10, 14);
        for _ in 0..5 {
            let amount = self.rng.random_range(226..=249) * 1_000;
            ids.push(self.book(
                C_DKB,
                d,
                Kind::CashIn,
                amount,
                None,
                "Bareinzahlung".to_owned(),
            ));
            d = self.after_bdays(d, 1..=2);
        }
        let window = self.window(&ids);
        self.typology(
            "STR-2",
            "structuring",
            "cash deposits repeatedly just below 2,500 EUR within days",
            vec![self.acct_party(C_DKB)],
            ids,
            vec![
                ("threshold_cents", 250_000.into()),
                ("band_low_cents", 225_000.into()),
                ("window_days", window.into()),
            ],
        );

        // --- STR-3: cash deposits just below 15,000 EUR on the company account.
        let mut ids = Vec::new();
        let mut d = self.day_in_month(3.min(last), 4, 9);
        for _ in 0..3 {
            let amount = self.rng.random_range(280..=299) * 5_000;
            ids.push(self.book(
                F_COMPANY,
                d,
                Kind::CashIn,
                amount,
                None,
                "Einzahlung Tageseinnahmen".to_owned(),
            ));
            d = self.after_bdays(d, 1..=2);
        }
        let window = self.window(&ids);
        self.typology(
            "STR-3",
            "structuring",
            "cash deposits repeatedly just below 15,000 EUR within days",
            vec![self.acct_party(F_COMPANY)],
            ids,
            vec![
                ("threshold_cents", 1_500_000.into()),
                ("band_low_cents", 1_400_000.into()),
                ("window_days", window.into()),
            ],
        );

        // --- STR-4: money transfers just below 1,000 EUR from the MT940 account to a TR account.
        let tr_str = self.foreign_person("TR", Role::Foreign);
        let mut ids = Vec::new();
        let mut d = self.day_in_month(1, 2, 6);
        for _ in 0..6 {
            let amount = self.rng.random_range(91..=99) * 1_000;
            let text = ["Unterstützung", "Familie", "wie besprochen"]
                .choose(&mut self.rng)
                .copied()
                .unwrap_or("Familie");
            ids.push(self.transfer_ext(E_MT940, d, -amount, tr_str, text));
            d = self.after_bdays(d, 1..=2);
        }
        let window = self.window(&ids);
        self.typology(
            "STR-4",
            "structuring",
            "money transfers repeatedly just below 1,000 EUR within days",
            vec![self.acct_party(E_MT940), tr_str],
            ids,
            vec![
                ("threshold_cents", 100_000.into()),
                ("band_low_cents", 90_000.into()),
                ("window_days", window.into()),
            ],
        );

        // --- DON-1: many small donors into the club account, then quick outflow abroad and cash.
        let n_donors = self.w.config.donors.max(30);
        let win_start = self.clamp_date(plus_days(month_start(ps, 1), 9));
        let window_days = self.rng.random_range(14..=20);
        let mut ids = Vec::new();
        let mut donors = Vec::new();
        let mut total = 0;
        for _ in 0..n_donors {
            let name = self.person_name_owned();
            let p = self.de_party(name, Role::Donor, None);
            donors.push(p);
            let gifts = if self.rng.random_bool(0.15) { 2 } else { 1 };
            for _ in 0..gifts {
                let d = self.after(win_start, 0..window_days);
                let amount = if self.rng.random_bool(0.7) {
                    [
                        1_000, 1_500, 2_000, 2_500, 3_000, 5_000, 7_500, 10_000, 15_000,
                    ]
                    .choose(&mut self.rng)
                    .copied()
                    .unwrap_or(2_000)
                } else {
                    self.rng.random_range(1_000..=15_000)
                };
                total += amount;
                let text = names::DONATION_PURPOSES
                    .choose(&mut self.rng)
                    .copied()
                    .unwrap_or("Spende");
                ids.push(self.transfer_ext(B_CLUB, d, amount, p, text));
            }
        }
        let last_gift = ids
            .iter()
            .map(|&i| self.w.bookings[i].date)
            .max()
            .unwrap_or(win_start);
        let lb = self.foreign_company("LB", Role::Foreign);
        let out_days = self.rng.random_range(1..=3);
        let d = self.clamp_date(plus_days(last_gift, out_days));
        let abroad = total * 7 / 10 / 1_000 * 1_000;
        let cash = total * 2 / 10 / 5_000 * 5_000;
        let out1 = self.transfer_ext(B_CLUB, d, -abroad, lb, "für das Projekt");
        let out2 = self.book(
            B_CLUB,
            plus_days(d, 1),
            Kind::CashOut,
            -cash,
            None,
            "Auszahlung Kasse".to_owned(),
        );
        ids.push(out1);
        ids.push(out2);
        let mut accts = vec![self.acct_party(B_CLUB), lb];
        accts.extend(donors.iter().copied());
        self.typology(
            "DON-1",
            "donor_fan_in",
            "many small donations (10-150 EUR) into one collection account within weeks, then quick outflow abroad and cash-out",
            accts,
            ids,
            vec![
                ("distinct_payers", n_donors.into()),
                ("min_amount_cents", 1_000.into()),
                ("max_amount_cents", 15_000.into()),
                ("window_days", window_days.into()),
                ("total_in_cents", total.into()),
                ("outflow_abroad_cents", abroad.into()),
                ("outflow_cash_cents", cash.into()),
                ("outflow_days_after_last_gift", out_days.into()),
            ],
        );

        // --- PT-1: pass-through chain DKB -> ING -> MT940 account -> LB.
        let src = self.de_company();
        let tr = self.foreign_person("LB", Role::Foreign);
        let mut d = self.day_in_month(2, 3, 8);
        let mut amount = self.rng.random_range(75..98) * 10_000;
        let mut ids = vec![self.transfer_ext(C_DKB, d, amount, src, "Rechnung 2025-114 Beratung")];
        for (from, to) in [(C_DKB, D_ING), (D_ING, E_MT940)] {
            d = self.after_bdays(d, 1..=2);
            amount -= self.rng.random_range(100..200) * 100;
            let (o, i) = self.transfer_between(from, to, d, amount, "Darlehen");
            ids.push(o);
            ids.push(i);
        }
        d = self.after_bdays(d, 1..=2);
        amount -= self.rng.random_range(50..150) * 100;
        ids.push(self.transfer_ext(E_MT940, d, -amount, tr, "Unterstützung"));
        self.typology(
            "PT-1",
            "pass_through",
            "money in and out within 1-3 days through three accounts, ending abroad",
            vec![
                src,
                self.acct_party(C_DKB),
                self.acct_party(D_ING),
                self.acct_party(E_MT940),
                tr,
            ],
            ids,
            vec![("hops", 4.into()), ("max_hop_business_days", 2.into())],
        );

        // --- PT-2: DKB -> N26 -> IR.
        let src2 = self.de_person(Role::Normal);
        let pk = self.foreign_person("IR", Role::Foreign);
        let mut d = self.day_in_month(4.min(last), 5, 12);
        let mut amount = self.rng.random_range(30..40) * 10_000;
        let mut ids = vec![self.transfer_ext(C_DKB, d, amount, src2, "Auto Verkauf")];
        d = self.after_bdays(d, 1..=1);
        amount -= 5_000;
        let (o, i) = self.transfer_between(C_DKB, G_N26, d, amount, "Weiterleitung");
        ids.push(o);
        ids.push(i);
        d = self.after_bdays(d, 1..=2);
        amount -= 5_000;
        ids.push(self.transfer_ext(G_N26, d, -amount, pk, "Familie"));
        self.typology(
            "PT-2",
            "pass_through",
            "money in and out within 1-2 days through two accounts, ending abroad",
            vec![src2, self.acct_party(C_DKB), self.acct_party(G_N26), pk],
            ids,
            vec![("hops", 3.into()), ("max_hop_business_days", 2.into())],
        );

        // --- CYC-1: A -> E -> G -> A with similar amounts.
        let mut d = self.day_in_month(3.min(last), 8, 12);
        let base = self.rng.random_range(450..500) * 1_000;
        let mut amount = base;
        let mut ids = Vec::new();
        for (from, to) in [(A_SPK, E_MT940), (E_MT940, G_N26), (G_N26, A_SPK)] {
            let (o, i) = self.transfer_between(from, to, d, amount, "Ausgleich");
            ids.push(o);
            ids.push(i);
            d = self.after_bdays(d, 1..=2);
            amount -= self.rng.random_range(2..8) * 1_000;
        }
        self.typology(
            "CYC-1",
            "cycle",
            "A -> B -> C -> A with similar amounts within a week",
            vec![
                self.acct_party(A_SPK),
                self.acct_party(E_MT940),
                self.acct_party(G_N26),
            ],
            ids,
            vec![("length", 3.into()), ("start_amount_cents", base.into())],
        );

        // --- FAN-1: the company pays many recipients within three days (one batch + singles).
        let d0 = self.day_in_month(1, 12, 16);
        let mut recipients = Vec::new();
        for _ in 0..10 {
            let n = self.person_name_owned();
            recipients.push(self.de_party(n, Role::Mule, None));
        }
        let mut details = Vec::new();
        for &r in recipients.iter().take(4) {
            let amount = -self.rng.random_range(80..240) * 1_000;
            let e2e = self.e2e();
            details.push(Detail {
                cp: r,
                amount,
                purpose: "Provision".to_owned(),
                e2e,
            });
        }
        let total: i64 = details.iter().map(|x| x.amount).sum();
        let batch = self.book(
            F_COMPANY,
            d0,
            Kind::BatchOut,
            total,
            None,
            "SAMMLER 4 POSTEN".to_owned(),
        );
        self.w.bookings[batch].details = details;
        self.w.bookings[batch].e2e = Some("NOTPROVIDED".to_owned());
        let mut ids = vec![batch];
        for &r in recipients.iter().skip(4) {
            let d = self.after(d0, 0..=2);
            let amount = -self.rng.random_range(80..240) * 1_000;
            ids.push(self.transfer_ext(F_COMPANY, d, amount, r, "Honorar"));
        }
        let mut accts = vec![self.acct_party(F_COMPANY)];
        accts.extend(recipients.iter().copied());
        self.typology(
            "FAN-1",
            "fan_out",
            "one account pays ten recipients within three days (batch of four plus six single transfers)",
            accts,
            ids,
            vec![("recipients", 10.into()), ("window_days", 3.into())],
        );

        // --- SG-1: scatter from the PDF account to five people, gathered on the MT940 account.
        let pm = self.w.pdf_month;
        let mut ids = Vec::new();
        let mut accts = vec![self.acct_party(H_PDF), self.acct_party(E_MT940)];
        for _ in 0..5 {
            let n = self.person_name_owned();
            let mid = self.de_party(n, Role::Mule, None);
            accts.push(mid);
            let d = self.day_in_month(pm, 5, 9);
            let amount = self.rng.random_range(150..200) * 1_000;
            ids.push(self.transfer_ext(H_PDF, d, -amount, mid, "Darlehen"));
            let d2 = self.after(d, 2..=5);
            let back = amount - self.rng.random_range(0..=5) * 1_000;
            ids.push(self.transfer_ext(E_MT940, d2, back, mid, "Rückzahlung"));
        }
        self.typology(
            "SG-1",
            "scatter_gather",
            "one account scatters to five people who pass similar amounts on to one other account within days",
            accts,
            ids,
            vec![("intermediaries", 5.into())],
        );

        // --- GS-1: gather from six people into A, then scatter to six others.
        let m = 4.min(last);
        let d0 = self.day_in_month(m, 3, 8);
        let mut ids = Vec::new();
        let mut accts = vec![self.acct_party(A_SPK)];
        let mut gathered = 0;
        for _ in 0..6 {
            let n = self.person_name_owned();
            let p = self.de_party(n, Role::Mule, None);
            accts.push(p);
            let d = self.after(d0, 0..=2);
            let amount = self.rng.random_range(60..150) * 1_000;
            gathered += amount;
            ids.push(self.transfer_ext(A_SPK, d, amount, p, "Auslage zurück"));
        }
        let d1 = self.clamp_date(plus_days(d0, 4));
        for _ in 0..6 {
            let n = self.person_name_owned();
            let p = self.de_party(n, Role::Mule, None);
            accts.push(p);
            let d = self.after(d1, 0..=2);
            let amount = gathered / 6 / 100 * 100;
            ids.push(self.transfer_ext(A_SPK, d, -amount, p, "Auszahlung"));
        }
        self.typology(
            "GS-1",
            "gather_scatter",
            "six people pay into one account within three days, which pays six others within the next days",
            accts,
            ids,
            vec![("gather", 6.into()), ("scatter", 6.into())],
        );

        // --- A -> PK support payments (part of the high-risk corridor instance).
        for m in [0, 3.min(last)] {
            let d = self.day_in_month(m, 14, 20);
            let amount = self.rng.random_range(120..250) * 1_000;
            self.transfer_ext(A_SPK, d, -amount, pk, "Unterstützung");
        }

        // --- MSB-1: payments to money-service businesses.
        let wu = self.foreign_party(
            "Western Union International Bank GmbH".to_owned(),
            "AT",
            Role::Msb,
        );
        let mg = self.foreign_party("MoneyGram International SPRL".to_owned(), "BE", Role::Msb);
        let ria = self.de_party("Ria Deutschland GmbH".to_owned(), Role::Msb, Some(5));
        let mut ids = Vec::new();
        for (acct, cp, n) in [(D_ING, wu, 3), (D_ING, mg, 1), (C_DKB, ria, 2)] {
            for _ in 0..n {
                let m = self.rng.random_range(0..months);
                let d = self.day_in_month(m, 1, 28);
                let amount = self.rng.random_range(150..900) * 100;
                let mtcn = self.rng.random_range(1_000_000_000u64..9_999_999_999);
                ids.push(self.transfer_ext(
                    acct,
                    d,
                    -amount,
                    cp,
                    &format!("Geldtransfer Auftrag {mtcn}"),
                ));
            }
        }
        self.typology(
            "MSB-1",
            "money_service_business",
            "payments to money-service businesses (Western Union, MoneyGram, Ria)",
            vec![self.acct_party(D_ING), self.acct_party(C_DKB), wu, mg, ria],
            ids,
            vec![],
        );

        // --- CRY-1: crypto exchanges.
        let cb = self.foreign_party("Coinbase Europe Limited".to_owned(), "IE", Role::Crypto);
        let bp = self.foreign_party("Bitpanda GmbH".to_owned(), "AT", Role::Crypto);
        let kr = self.foreign_party(
            "Payward Europe Solutions Limited (Kraken)".to_owned(),
            "IE",
            Role::Crypto,
        );
        let mut ids = Vec::new();
        for (cp, n, stem) in [
            (cb, 3, "Coinbase Deposit Ref CB"),
            (bp, 2, "Bitpanda Einzahlung BP"),
            (kr, 1, "Kraken Deposit KR"),
        ] {
            for _ in 0..n {
                let m = self.rng.random_range(0..months);
                let d = self.day_in_month(m, 1, 28);
                let amount = self.rng.random_range(25..300) * 1_000;
                let r = self.rng.random_range(10_000_000..99_999_999);
                ids.push(self.transfer_ext(C_DKB, d, -amount, cp, &format!("{stem}{r}")));
            }
        }
        let d = self.day_in_month(last, 3, 20);
        let back = self.rng.random_range(40..120) * 1_000;
        ids.push(self.transfer_ext(C_DKB, d, back, bp, "Auszahlung Bitpanda"));
        self.typology(
            "CRY-1",
            "crypto_exchange",
            "transfers to and from crypto exchanges (Coinbase Europe, Bitpanda, Kraken)",
            vec![self.acct_party(C_DKB), cb, bp, kr],
            ids,
            vec![],
        );

        // --- PRE-1: prepaid vouchers bought by card.
        let psc = self.foreign_party(
            "paysafecard.com Wertkarten GmbH".to_owned(),
            "AT",
            Role::Prepaid,
        );
        let mut ids = Vec::new();
        for _ in 0..8 {
            let m = self.rng.random_range(0..months);
            let d = self.day_in_month(m, 1, 28);
            let amount = [5_000, 10_000]
                .choose(&mut self.rng)
                .copied()
                .unwrap_or(5_000);
            let purpose = format!(
                "{}T{:02}.{:02} PAYSAFECARD Kiosk Debitk.1",
                d.format("%Y-%m-%d"),
                self.rng.random_range(9..21),
                self.rng.random_range(0..60)
            );
            ids.push(self.book(G_N26, d, Kind::Card, -amount, Some(psc), purpose));
        }
        self.typology(
            "PRE-1",
            "prepaid",
            "repeated purchases of prepaid vouchers (paysafecard)",
            vec![self.acct_party(G_N26), psc],
            ids,
            vec![],
        );
    }

    /// Days between the first and the last of the bookings.
    fn window(&self, ids: &[usize]) -> i64 {
        let dates: Vec<NaiveDate> = ids.iter().map(|&i| self.w.bookings[i].date).collect();
        match (dates.iter().min(), dates.iter().max()) {
            (Some(a), Some(b)) => (*b - *a).num_days(),
            _ => 0,
        }
    }

    /// Collects every booking towards a high-risk corridor into one instance.
    fn mark_high_risk(&mut self) {
        let mut ids = Vec::new();
        let mut accts = BTreeSet::new();
        for b in &self.w.bookings {
            let Some(cp) = b.cp else { continue };
            let Some(iban) = &self.w.parties[cp].iban else {
                continue;
            };
            if HIGH_RISK.contains(&iban.country()) && b.amount < 0 {
                ids.push(b.id);
                accts.insert(self.w.accounts[b.acct].party);
                accts.insert(cp);
            }
        }
        self.typology(
            "HRC-1",
            "high_risk_corridor",
            "transfers to accounts at banks in high-risk payment corridors (LB, IR)",
            accts.into_iter().collect(),
            ids,
            vec![("countries", serde_json::json!(HIGH_RISK))],
        );
    }

    /// Picks one ordinary card payment of the MT940 account in the mismatch month to leave out.
    fn choose_omitted(&mut self) {
        let lo = month_start(self.w.period_start, self.w.mismatch_month);
        let hi = month_end(self.w.period_start, self.w.mismatch_month);
        let pick = self
            .w
            .bookings
            .iter()
            .filter(|b| b.acct == E_MT940 && b.kind == Kind::Card && b.date >= lo && b.date <= hi)
            .map(|b| b.id)
            .next();
        if let Some(id) = pick {
            self.w.omitted.insert(id);
        }
    }
}

impl World {
    /// Bookings of one account in booking order (date, then creation order).
    pub fn account_bookings(&self, acct: usize) -> Vec<&Booking> {
        let mut v: Vec<&Booking> = self.bookings.iter().filter(|b| b.acct == acct).collect();
        v.sort_by_key(|b| (b.date, b.id));
        v
    }

    /// Balance of an account before `date` (opening + all bookings dated earlier).
    pub fn balance_before(&self, acct: usize, date: NaiveDate) -> i64 {
        self.accounts[acct].opening
            + self
                .bookings
                .iter()
                .filter(|b| b.acct == acct && b.date < date)
                .map(|b| b.amount)
                .sum::<i64>()
    }

    /// The party that holds an evidence account.
    pub fn holder(&self, acct: usize) -> &Party {
        &self.parties[self.accounts[acct].party]
    }

    /// IBAN text of an evidence account.
    pub fn iban(&self, acct: usize) -> String {
        self.holder(acct)
            .iban
            .as_ref()
            .map(|i| i.as_str().to_owned())
            .unwrap_or_default()
    }

    /// Counterparty party of a booking.
    pub fn cp(&self, b: &Booking) -> Option<&Party> {
        b.cp.and_then(|i| self.parties.get(i))
    }
}
