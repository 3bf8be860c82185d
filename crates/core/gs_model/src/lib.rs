//! geldspur anomaly model: trained on the case itself at analysis time, explainable,
//! reproducible, and re-ranking from the investigator's decisions. Core crate: no GUI.
//!
//! # Features
//! One row per *scored* transaction (not a mirror, not a reversal, amount ≠ 0: the set the
//! rules use) with the [`FEATURES`] columns, and one row per party with the
//! [`PARTY_FEATURES`](features::PARTY_FEATURES) columns (input of the supervised head). Payer
//! and payee are the parties of `gs_graph`'s resolution. Rows are in canonical order (booking
//! date, `tx_id`, input index), so "before" and "first time" do not depend on input order.
//!
//! | column | meaning |
//! |---|---|
//! | `log_amount` | ln(1 + amount in euros) |
//! | `amount_vs_payer` | ln((amount + 1) / (payer's median outgoing amount + 1)), euros |
//! | `amount_vs_payee` | ln((amount + 1) / (payee's median incoming amount + 1)), euros |
//! | `amount_z_payer` | z-score of ln(amount) among the payer's outgoing amounts (0 with fewer than 3) |
//! | `amount_z_payee` | z-score of ln(amount) among the payee's incoming amounts (0 with fewer than 3) |
//! | `roundness` | trailing zeros of the amount in cents, capped at 8 (4 = multiple of 100 €) |
//! | `below_threshold` | max over 1,000 / 2,500 / 10,000 / 15,000 € of 1 − (threshold − amount) / (10 % of threshold) inside the 10 % band below, else 0 |
//! | `weekday_sin` | sin(2π · weekday / 7), Monday = 0 |
//! | `weekday_cos` | cos(2π · weekday / 7) |
//! | `hour_sin` | sin(2π · hour / 24) when the evidence has a time, else 0 |
//! | `hour_cos` | cos(2π · hour / 24) when the evidence has a time, else 0 (unknown = the circle's centre) |
//! | `log_days_since_prev` | ln(1 + days since the payer's previous outgoing transaction); 365 days for the first |
//! | `new_counterparty` | 1 when the payer pays this payee for the first time in the case |
//! | `cross_border` | 1 when the payer's and payee's account countries (IBAN, else BIC, else the party's) are known and differ |
//! | `ch_cash` | channel is a cash deposit or withdrawal |
//! | `ch_transfer` | channel is a transfer or standing order |
//! | `ch_card` | channel is a card payment |
//! | `ch_debit` | channel is a direct debit |
//! | `ch_other` | channel is a fee or unknown |
//! | `payer_out_1d` | ln(1 + payer's other outgoing transactions on the same day) |
//! | `payer_out_7d` | ln(1 + payer's other outgoing transactions dated in the 7 days ending on this one's day) |
//! | `payer_out_30d` | ln(1 + payer's other outgoing transactions dated in the 30 days ending on this one's day) |
//! | `payer_outvol_30d` | ln(1 + payer's other outgoing euros dated in the 30 days ending on this one's day) |
//! | `payee_in_1d` | ln(1 + payee's other incoming transactions on the same day) |
//! | `payee_in_7d` | ln(1 + payee's other incoming transactions dated in the 7 days ending on this one's day) |
//! | `payee_in_30d` | ln(1 + payee's other incoming transactions dated in the 30 days ending on this one's day) |
//! | `payee_invol_30d` | ln(1 + payee's other incoming euros dated in the 30 days ending on this one's day) |
//! | `payer_counterparties` | ln(1 + payer's distinct payers + distinct payees), from the graph measures |
//! | `payee_counterparties` | ln(1 + payee's distinct payers + distinct payees) |
//! | `payer_cash_share` | share of the payer's volume (in + out) that is cash |
//! | `payee_cash_share` | share of the payee's volume (in + out) that is cash |
//! | `payer_pass_through` | share of the payer's inflow that left again within 7 days (FIFO matching) |
//! | `payee_pass_through` | share of the payee's inflow that left again within 7 days (FIFO matching) |
//! | `payer_burstiness` | (σ − μ)/(σ + μ) of the payer's gaps between bookings in days (−1 regular … 1 bursty; 0 with fewer than 3 bookings) |
//! | `payee_burstiness` | (σ − μ)/(σ + μ) of the payee's gaps between bookings |
//! | `payer_in_cycle` | 1 when a `cycle` finding names the payer |
//! | `payee_in_cycle` | 1 when a `cycle` finding names the payee |
//! | `payer_pagerank` | ln(1 + PageRank × number of parties) of the payer (1 = average) |
//! | `payee_pagerank` | ln(1 + PageRank × number of parties) of the payee |
//! | `payer_betweenness` | ln(1 + betweenness) of the payer |
//! | `payee_betweenness` | ln(1 + betweenness) of the payee |
//! | `payer_core` | ln(1 + k-core number) of the payer |
//! | `payee_core` | ln(1 + k-core number) of the payee |
//! | `payer_nb_in_pass` | mean pass-through share of the parties that paid the payer (message passing along incoming edges) |
//! | `payer_nb_in_cash` | mean cash share of the parties that paid the payer |
//! | `payee_nb_out_pass` | mean pass-through share of the parties the payee paid (message passing along outgoing edges) |
//! | `payee_nb_out_cash` | mean cash share of the parties the payee paid |
//! | `payer_nb_pass_max` | max pass-through share over the payer's counterparties (both directions) |
//! | `payee_nb_pass_max` | max pass-through share over the payee's counterparties (both directions) |
//! | `payer_nb_degree` | mean ln(1 + distinct counterparties) of the payer's counterparties |
//! | `payee_nb_degree` | mean ln(1 + distinct counterparties) of the payee's counterparties |
//!
//! *Per-transaction* columns (amount ratios and z-scores, windows "in the N days up to this
//! one", gap since the previous payment, first payment to the payee) look at the payer's or
//! payee's date-sorted history; *per-party* columns (counterparties, cash share, pass-through,
//! burstiness, cycle membership, graph measures, neighbourhood means) describe the party over
//! the whole case. The pseudo-parties CASH and UNKNOWN gather unrelated people: their party
//! columns are 0 and they are left out of the neighbourhood means.
//!
//! How they are computed: the inputs (party ids from the resolution, signed cents, booking
//! date, timestamp, channel, account countries, graph measures) go into two Polars frames and
//! every column is a Polars lazy expression ([`features`]): per-side statistics are
//! `group_by` aggregations joined back by payer / payee, windows are `rolling_sum_by(date)`
//! `.over(payer)`, gaps `diff().over(payer)`, "first payment" `is_first_distinct`, message
//! passing joins the edge list with the counterparties' party columns. Windows count by
//! booking date (the same day included, the transaction itself not), so they do not depend
//! on the order of bookings within a day. The FIFO pass-through share is the one plain-Rust
//! scan (a queue of inflows that outflows consume; no expression states it). Joins keep the
//! left order and every float aggregate runs over rows in canonical order, so the matrix is
//! identical on every run.
//!
//! # Scaling
//! Per column `(x − median) / IQR`; where the IQR is 0 (flags, rare values) `1.349·σ` (the IQR
//! of a normal distribution with that σ), where σ is 0 too, 1; clipped to ±10.
//!
//! # Model
//! Autoencoder in candle: `d → 16 → 6 → 16 → d` ([`ModelOptions::hidden`] gives the encoder),
//! tanh between layers, linear output, MSE loss, AdamW (β 0.9/0.999, weight decay 1e-4),
//! mini-batches, on a seeded sample of at most [`ModelOptions::max_train_rows`] rows. Weights
//! are Glorot-uniform draws from ChaCha8 seeded with [`ModelOptions::seed`]; the batch order
//! is a Fisher–Yates shuffle from another ChaCha8 stream of the same seed. candle's RNG is never
//! used. Small cases get more epochs so that at least [`MIN_STEPS`] optimiser steps are taken.
//!
//! # Score and calibration
//! A row's error is the sum over features of the squared reconstruction error. `tx_score` is
//! its percentile within the case: the share of the other scored rows with a smaller error
//! (`k / (n − 1)`, ties share the lower value, a single row gets 0). Mirrors get the score,
//! explanation and top features of the row they mirror (the same transfer); reversals and zero
//! amounts get 0 and are not trained on.
//!
//! # Explanation
//! `tx_top_features`: the three features with the largest share of the row's error (every
//! scored row). For rows with `tx_score ≥` [`EXPLAIN_FROM`] (the top 5 %) the three are
//! rendered in German and English with the raw value and the party's own typical value (or the
//! case median): "Betrag 48.000 € 50× höher als üblich für das zahlende Konto (üblich 960 €)",
//! "erste Zahlung an diesen Empfänger", "Zahlendes Konto leitete 96 % der Zuflüsse binnen 7
//! Tagen weiter".
//!
//! # Party score and fusion
//! `party_model_score`: the mean of the party's three highest `tx_score`s (as payer or payee;
//! fewer when it has fewer rows), as a percentile among the parties with scored rows; 0 for
//! parties without rows and for CASH/UNKNOWN.
//!
//! `party_fused` without labels: `1 − (1 − rule)(1 − 0.5·m⁸)` with `rule` the party's rule risk
//! (`analysis.party_scores`) and `m` its model score: monotone in both, the model alone adds at
//! most 0.5 and only near the top (m = 0.99 → +0.46, m = 0.9 → +0.22, m = 0.5 → +0.002).
//!
//! With at least two suspicious and two cleared labelled parties (party labels by uid, IBAN
//! or account; a transaction label applies to its payer and payee unless they carry their own
//! label; suspicious wins between transactions), a logistic regression (candle, L2 1/n for n labelled parties,
//! class-balanced, 300 full-batch AdamW steps, seeded) over the robust-scaled party features +
//! model score + rule risk is trained on the labelled parties, with the logit of the
//! unsupervised score as a fixed offset: `fused = σ(logit(unsupervised) + w·x + b)`. The head
//! learns a *correction* to the unsupervised ranking; with few labels the penalised weights
//! stay small and the ranking moves little, with more labels it moves more (a head without
//! the offset, mixed half and half, scrambled the ranking on 20 labels: precision@k 0.90 →
//! 0.42 on the 100 k ledger). Decided parties get `0.99 + 0.01·unsupervised` (suspicious:
//! above every undecided party) or `0.01·unsupervised` (cleared: below), so a decision never
//! moves a party against it. CASH/UNKNOWN keep the unsupervised value.
//!
//! # Reproducibility
//! Same transactions (any order), analysis, labels and options → bit-identical scores,
//! fused risks and weights (tested). Training runs on one dedicated thread: matrix products
//! go through `gemm` inside a one-thread rayon pool, and every tensor stays below the 64 Ki
//! elements above which candle 0.11 hands element-wise ops to its own thread pool (so the
//! batch size is capped at `65535 / width` rows). The error pass over all rows runs those
//! fixed batches on rayon's threads: which batch a row falls into never depends on the
//! thread count (the demo case's outputs are byte-identical with `RAYON_NUM_THREADS` 1 and 2).
//! The card ([`ModelCard`]) records features, options, seed, SHA-256 of the feature matrix
//! and of the weights, candle version, device, epochs, losses, rows and labels. Different CPU
//! kinds (AVX2 vs AVX-512 kernels) and CUDA may differ in the last bits.

