//! The candle networks: the autoencoder and the logistic head.
//!
//! Weights are initialised from the case seed (ChaCha8) and batches are drawn from the same
//! kind of generator: candle's own RNG is never used. Every tensor the CPU backend sees stays
//! below [`PAR_ELEMENTS`] elements, the size above which candle 0.11 hands element-wise ops to
//! its spinning barrier pool; matrix products run through `gemm`, which the caller confines to
//! a one-thread rayon pool (see `lib.rs`).

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::ModelError;

/// candle 0.11's CPU backend runs element-wise ops of at least 64 Ki elements on its own
/// barrier-pool threads (`cpu_backend/utils.rs`, `PAR_ELEMWISE_MIN`); we stay below it.
pub(crate) const PAR_ELEMENTS: usize = 64 * 1024;

/// AdamW's decoupled weight decay for the autoencoder.
pub(crate) const WEIGHT_DECAY: f64 = 1e-4;

/// Rows per tensor so that `rows × width` stays below [`PAR_ELEMENTS`].
pub(crate) fn max_rows(width: usize) -> usize {
    ((PAR_ELEMENTS - 1) / width.max(1)).max(1)
}

/// A dense layer with its own variables (`y = x·Wᵀ + b`).
struct Dense {
    w: Var,
    b: Var,
}

impl Dense {
    /// Glorot-uniform weights from `rng`, zero bias.
    fn new(
        rng: &mut ChaCha8Rng,
        d_in: usize,
        d_out: usize,
        dev: &Device,
    ) -> Result<Self, ModelError> {
        let lim = (6.0 / (d_in + d_out) as f64).sqrt() as f32;
        let w: Vec<f32> = (0..d_in * d_out)
            .map(|_| rng.random_range(-lim..lim))
            .collect();
        let w = Var::from_tensor(&Tensor::from_vec(w, (d_out, d_in), dev)?)?;
        let b = Var::from_tensor(&Tensor::zeros(d_out, DType::F32, dev)?)?;
        Ok(Self { w, b })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor, ModelError> {
        Ok(x.matmul(&self.w.as_tensor().t()?)?
            .broadcast_add(self.b.as_tensor())?)
    }
}

/// Autoencoder d → h₁ → … → h_k → … → h₁ → d, tanh between layers, linear output.
pub(crate) struct AutoEncoder {
    layers: Vec<Dense>,
    /// Widths, input first, output last.
    pub widths: Vec<usize>,
}

impl AutoEncoder {
    /// Layers for `hidden` (zero widths dropped), weights drawn from `rng` in layer order.
    pub(crate) fn new(
        rng: &mut ChaCha8Rng,
        d: usize,
        hidden: &[usize],
        dev: &Device,
    ) -> Result<Self, ModelError> {
        let hidden: Vec<usize> = hidden.iter().copied().filter(|&h| h > 0).collect();
        let mut widths = vec![d];
        widths.extend(hidden.iter().copied());
        widths.extend(hidden.iter().rev().skip(1).copied());
        widths.push(d);
        let layers = widths
            .windows(2)
            .map(|w| Dense::new(rng, w[0], w[1], dev))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { layers, widths })
    }

    /// Rebuilds the network from `autoencoder.{k}.weight`/`.bias` tensors (as saved by
    /// [`AutoEncoder::named`]).
    pub(crate) fn from_tensors(
        t: &std::collections::HashMap<String, Tensor>,
        dev: &Device,
    ) -> Result<Self, ModelError> {
        let mut layers = Vec::new();
        let mut widths = Vec::new();
        while let (Some(w), Some(b)) = (
            t.get(&format!("autoencoder.{}.weight", layers.len())),
            t.get(&format!("autoencoder.{}.bias", layers.len())),
        ) {
            let (d_out, d_in) = w.dims2()?;
            if widths.is_empty() {
                widths.push(d_in);
            }
            widths.push(d_out);
            layers.push(Dense {
                w: Var::from_tensor(&w.to_device(dev)?)?,
                b: Var::from_tensor(&b.to_device(dev)?)?,
            });
        }
        if layers.is_empty() {
            return Err(ModelError::Options(
                "the weights hold no autoencoder.0.weight".to_owned(),
            ));
        }
        Ok(Self { layers, widths })
    }

