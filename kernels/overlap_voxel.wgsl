// overlap_voxel.wgsl — what overlap_sums.wgsl and overlap_sums_grad.wgsl share: reading one
// voxel's C classes of y_pred and y_true, the fused activation and the labels. Not a kernel by
// itself: the registry puts it in front of both (compile errors name this file and its line),
// after numpy_floats.wgsl.
//
// Bindings it declares (group 0), the same in both kernels, in the losses' argument order:
//   0 params  uniform       Params (below)
//   1 y_true  storage read  array<vec4<f32>>  window of the (B, N, C) targets, starting at element
//                                             elem_base of the tensor (a dummy when LABELS = 1)
//   2 labels  storage read  array<i32>        window of the (B, N) class indices from voxel
//                                             label_base (a dummy when LABELS = 0)
//   3 y_pred  storage read  array<vec4<f32>>  same window as y_true of the predictions or logits
// C % 4 == 0 (VEC = 1): a voxel's classes are CV = C/4 aligned vec4 loads. Otherwise classes are
// read one component at a time; lanes past C are padding and never reach an output.
// ACT: 0 none, 1 sigmoid (per class), 2 softmax over the C classes (max-subtracted; log p is
// z − max − log Σ exp, never the log of a rounded p). With ACT 0 the logs use p clamped to
// [1e-7, 1 − 1e-7] (as Keras) and `inside` marks where the clamp is inactive.
// Special values follow the float64 reference: a NaN prediction or logit gives NaN statistics (the
// clamp keeps it); softmax over logits whose largest is +inf is 1 for a single +inf class and 0
// elsewhere (log p: 0 and -inf), NaN when several are +inf or when all are -inf.
// LABELS = 1: t = (index == c) is formed on the fly (C = 1: t = (index == 1), a foreground mask);
// an index outside [0, C) marks no class. No one-hot tensor ever exists.

const C: u32 = 4u;
const CV: u32 = 1u;
const NSTAT: u32 = 3u;

override ACT: u32 = 0u;
override LABELS: u32 = 0u;
override VEC: u32 = 1u;
// Slots of the optional statistics (see overlap_sums.wgsl); 255 = not computed.
override S_ABS: u32 = 255u;
override S_PP: u32 = 255u;
override S_TT: u32 = 255u;
override S_XCAT: u32 = 255u;
override S_XBIN: u32 = 255u;

const EPS: f32 = 1e-7;

// Both kernels run on the same grid: B * groups workgroups, workgroup w handling sample
// b = w / groups and its voxels [k * voxels_per_group, (k + 1) * voxels_per_group) ∩ [0, N),
// k = w % groups; one dispatch covers workgroups [group_offset, group_offset + dispatch_groups).
struct Params {
  voxels: u32,
  groups: u32,
  voxels_per_group: u32,
  group_offset: u32,
  dispatch_groups: u32,
  elem_base: u32,
  label_base: u32,
}

@group(0) @binding(0) var<uniform> params: Params;

@group(0) @binding(1) var<storage, read> y_true: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> labels: array<i32>;
@group(0) @binding(3) var<storage, read> y_pred: array<vec4<f32>>;

struct Slice {
  live: bool,
  w: u32,
  b: u32,
  v_begin: u32,
  v_end: u32,
}

// This workgroup's sample and voxel range (not live for the padding of a folded grid).
fn group_slice(wid: vec3<u32>, nwg: vec3<u32>) -> Slice {
  let local_group = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  let w = params.group_offset + local_group;
  let v_begin = (w % params.groups) * params.voxels_per_group;
  return Slice(local_group < params.dispatch_groups, w, w / params.groups, v_begin,
               min(params.voxels, v_begin + params.voxels_per_group));
}

fn lanes(j: u32) -> vec4<u32> {
  return vec4<u32>(4u * j) + vec4<u32>(0u, 1u, 2u, 3u);
}

// Block j (classes 4j..4j+3) of y_true (from_true) or y_pred, for the voxel whose class 0 is at
// window element e; padding lanes are 0.
fn load_block(from_true: bool, e: u32, j: u32) -> vec4<f32> {
  // from_true is a constant at every call site, so only one buffer is ever read.
  if (VEC == 1u) {
    if (from_true) { return y_true[e / 4u + j]; }
    return y_pred[e / 4u + j];
  }
  var r = vec4<f32>(0.0);
  for (var l = 0u; l < 4u; l++) {
    let i = e + 4u * j + l;
    if (4u * j + l < C) {
      if (from_true) { r[l] = y_true[i / 4u][i % 4u]; } else { r[l] = y_pred[i / 4u][i % 4u]; }
    }
  }
  return r;
}