// Numeric code reads best with the names of its formulas (n rows, d columns, x inputs,
// y targets, w weights, b bias, z logits).
#![allow(clippy::many_single_char_names)]

mod explain;
pub mod features;
mod nn;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

use candle_core::{Device, Tensor};
use gs_graph::{Analysis, PartyKind};
use gs_types::Transaction;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use features::{FEATURES, FeatureDef, FeatureKind, Features, Scaler};

/// Rows with a `tx_score` at or above this get an explanation in words.
pub const EXPLAIN_FROM: f32 = 0.95;
/// Fewest optimiser steps: small cases train more epochs than [`ModelOptions::epochs`].
pub const MIN_STEPS: usize = 300;
/// Weight of the model score in the unsupervised fusion.
pub const MODEL_WEIGHT: f64 = 0.5;
/// Power of the model score in the unsupervised fusion.
pub const MODEL_POWER: i32 = 8;
/// ln(u / (1 − u)) of a score, clamped to ±ln(10⁴) so that 0 and 1 stay finite.
fn logit(u: f64) -> f32 {
    let u = u.clamp(1e-4, 1.0 - 1e-4);
    (u / (1.0 - u)).ln() as f32
}

/// Labels of each class needed for the supervised head.
pub const MIN_LABELS: usize = 2;

