use super::*;
use gs_graph::{AnalyzeOptions, RulePack};
use gs_synth::ledger::{LedgerConfig, ledger};
use gs_types::{Channel, Money, PartyRef, TxId};

fn analyse(txs: &[Transaction]) -> Analysis {
    gs_graph::analyze(txs, &RulePack::default_pack(), &AnalyzeOptions::default())
}

fn case(n: usize) -> (Vec<Transaction>, Analysis) {
    let l = ledger(&LedgerConfig::for_transactions(n, 3));
    let a = analyse(&l.transactions);
    (l.transactions, a)
}

fn quick() -> ModelOptions {
    ModelOptions {
        device: DeviceChoice::Cpu,
        ..ModelOptions::default()
    }
}

/// 1-based fused rank of every party (risk desc, then uid).
fn ranks(a: &Analysis, fused: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..fused.len()).collect();
    order.sort_by(|&x, &y| {
        fused[y]
            .total_cmp(&fused[x])
            .then_with(|| a.parties.parties[x].uid.cmp(&a.parties.parties[y].uid))
    });
    let mut rank = vec![0; fused.len()];
    for (k, &p) in order.iter().enumerate() {
        rank[p] = k + 1;
    }
    rank
}

#[test]
fn two_runs_are_identical_and_the_seed_matters() {
    let (txs, a) = case(3_000);
    let o = quick();
    let x = run(&txs, &a, &Labels::default(), &o).unwrap();
    let y = run(&txs, &a, &Labels::default(), &o).unwrap();
    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&x.tx_score), bits(&y.tx_score));
    assert_eq!(bits(&x.tx_error), bits(&y.tx_error));
    assert_eq!(
        x.party_fused
            .iter()
            .map(|f| f.to_bits())
            .collect::<Vec<_>>(),
        y.party_fused
            .iter()
            .map(|f| f.to_bits())
            .collect::<Vec<_>>()
    );
    assert_eq!(x.tx_explanation_de, y.tx_explanation_de);
    assert_eq!(x.weights, y.weights);
    assert_eq!(x.card.weights_sha256, y.card.weights_sha256);
    let z = run(&txs, &a, &Labels::default(), &ModelOptions { seed: 7, ..o }).unwrap();
    assert_ne!(x.card.weights_sha256, z.card.weights_sha256);
    assert_eq!(
        x.card.training_data_sha256, z.card.training_data_sha256,
        "the feature matrix does not depend on the seed"
    );
    assert!(x.card.final_loss.is_finite() && x.card.final_loss > 0.0);
    // training lowered the loss
    let first = x.card.epoch_loss[0];
    assert!(x.card.final_loss < first, "{:?}", x.card.epoch_loss);
    assert!(!x.card.head_used);
    assert!(
        x.card.labels.head.starts_with("not used"),
        "{}",
        x.card.labels.head
    );
    assert!(x.party_head.is_empty());
    // scores are percentiles, unscored rows 0, explanations only at the top
    assert!(x.tx_score.iter().all(|s| (0.0..=1.0).contains(s)));
    for (i, t) in txs.iter().enumerate() {
        if t.reversal || t.amount.cents() == 0 {
            assert!(x.tx_score[i].abs() < f32::EPSILON);
        }
        assert_eq!(
            x.tx_explanation_de[i].is_empty(),
            x.tx_score[i] < EXPLAIN_FROM
        );
    }
}

#[test]
fn input_order_does_not_change_the_scores() {
    let (txs, a) = case(1_500);
    let x = run(&txs, &a, &Labels::default(), &quick()).unwrap();
    let mut rev = txs.clone();
    rev.reverse();
    let b = analyse(&rev);
    let y = run(&rev, &b, &Labels::default(), &quick()).unwrap();
    let n = txs.len();
    for (i, t) in txs.iter().enumerate() {
        assert_eq!(
            x.tx_score[i].to_bits(),
            y.tx_score[n - 1 - i].to_bits(),
            "{}",
            t.tx_id
        );
    }
    assert_eq!(x.card.weights_sha256, y.card.weights_sha256);
}

