// overlap_loss.wgsl — dice / IoU / tversky losses from the (B, S, C) overlap sums, and their
// gradient with respect to those sums, each in one small dispatch (instead of a chain of tiny ops:
// on a software adapter every dispatch costs ~0.1 ms, more than this whole computation).
//
// Per entry (r, c') — r a sample (or the one batch-summed row), c = c' + drop a kept class:
//   tp, po, go from the sums: plain (S_tp, S_p, S_t), soft-label ((S_p + S_t − S_abs)/2, S_p, S_t)
//   or squared (S_tp, S_pp, S_tt); with batch summing each is first summed over b in order.
//   KIND 0 dice     score = (2·tp + nr) / (po + go + dr)
//   KIND 1 iou      score = (tp + nr) / (po + go − tp + dr)
//   KIND 2 tversky  score = (tp + nr) / ((1 − α − β)·tp + α·po + β·go + dr)
//   a zero denominator (only possible with dr = 0) scores 0 with zero gradient; a NaN in the sums
//   gives a NaN loss and gradient (numpy_floats.wgsl comes first: a compiler may fold NaN != 0).
//   loss = (1 − score) · w_c · (0 if ZERO_EMPTY and S_t ≤ 0, else 1)
//
// MODE 0 (forward). Bindings: 0 params, 1 sums (read, B·S·C f32), 2 weights (read, C' f32),
//   3 out (rw): REDUCE 0 → (rows, C') losses; REDUCE 1 → out[0] = scale · Σ losses (scale = 1 or
//   1/count), summed by one workgroup of 256 threads in a fixed tree order (deterministic).
//   4 unused (a dummy). Dispatch: 1 workgroup.
// MODE 1 (backward). Bindings: 0 params, 1 sums, 2 weights, 3 dy (the scalar, or (rows, C')),
//   4 d_sums (rw, B·S·C): dL/dS for every (b, slot, c), 0 for unused slots and dropped classes.
//   Dispatch: ceil(B·C / 256) workgroups (folded by the host), one (b, c) per invocation.

override MODE: u32 = 0u;
override KIND: u32 = 0u;
override SOFT: u32 = 0u;
override SQUARED: u32 = 0u;
override ZERO_EMPTY: u32 = 0u;
override SUMMED: u32 = 0u;
override REDUCE: u32 = 1u;