/// Errors of the model stage.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// candle failed.
    #[error("model computation failed: {0}")]
    Candle(#[from] candle_core::Error),
    /// Feature extraction (Polars) failed.
    #[error("feature extraction failed: {0}")]
    Features(#[from] polars::prelude::PolarsError),
    /// CUDA requested but unavailable.
    #[error("{0}")]
    Device(String),
    /// Options out of range.
    #[error("model options: {0}")]
    Options(String),
    /// The analysis was made for other transactions.
    #[error(
        "model input: the analysis has {parties_txs} transactions, the input {txs} (analyse the same transactions)"
    )]
    Mismatch {
        /// Transactions in the analysis.
        parties_txs: usize,
        /// Transactions given.
        txs: usize,
    },
    /// Writing the card or weights failed.
    #[error("cannot write model output {path}: {message}")]
    Write {
        /// File.
        path: String,
        /// Reason.
        message: String,
    },
}

/// Where the model runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    /// CUDA when compiled in and present, else CPU.
    #[default]
    Auto,
    /// CPU.
    Cpu,
    /// CUDA (needs the `cuda` feature and a GPU).
    Cuda,
}

impl FromStr for DeviceChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda),
            other => Err(format!("unknown device '{other}': use auto, cpu or cuda")),
        }
    }
}

fn device(choice: DeviceChoice) -> Result<(Device, String), ModelError> {
    match choice {
        DeviceChoice::Cpu => Ok((Device::Cpu, "cpu".to_owned())),
        DeviceChoice::Auto => {
            if cfg!(feature = "cuda")
                && let Ok(d) = Device::new_cuda(0)
            {
                return Ok((d, "cuda:0".to_owned()));
            }
            Ok((Device::Cpu, "cpu".to_owned()))
        }
        DeviceChoice::Cuda => {
            if !cfg!(feature = "cuda") {
                return Err(ModelError::Device(
                    "CUDA was requested, but geldspur was built without CUDA support; rebuild with --features cuda (`cargo build --release --features gs_model/cuda`, needs the CUDA toolkit) or use --device cpu".to_owned(),
                ));
            }
            Device::new_cuda(0)
                .map(|d| (d, "cuda:0".to_owned()))
                .map_err(|e| {
                    ModelError::Device(format!(
                        "CUDA was requested but no CUDA device is usable: {e}"
                    ))
                })
        }
    }
}

/// Model parameters (stored in the model card).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelOptions {
    /// Seed of every random draw.
    pub seed: u64,
    /// Device.
    pub device: DeviceChoice,
    /// Training epochs (more for small cases, see [`MIN_STEPS`]).
    pub epochs: usize,
    /// Mini-batch rows (capped at `65535 / widest layer`, see the crate docs).
    pub batch_size: usize,
    /// Encoder widths (the decoder mirrors them).
    pub hidden: Vec<usize>,
    /// AdamW learning rate.
    pub learning_rate: f64,
    /// Rows sampled for training (all rows are scored).
    pub max_train_rows: usize,
}

impl Default for ModelOptions {
    fn default() -> Self {
        Self {
            seed: 20_261_124,
            device: DeviceChoice::Auto,
            epochs: 10,
            batch_size: 512,
            hidden: vec![16, 6],
            learning_rate: 3e-3,
            max_train_rows: 200_000,
        }
    }
}

impl ModelOptions {
    fn check(&self) -> Result<(), ModelError> {
        let bad = |m: &str| Err(ModelError::Options(m.to_owned()));
        if self.epochs == 0 {
            return bad("epochs must be at least 1");
        }
        if self.batch_size == 0 {
            return bad("batch_size must be at least 1");
        }
        if self.max_train_rows == 0 {
            return bad("max_train_rows must be at least 1");
        }
        if self.hidden.is_empty() || self.hidden.contains(&0) {
            return bad("hidden needs at least one width, all above 0");
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return bad("learning_rate must be a positive number");
        }
        Ok(())
    }
}