#[test]
fn a_planted_outlier_ranks_at_the_top_with_the_amount_in_its_explanation() {
    // everyday life only: the generator's injected typologies would be outliers too
    let cfg = LedgerConfig {
        instances: 0,
        ..LedgerConfig::for_transactions(4_000, 3)
    };
    let mut txs = ledger(&cfg).transactions;
    let a0 = analyse(&txs);
    // a person who pays small amounts by card suddenly sends 50× their usual abroad, to an
    // account never seen before
    let me = txs
        .iter()
        .find(|t| t.channel == Channel::Card)
        .map(|t| t.account.clone())
        .unwrap();
    let payer = txs
        .iter()
        .position(|t| t.account == me && t.amount.is_negative())
        .map(|i| a0.parties.tx_payer[i])
        .unwrap();
    let mut outs: Vec<i64> = txs
        .iter()
        .enumerate()
        .filter(|(i, t)| a0.parties.tx_payer[*i] == payer && features::scored(t))
        .map(|(_, t)| t.amount.cents().abs())
        .collect();
    outs.sort_unstable();
    let usual = outs[(outs.len() - 1) / 2];
    let date = txs.iter().map(|t| t.booking_date).max().unwrap();
    txs.push(Transaction {
        tx_id: TxId("planted".into()),
        booking_date: date,
        amount: Money(-usual * 50),
        currency: "EUR".into(),
        account: me,
        counterparty: PartyRef {
            name: Some("Unbekannt Ltd".into()),
            iban: Some("LB62099900000001001901229114".into()),
            ..Default::default()
        },
        channel: Channel::Transfer,
        ..Default::default()
    });
    let a = analyse(&txs);
    let out = run(&txs, &a, &Labels::default(), &quick()).unwrap();
    let i = txs.len() - 1;
    if out.tx_score[i] < 0.99 {
        let mut top: Vec<usize> = (0..txs.len()).collect();
        top.sort_by(|&x, &y| out.tx_error[y].total_cmp(&out.tx_error[x]));
        for &k in top.iter().take(40) {
            eprintln!(
                "{} {} {} {}",
                out.tx_error[k], txs[k].tx_id, txs[k].amount, out.tx_explanation_en[k]
            );
        }
        eprintln!("PLANTED {} {}", out.tx_error[i], out.tx_explanation_en[i]);
    }
    eprintln!("{}\n{}", out.tx_explanation_de[i], out.tx_explanation_en[i]);
    assert!(out.tx_score[i] >= 0.99, "percentile {}", out.tx_score[i]);
    let de = &out.tx_explanation_de[i];
    let en = &out.tx_explanation_en[i];
    assert!(de.contains("Betrag"), "{de}");
    assert!(en.contains("amount"), "{en}");
    assert!(
        de.contains(&explain::eur_de(usual * 50)),
        "{de} / {}",
        usual * 50
    );
    assert!(en.contains(&explain::eur_en(usual * 50)), "{en}");
    let top = &out.tx_top_features[i];
    assert_eq!(top.len(), 3);
    assert!(top.windows(2).all(|w| w[0].1 >= w[1].1), "{top:?}");
    assert!(
        top.iter()
            .any(|(n, _)| n.starts_with("amount") || n == "log_amount"),
        "{top:?}"
    );
    // ordinary rows carry no explanation
    let quiet = out
        .tx_score
        .iter()
        .position(|&s| s > 0.0 && s < 0.5)
        .unwrap();
    assert!(out.tx_explanation_de[quiet].is_empty());
    assert!(!out.tx_top_features[quiet].is_empty());
}

