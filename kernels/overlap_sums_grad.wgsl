// overlap_sums_grad.wgsl — the backward of overlap_sums.wgsl in one broadcast pass.
//
// Given g = dL/dS of shape (B, NSTAT, C) (slots as in overlap_sums.wgsl), writes for every voxel
//   dL/dp = g_tp·t + g_p + g_abs·sign(p − t) + 2·g_pp·p + g_xcat·t/p + g_xbin·(t/p − (1 − t)/(1 − p))
//   dL/dt = g_tp·p + g_t + g_abs·sign(t − p) + 2·g_tt·t + g_xcat·log p + g_xbin·(log p − log(1 − p))
// and, with a fused activation, dL/dz for the logits z instead of dL/dp:
//   sigmoid: dL/dz = dL/dp·p(1 − p), with the cross-entropy terms taken directly in z
//            (g_xcat·t(1 − p) and g_xbin·(t − p), so nothing is divided by a tiny p);
//   softmax: q = p·dL/dp (+ g_xcat·t exactly), dL/dz = q − p·Σ_c q.
// With ACT 0 the log terms use p clamped to [1e-7, 1 − 1e-7] and pass no gradient outside it.
//
// Bindings (group 0):
//   0 params  uniform       Params
//   1 y_pred  storage read  array<vec4<f32>>  window of the (B, N, C) predictions (or logits)
//   2 y_true  storage read  array<vec4<f32>>  same window of y_true (a dummy when LABELS = 1)
//   3 labels  storage read  array<i32>        window of the (B, N) class indices (dummy if LABELS = 0)
//   4 g       storage read  array<f32>        (B, NSTAT, C) upstream gradient of the sums
//   5 d_pred  storage rw    array<vec4<f32>>  same window of dL/dy_pred        (written if OUT_PRED)
//   6 d_true  storage rw    array<vec4<f32>>  same window of dL/dy_true        (written if OUT_TRUE)
// Windows start at element elem_base / voxel label_base (the host splits volumes larger than
// maxStorageBufferBindingSize into several dispatches).
// Workgroup: 64 threads. Dispatch: the workgroups [group_offset, group_offset + dispatch_groups)
// of the B * groups grid (folded into x, y, z by the host), the same geometry as the forward:
// workgroup w handles sample b = w / groups, voxels [k * voxels_per_group, ...) with
// k = w % groups. Each thread loads sample b's NSTAT * C upstream gradients once, then strides
// through the voxels (coalesced), all C classes of a voxel per iteration.

const C: u32 = 4u;
const CV: u32 = 1u;
const NSTAT: u32 = 3u;

override ACT: u32 = 0u;
override LABELS: u32 = 0u;
override VEC: u32 = 1u;
override OUT_PRED: u32 = 1u;
override OUT_TRUE: u32 = 0u;
override S_ABS: u32 = 255u;
override S_PP: u32 = 255u;
override S_TT: u32 = 255u;
override S_XCAT: u32 = 255u;
override S_XBIN: u32 = 255u;

const EPS: f32 = 1e-7;

struct Params {
  voxels: u32,
  groups: u32,
  voxels_per_group: u32,
  group_offset: u32,
  dispatch_groups: u32,
  elem_base: u32,
  label_base: u32,
  _pad: u32,
}

const WG: u32 = 64u;
const NACC: u32 = NSTAT * CV;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> y_pred: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> y_true: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> labels: array<i32>;
@group(0) @binding(4) var<storage, read> g: array<f32>;
@group(0) @binding(5) var<storage, read_write> d_pred: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> d_true: array<vec4<f32>>;

fn lanes(j: u32) -> vec4<u32> {
  return vec4<u32>(4u * j) + vec4<u32>(0u, 1u, 2u, 3u);
}

fn load_pred(e: u32, j: u32) -> vec4<f32> {
  if (VEC == 1u) {
    return y_pred[e / 4u + j];
  }
  var r = vec4<f32>(0.0);
  for (var l = 0u; l < 4u; l++) {
    let i = e + 4u * j + l;
    if (4u * j + l < C) { r[l] = y_pred[i / 4u][i % 4u]; }
  }
  return r;
}