/// Investigator decisions: `true` = suspicious, `false` = cleared.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Labels {
    /// Party uid, IBAN or account number → label.
    pub parties: BTreeMap<String, bool>,
    /// Transaction id → label.
    pub transactions: BTreeMap<String, bool>,
}

/// How the labels were used (part of the card).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LabelReport {
    /// Party labels given.
    pub party_labels: usize,
    /// Transaction labels given.
    pub transaction_labels: usize,
    /// Label keys that matched no party or transaction (sorted).
    pub unmatched: Vec<String>,
    /// Labelled parties after mapping: suspicious.
    pub suspicious: usize,
    /// Labelled parties after mapping: cleared.
    pub cleared: usize,
    /// Why the head was or was not used.
    pub head: String,
    /// Head coefficients per input column (empty without head).
    pub head_coefficients: Vec<(String, f32)>,
    /// Head bias.
    pub head_bias: Option<f32>,
    /// Head's final training loss.
    pub head_loss: Option<f64>,
}

/// What was done, with which data, by which code (written as `model_card.json`).
#[derive(Clone, Debug, Serialize)]
pub struct ModelCard {
    /// Model kind.
    pub model: &'static str,
    /// Transaction feature columns.
    pub features: Vec<FeatureDef>,
    /// Party feature columns of the head (model score and rule risk follow).
    pub party_features: Vec<FeatureDef>,
    /// Parameters as given.
    pub options: ModelOptions,
    /// Autoencoder widths, input first.
    pub layers: Vec<usize>,
    /// Activation, loss, optimiser, scaling, calibration, fusion in words.
    pub method: BTreeMap<&'static str, String>,
    /// Seed used.
    pub seed: u64,
    /// SHA-256 of the raw feature matrix (rows in canonical order, f32 little endian).
    pub training_data_sha256: String,
    /// SHA-256 of `model.safetensors`.
    pub weights_sha256: String,
    /// candle version.
    pub candle_version: &'static str,
    /// Device used.
    pub device: String,
    /// Threads candle ran on (CPU).
    pub threads: usize,
    /// Epochs run.
    pub epochs_run: usize,
    /// Optimiser steps.
    pub steps: usize,
    /// Batch rows used.
    pub batch_size_used: usize,
    /// Input transactions.
    pub rows_input: usize,
    /// Rows scored.
    pub rows_scored: usize,
    /// Rows trained on.
    pub rows_trained: usize,
    /// Mirrors (scored through their primary), reversals and zero amounts (score 0).
    pub rows_excluded: BTreeMap<&'static str, usize>,
    /// Final epoch's mean loss.
    pub final_loss: f64,
    /// Mean loss per epoch.
    pub epoch_loss: Vec<f64>,
    /// Labelled parties used by the head (suspicious, cleared); (0, 0) = no head.
    pub labels_used: (usize, usize),
    /// Whether the supervised head re-ranked.
    pub head_used: bool,
    /// Labels in detail.
    pub labels: LabelReport,
    /// Seconds per stage; not part of any hash, and left out of the written card.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub seconds: BTreeMap<&'static str, f64>,
}

/// Everything the model stage produces. Per-transaction vectors are indexed like the input.
#[derive(Clone, Debug)]
pub struct ModelOutput {
    /// Percentile score per input transaction (see the crate docs; 0 for unscored rows).
    pub tx_score: Vec<f32>,
    /// Raw reconstruction error (sum of squared errors of the scaled row; 0 when unscored).
    pub tx_error: Vec<f32>,
    /// German explanation (empty below [`EXPLAIN_FROM`]).
    pub tx_explanation_de: Vec<String>,
    /// English explanation.
    pub tx_explanation_en: Vec<String>,
    /// Top three features per transaction (name, share of the row's error).
    pub tx_top_features: Vec<Vec<(String, f32)>>,
    /// Model percentile per party id.
    pub party_model_score: Vec<f32>,
    /// Supervised head's probability per party id (empty without head).
    pub party_head: Vec<f32>,
    /// Fused risk per party id.
    pub party_fused: Vec<f64>,
    /// The card.
    pub card: ModelCard,
    /// safetensors bytes: autoencoder, scaler (and head).
    pub weights: Vec<u8>,
}

/// Percentiles in 0..=1: `k / (n − 1)` with `k` the number of smaller values (ties share the
/// lower value; a single value gets 0).
fn percentiles(v: &[f32]) -> Vec<f32> {
    use rayon::prelude::*;
    let n = v.len();
    // (value, index) pairs are unique: the parallel unstable sort is deterministic
    let mut keyed: Vec<(f32, u32)> = v.iter().enumerate().map(|(i, &x)| (x, i as u32)).collect();
    keyed.par_sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut out = vec![0.0f32; n];
    let mut k = 0;
    while k < n {
        let mut j = k;
        while j + 1 < n && keyed[j + 1].0.total_cmp(&keyed[k].0).is_eq() {
            j += 1;
        }
        let p = if n > 1 {
            k as f32 / (n - 1) as f32
        } else {
            0.0
        };
        for &(_, i) in &keyed[k..=j] {
            out[i as usize] = p;
        }
        k = j + 1;
    }
    out
}

fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// candle version the crate is built against (Cargo.lock pins it; a test checks).
pub const CANDLE_VERSION: &str = "0.11.1";