#[test]
fn labels_move_parties_in_the_labelled_direction() {
    let (txs, a) = case(2_000);
    let o = quick();
    let base = run(&txs, &a, &Labels::default(), &o).unwrap();
    let before = ranks(&a, &base.party_fused);
    let mut real: Vec<usize> = (0..a.parties.parties.len())
        .filter(|&p| a.parties.parties[p].kind == gs_graph::PartyKind::Account)
        .collect();
    real.sort_by_key(|&p| before[p]);
    let mid = real.len() / 2;
    let (s1, s2) = (real[mid], real[mid + 1]);
    let (c1, c2) = (real[0], real[1]);
    let mut labels = Labels::default();
    for (p, l) in [(s1, true), (s2, true), (c1, false)] {
        labels.parties.insert(a.parties.parties[p].uid.clone(), l);
    }
    // a transaction label reaches the party through the transaction's payer or payee
    let tx_of_c2 = (0..txs.len())
        .find(|&i| {
            features::scored(&txs[i])
                && (a.parties.tx_payer[i].idx() == c2 || a.parties.tx_payee[i].idx() == c2)
                && [a.parties.tx_payer[i].idx(), a.parties.tx_payee[i].idx()]
                    .iter()
                    .all(|&p| p != s1 && p != s2 && p != c1)
        })
        .unwrap();
    labels
        .transactions
        .insert(txs[tx_of_c2].tx_id.0.clone(), false);
    labels.parties.insert("P-doesnotexist".into(), true);
    let out = run(&txs, &a, &labels, &o).unwrap();
    assert!(out.card.head_used, "{}", out.card.labels.head);
    assert!(out.card.labels_used.0 >= 2 && out.card.labels_used.1 >= 2);
    assert_eq!(out.card.labels.unmatched, vec!["party P-doesnotexist"]);
    assert_eq!(out.card.labels.head_coefficients.len(), features::DP + 2);
    assert_eq!(out.party_head.len(), a.parties.parties.len());
    let after = ranks(&a, &out.party_fused);
    assert!(after[s1] < before[s1], "{} → {}", before[s1], after[s1]);
    assert!(after[s2] < before[s2], "{} → {}", before[s2], after[s2]);
    assert!(after[c1] > before[c1], "{} → {}", before[c1], after[c1]);
    assert_ne!(
        out.weights, base.weights,
        "the head's weights are saved too"
    );
    // one label of a class is not enough for a head
    let mut one = Labels::default();
    one.parties.insert(a.parties.parties[s1].uid.clone(), true);
    let single = run(&txs, &a, &one, &o).unwrap();
    assert!(!single.card.head_used);
    assert_eq!(single.party_fused, base.party_fused);
}

#[test]
fn device_choice_is_parsed_and_cuda_without_the_feature_is_refused() {
    assert_eq!("CPU".parse::<DeviceChoice>(), Ok(DeviceChoice::Cpu));
    assert_eq!("auto".parse::<DeviceChoice>(), Ok(DeviceChoice::Auto));
    assert_eq!("cuda".parse::<DeviceChoice>(), Ok(DeviceChoice::Cuda));
    let e = "gpu".parse::<DeviceChoice>().unwrap_err();
    assert!(e.contains("gpu") && e.contains("cuda"), "{e}");
    if !cfg!(feature = "cuda") {
        let (txs, a) = case(300);
        let o = ModelOptions {
            device: DeviceChoice::Cuda,
            ..quick()
        };
        let e = run(&txs, &a, &Labels::default(), &o)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("built without CUDA support") && e.contains("--features cuda"),
            "{e}"
        );
        let auto = run(
            &txs,
            &a,
            &Labels::default(),
            &ModelOptions {
                device: DeviceChoice::Auto,
                ..quick()
            },
        )
        .unwrap();
        assert_eq!(auto.card.device, "cpu");
    }
    let bad = ModelOptions {
        hidden: vec![],
        ..quick()
    };
    let (txs, a) = case(100);
    assert!(matches!(
        run(&txs, &a, &Labels::default(), &bad),
        Err(ModelError::Options(_))
    ));
    assert!(matches!(
        run(&txs[1..], &a, &Labels::default(), &quick()),
        Err(ModelError::Mismatch { .. })
    ));
}