fn load_true(e: u32, j: u32) -> vec4<f32> {
  if (VEC == 1u) {
    return y_true[e / 4u + j];
  }
  var r = vec4<f32>(0.0);
  for (var l = 0u; l < 4u; l++) {
    let i = e + 4u * j + l;
    if (4u * j + l < C) { r[l] = y_true[i / 4u][i % 4u]; }
  }
  return r;
}

fn store_pred(e: u32, j: u32, x: vec4<f32>) {
  if (VEC == 1u) {
    d_pred[e / 4u + j] = x;
    return;
  }
  for (var l = 0u; l < 4u; l++) {
    let i = e + 4u * j + l;
    if (4u * j + l < C) { d_pred[i / 4u][i % 4u] = x[l]; }
  }
}

fn store_true(e: u32, j: u32, x: vec4<f32>) {
  if (VEC == 1u) {
    d_true[e / 4u + j] = x;
    return;
  }
  for (var l = 0u; l < 4u; l++) {
    let i = e + 4u * j + l;
    if (4u * j + l < C) { d_true[i / 4u][i % 4u] = x[l]; }
  }
}

// Upstream gradient of statistic `slot` for classes 4j..4j+3 of sample b (padding lanes 0).
fn load_grad(b: u32, slot: u32, j: u32) -> vec4<f32> {
  var r = vec4<f32>(0.0);
  for (var l = 0u; l < 4u; l++) {
    let c = 4u * j + l;
    if (c < C) { r[l] = g[(b * NSTAT + slot) * C + c]; }
  }
  return r;
}

fn softplus(x: vec4<f32>) -> vec4<f32> {
  return max(x, vec4<f32>(0.0)) + log(vec4<f32>(1.0) + exp(-abs(x)));
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let local_group = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  if (local_group >= params.dispatch_groups) { return; }
  let w = params.group_offset + local_group;
  let b = w / params.groups;
  let k = w % params.groups;
  let v_begin = k * params.voxels_per_group;
  let v_end = min(params.voxels, v_begin + params.voxels_per_group);

  var gv: array<vec4<f32>, NACC>;
  for (var s = 0u; s < NSTAT; s++) {
    for (var j = 0u; j < CV; j++) { gv[s * CV + j] = load_grad(b, s, j); }
  }

  for (var v = v_begin + lid; v < v_end; v += WG) {
    backprop_voxel(b * params.voxels + v, &gv);
  }
}