/// What the one-thread candle stage returns.
struct Trained {
    ae: nn::AutoEncoder,
    report: nn::TrainReport,
    epochs_run: usize,
    errors: nn::RowErrors,
}

/// Features → training → scoring → explanations → party scores → fusion (see the crate docs).
pub fn run(
    txs: &[Transaction],
    a: &Analysis,
    labels: &Labels,
    opts: &ModelOptions,
) -> Result<ModelOutput, ModelError> {
    opts.check()?;
    if a.parties.tx_payer.len() != txs.len() || a.parties.tx_payee.len() != txs.len() {
        return Err(ModelError::Mismatch {
            parties_txs: a.parties.tx_payer.len(),
            txs: txs.len(),
        });
    }
    let (dev, dev_name) = device(opts.device)?;
    let mut secs = BTreeMap::new();
    let t0 = Instant::now();
    let feats = features::extract(txs, a)?;
    let n = feats.rows.len();
    let d = features::D;
    let scaler = Scaler::fit(&feats.x, d);
    let training_data_sha256 = sha256_hex(&f32_bytes(&feats.x));
    secs.insert("features", t0.elapsed().as_secs_f64());

    // training sample: seeded, without replacement, kept in canonical order
    let t1 = Instant::now();
    let mut rng = nn::rng_for(opts.seed, 1);
    let take = n.min(opts.max_train_rows);
    let mut pick: Vec<usize> = (0..n).collect();
    if take < n {
        for i in 0..take {
            let j = rand::Rng::random_range(&mut rng, i..n);
            pick.swap(i, j);
        }
        pick.truncate(take);
        pick.sort_unstable();
    }
    let mut train = Vec::with_capacity(take * d);
    for &r in &pick {
        train.extend(scaler.apply_seq(&feats.x[r * d..(r + 1) * d]));
    }
    // candle on one dedicated thread (see "Reproducibility")
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .thread_name(|_| "gs_model-candle".to_owned())
        .build()
        .map_err(|e| ModelError::Device(format!("cannot start the model thread: {e}")))?;
    let trained = pool.install(|| -> Result<_, ModelError> {
        let mut init = nn::rng_for(opts.seed, 2);
        let ae = nn::AutoEncoder::new(&mut init, d, &opts.hidden, &dev)?;
        let batch = opts.batch_size.clamp(1, nn::max_rows(ae.max_width()));
        let steps_per_epoch = take.div_ceil(batch).max(1);
        let epochs_run = opts.epochs.max(MIN_STEPS.div_ceil(steps_per_epoch));
        let mut shuffle = nn::rng_for(opts.seed, 3);
        let report = nn::train_ae(
            &ae,
            &mut shuffle,
            &train,
            d,
            &nn::TrainParams {
                epochs: epochs_run,
                batch_size: batch,
                learning_rate: opts.learning_rate,
            },
            &dev,
        )?;
        Ok((ae, report, epochs_run))
    })?;
    drop(train);
    secs.insert("training", t1.elapsed().as_secs_f64());

    // scoring and explanations
    let t2 = Instant::now();
    let (ae, report, epochs_run) = trained;
    let errors = nn::errors(&ae, &feats.x, &scaler, d, &dev)?;
    let trained = Trained {
        ae,
        report,
        epochs_run,
        errors,
    };
    let row_pct = percentiles(&trained.errors.total);
    let col_mean: Vec<f32> = (0..d)
        .map(|c| {
            let s: f64 = (0..n).map(|r| f64::from(feats.x[r * d + c])).sum();
            (s / n.max(1) as f64) as f32
        })
        .collect();
    let mut tx_score = vec![0.0f32; txs.len()];
    let mut tx_error = vec![0.0f32; txs.len()];
    let mut tx_de = vec![String::new(); txs.len()];
    let mut tx_en = vec![String::new(); txs.len()];
    let mut tx_top = vec![Vec::new(); txs.len()];
    for (r, &i) in feats.rows.iter().enumerate() {
        let i = i as usize;
        tx_score[i] = row_pct[r];
        tx_error[i] = trained.errors.total[r];
        let top = &trained.errors.top[r];
        tx_top[i] = top
            .iter()
            .filter(|t| t.1 > 0.0)
            .map(|&(f, s)| (FEATURES[f as usize].name.to_owned(), s))
            .collect();
        if row_pct[r] < EXPLAIN_FROM {
            continue;
        }
        let row = explain::Row {
            t: &txs[i],
            a,
            feats: &feats,
            r,
            payer: a.parties.tx_payer[i].idx(),
            payee: a.parties.tx_payee[i].idx(),
            median: &scaler.median,
            mean: &col_mean,
        };
        let mut seen = BTreeSet::new();
        let (mut de, mut en) = (Vec::new(), Vec::new());
        for &(f, s) in top.iter().filter(|t| t.1 > 0.0) {
            let (pd, pe) = explain::phrase(f as usize, &row);
            if seen.insert(pd.clone()) {
                de.push(format!(
                    "{pd} [{} %]",
                    explain::num(f64::from(s) * 100.0, 0, true)
                ));
                en.push(format!(
                    "{pe} [{} %]",
                    explain::num(f64::from(s) * 100.0, 0, false)
                ));
            }
        }
        tx_de[i] = format!(
            "Modell (Perzentil {}): {}",
            explain::num(f64::from(row_pct[r]) * 100.0, 1, true),
            de.join("; ")
        );
        tx_en[i] = format!(
            "Model (percentile {}): {}",
            explain::num(f64::from(row_pct[r]) * 100.0, 1, false),
            en.join("; ")
        );
    }
    // mirrors: the primary's score, explanation and top features
    let (mut mirrors, mut reversals, mut zero) = (0usize, 0usize, 0usize);
    let primary = primaries(txs, &feats.rows);
    for (i, t) in txs.iter().enumerate() {
        if let Some(m) = &t.mirror_of {
            mirrors += 1;
            if let Some(&p) = primary.get(m.0.as_str()) {
                tx_score[i] = tx_score[p];
                tx_error[i] = tx_error[p];
                let v = tx_de[p].clone();
                tx_de[i] = v;
                let v = tx_en[p].clone();
                tx_en[i] = v;
                let v = tx_top[p].clone();
                tx_top[i] = v;
            }
        } else if t.reversal {
            reversals += 1;
        } else if t.amount.cents() == 0 {
            zero += 1;
        }
    }
    secs.insert("scoring", t2.elapsed().as_secs_f64());

    // parties
    let t3 = Instant::now();
    let np = a.parties.parties.len();
    let special = |p: usize| {
        a.parties
            .parties
            .get(p)
            .is_none_or(|x| matches!(x.kind, PartyKind::Cash | PartyKind::Unknown))
    };
    let mut per: Vec<Vec<f32>> = vec![Vec::new(); np];
    for (r, &i) in feats.rows.iter().enumerate() {
        let i = i as usize;
        let (p, q) = (a.parties.tx_payer[i].idx(), a.parties.tx_payee[i].idx());
        per[p].push(row_pct[r]);
        if q != p {
            per[q].push(row_pct[r]);
        }
    }
    let with: Vec<usize> = (0..np)
        .filter(|&p| !per[p].is_empty() && !special(p))
        .collect();
    let raw: Vec<f32> = with
        .iter()
        .map(|&p| {
            let v = &mut per[p];
            v.sort_by(|x, y| y.total_cmp(x));
            let k = v.len().min(3);
            v[..k].iter().sum::<f32>() / k as f32
        })
        .collect();
    let pp = percentiles(&raw);
    let mut party_model = vec![0.0f32; np];
    for (k, &p) in with.iter().enumerate() {
        party_model[p] = pp[k];
    }
    let mut rule = vec![0.0f64; np];
    for s in &a.party_scores {
        if let Some(x) = rule.get_mut(s.party.idx()) {
            *x = s.score.clamp(0.0, 1.0);
        }
    }
    let unsup: Vec<f64> = (0..np)
        .map(|p| {
            let m = f64::from(party_model[p]);
            1.0 - (1.0 - rule[p]) * (1.0 - MODEL_WEIGHT * m.powi(MODEL_POWER))
        })
        .collect();

    // labels → parties
    let (label_of, unmatched) = map_labels(txs, a, labels, &special);
    let pos = label_of.values().filter(|&&l| l).count();
    let neg = label_of.len() - pos;
    let head_used = pos >= MIN_LABELS && neg >= MIN_LABELS;
    let mut label_report = LabelReport {
        party_labels: labels.parties.len(),
        transaction_labels: labels.transactions.len(),
        unmatched,
        suspicious: pos,
        cleared: neg,
        head: if head_used {
            format!("used: logistic regression on {pos} suspicious and {neg} cleared parties")
        } else {
            format!(
                "not used: needs at least {MIN_LABELS} suspicious and {MIN_LABELS} cleared labelled parties, has {pos} and {neg}"
            )
        },
        ..LabelReport::default()
    };
    let mut named: Vec<(String, Tensor)> = trained.ae.named();
    named.push((
        "scaler.median".to_owned(),
        Tensor::new(scaler.median.as_slice(), &Device::Cpu)?,
    ));
    named.push((
        "scaler.scale".to_owned(),
        Tensor::new(scaler.scale.as_slice(), &Device::Cpu)?,
    ));
    let mut party_head = Vec::new();
    let party_fused = if head_used {
        let hd = features::DP + 2;
        let mut all = Vec::with_capacity(np * hd);
        for p in 0..np {
            all.extend_from_slice(&feats.party_x[p * features::DP..(p + 1) * features::DP]);
            all.push(party_model[p]);
            all.push(rule[p] as f32);
        }
        let fit_rows: Vec<f32> = (0..np)
            .filter(|&p| !special(p))
            .flat_map(|p| all[p * hd..(p + 1) * hd].iter().copied())
            .collect();
        let hs = Scaler::fit(&fit_rows, hd);
        let z = hs.apply(&all);
        let lab: Vec<(usize, bool)> = label_of.iter().map(|(&p, &l)| (p, l)).collect();
        let xl: Vec<f32> = lab
            .iter()
            .flat_map(|&(p, _)| z[p * hd..(p + 1) * hd].iter().copied())
            .collect();
        let yl: Vec<f32> = lab.iter().map(|&(_, l)| f32::from(u8::from(l))).collect();
        let prior: Vec<f32> = unsup.iter().map(|&u| logit(u)).collect();
        let ol: Vec<f32> = lab.iter().map(|&(p, _)| prior[p]).collect();
        let head = pool.install(|| {
            let mut hr = nn::rng_for(opts.seed, 4);
            nn::train_logistic(&xl, &yl, &ol, hd, &mut hr, &dev)
        })?;
        named.push((
            "head.weight".to_owned(),
            Tensor::new(head.w.as_slice(), &Device::Cpu)?,
        ));
        named.push((
            "head.bias".to_owned(),
            Tensor::new(&[head.b], &Device::Cpu)?,
        ));
        named.push((
            "head_scaler.median".to_owned(),
            Tensor::new(hs.median.as_slice(), &Device::Cpu)?,
        ));
        named.push((
            "head_scaler.scale".to_owned(),
            Tensor::new(hs.scale.as_slice(), &Device::Cpu)?,
        ));
        label_report.head_coefficients = features::PARTY_FEATURES
            .iter()
            .map(|f| f.name)
            .chain(["model_score", "rule_risk"])
            .zip(&head.w)
            .map(|(n, &w)| (n.to_owned(), w))
            .collect();
        label_report.head_bias = Some(head.b);
        label_report.head_loss = Some(head.loss);
        party_head = (0..np)
            .map(|p| {
                let s: f32 = z[p * hd..(p + 1) * hd]
                    .iter()
                    .zip(&head.w)
                    .map(|(x, w)| x * w)
                    .sum::<f32>()
                    + head.b
                    + prior[p];
                (1.0 / (1.0 + f64::from(-s).exp())) as f32
            })
            .collect();
        (0..np)
            .map(|p| {
                if special(p) {
                    return unsup[p];
                }
                // decided parties: suspicious ones rank above, cleared ones below every
                // undecided party, each group ordered by its unsupervised score
                label_of.get(&p).map_or(f64::from(party_head[p]), |&l| {
                    if l {
                        0.99 + 0.01 * unsup[p]
                    } else {
                        0.01 * unsup[p]
                    }
                })
            })
            .collect()
    } else {
        unsup
    };
    secs.insert("parties", t3.elapsed().as_secs_f64());

    // weights: CPU tensors, serialised in name order with one metadata entry (a HashMap with
    // more entries would be written in random order)
    let t4 = Instant::now();
    named.sort_by(|x, y| x.0.cmp(&y.0));
    let cpu: Vec<(String, Tensor)> = named
        .into_iter()
        .map(|(k, t)| t.to_device(&Device::Cpu).map(|t| (k, t)))
        .collect::<Result<_, _>>()?;
    let meta: HashMap<String, String> =
        HashMap::from([("format".to_owned(), "geldspur gs_model 1".to_owned())]);
    let weights =
        safetensors::tensor::serialize(cpu.iter().map(|(k, t)| (k.as_str(), t)), Some(meta))
            .map_err(|e| ModelError::Write {
                path: "model.safetensors".into(),
                message: e.to_string(),
            })?;
    secs.insert("serialise", t4.elapsed().as_secs_f64());
    let method = BTreeMap::from([
        (
            "activation",
            "tanh between layers, linear output".to_owned(),
        ),
        ("loss", "mean squared error of the scaled row".to_owned()),
        (
            "optimizer",
            format!(
                "AdamW (lr {}, beta 0.9/0.999, eps 1e-8, weight decay {})",
                opts.learning_rate,
                nn::WEIGHT_DECAY
            ),
        ),
        (
            "scaling",
            "(x − median)/IQR per column (IQR 0: 1.349·σ; σ 0: 1), clipped to ±10".to_owned(),
        ),
        (
            "calibration",
            "tx_score = share of the other scored rows with a smaller reconstruction error"
                .to_owned(),
        ),
        (
            "party_score",
            "mean of the party's three highest tx_scores, as a percentile among parties with rows"
                .to_owned(),
        ),
        (
            "fusion",
            format!(
                "no labels: 1 − (1 − rule)(1 − {MODEL_WEIGHT}·m^{MODEL_POWER}); with ≥ {MIN_LABELS} labels of each class: σ(logit(that) + head correction w·x + b), decided parties 0.99 + 0.01·that (suspicious) or 0.01·that (cleared)"
            ),
        ),
    ]);
    let final_loss = trained.report.epoch_loss.last().copied().unwrap_or(0.0);
    let card = ModelCard {
        model: "autoencoder (reconstruction error, percentile within the case) + logistic head on labels",
        features: FEATURES.to_vec(),
        party_features: features::PARTY_FEATURES.to_vec(),
        options: opts.clone(),
        layers: trained.ae.widths.clone(),
        method,
        seed: opts.seed,
        training_data_sha256,
        weights_sha256: sha256_hex(&weights),
        candle_version: CANDLE_VERSION,
        device: dev_name,
        threads: 1,
        epochs_run: trained.epochs_run,
        steps: trained.report.steps,
        batch_size_used: trained.report.batch_size,
        rows_input: txs.len(),
        rows_scored: n,
        rows_trained: take,
        rows_excluded: BTreeMap::from([
            ("mirrors", mirrors),
            ("reversals", reversals),
            ("zero_amounts", zero),
        ]),
        final_loss,
        epoch_loss: trained.report.epoch_loss.clone(),
        labels_used: if head_used { (pos, neg) } else { (0, 0) },
        head_used,
        labels: label_report,
        seconds: secs,
    };
    Ok(ModelOutput {
        tx_score,
        tx_error,
        tx_explanation_de: tx_de,
        tx_explanation_en: tx_en,
        tx_top_features: tx_top,
        party_model_score: party_model,
        party_head,
        party_fused,
        card,
        weights,
    })
}