#[test]
fn card_and_weights_are_written_and_load_back() {
    let (txs, a) = case(600);
    let out = run(&txs, &a, &Labels::default(), &quick()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("model");
    let files = write(&out, &sub).unwrap();
    assert_eq!(
        files,
        vec![sub.join("model_card.json"), sub.join("model.safetensors")]
    );
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let card: serde_json::Value = serde_json::from_str(&text).unwrap();
    for k in ["training_data_sha256", "weights_sha256"] {
        let h = card[k].as_str().unwrap();
        assert!(
            h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit()),
            "{k}: {h}"
        );
    }
    assert_eq!(card["candle_version"], CANDLE_VERSION);
    assert_eq!(card["options"]["seed"], 20_261_124);
    assert_eq!(card["seed"], 20_261_124);
    assert_eq!(card["device"], "cpu");
    assert_eq!(card["threads"], 1);
    assert_eq!(card["features"].as_array().unwrap().len(), features::D);
    assert!(card["features"][0]["description"].as_str().is_some());
    for k in [
        "epochs_run",
        "final_loss",
        "rows_trained",
        "rows_scored",
        "labels",
        "method",
        "layers",
    ] {
        assert!(!card[k].is_null(), "{k}");
    }
    assert!(
        card.get("seconds").is_none(),
        "timings stay out of the file"
    );
    assert!(!out.card.seconds.is_empty());
    // a second run writes the same bytes
    let again = run(&txs, &a, &Labels::default(), &quick()).unwrap();
    let dir2 = tempfile::tempdir().unwrap();
    let files2 = write(&again, dir2.path()).unwrap();
    assert_eq!(text, std::fs::read_to_string(&files2[0]).unwrap());
    // the saved model re-scores the case exactly
    let again_scores = score(&txs, &a, &out.weights, DeviceChoice::Cpu).unwrap();
    assert_eq!(
        again_scores.iter().map(|f| f.to_bits()).collect::<Vec<_>>(),
        out.tx_score.iter().map(|f| f.to_bits()).collect::<Vec<_>>()
    );
    assert!(matches!(
        score(&txs, &a, b"not safetensors", DeviceChoice::Cpu),
        Err(ModelError::Candle(_))
    ));
    let bytes = std::fs::read(&files[1]).unwrap();
    assert_eq!(sha256_hex(&bytes), out.card.weights_sha256);
    let t = candle_core::safetensors::load_buffer(&bytes, &Device::Cpu).unwrap();
    let mut names: Vec<&str> = t.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        vec![
            "autoencoder.0.bias",
            "autoencoder.0.weight",
            "autoencoder.1.bias",
            "autoencoder.1.weight",
            "autoencoder.2.bias",
            "autoencoder.2.weight",
            "autoencoder.3.bias",
            "autoencoder.3.weight",
            "scaler.median",
            "scaler.scale",
        ]
    );
    assert_eq!(t["autoencoder.0.weight"].dims(), &[16, features::D]);
    assert_eq!(t["autoencoder.1.weight"].dims(), &[6, 16]);
    assert_eq!(t["autoencoder.3.weight"].dims(), &[features::D, 16]);
    assert_eq!(t["scaler.scale"].dims(), &[features::D]);
    assert_eq!(out.card.layers, vec![features::D, 16, 6, 16, features::D]);
}

#[test]
fn percentiles_share_ties() {
    assert_eq!(
        percentiles(&[3.0, 1.0, 1.0, 2.0]),
        vec![1.0, 0.0, 0.0, 2.0 / 3.0]
    );
    assert_eq!(percentiles(&[5.0]), vec![0.0]);
    assert!(percentiles(&[]).is_empty());
}

#[test]
fn candle_version_matches_the_lock_file() {
    let lock =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../Cargo.lock"))
            .unwrap();
    let at = lock.find("name = \"candle-core\"\nversion = \"").unwrap();
    let v = &lock[at + "name = \"candle-core\"\nversion = \"".len()..];
    assert_eq!(&v[..v.find('"').unwrap()], CANDLE_VERSION);
}