    fn vars(&self) -> Vec<Var> {
        self.layers
            .iter()
            .flat_map(|l| [l.w.clone(), l.b.clone()])
            .collect()
    }

    /// The widest layer (bounds the tensor sizes).
    pub(crate) fn max_width(&self) -> usize {
        self.widths.iter().copied().max().unwrap_or(1)
    }

    pub(crate) fn forward(&self, x: &Tensor) -> Result<Tensor, ModelError> {
        let mut h = x.clone();
        let last = self.layers.len().saturating_sub(1);
        for (k, l) in self.layers.iter().enumerate() {
            h = l.forward(&h)?;
            if k < last {
                h = h.tanh()?;
            }
        }
        Ok(h)
    }

    /// Named tensors for safetensors: `autoencoder.{k}.weight` (out × in) and `.bias`.
    pub(crate) fn named(&self) -> Vec<(String, Tensor)> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(k, l)| {
                [
                    (format!("autoencoder.{k}.weight"), l.w.as_tensor().clone()),
                    (format!("autoencoder.{k}.bias"), l.b.as_tensor().clone()),
                ]
            })
            .collect()
    }
}

/// What training did.
#[derive(Clone, Debug, Default)]
pub(crate) struct TrainReport {
    /// Mean loss per epoch.
    pub epoch_loss: Vec<f64>,
    /// Optimiser steps.
    pub steps: usize,
    /// Rows per batch actually used.
    pub batch_size: usize,
}

/// Training parameters of [`train_ae`].
pub(crate) struct TrainParams {
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
}

/// Trains the autoencoder on `train` rows (row-major, `d` columns) with AdamW and MSE; the
/// batch order of each epoch is a Fisher–Yates shuffle drawn from `rng`.
pub(crate) fn train_ae(
    ae: &AutoEncoder,
    rng: &mut ChaCha8Rng,
    train: &[f32],
    d: usize,
    p: &TrainParams,
    dev: &Device,
) -> Result<TrainReport, ModelError> {
    let n = train.len() / d.max(1);
    let batch = p.batch_size.clamp(1, max_rows(ae.max_width()));
    let mut report = TrainReport {
        batch_size: batch,
        ..TrainReport::default()
    };
    if n == 0 {
        return Ok(report);
    }
    let mut opt = AdamW::new(
        ae.vars(),
        ParamsAdamW {
            lr: p.learning_rate,
            weight_decay: WEIGHT_DECAY,
            ..ParamsAdamW::default()
        },
    )?;
    let mut idx: Vec<usize> = (0..n).collect();
    let mut buf = Vec::with_capacity(batch * d);
    for _ in 0..p.epochs {
        for i in (1..n).rev() {
            let j = rng.random_range(0..=i);
            idx.swap(i, j);
        }
        let mut sum = 0.0f64;
        for chunk in idx.chunks(batch) {
            buf.clear();
            for &r in chunk {
                buf.extend_from_slice(&train[r * d..(r + 1) * d]);
            }
            let x = Tensor::from_slice(&buf, (chunk.len(), d), dev)?;
            let y = ae.forward(&x)?;
            let loss = (y - &x)?.sqr()?.mean_all()?;
            opt.backward_step(&loss)?;
            sum += f64::from(loss.to_scalar::<f32>()?) * chunk.len() as f64;
            report.steps += 1;
        }
        report.epoch_loss.push(sum / n as f64);
    }
    Ok(report)
}

/// Per-row reconstruction error: the sum over features of the squared error, and the three
/// features with the largest share of it (index, share; ties by index).
pub(crate) struct RowErrors {
    /// Sum of squared errors per row.
    pub total: Vec<f32>,
    /// Top three (feature, share of the row's error) per row.
    pub top: Vec<[(u16, f32); 3]>,
}