/// Scores a case with saved weights (`ModelOutput::weights` / `model.safetensors`): the
/// saved scaler and autoencoder, no training. Returns `tx_score` as [`run`] defines it; on
/// the case the weights were trained on it equals `run`'s `tx_score` bit for bit.
pub fn score(
    txs: &[Transaction],
    a: &Analysis,
    weights: &[u8],
    device_choice: DeviceChoice,
) -> Result<Vec<f32>, ModelError> {
    if a.parties.tx_payer.len() != txs.len() || a.parties.tx_payee.len() != txs.len() {
        return Err(ModelError::Mismatch {
            parties_txs: a.parties.tx_payer.len(),
            txs: txs.len(),
        });
    }
    let feats = features::extract(txs, a)?;
    score_features(txs, &feats, weights, device_choice)
}

/// The scoring half of [`score`]: features already extracted (for the same `txs`) → scaled →
/// autoencoder errors → percentiles, mirrors taking their primary's score.
pub fn score_features(
    txs: &[Transaction],
    feats: &Features,
    weights: &[u8],
    device_choice: DeviceChoice,
) -> Result<Vec<f32>, ModelError> {
    let (dev, _) = device(device_choice)?;
    let t = candle_core::safetensors::load_buffer(weights, &Device::Cpu)?;
    let vec1 = |name: &str| -> Result<Vec<f32>, ModelError> {
        t.get(name)
            .ok_or_else(|| ModelError::Options(format!("the weights hold no {name}")))?
            .to_vec1::<f32>()
            .map_err(ModelError::from)
    };
    let scaler = Scaler {
        median: vec1("scaler.median")?,
        scale: vec1("scaler.scale")?,
    };
    if scaler.median.len() != features::D || scaler.scale.len() != features::D {
        return Err(ModelError::Options(format!(
            "the weights were made for {} features, this build has {}",
            scaler.median.len(),
            features::D
        )));
    }
    let ae = nn::AutoEncoder::from_tensors(&t, &dev)?;
    let errors = nn::errors(&ae, &feats.x, &scaler, features::D, &dev)?;
    let pct = percentiles(&errors.total);
    let mut out = vec![0.0f32; txs.len()];
    for (r, &i) in feats.rows.iter().enumerate() {
        out[i as usize] = pct[r];
    }
    let primary = primaries(txs, &feats.rows);
    for (i, tx) in txs.iter().enumerate() {
        if let Some(p) = tx
            .mirror_of
            .as_ref()
            .and_then(|m| primary.get(m.0.as_str()))
        {
            out[i] = out[*p];
        }
    }
    Ok(out)
}