fn softplus(x: vec4<f32>) -> vec4<f32> {
  return nan_max4(x, vec4<f32>(0.0)) + log(vec4<f32>(1.0) + exp(-abs(x)));
}

struct Voxel {
  // p after the activation; log p and log(1 − p) where a cross-entropy or an activation needs them.
  p: array<vec4<f32>, CV>,
  logp: array<vec4<f32>, CV>,
  log1mp: array<vec4<f32>, CV>,
  // 1 where the clamp of p is inactive (ACT 0 logs; the clamped region passes no gradient).
  inside: array<vec4<f32>, CV>,
  t: array<vec4<f32>, CV>,
}

// The voxel with flat index `voxel` (over B·N) whose class 0 is at window element e.
fn read_voxel(voxel: u32, e: u32, label_base: u32) -> Voxel {
  var x: Voxel;
  for (var j = 0u; j < CV; j++) { x.p[j] = load_block(false, e, j); }
  if (ACT == 1u) {
    for (var j = 0u; j < CV; j++) {
      let z = x.p[j];
      x.p[j] = 1.0 / (1.0 + exp(-z));
      x.logp[j] = -softplus(-z);
      x.log1mp[j] = -softplus(z);
    }
  } else if (ACT == 2u) {
    // Padding lanes hold -inf: they change no max and get p = 0.
    var m = neg_inf();
    var infinities = 0u;
    for (var j = 0u; j < CV; j++) {
      let z = select(vec4<f32>(neg_inf()), x.p[j], lanes(j) < vec4<u32>(C));
      x.p[j] = z;
      m = nan_max(m, nan_max(nan_max(z.x, z.y), nan_max(z.z, z.w)));
      infinities += dot(select(vec4<u32>(0u), vec4<u32>(1u), is_pos_inf4(z)), vec4<u32>(1u));
    }
    if (is_pos_inf(m)) {
      for (var j = 0u; j < CV; j++) {
        let hit = is_pos_inf4(x.p[j]);
        x.p[j] = select(vec4<f32>(0.0), vec4<f32>(1.0), hit);
        x.logp[j] = select(vec4<f32>(neg_inf()), vec4<f32>(0.0), hit);
        if (infinities != 1u) {
          x.p[j] = vec4<f32>(nan());
          x.logp[j] = vec4<f32>(nan());
        }
      }
      return finish_voxel(x, voxel, e, label_base);
    }
    var s = 0.0;
    for (var j = 0u; j < CV; j++) {
      let ez = exp(x.p[j] - m);
      s += ez.x + ez.y + ez.z + ez.w;
      x.logp[j] = x.p[j] - m;
      x.p[j] = ez;
    }
    let log_s = log(s);
    for (var j = 0u; j < CV; j++) {
      x.p[j] = x.p[j] / s;
      x.logp[j] = x.logp[j] - log_s;
    }
  } else if (S_XCAT != 255u || S_XBIN != 255u) {
    for (var j = 0u; j < CV; j++) {
      let pc = nan_clamp4(x.p[j], vec4<f32>(EPS), vec4<f32>(1.0 - EPS));
      x.logp[j] = log(pc);
      x.log1mp[j] = log(1.0 - pc);
      x.inside[j] = select(vec4<f32>(0.0), vec4<f32>(1.0), pc == x.p[j]);
    }
  }
  return finish_voxel(x, voxel, e, label_base);
}

// The voxel's targets t: from its label, or read from y_true.
fn finish_voxel(activated: Voxel, voxel: u32, e: u32, label_base: u32) -> Voxel {
  var x = activated;
  if (LABELS == 1u) {
    let index = labels[voxel - label_base];
    for (var j = 0u; j < CV; j++) {
      if (C == 1u) {
        x.t[j] = vec4<f32>(select(0.0, 1.0, index == 1));
      } else {
        x.t[j] = select(vec4<f32>(0.0), vec4<f32>(1.0), vec4<i32>(lanes(j)) == vec4<i32>(index));
      }
    }
  } else {
    for (var j = 0u; j < CV; j++) { x.t[j] = load_block(true, e, j); }
  }
  return x;
}
