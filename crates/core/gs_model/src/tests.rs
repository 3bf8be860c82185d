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
