//! End-to-end tests of [`crate::analyze`]: a small case with injected typologies,
//! determinism under input shuffling, and random input that must never panic.

use gs_types::{Channel, Iban, Money, PartyRef, Transaction, TxId};
use proptest::prelude::*;

use crate::resolve::tests::{side, tx};
use crate::{Analysis, AnalyzeOptions, RulePack, analyze, analyze_with_graph};

fn acct(blz_acct: u32, name: &str) -> PartyRef {
    let i = Iban::from_german_account("20000000", &blz_acct.to_string()).unwrap();
    side(Some(name), Some(i.as_str()))
}

/// A case with structuring, small donors + out-flow to a money-service business abroad, a
/// cycle, a high-risk corridor and ordinary noise.
pub(crate) fn demo_case() -> Vec<Transaction> {
    let mut v = Vec::new();
    let s = acct(1, "Struktur Sven");
    for k in 0..5 {
        let mut t = tx(
            &format!("dep{k}"),
            s.clone(),
            PartyRef::default(),
            950_000 + k * 1_000,
            k as u32 * 2,
        );
        t.channel = Channel::CashDeposit;
        v.push(t);
    }
    let club = acct(2, "Freundeskreis Hilfe e.V.");
    for k in 0..24u32 {
        v.push(tx(
            &format!("don{k}"),
            club.clone(),
            acct(100 + k, &format!("Spender {k}")),
            2_500 + i64::from(k) * 100,
            10 + k % 10,
        ));
    }
    v.push(tx(
        "wu",
        club.clone(),
        side(
            Some("Western Union Intl"),
            Some("TR330006100519786457841326"),
        ),
        -80_000,
        25,
    ));
    let (k0, k1, k2) = (acct(3, "Ring A"), acct(4, "Ring B"), acct(5, "Ring C"));
    v.push(tx("r1", k0.clone(), k1.clone(), -2_000_000, 40));
    v.push(tx("r2", k1.clone(), k2.clone(), -1_950_000, 42));
    v.push(tx("r3", k2, k0.clone(), -1_900_000, 45));
    let mut ir = tx("ir", s.clone(), side(Some("Handel"), None), -300_000, 50);
    ir.counterparty.bic = Some("BKIDIRTHXXX".into());
    v.push(ir);
    for k in 0..10u32 {
        v.push(tx(
            &format!("rent{k}"),
            s.clone(),
            acct(900, "Vermieter"),
            -85_000,
            k * 30,
        ));
        v.push(tx(
            &format!("sal{k}"),
            k0.clone(),
            acct(901, "Arbeitgeber"),
            310_000,
            k * 30 + 1,
        ));
    }
    // a mirror of r1 seen from Ring B's statement
    let mut m = tx("r1m", k1, acct(3, "Ring A"), 2_000_000, 40);
    m.mirror_of = Some(TxId("r1".into()));
    v.push(m);
    v
}

fn rules_of(a: &Analysis) -> Vec<&str> {
    let mut r: Vec<&str> = a.findings.iter().map(|f| f.rule.as_str()).collect();
    r.sort_unstable();
    r.dedup();
    r
}

#[test]
fn demo_case_finds_every_injected_typology() {
    let txs = demo_case();
    let (a, g) = analyze_with_graph(&txs, &RulePack::default_pack(), &AnalyzeOptions::default());
    let rules = rules_of(&a);
    for r in ["structuring", "small_donors", "cycle", "corridor"] {
        assert!(rules.contains(&r), "{r} missing in {rules:?}");
    }
    // the mirror is counted once
    assert_eq!(a.graph.mirrors_skipped, 1);
    assert_eq!(a.graph.transactions, txs.len() - 1);
    let cyc = a.findings.iter().find(|f| f.rule == "cycle").unwrap();
    assert_eq!(cyc.tx_ids, vec!["r1", "r2", "r3"]);
    // category context: the donor finding touches a money-service business
    let don = a
        .findings
        .iter()
        .find(|f| f.rule == "small_donors")
        .unwrap();
    assert_eq!(
        don.context,
        vec!["money_service".to_owned(), "npo".to_owned()]
    );
    assert!(don.score > don.base_score);
    assert!(
        don.explanation_en.contains("money-service"),
        "{}",
        don.explanation_en
    );
    // context alone never makes a finding
    assert!(a.findings.iter().all(|f| !f.rule.contains("categor")));
    // the structuring account ranks above a bystander
    let rank = |name: &str| {
        let p = a
            .parties
            .parties
            .iter()
            .find(|p| p.display_name == name)
            .unwrap();
        a.party_scores
            .iter()
            .find(|s| s.party == p.id)
            .unwrap()
            .rank
    };
    assert!(rank("Struktur Sven") < rank("Vermieter"));
    assert_eq!(a.party_scores.first().unwrap().rank, 1);
    // scores are monotone in findings: every party with findings scores ≥ each of them
    for s in &a.party_scores {
        for f in a.findings.iter().filter(|f| f.parties.contains(&s.party)) {
            assert!(s.score + 1e-12 >= f.score);
        }
    }
    assert!(
        g.to_graphml(&a.parties)
            .contains("Freundeskreis Hilfe e.V.")
    );
    assert!(a.findings.iter().all(|f| f.pack_version == "2026.11-2"));
}