struct Params {
  batch: u32,
  classes: u32,
  nstat: u32,
  drop: u32,
  s_tp: u32,
  s_t: u32,
  s_p: u32,
  s_abs: u32,
  s_pp: u32,
  s_tt: u32,
  nr: f32,
  dr: f32,
  alpha: f32,
  beta: f32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> sums: array<f32>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read_write> io: array<f32>;
@group(0) @binding(4) var<storage, read_write> d_sums: array<f32>;

var<workgroup> tree: array<f32, 256>;

fn rows() -> u32 {
  return select(params.batch, 1u, SUMMED == 1u);
}

fn kept() -> u32 {
  return params.classes - params.drop;
}

// Statistic `slot` of class c for row r: one sample, or the batch sum in sample order.
fn stat(r: u32, slot: u32, c: u32) -> f32 {
  if (SUMMED == 0u) { return sums[(r * params.nstat + slot) * params.classes + c]; }
  var s = 0.0;
  for (var b = 0u; b < params.batch; b++) { s += sums[(b * params.nstat + slot) * params.classes + c]; }
  return s;
}

struct Terms {
  tp: f32,
  po: f32,
  go: f32,
  t: f32,
}

fn terms(r: u32, c: u32) -> Terms {
  let t = stat(r, params.s_t, c);
  if (SQUARED == 1u) { return Terms(stat(r, params.s_tp, c), stat(r, params.s_pp, c), stat(r, params.s_tt, c), t); }
  let p = stat(r, params.s_p, c);
  if (SOFT == 1u) { return Terms(0.5 * (p + t - stat(r, params.s_abs, c)), p, t, t); }
  return Terms(stat(r, params.s_tp, c), p, t, t);
}

// d num / d tp and d den / d (tp, po, go) for the KIND.
fn num_of(x: Terms) -> f32 {
  return select(x.tp + params.nr, 2.0 * x.tp + params.nr, KIND == 0u);
}

fn den_of(x: Terms) -> f32 {
  if (KIND == 0u) { return x.po + x.go + params.dr; }
  if (KIND == 1u) { return x.po + x.go - x.tp + params.dr; }
  return (1.0 - params.alpha - params.beta) * x.tp + params.alpha * x.po + params.beta * x.go + params.dr;
}

// Weight of entry (r, c') in the loss: the class weight, times 0 for an empty class when asked.
fn factor(x: Terms, ck: u32) -> f32 {
  var f = weights[ck];
  if (ZERO_EMPTY == 1u && x.t <= 0.0 && !is_nan(x.t)) { f = 0.0; }
  return f;
}

// A zero denominator (NaN is not one: it must reach the loss).
fn zero_den(den: f32) -> bool {
  return den == 0.0 && !is_nan(den);
}

fn entry_loss(r: u32, ck: u32) -> f32 {
  let x = terms(r, ck + params.drop);
  let den = den_of(x);
  let score = select(num_of(x) / den, 0.0, zero_den(den));
  return (1.0 - score) * factor(x, ck);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  // Never true (batch is never 0xffffffff); it keeps bindings 3 and 4 in the auto layout of both
  // modes, so the host binds the same five buffers either way.
  if (params.batch == 0xffffffffu) { d_sums[0] = io[0]; }
  if (MODE == 0u) {
    let count = rows() * kept();
    var acc = 0.0;
    for (var e = lid; e < count; e += 256u) {
      let l = entry_loss(e / kept(), e % kept());
      if (REDUCE == 0u) { io[e] = l; }
      acc += l;
    }
    if (REDUCE == 1u) {
      tree[lid] = acc;
      workgroupBarrier();
      for (var s = 128u; s > 0u; s = s / 2u) {
        if (lid < s) { tree[lid] = tree[lid] + tree[lid + s]; }
        workgroupBarrier();
      }
      if (lid == 0u) { io[0] = params.scale * tree[0]; }
    }
    return;
  }

  // MODE 1: one (b, c) per invocation.
  let i = (wid.x + nwg.x * (wid.y + nwg.y * wid.z)) * 256u + lid;
  if (i >= params.batch * params.classes) { return; }
  let b = i / params.classes;
  let c = i % params.classes;
  let base = b * params.nstat * params.classes + c;
  for (var s = 0u; s < params.nstat; s++) { d_sums[base + s * params.classes] = 0.0; }
  if (c < params.drop) { return; }
  let ck = c - params.drop;
  let r = select(b, 0u, SUMMED == 1u);
  let x = terms(r, c);
  let den = den_of(x);
  if (zero_den(den)) { return; }
  let g_entry = select(io[r * kept() + ck], io[0] * params.scale, REDUCE == 1u);
  // dL/dscore = −g·factor; score = num/den.
  let g_score = -g_entry * factor(x, ck);
  let g_num = g_score / den;
  let g_den = -g_score * num_of(x) / (den * den);
  var g_tp = select(1.0, 2.0, KIND == 0u) * g_num;
  var g_po = g_den;
  var g_go = g_den;
  if (KIND == 1u) { g_tp -= g_den; }
  if (KIND == 2u) {
    g_tp += (1.0 - params.alpha - params.beta) * g_den;
    g_po = params.alpha * g_den;
    g_go = params.beta * g_den;
  }
  if (SQUARED == 1u) {
    d_sums[base + params.s_tp * params.classes] = g_tp;
    d_sums[base + params.s_pp * params.classes] = g_po;
    d_sums[base + params.s_tt * params.classes] = g_go;
  } else if (SOFT == 1u) {
    d_sums[base + params.s_p * params.classes] = 0.5 * g_tp + g_po;
    d_sums[base + params.s_t * params.classes] = 0.5 * g_tp + g_go;
    d_sums[base + params.s_abs * params.classes] = -0.5 * g_tp;
  } else {
    d_sums[base + params.s_tp * params.classes] = g_tp;
    d_sums[base + params.s_p * params.classes] = g_po;
    d_sums[base + params.s_t * params.classes] = g_go;
  }
}
