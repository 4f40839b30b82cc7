// group_norm_apply.wgsl — forward, pass 3 of 3: y = act((x − mean) · rstd · gamma[c] + beta[c]),
// with ACT 0 linear or 1 relu fused in (a norm-then-relu block writes one tensor, not two).
// (Preceded by group_norm_layout.wgsl: Params at binding 0.)
//
// Bindings (group 0):
//   1 x      storage read  array<V>  (B, N, C), a window from element base
//   2 chan   storage read  array<V>  (B, 2, C): each channel's group mean, then its group rstd,
//                                    from group_norm_stats.wgsl
//   3 gamma  storage read  array<V>  (C), read only when params.affine bit 0 is set (else any
//                                    buffer of at least 16 bytes is bound)
//   4 beta   storage read  array<V>  (C), read only when bit 1 is set
//   5 y      storage rw    array<V>  (B, N, C), a window from element base
// V is the element type: f32, or vec4<f32> where C is a multiple of 4 (VW is its width). On
// lavapipe, which loads storage lane by lane, a float costs about two thirds as much loaded as
// part of a vec4.
// Workgroup: 64 threads. Dispatch: ceil(B·N / VPI / 64) workgroups (folded by the host); each
// invocation normalises VPI consecutive voxels of one sample (the host sets VPI = 4 where N is a
// multiple of 4, else 1), loading each channel block's statistics, gamma and beta once for all
// of them. Invocation indices (params.first, params.end) count these blocks of voxels.

alias V = f32;
const VW: u32 = 1u;
const VPI: u32 = 1u;
override ACT: u32 = 0u;

@group(0) @binding(1) var<storage, read> x: array<V>;
@group(0) @binding(2) var<storage, read> chan: array<V>;
@group(0) @binding(3) var<storage, read> gamma: array<V>;
@group(0) @binding(4) var<storage, read> beta: array<V>;
@group(0) @binding(5) var<storage, read_write> y: array<V>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_index(wid, nwg, lid);
  if (i >= min(params.B * params.N / VPI, params.end)) { return; }
  let voxel0 = i * VPI;
  let b = voxel0 / params.N;
  let C = params.C;
  for (var c = 0u; c < C; c += VW) {
    let k = (2u * b * C + c) / VW;
    let mean = chan[k];
    let rstd = chan[k + C / VW];
    var g = V(1.0);
    if ((params.affine & 1u) != 0u) { g = gamma[c / VW]; }
    var shift = V(0.0);
    if ((params.affine & 2u) != 0u) { shift = beta[c / VW]; }
    for (var j = 0u; j < VPI; j++) {
      let e = ((voxel0 + j) * C + c - params.base) / VW;
      var v = (x[e] - mean) * rstd;
      if ((params.affine & 1u) != 0u) { v *= g; }
      if ((params.affine & 2u) != 0u) { v += shift; }
      // relu that keeps NaN (max(NaN, 0) may give 0 in WGSL).
      if (ACT == 1u) { v = select(v, V(0.0), v < V(0.0)); }
      y[e] = v;
    }
  }
}