#[test]
fn related_parties_get_a_share_of_the_score() {
    let txs = demo_case();
    let score_of = |related_weight: f64, name: &str| {
        let mut pack = RulePack::default_pack();
        pack.score.related_weight = related_weight;
        let a = analyze(&txs, &pack, &AnalyzeOptions::default());
        let p = a
            .parties
            .parties
            .iter()
            .find(|p| p.display_name == name)
            .unwrap()
            .id;
        a.party_scores.iter().find(|s| s.party == p).unwrap().score
    };
    // a donor of the flagged collection account: nothing without the share, a part with it
    assert!(score_of(0.0, "Spender 3").abs() < 1e-12);
    let donor = score_of(0.25, "Spender 3");
    let club = score_of(0.25, "Freundeskreis Hilfe e.V.");
    assert!(donor > 0.05 && donor < club, "donor {donor}, club {club}");
    // the collection account's own score does not depend on the share
    assert!((club - score_of(0.0, "Freundeskreis Hilfe e.V.")).abs() < 1e-12);
}

#[test]
fn shuffled_input_gives_identical_findings_and_scores() {
    let txs = demo_case();
    let pack = RulePack::default_pack();
    let opts = AnalyzeOptions::default();
    let a = analyze(&txs, &pack, &opts);
    let mut shuffled = txs.clone();
    // deterministic Fisher-Yates with an LCG
    let mut st: u64 = 12345;
    for i in (1..shuffled.len()).rev() {
        st = st
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        shuffled.swap(i, (st >> 33) as usize % (i + 1));
    }
    assert_ne!(shuffled, txs);
    let b = analyze(&shuffled, &pack, &opts);
    let key = |x: &Analysis| -> Vec<(String, String, u64, Vec<String>, String)> {
        x.findings
            .iter()
            .map(|f| {
                (
                    f.id.clone(),
                    f.rule.clone(),
                    f.score.to_bits(),
                    f.tx_ids.clone(),
                    f.explanation_de.clone(),
                )
            })
            .collect()
    };
    assert_eq!(key(&a), key(&b));
    assert_eq!(a.parties.parties, b.parties.parties);
    assert_eq!(a.party_scores, b.party_scores);
    assert_eq!(a.measures, b.measures);
    assert_eq!(a.graph, b.graph);
    // and twice the same input → byte-identical JSON
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&analyze(&txs, &pack, &opts)).unwrap()
    );
}

fn arb_tx() -> impl Strategy<Value = (u8, u8, i64, u16, u8, bool, bool, u8)> {
    (
        0u8..10,
        0u8..10,
        prop_oneof![8 => -2_000_000i64..2_000_000, 1 => Just(i64::MIN), 1 => Just(i64::MAX)],
        0u16..400,
        0u8..8,
        any::<bool>(),
        any::<bool>(),
        0u8..4,
    )
}