#[test]
fn the_crate_docs_list_every_feature() {
    let docs = include_str!("lib.rs");
    for f in FEATURES {
        assert!(
            docs.contains(&format!("//! | `{}` | {} |", f.name, f.description)),
            "{}",
            f.name
        );
    }
}

/// Stage timings: `GS_MODEL_SCALE_TX=100000 cargo test -p gs_model --lib -- --ignored scale
/// --nocapture` (add `--release` for release numbers).
#[test]
#[ignore = "timing run; set GS_MODEL_SCALE_TX"]
fn scale() {
    let n: usize = std::env::var("GS_MODEL_SCALE_TX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let (txs, a) = case(n);
    let t = Instant::now();
    let out = run(&txs, &a, &Labels::default(), &quick()).unwrap();
    let total = t.elapsed().as_secs_f64();
    let t = Instant::now();
    score(&txs, &a, &out.weights, DeviceChoice::Cpu).unwrap();
    println!(
        "gs_model scale: {} transactions, {} scored, {} trained, {} epochs / {} steps: run {total:.2} s {:?}; score only {:.2} s",
        txs.len(),
        out.card.rows_scored,
        out.card.rows_trained,
        out.card.epochs_run,
        out.card.steps,
        out.card.seconds,
        t.elapsed().as_secs_f64()
    );
}

/// Every kind of feature expression checked by hand on a four-booking statement: account A
/// (DE) pays B twice on Monday 2 March, pays C in Lebanon 9,950 € on Thursday 5 March at
/// 18:30, and receives 1,000 € from B on 20 March.
#[test]
fn features_by_hand_on_a_small_statement() {
    use gs_types::chrono::NaiveDate;
    let a_ref = PartyRef {
        name: Some("Anna Beispiel".into()),
        iban: Some("DE89370400440532013000".into()),
        ..Default::default()
    };
    let b_ref = PartyRef {
        name: Some("Bernd Muster".into()),
        iban: Some("DE02120300000000202051".into()),
        ..Default::default()
    };
    let c_ref = PartyRef {
        name: Some("Cedar Trading SAL".into()),
        iban: Some("LB62099900000001001901229114".into()),
        ..Default::default()
    };
    let day = |d: u32| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
    let tx = |id: &str, d: u32, cents: i64, cp: &PartyRef| Transaction {
        tx_id: TxId(id.into()),
        booking_date: day(d),
        amount: Money(cents),
        currency: "EUR".into(),
        account: a_ref.clone(),
        counterparty: cp.clone(),
        channel: Channel::Transfer,
        ..Default::default()
    };
    let mut txs = vec![
        tx("t1", 2, -10_000, &b_ref),
        tx("t2", 2, -20_000, &b_ref),
        tx("t3", 5, -995_000, &c_ref),
        tx("t4", 20, 100_000, &b_ref),
    ];
    txs[2].timestamp = day(5).and_hms_opt(18, 30, 0);
    let a = analyse(&txs);
    let f = features::extract(&txs, &a).unwrap();
    assert_eq!(f.rows.len(), 4);
    let row = |id: &str| {
        let i = txs.iter().position(|t| t.tx_id.0 == id).unwrap() as u32;
        let r = f.rows.iter().position(|&x| x == i).unwrap();
        &f.x[r * features::D..(r + 1) * features::D]
    };
    let v = |id: &str, name: &str| {
        let c = FEATURES.iter().position(|d| d.name == name).unwrap();
        f64::from(row(id)[c])
    };
    let close = |got: f64, want: f64, what: &str| {
        assert!((got - want).abs() < 1e-4, "{what}: {got} != {want}");
    };
    // amount
    close(v("t3", "log_amount"), 9_950f64.ln_1p(), "log_amount");
    close(v("t3", "below_threshold"), 0.95, "below 10,000 €");
    close(v("t1", "below_threshold"), 0.0, "100 € is below nothing");
    close(v("t3", "roundness"), 3.0, "995000 cents: 3 trailing zeros");
    close(v("t4", "roundness"), 5.0, "100000 cents");
    // A's outgoing amounts 100, 200, 9,950: lower median 200
    close(
        v("t3", "amount_vs_payer"),
        (9_951f64 / 201.0).ln(),
        "amount_vs_payer",
    );
    let logs = [100f64.ln_1p(), 200f64.ln_1p(), 9_950f64.ln_1p()];
    let mean = logs.iter().sum::<f64>() / 3.0;
    let sd = (logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / 3.0).sqrt();
    close(v("t3", "amount_z_payer"), (logs[2] - mean) / sd, "z payer");
    // C received once: no z-score, the ratio against its own median is 1
    close(v("t3", "amount_z_payee"), 0.0, "z payee with one value");
    close(v("t3", "amount_vs_payee"), 0.0, "ratio payee");
    // calendar: Thursday = 3, 18:30
    let tau = std::f64::consts::TAU;
    close(v("t3", "weekday_sin"), (tau * 3.0 / 7.0).sin(), "weekday");
    close(v("t1", "weekday_cos"), 1.0, "Monday");
    close(v("t3", "hour_sin"), (tau * 18.5 / 24.0).sin(), "hour");
    close(v("t1", "hour_sin"), 0.0, "no time: centre");
    close(v("t1", "hour_cos"), 0.0, "no time: centre");
    // history
    close(v("t3", "log_days_since_prev"), 3f64.ln_1p(), "gap 3 days");
    let first = v("t1", "log_days_since_prev").max(v("t2", "log_days_since_prev"));
    close(first, 365f64.ln_1p(), "first payment: 365 days");
    close(v("t3", "new_counterparty"), 1.0, "first payment to C");
    close(
        v("t1", "new_counterparty") + v("t2", "new_counterparty"),
        1.0,
        "one of the two payments to B is the first",
    );
    close(v("t3", "cross_border"), 1.0, "DE → LB");
    close(v("t1", "cross_border"), 0.0, "DE → DE");
    close(v("t3", "ch_transfer"), 1.0, "channel");
    close(v("t3", "ch_cash"), 0.0, "channel");
    // windows by booking date: the other booking of the same day counts for both
    close(v("t1", "payer_out_1d"), 1f64.ln_1p(), "same day, t1");
    close(v("t2", "payer_out_1d"), 1f64.ln_1p(), "same day, t2");
    close(v("t3", "payer_out_1d"), 0.0, "alone that day");
    close(v("t3", "payer_out_7d"), 2f64.ln_1p(), "two in the 7 days");
    close(v("t3", "payer_out_30d"), 2f64.ln_1p(), "two in the 30 days");
    close(v("t3", "payer_outvol_30d"), 300f64.ln_1p(), "300 € before");
    close(v("t4", "payee_in_30d"), 0.0, "A received nothing else");
    // party columns of both sides
    let ai = a.parties.tx_payer[2].idx();
    let ci = a.parties.tx_payee[2].idx();
    assert_ne!(ai, ci);
    close(v("t3", "payer_cash_share"), 0.0, "no cash");
    close(v("t3", "payer_in_cycle"), 0.0, "no cycle");
    // A: bookings on day 2, 2, 5, 20 → gaps 0, 3, 15: μ 6, σ √42
    let (mu, sd) = (6.0, 42f64.sqrt());
    close(
        v("t3", "payer_burstiness"),
        (sd - mu) / (sd + mu),
        "burstiness",
    );
    close(v("t3", "payee_burstiness"), 0.0, "one booking");
    // B → A → C: A passed on nothing of B's 1,000 € (it came after the outflows)
    close(v("t3", "payer_pass_through"), 0.0, "pass-through");
    // party rows
    let p = |party: usize, name: &str| {
        let c = features::PARTY_FEATURES
            .iter()
            .position(|d| d.name == name)
            .unwrap();
        f64::from(f.party_x[party * features::DP + c])
    };
    close(p(ai, "transactions"), 4f64.ln_1p(), "A: 4 bookings");
    close(p(ai, "out_degree"), 2f64.ln_1p(), "A pays B and C");
    close(p(ai, "in_degree"), 1f64.ln_1p(), "A is paid by B");
    close(p(ai, "out_volume"), 10_250f64.ln_1p(), "A paid 10,250 €");
    close(p(ai, "in_volume"), 1_000f64.ln_1p(), "A received 1,000 €");
    close(p(ci, "in_volume"), 9_950f64.ln_1p(), "C received 9,950 €");
    // message passing: C's only sender is A
    close(
        p(ci, "nb_in_pass"),
        p(ai, "pass_through"),
        "C's senders' pass-through",
    );
    close(
        p(ai, "nb_degree"),
        (p(ci, "out_degree").exp_m1() + p(ci, "in_degree").exp_m1()).ln_1p() / 2.0 + {
            let bi = a.parties.tx_payee[0].idx();
            (p(bi, "out_degree").exp_m1() + p(bi, "in_degree").exp_m1()).ln_1p() / 2.0
        },
        "mean degree of A's counterparties B and C",
    );
    // statistics the explanations quote
    assert_eq!(f.stats.med_out[ai], 20_000);
    assert_eq!(f.stats.med_in[ai], 100_000);
    // the first outgoing booking of A
    assert_eq!(f.first_out.iter().filter(|&&b| b).count(), 2, "A and B");
}

/// The amount expressions (`roundness`, `below_threshold`, `log_amount`) agree with plain
/// reference functions on amounts around every threshold and on round numbers.
#[test]
fn amount_expressions_match_their_references() {
    use gs_types::chrono::NaiveDate;
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let me = PartyRef {
        name: Some("Konto".into()),
        iban: Some("DE89370400440532013000".into()),
        ..Default::default()
    };
    let mut txs = Vec::new();
    for k in 0..600 {
        let cents: i64 = match k % 4 {
            0 => rng.random_range(1..2_000_000),
            1 => {
                [100_000i64, 250_000, 1_000_000, 1_500_000][k % 16 / 4]
                    - rng.random_range(0..20_000)
            }
            2 => rng.random_range(1..2_000) * 10_000,
            _ => rng.random_range(1..100) * 100,
        };
        txs.push(Transaction {
            tx_id: TxId(format!("r{k}")),
            booking_date: NaiveDate::from_ymd_opt(2026, 1, 1 + (k % 28) as u32).unwrap(),
            amount: Money(if k % 3 == 0 { cents } else { -cents }),
            currency: "EUR".into(),
            account: me.clone(),
            counterparty: PartyRef {
                name: Some(format!("Gegenpartei {}", k % 37)),
                iban: None,
                ..Default::default()
            },
            channel: Channel::Transfer,
            ..Default::default()
        });
    }
    let a = analyse(&txs);
    let f = features::extract(&txs, &a).unwrap();
    assert_eq!(f.rows.len(), txs.len());
    let col = |name: &str| FEATURES.iter().position(|d| d.name == name).unwrap();
    for (r, &i) in f.rows.iter().enumerate() {
        let cents = txs[i as usize].amount.cents().abs();
        let eur = cents as f64 / 100.0;
        let x = &f.x[r * features::D..(r + 1) * features::D];
        assert_eq!(
            x[col("roundness")].round() as u32,
            features::trailing_decimal_zeros(cents).min(8),
            "{cents}"
        );
        assert!(
            (x[col("below_threshold")] - features::below_threshold(eur)).abs() < 1e-5,
            "{cents}: {} vs {}",
            x[col("below_threshold")],
            features::below_threshold(eur)
        );
        assert!((f64::from(x[col("log_amount")]) - eur.ln_1p()).abs() < 1e-4);
    }
}