/// Scored rows that some mirror points to, by tx id (only those: hashing every id of a
/// million-row case costs more than the scoring).
fn primaries<'a>(txs: &'a [Transaction], rows: &[u32]) -> HashMap<&'a str, usize> {
    let wanted: HashSet<&str> = txs
        .iter()
        .filter_map(|t| t.mirror_of.as_ref().map(|m| m.0.as_str()))
        .collect();
    if wanted.is_empty() {
        return HashMap::new();
    }
    rows.iter()
        .map(|&i| (txs[i as usize].tx_id.0.as_str(), i as usize))
        .filter(|(id, _)| wanted.contains(id))
        .collect()
}

/// Labelled parties (index → label) and the label keys that matched nothing.
fn map_labels(
    txs: &[Transaction],
    a: &Analysis,
    labels: &Labels,
    special: &dyn Fn(usize) -> bool,
) -> (BTreeMap<usize, bool>, Vec<String>) {
    let mut unmatched = Vec::new();
    let mut from_tx: BTreeMap<usize, bool> = BTreeMap::new();
    if !labels.transactions.is_empty() {
        let by_id: HashMap<&str, usize> = txs
            .iter()
            .enumerate()
            .map(|(i, t)| (t.tx_id.0.as_str(), i))
            .collect();
        for (id, &l) in &labels.transactions {
            let Some(&i) = by_id.get(id.as_str()) else {
                unmatched.push(format!("transaction {id}"));
                continue;
            };
            for p in [a.parties.tx_payer[i].idx(), a.parties.tx_payee[i].idx()] {
                if !special(p) {
                    // suspicious wins between transactions
                    let e = from_tx.entry(p).or_insert(l);
                    *e |= l;
                }
            }
        }
    }
    let mut label_of = from_tx;
    let mut matched_keys = BTreeSet::new();
    if !labels.parties.is_empty() {
        for p in &a.parties.parties {
            let hit = std::iter::once(&p.uid)
                .chain(&p.ibans)
                .chain(&p.other_accounts)
                .find_map(|k| labels.parties.get_key_value(k.as_str()));
            if let Some((k, &l)) = hit {
                matched_keys.insert(k.clone());
                label_of.insert(p.id.idx(), l);
            }
        }
    }
    unmatched.extend(
        labels
            .parties
            .keys()
            .filter(|k| !matched_keys.contains(*k))
            .map(|k| format!("party {k}")),
    );
    unmatched.sort();
    (label_of, unmatched)
}

/// Writes `model_card.json` (pretty JSON without the timings, so reruns are byte-identical)
/// and `model.safetensors`; returns the paths written.
pub fn write(out: &ModelOutput, dir: &Path) -> Result<Vec<PathBuf>, ModelError> {
    let werr = |p: &Path, e: &dyn std::fmt::Display| ModelError::Write {
        path: p.display().to_string(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| werr(dir, &e))?;
    let card_path = dir.join("model_card.json");
    let mut card = out.card.clone();
    card.seconds.clear();
    let json = serde_json::to_string_pretty(&card).map_err(|e| werr(&card_path, &e))?;
    std::fs::write(&card_path, json + "\n").map_err(|e| werr(&card_path, &e))?;
    let w = dir.join("model.safetensors");
    std::fs::write(&w, &out.weights).map_err(|e| werr(&w, &e))?;
    Ok(vec![card_path, w])
}

#[cfg(test)]
mod tests;