fn party(k: u8) -> PartyRef {
    match k {
        0 => PartyRef::default(),
        1 => side(Some("Nur Name"), None),
        2 => side(Some("Kaputt"), Some("DE00123")),
        3 => PartyRef {
            bank_code: Some("37040044".into()),
            account_number: Some("532013000".into()),
            ..Default::default()
        },
        4 => side(Some("Ausland"), Some("TR330006100519786457841326")),
        k => acct(u32::from(k), &format!("P{k}")),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn random_transactions_never_panic(rows in proptest::collection::vec(arb_tx(), 0..120)) {
        let txs: Vec<Transaction> = rows
            .iter()
            .enumerate()
            .map(|(n, &(a, c, amt, day, ch, mirror, rev, purpose))| {
                let mut t = tx(&format!("t{n}"), party(a), party(c), amt, u32::from(day));
                t.channel = Channel::ALL[usize::from(ch)];
                t.reversal = rev;
                // dates at chrono's limits: window arithmetic must saturate, not panic
                if day == 399 {
                    t.booking_date = gs_types::chrono::NaiveDate::MAX;
                } else if day == 398 {
                    t.booking_date = gs_types::chrono::NaiveDate::MIN;
                }
                if mirror && n > 0 {
                    t.mirror_of = Some(TxId(format!("t{}", n - 1)));
                }
                t.purpose = Some(["", "Spende", "spende projekt", "x"][usize::from(purpose)].into());
                t
            })
            .collect();
        let mut pack = RulePack::default_pack();
        pack.watch_terms.terms = vec!["spende".into(), String::new()];
        pack.structuring.bands.iter_mut().for_each(|b| b.min_count = 2);
        pack.small_donors.min_payers = 2;
        pack.fan.fan_out_min = 2;
        let a = analyze(&txs, &pack, &AnalyzeOptions::default());
        prop_assert_eq!(a.parties.tx_payer.len(), txs.len());
        for f in &a.findings {
            prop_assert!(f.score >= 0.0 && f.score <= 1.0);
            prop_assert_eq!(f.tx_indices.len(), f.tx_ids.len());
            for (&i, id) in f.tx_indices.iter().zip(&f.tx_ids) {
                prop_assert!((i as usize) < txs.len());
                prop_assert_eq!(&txs[i as usize].tx_id.0, id);
                prop_assert!(txs[i as usize].mirror_of.is_none());
            }
            for p in f.parties.iter().chain(&f.related_parties) {
                prop_assert!(p.idx() < a.parties.parties.len());
            }
        }
        prop_assert_eq!(a.party_scores.len(), a.parties.parties.len());
        let _ = Money(0);
    }
}

/// Synthetic load: `n_tx` transfers between `n_parties` German accounts over one year, skewed
/// payees, 2 % cash deposits, plain names. Deterministic.
pub(crate) fn synthetic(n_tx: usize, n_parties: u32) -> Vec<Transaction> {
    let mut st: u64 = 42;
    let mut next = || {
        st = st.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = st;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let refs: Vec<PartyRef> = (0..n_parties)
        .map(|k| acct(10_000 + k, &format!("Person {k} Nachname{}", k % 5000)))
        .collect();
    (0..n_tx)
        .map(|n| {
            let a = (next() % u64::from(n_parties)) as usize;
            // skewed payee: square of a uniform draw favours low ids (hubs)
            let u = (next() % 10_000) as f64 / 10_000.0;
            let b = ((u * u) * f64::from(n_parties)) as usize;
            let mut t = tx(
                &format!("s{n:08}"),
                refs[a].clone(),
                refs[b.min(refs.len() - 1)].clone(),
                -((next() % 500_000) as i64 + 100),
                (next() % 365) as u32,
            );
            if next() % 50 == 0 {
                t.channel = Channel::CashDeposit;
                t.amount = Money(t.amount.cents().abs());
                t.counterparty = PartyRef::default();
            }
            t
        })
        .collect()
}

/// Stage timings on synthetic data: `GS_GRAPH_SCALE_TX=1000000 cargo test -p gs_graph --release
/// -- --ignored scale --nocapture` (parties = transactions / 10).
#[test]
#[ignore = "timing run; set GS_GRAPH_SCALE_TX"]
fn scale() {
    use std::fmt::Write as _;
    use std::time::Instant;
    let n: usize = std::env::var("GS_GRAPH_SCALE_TX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let txs = synthetic(n, (n / 10).max(10) as u32);
    let pack = RulePack::default_pack();
    let opts = AnalyzeOptions::default();
    let t = Instant::now();
    let parties = crate::resolve::resolve(&txs, &opts.categories, &opts.resolve, &opts.manual);
    let t_res = t.elapsed();
    let t = Instant::now();
    let no_fuzzy = crate::ResolveOptions {
        max_pairs: 0,
        ..opts.resolve.clone()
    };
    let _ = crate::resolve::resolve(&txs, &opts.categories, &no_fuzzy, &opts.manual);
    println!(
        "scale resolve without name pairs: {:.2}s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let g = crate::TxGraph::build(&txs, &parties);
    let t_graph = t.elapsed();
    let t = Instant::now();
    let m = crate::measures::compute(&g, &opts.measures);
    let t_meas = t.elapsed();
    let ctx = crate::rules::Ctx {
        txs: &txs,
        parties: &parties,
        g: &g,
        pack: &pack,
        countries: &opts.countries,
    };
    let mut line = String::new();
    for (name, f) in [
        (
            "structuring",
            crate::rules::structuring::run as fn(&crate::rules::Ctx<'_>) -> Vec<crate::Finding>,
        ),
        ("donors", crate::rules::donors::run),
        ("pass_through", crate::rules::pass_through::run),
        ("fan", crate::rules::fan::run),
        ("cycles", crate::rules::cycles::run),
        ("corridors", crate::rules::corridors::run),
        ("behaviour", crate::rules::behaviour::run),
    ] {
        let t = Instant::now();
        let k = f(&ctx).len();
        let _ = write!(line, " {name}={:.2}s/{k}", t.elapsed().as_secs_f64());
    }
    let t = Instant::now();
    let all = crate::rules::run_rules(&ctx);
    let t_rules = t.elapsed();
    let mut per_rule: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for f in &all {
        *per_rule.entry(f.rule.as_str()).or_default() += 1;
    }
    println!("scale findings per rule: {per_rule:?}");
    println!(
        "scale n_tx={n} parties={} edges={} resolve={:.2}s graph={:.2}s measures={:.2}s rules={:.2}s findings={} |{line}",
        parties.parties.len(),
        g.graph.edge_count(),
        t_res.as_secs_f64(),
        t_graph.as_secs_f64(),
        t_meas.as_secs_f64(),
        t_rules.as_secs_f64(),
        all.len()
    );
    assert_eq!(m.len(), parties.parties.len());
}

/// Prints the demo case's findings: `cargo test -p gs_graph -- --ignored print_demo --nocapture`.
#[test]
#[ignore = "prints explanations for reading"]
fn print_demo() {
    let a = analyze(
        &demo_case(),
        &RulePack::default_pack(),
        &AnalyzeOptions::default(),
    );
    for f in &a.findings {
        println!(
            "[{:.2} {:?}] {} {}\n  DE: {}\n  EN: {}",
            f.score, f.severity, f.rule, f.variant, f.explanation_de, f.explanation_en
        );
    }
    for s in a.party_scores.iter().take(5) {
        println!(
            "#{} {:.3} {}",
            s.rank,
            s.score,
            a.parties.parties[s.party.idx()].display_name
        );
    }
}

/// Cost of exact betweenness and the agreement of the 128-source sample with it:
/// `cargo test -p gs_graph --lib -- --ignored betweenness_cost --nocapture`.
#[test]
#[ignore = "timing run"]
fn betweenness_cost() {
    use std::time::Instant;
    for parties in [1_000u32, 2_000, 5_000] {
        let txs = synthetic(parties as usize * 10, parties);
        let opts = AnalyzeOptions::default();
        let p = crate::resolve::resolve(&txs, &opts.categories, &opts.resolve, &opts.manual);
        let g = crate::TxGraph::build(&txs, &p);
        let t = Instant::now();
        let exact = crate::measures::compute(
            &g,
            &crate::MeasureOptions {
                betweenness_exact_limit: usize::MAX,
                ..Default::default()
            },
        );
        let t_exact = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let sampled = crate::measures::compute(
            &g,
            &crate::MeasureOptions {
                betweenness_exact_limit: 0,
                ..Default::default()
            },
        );
        let t_sampled = t.elapsed().as_secs_f64();
        let top = |m: &[crate::PartyMeasures]| {
            let mut v: Vec<(f64, u32)> = m.iter().map(|x| (x.betweenness, x.party.0)).collect();
            v.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            v.into_iter()
                .take(50)
                .map(|x| x.1)
                .collect::<std::collections::BTreeSet<u32>>()
        };
        let overlap = top(&exact).intersection(&top(&sampled)).count();
        println!(
            "betweenness parties={parties} exact_all_measures={t_exact:.2}s sampled_all_measures={t_sampled:.2}s top50_overlap={overlap}/50"
        );
    }
}
