// overlap_sums.wgsl — per-sample, per-class overlap statistics of a segmentation volume in one read.
// (Preceded by numpy_floats.wgsl and overlap_voxel.wgsl: bindings 1-3 (y_true, labels, y_pred),
// the activation, labels and the constants C, CV, NSTAT, ACT, LABELS, VEC and the slots S_*.)
//
// y_pred (and y_true, unless labels are given) are channels-last (B, N, C) with N = X*Y*Z voxels.
// For every (b, c) the kernel sums, over the voxels of a slice of sample b:
//   slot 0: S_tp = Σ t·p     slot 1: S_t = Σ t     slot 2: S_p = Σ p
//   and, only when the host gives them a slot (specialised, so unused ones cost nothing):
//   S_ABS  Σ |p − t|                         (soft-label overlap)
//   S_PP   Σ p²,  S_TT  Σ t²                  (squared-denominator dice)
//   S_XCAT Σ t·log p                          (categorical cross-entropy)
//   S_XBIN Σ t·log p + (1 − t)·log(1 − p)     (binary cross-entropy)
// with p = y_pred after the fused activation.
//
// Bindings (group 0): 0 params (uniform Params); 1-3 y_true, labels, y_pred (overlap_voxel.wgsl);
//   4 partials  storage rw  array<f32>  (B * groups, NSTAT, C) partial sums.
// The host binds windows of at most maxStorageBufferBindingSize bytes, so a volume of any size is
// covered by several dispatches; element indices inside are relative to the window start.
//
// Workgroup: 64 threads. Dispatch: the workgroups [group_offset, group_offset + dispatch_groups)
// of the B * groups grid (folded into x, y, z by the host); workgroup w handles sample
// b = w / groups and voxels [k * voxels_per_group, (k + 1) * voxels_per_group) ∩ [0, N) with
// k = w % groups. Each thread strides through those voxels (coalesced) and keeps NSTAT * CV vec4
// accumulators; the 64 threads' accumulators are then merged through workgroup memory
// (8 KiB), each summed in thread order. The host then sums the partials over the groups axis
// with the deterministic reduce kernel: no atomics, and the same input gives bitwise the same
// sums on every run.

const WG: u32 = 64u;
const NACC: u32 = NSTAT * CV;


@group(0) @binding(4) var<storage, read_write> partials: array<f32>;

// Accumulators merged per round; WG * CHUNK vec4 = 8 KiB of workgroup memory.
const CHUNK: u32 = 8u;
var<workgroup> stage: array<vec4<f32>, 512>;

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

  var acc: array<vec4<f32>, NACC>;
  for (var a = 0u; a < NACC; a++) { acc[a] = vec4<f32>(0.0); }

  for (var v = v_begin + lid; v < v_end; v += WG) {
    let voxel = b * params.voxels + v;
    let e = voxel * C - params.elem_base;
    let x = read_voxel(voxel, e, params.label_base);
    for (var j = 0u; j < CV; j++) {
      let pj = x.p[j];
      let tj = x.t[j];
      acc[j] += tj * pj;
      acc[CV + j] += tj;
      acc[2u * CV + j] += pj;
      if (S_ABS != 255u) { acc[S_ABS * CV + j] += abs(pj - tj); }
      if (S_PP != 255u) { acc[S_PP * CV + j] += pj * pj; }
      if (S_TT != 255u) { acc[S_TT * CV + j] += tj * tj; }
      if (S_XCAT != 255u) { acc[S_XCAT * CV + j] += tj * x.logp[j]; }
      if (S_XBIN != 255u) { acc[S_XBIN * CV + j] += tj * x.logp[j] + (1.0 - tj) * x.log1mp[j]; }
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
