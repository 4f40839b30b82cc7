// overlap_sums_grad.wgsl — the backward of overlap_sums.wgsl in one broadcast pass.
// (Preceded by numpy_floats.wgsl and overlap_voxel.wgsl: bindings 1-3 (y_true, labels, y_pred),
// the activation, labels and the constants.)
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
//   1-3       see overlap_voxel.wgsl (y_true, labels, y_pred)
//   4 g       storage read  array<f32>        (B, NSTAT, C) upstream gradient of the sums
//   5 d_true  storage rw    array<vec4<f32>>  same window of dL/dy_true        (written if OUT_TRUE)
//   6 d_pred  storage rw    array<vec4<f32>>  same window of dL/dy_pred        (written if OUT_PRED)
// Windows start at element elem_base / voxel label_base (the host splits volumes larger than
// maxStorageBufferBindingSize into several dispatches).
// Workgroup: 64 threads. Dispatch: the workgroups [group_offset, group_offset + dispatch_groups)
// of the B * groups grid (folded into x, y, z by the host), the same geometry as the forward:
// workgroup w handles sample b = w / groups, voxels [k * voxels_per_group, ...) with
// k = w % groups. Each thread loads sample b's NSTAT * C upstream gradients once, then strides
// through the voxels (coalesced), all C classes of a voxel per iteration.

override OUT_TRUE: u32 = 0u;
override OUT_PRED: u32 = 1u;


const WG: u32 = 64u;
const NACC: u32 = NSTAT * CV;

@group(0) @binding(4) var<storage, read> g: array<f32>;
@group(0) @binding(5) var<storage, read_write> d_true: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> d_pred: array<vec4<f32>>;

// Writes block j of the voxel at window element e into d_true (to_true) or d_pred.
fn store_block(to_true: bool, e: u32, j: u32, x: vec4<f32>) {
  if (VEC == 1u) {
    if (to_true) { d_true[e / 4u + j] = x; } else { d_pred[e / 4u + j] = x; }
    return;
  }
  for (var l = 0u; l < 4u; l++) {
    let i = e + 4u * j + l;
    if (4u * j + l < C) {
      if (to_true) { d_true[i / 4u][i % 4u] = x[l]; } else { d_pred[i / 4u][i % 4u] = x[l]; }
    }
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

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let slice = group_slice(wid, nwg);
  // Workgroup-uniform: the whole group leaves together, before any barrier.
  if (!slice.live) { return; }
  let w = slice.w;
  let b = slice.b;
  let v_begin = slice.v_begin;
  let v_end = slice.v_end;

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

  let v = read_voxel(voxel, e, params.label_base);
  var p = v.p;

  // dL/dp from the overlap statistics, and the cross-entropy terms kept apart (xz) where the
  // activation's chain rule has an exact closed form.
  var dp: array<vec4<f32>, CV>;
  var xz: array<vec4<f32>, CV>;
  for (var j = 0u; j < CV; j++) {
    let pj = p[j];
    let tj = v.t[j];
    var d = (*gv)[0u * CV + j] * tj + (*gv)[2u * CV + j];
    if (S_ABS != 255u) { d += (*gv)[S_ABS * CV + j] * sign(pj - tj); }
    if (S_PP != 255u) { d += 2.0 * (*gv)[S_PP * CV + j] * pj; }
    var x = vec4<f32>(0.0);
    if (S_XCAT != 255u) {
      let gx = (*gv)[S_XCAT * CV + j];
      if (ACT == 0u) { d += gx * v.inside[j] * tj / nan_clamp4(pj, vec4<f32>(EPS), vec4<f32>(1.0)); }
      if (ACT == 1u) { x += gx * tj * (1.0 - pj); }
      if (ACT == 2u) { x += gx * tj; }
    }
    if (S_XBIN != 255u) {
      let gx = (*gv)[S_XBIN * CV + j];
      if (ACT == 0u) {
        let pc = nan_clamp4(pj, vec4<f32>(EPS), vec4<f32>(1.0 - EPS));
        d += gx * v.inside[j] * (tj / pc - (1.0 - tj) / (1.0 - pc));
      }
      if (ACT == 1u) { x += gx * (tj - pj); }
    }
    dp[j] = d;
    xz[j] = x;
  }

  if (OUT_PRED == 1u) {
    if (ACT == 0u) {
      for (var j = 0u; j < CV; j++) { store_block(false, e, j, dp[j]); }
    } else if (ACT == 1u) {
      for (var j = 0u; j < CV; j++) { store_block(false, e, j, dp[j] * p[j] * (1.0 - p[j]) + xz[j]); }
    } else {
      var dot = 0.0;
      for (var j = 0u; j < CV; j++) {
        let q = select(vec4<f32>(0.0), p[j] * dp[j] + xz[j], lanes(j) < vec4<u32>(C));
        dp[j] = q;
        dot += q.x + q.y + q.z + q.w;
      }
      for (var j = 0u; j < CV; j++) { store_block(false, e, j, dp[j] - p[j] * dot); }
    }
  }

  if (OUT_TRUE == 1u) {
    for (var j = 0u; j < CV; j++) {
      let pj = p[j];
      let tj = v.t[j];
      var d = (*gv)[0u * CV + j] * pj + (*gv)[1u * CV + j];
      if (S_ABS != 255u) { d += (*gv)[S_ABS * CV + j] * sign(tj - pj); }
      if (S_TT != 255u) { d += 2.0 * (*gv)[S_TT * CV + j] * tj; }
      if (S_XCAT != 255u) { d += (*gv)[S_XCAT * CV + j] * v.logp[j]; }
      if (S_XBIN != 255u) { d += (*gv)[S_XBIN * CV + j] * (v.logp[j] - v.log1mp[j]); }
      store_block(true, e, j, d);
    }
  }
}