fn backprop_voxel(voxel: u32, gv: ptr<function, array<vec4<f32>, NACC>>) {
  let e = voxel * C - params.elem_base;

  var p: array<vec4<f32>, CV>;
  var logp: array<vec4<f32>, CV>;
  var log1mp: array<vec4<f32>, CV>;
  var inside: array<vec4<f32>, CV>;  // 1 where the clamp of p is inactive (ACT 0 logs)
  for (var j = 0u; j < CV; j++) { p[j] = load_pred(e, j); }
  if (ACT == 1u) {
    for (var j = 0u; j < CV; j++) {
      let z = p[j];
      p[j] = 1.0 / (1.0 + exp(-z));
      logp[j] = -softplus(-z);
      log1mp[j] = -softplus(z);
    }
  } else if (ACT == 2u) {
    var m = -3.0e38;
    for (var j = 0u; j < CV; j++) {
      let z = select(vec4<f32>(-3.0e38), p[j], lanes(j) < vec4<u32>(C));
      p[j] = z;
      m = max(m, max(max(z.x, z.y), max(z.z, z.w)));
    }
    var s = 0.0;
    for (var j = 0u; j < CV; j++) {
      let ez = exp(p[j] - m);
      s += ez.x + ez.y + ez.z + ez.w;
      logp[j] = p[j] - m;
      p[j] = ez;
    }
    let log_s = log(s);
    for (var j = 0u; j < CV; j++) {
      p[j] = p[j] / s;
      logp[j] = logp[j] - log_s;
    }
  } else if (S_XCAT != 255u || S_XBIN != 255u) {
    for (var j = 0u; j < CV; j++) {
      let pc = clamp(p[j], vec4<f32>(EPS), vec4<f32>(1.0 - EPS));
      logp[j] = log(pc);
      log1mp[j] = log(1.0 - pc);
      inside[j] = select(vec4<f32>(0.0), vec4<f32>(1.0), pc == p[j]);
    }
  }

  var t: array<vec4<f32>, CV>;
  if (LABELS == 1u) {
    let index = labels[voxel - params.label_base];
    for (var j = 0u; j < CV; j++) {
      if (C == 1u) {
        t[j] = vec4<f32>(select(0.0, 1.0, index == 1));
      } else {
        t[j] = select(vec4<f32>(0.0), vec4<f32>(1.0), vec4<i32>(lanes(j)) == vec4<i32>(index));
      }
    }
  } else {
    for (var j = 0u; j < CV; j++) { t[j] = load_true(e, j); }
  }

  // dL/dp from the overlap statistics, and the cross-entropy terms kept apart (xz) where the
  // activation's chain rule has an exact closed form.
  var dp: array<vec4<f32>, CV>;
  var xz: array<vec4<f32>, CV>;
  for (var j = 0u; j < CV; j++) {
    let pj = p[j];
    let tj = t[j];
    var d = (*gv)[0u * CV + j] * tj + (*gv)[2u * CV + j];
    if (S_ABS != 255u) { d += (*gv)[S_ABS * CV + j] * sign(pj - tj); }
    if (S_PP != 255u) { d += 2.0 * (*gv)[S_PP * CV + j] * pj; }
    var x = vec4<f32>(0.0);
    if (S_XCAT != 255u) {
      let gx = (*gv)[S_XCAT * CV + j];
      if (ACT == 0u) { d += gx * inside[j] * tj / clamp(pj, vec4<f32>(EPS), vec4<f32>(1.0)); }
      if (ACT == 1u) { x += gx * tj * (1.0 - pj); }
      if (ACT == 2u) { x += gx * tj; }
    }
    if (S_XBIN != 255u) {
      let gx = (*gv)[S_XBIN * CV + j];
      if (ACT == 0u) {
        let pc = clamp(pj, vec4<f32>(EPS), vec4<f32>(1.0 - EPS));
        d += gx * inside[j] * (tj / pc - (1.0 - tj) / (1.0 - pc));
      }
      if (ACT == 1u) { x += gx * (tj - pj); }
    }
    dp[j] = d;
    xz[j] = x;
  }

  if (OUT_PRED == 1u) {
    if (ACT == 0u) {
      for (var j = 0u; j < CV; j++) { store_pred(e, j, dp[j]); }
    } else if (ACT == 1u) {
      for (var j = 0u; j < CV; j++) { store_pred(e, j, dp[j] * p[j] * (1.0 - p[j]) + xz[j]); }
    } else {
      var dot = 0.0;
      for (var j = 0u; j < CV; j++) {
        let q = select(vec4<f32>(0.0), p[j] * dp[j] + xz[j], lanes(j) < vec4<u32>(C));
        dp[j] = q;
        dot += q.x + q.y + q.z + q.w;
      }
      for (var j = 0u; j < CV; j++) { store_pred(e, j, dp[j] - p[j] * dot); }
    }
  }

  if (OUT_TRUE == 1u) {
    for (var j = 0u; j < CV; j++) {
      let pj = p[j];
      let tj = t[j];
      var d = (*gv)[0u * CV + j] * pj + (*gv)[1u * CV + j];
      if (S_ABS != 255u) { d += (*gv)[S_ABS * CV + j] * sign(tj - pj); }
      if (S_TT != 255u) { d += 2.0 * (*gv)[S_TT * CV + j] * tj; }
      if (S_XCAT != 255u) { d += (*gv)[S_XCAT * CV + j] * logp[j]; }
      if (S_XBIN != 255u) { d += (*gv)[S_XBIN * CV + j] * (logp[j] - log1mp[j]); }
      store_true(e, j, d);
    }
  }
}