/// Scores all rows in chunks (each below [`PAR_ELEMENTS`]).
pub(crate) fn errors(
    ae: &AutoEncoder,
    x: &[f32],
    scaler: &crate::Scaler,
    d: usize,
    dev: &Device,
) -> Result<RowErrors, ModelError> {
    use rayon::prelude::*;
    let n = x.len() / d.max(1);
    let rows = max_rows(ae.max_width());
    // Fixed batches, whatever the thread count: every row's error is computed in the same
    // batch on every run. On the CPU the batches run on rayon's threads (each tensor stays
    // below candle's own threading threshold, so each batch is single-threaded inside).
    let starts: Vec<usize> = (0..n).step_by(rows.max(1)).collect();
    let batch = |r: usize| -> Result<RowErrors, ModelError> {
        let m = rows.min(n - r);
        // scaled per batch: no second copy of the whole matrix
        let t = Tensor::from_vec(scaler.apply_seq(&x[r * d..(r + m) * d]), (m, d), dev)?;
        let e = (ae.forward(&t)? - &t)?
            .sqr()?
            .flatten_all()?
            .to_vec1::<f32>()?;
        let mut out = RowErrors {
            total: Vec::with_capacity(m),
            top: Vec::with_capacity(m),
        };
        for row in e.chunks(d) {
            let total: f32 = row.iter().sum();
            let mut top = [(0u16, 0.0f32); 3];
            let mut filled = 0;
            for (c, &v) in row.iter().enumerate() {
                // insertion into a sorted top-3 (larger first, ties keep the lower index)
                let mut k = filled;
                while k > 0 && top[k - 1].1 < v {
                    k -= 1;
                }
                if k < 3 {
                    let end = filled.min(2);
                    for j in (k..end).rev() {
                        top[j + 1] = top[j];
                    }
                    top[k] = (c as u16, v);
                    filled = (filled + 1).min(3);
                }
            }
            let denom = if total > 0.0 { total } else { 1.0 };
            for t in &mut top {
                t.1 /= denom;
            }
            out.total.push(total);
            out.top.push(top);
        }
        Ok(out)
    };
    let parts: Vec<RowErrors> = if dev.is_cpu() {
        starts
            .par_iter()
            .map(|&r| batch(r))
            .collect::<Result<_, _>>()?
    } else {
        starts.iter().map(|&r| batch(r)).collect::<Result<_, _>>()?
    };
    let mut out = RowErrors {
        total: Vec::with_capacity(n),
        top: Vec::with_capacity(n),
    };
    for p in parts {
        out.total.extend(p.total);
        out.top.extend(p.top);
    }
    Ok(out)
}

/// A trained logistic regression.
pub(crate) struct Logistic {
    /// Weights per input column.
    pub w: Vec<f32>,
    /// Bias.
    pub b: f32,
    /// Final training loss (weighted BCE + L2).
    pub loss: f64,
}

/// Strength of the head's Gaussian prior on its weights: the penalty is `HEAD_L2 / n ·‖w‖²`
/// for `n` labelled parties (the data term is a mean, so a prior of fixed strength weighs
/// less the more decisions there are: 20 labels → 0.05, 100 → 0.01).
pub(crate) const HEAD_L2: f64 = 1.0;
/// Full-batch AdamW steps of the head.
pub(crate) const HEAD_STEPS: usize = 300;
/// The head's learning rate.
pub(crate) const HEAD_LR: f64 = 0.05;

