// overlap_sums.wgsl — per-sample, per-class overlap statistics of a segmentation volume in one read.
//
// y_pred (and y_true, unless labels are given) are channels-last (B, N, C) with N = X*Y*Z voxels.
// For every (b, c) the kernel sums, over the voxels of a slice of sample b:
//   slot 0: S_tp = Σ t·p     slot 1: S_t = Σ t     slot 2: S_p = Σ p
//   and, only when the host gives them a slot (specialised, so unused ones cost nothing):
//   S_ABS  Σ |p − t|                         (soft-label overlap)
//   S_PP   Σ p²,  S_TT  Σ t²                  (squared-denominator dice)
//   S_XCAT Σ t·log p                          (categorical cross-entropy)
//   S_XBIN Σ t·log p + (1 − t)·log(1 − p)     (binary cross-entropy)
// p is y_pred after the fused activation (ACT): 0 none, 1 sigmoid (element-wise), 2 softmax over
// the C classes of a voxel (max-subtracted; log p is taken as z − max − log Σ exp, never log of a
// rounded p). With ACT 0 the logs use p clamped to [1e-7, 1 − 1e-7], as Keras does.
// LABELS = 1: y_true is int32 class indices (B, N) in binding 3 and t = (index == c) is formed
// on the fly (C = 1: t = (index == 1), a foreground mask); an index outside [0, C) marks no
// class. No one-hot tensor ever exists.
//
// Bindings (group 0):
//   0 params   uniform       Params
//   1 y_pred   storage read  array<vec4<f32>>  window of the (B, N, C) tensor from element elem_base
//   2 y_true   storage read  array<vec4<f32>>  same window of y_true (a dummy when LABELS = 1)
//   3 labels   storage read  array<i32>        window of the (B, N) labels from voxel label_base
//                                              (a dummy when LABELS = 0)
//   4 partials storage rw    array<f32>        (B * groups, NSTAT, C) partial sums
// The host binds windows of at most maxStorageBufferBindingSize bytes, so a volume of any size is
// covered by several dispatches; element indices inside are relative to the window start.
// C % 4 == 0 (VEC = 1): a voxel's classes are CV = C/4 aligned vec4 loads. Otherwise classes are
// read one component at a time and lanes past C are padding that is never written out.
//
// Workgroup: 64 threads. Dispatch: the workgroups [group_offset, group_offset + dispatch_groups)
// of the B * groups grid (folded into x, y, z by the host); workgroup w handles sample
// b = w / groups and voxels [k * voxels_per_group, (k + 1) * voxels_per_group) ∩ [0, N) with
// k = w % groups. Each thread strides through those voxels (coalesced) and keeps NSTAT * CV vec4
// accumulators; the 64 threads' accumulators are then merged through workgroup memory
// (8 KiB), each summed in thread order. The host then
// sums the partials over the groups axis with the deterministic reduce kernel: no atomics, and
// the same input gives bitwise the same sums on every run.

const C: u32 = 4u;
const CV: u32 = 1u;
const NSTAT: u32 = 3u;

override ACT: u32 = 0u;
override LABELS: u32 = 0u;
override VEC: u32 = 1u;
// Slots of the optional statistics; 255 = not computed.
override S_ABS: u32 = 255u;
override S_PP: u32 = 255u;
override S_TT: u32 = 255u;
override S_XCAT: u32 = 255u;
override S_XBIN: u32 = 255u;

const WG: u32 = 64u;
const NACC: u32 = NSTAT * CV;
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

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> y_pred: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> y_true: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> labels: array<i32>;
@group(0) @binding(4) var<storage, read_write> partials: array<f32>;

// Accumulators merged per round; WG * CHUNK vec4 = 8 KiB of workgroup memory.
const CHUNK: u32 = 8u;
var<workgroup> stage: array<vec4<f32>, 512>;

fn lanes(j: u32) -> vec4<u32> {
  return vec4<u32>(4u * j) + vec4<u32>(0u, 1u, 2u, 3u);
}

// Block j (classes 4j..4j+3) of the voxel whose class 0 is at window element e.
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

fn softplus(x: vec4<f32>) -> vec4<f32> {
  return max(x, vec4<f32>(0.0)) + log(vec4<f32>(1.0) + exp(-abs(x)));
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let local_group = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  // Workgroup-uniform: the whole group leaves together, before any barrier.
  if (local_group >= params.dispatch_groups) { return; }
  let w = params.group_offset + local_group;
  let b = w / params.groups;
  let k = w % params.groups;
  let v_begin = k * params.voxels_per_group;
  let v_end = min(params.voxels, v_begin + params.voxels_per_group);

  var acc: array<vec4<f32>, NACC>;
  for (var a = 0u; a < NACC; a++) { acc[a] = vec4<f32>(0.0); }

  for (var v = v_begin + lid; v < v_end; v += WG) {
    let voxel = b * params.voxels + v;
    let e = voxel * C - params.elem_base;
    var p: array<vec4<f32>, CV>;
    var logp: array<vec4<f32>, CV>;
    var log1mp: array<vec4<f32>, CV>;
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

    for (var j = 0u; j < CV; j++) {
      let pj = p[j];
      let tj = t[j];
      acc[j] += tj * pj;
      acc[CV + j] += tj;
      acc[2u * CV + j] += pj;
      if (S_ABS != 255u) { acc[S_ABS * CV + j] += abs(pj - tj); }
      if (S_PP != 255u) { acc[S_PP * CV + j] += pj * pj; }
      if (S_TT != 255u) { acc[S_TT * CV + j] += tj * tj; }
      if (S_XCAT != 255u) { acc[S_XCAT * CV + j] += tj * logp[j]; }
      if (S_XBIN != 255u) { acc[S_XBIN * CV + j] += tj * logp[j] + (1.0 - tj) * log1mp[j]; }
    }
  }

  // Merge the 64 threads: CHUNK accumulators per round are staged in workgroup memory and each
  // is summed by one thread in thread order (fixed, so bitwise repeatable). Two barriers a round,
  // independent of C: software rasterisers compile every barrier into a coroutine split.
  for (var a0 = 0u; a0 < NACC; a0 += CHUNK) {
    for (var k = 0u; k < CHUNK; k++) {
      if (a0 + k < NACC) { stage[k * WG + lid] = acc[a0 + k]; }
    }
    workgroupBarrier();
    let a = a0 + lid;
    if (lid < CHUNK && a < NACC) {
      var total = vec4<f32>(0.0);
      for (var i = 0u; i < WG; i++) { total += stage[lid * WG + i]; }
      let stat = a / CV;
      let j = a % CV;
      for (var l = 0u; l < 4u; l++) {
        let c = 4u * j + l;
        if (c < C) { partials[(w * NSTAT + stat) * C + c] = total[l]; }
      }
    }
    workgroupBarrier();
  }
}