/// Logistic regression with a fixed per-row offset, `p = σ(offset + x·w + b)`, L2 on `w`,
/// class-balanced weights (each class weighs half), trained full-batch; initial weights drawn
/// from `rng`. The offset is the logit of the unsupervised score: the head learns a
/// correction to that ranking, and with few labels (small, penalised `w`) it stays close.
pub(crate) fn train_logistic(
    x: &[f32],
    y: &[f32],
    offset: &[f32],
    d: usize,
    rng: &mut ChaCha8Rng,
    dev: &Device,
) -> Result<Logistic, ModelError> {
    let n = y.len();
    let lim = (1.0 / d.max(1) as f64).sqrt() as f32;
    let w0: Vec<f32> = (0..d).map(|_| rng.random_range(-lim..lim)).collect();
    let w = Var::from_tensor(&Tensor::from_vec(w0, (d, 1), dev)?)?;
    let b = Var::from_tensor(&Tensor::zeros(1, DType::F32, dev)?)?;
    let xt = Tensor::from_slice(x, (n, d), dev)?;
    let yt = Tensor::from_slice(y, (n, 1), dev)?;
    let ot = Tensor::from_slice(offset, (n, 1), dev)?;
    let pos = y.iter().filter(|&&v| v > 0.5).count().max(1) as f32;
    let neg = (n as f32 - pos).max(1.0);
    let wts: Vec<f32> = y
        .iter()
        .map(|&v| if v > 0.5 { 0.5 / pos } else { 0.5 / neg })
        .collect();
    let wt = Tensor::from_vec(wts, (n, 1), dev)?;
    let mut opt = AdamW::new(
        vec![w.clone(), b.clone()],
        ParamsAdamW {
            lr: HEAD_LR,
            weight_decay: 0.0,
            ..ParamsAdamW::default()
        },
    )?;
    // the data term is a weighted mean: a prior of fixed strength weighs 1/n of it
    let lambda = HEAD_L2 / n.max(1) as f64;
    let mut last = 0.0;
    for _ in 0..HEAD_STEPS {
        let z = (xt.matmul(w.as_tensor())?.broadcast_add(b.as_tensor())? + &ot)?;
        // stable BCE with logits: max(z, 0) − z·y + ln(1 + e^(−|z|))
        let bce = ((z.relu()? - (&z * &yt)?)? + z.abs()?.neg()?.exp()?.affine(1.0, 1.0)?.log()?)?;
        let data = (bce * &wt)?.sum_all()?;
        let l2 = (w.as_tensor().sqr()?.sum_all()? * lambda)?;
        let loss = (data + l2)?;
        opt.backward_step(&loss)?;
        last = f64::from(loss.to_scalar::<f32>()?);
    }
    let wv = w.as_tensor().flatten_all()?.to_vec1::<f32>()?;
    let bv = b
        .as_tensor()
        .to_vec1::<f32>()?
        .first()
        .copied()
        .unwrap_or(0.0);
    Ok(Logistic {
        w: wv,
        b: bv,
        loss: last,
    })
}

/// Seeded generator for one purpose, so that a draw added in one stage does not shift
/// another's.
pub(crate) fn rng_for(seed: u64, purpose: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(purpose);
    rng
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_rank_the_top_three_features() {
        let dev = Device::Cpu;
        let mut rng = rng_for(1, 1);
        let ae = AutoEncoder::new(&mut rng, 5, &[3, 2], &dev).unwrap();
        assert_eq!(ae.widths, vec![5, 3, 2, 3, 5]);
        let x = vec![0.0, 9.0, 0.0, 3.0, 6.0, 1.0, 1.0, 1.0, 1.0, 1.0];
        let identity = crate::Scaler {
            median: vec![0.0; 5],
            scale: vec![1.0; 5],
        };
        let e = errors(&ae, &x, &identity, 5, &dev).unwrap();
        assert_eq!(e.total.len(), 2);
        let top = e.top[0];
        assert_eq!(top[0].0, 1, "{top:?}");
        assert!(top[0].1 >= top[1].1 && top[1].1 >= top[2].1);
        assert!(top.iter().map(|t| t.1).sum::<f32>() <= 1.0 + 1e-5);
    }

    #[test]
    fn streams_differ() {
        let a: u64 = rng_for(5, 1).random();
        let b: u64 = rng_for(5, 2).random();
        let c: u64 = rng_for(5, 1).random();
        assert_ne!(a, b);
        assert_eq!(a, c);
    }
}
