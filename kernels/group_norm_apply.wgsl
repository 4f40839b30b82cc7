// group_norm_apply.wgsl — forward, pass 3 of 3: y = act((x − mean) · rstd · gamma[c] + beta[c]),
// with ACT 0 linear or 1 relu fused in (a norm-then-relu block writes one tensor, not two).
// (Preceded by group_norm_layout.wgsl: Params at binding 0.)
//
// Bindings (group 0):
//   1 x      storage read  array<f32>  (B, N, C), a window from element base
//   2 stats  storage read  array<f32>  (B, G, 2) from group_norm_stats.wgsl
//   3 gamma  storage read  array<f32>  (C), read only when params.affine bit 0 is set (else any
//                                       buffer is bound)
//   4 beta   storage read  array<f32>  (C), read only when bit 1 is set
//   5 y      storage rw    array<f32>  (B, N, C), a window from element base
// Workgroup: 64 threads. Dispatch: ceil(B·N / 64) workgroups (folded by the host); one voxel (all
// C channels, group by group) per invocation, so the index arithmetic is paid once per voxel.

override ACT: u32 = 0u;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> stats: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let voxel = linear_index(wid, nwg, lid);
  if (voxel >= min(params.B * params.N, params.end)) { return; }
  let b = voxel / params.N;
  let CG = params.C / params.G;
  for (var g = 0u; g < params.G; g++) {
    let mean = stats[2u * (b * params.G + g)];
    let rstd = stats[2u * (b * params.G + g) + 1u];
    for (var c = g * CG; c < (g + 1u) * CG; c++) {
      let e = voxel * params.C + c - params.base;
      var v = (x[e] - mean) * rstd;
      if ((params.affine & 1u) != 0u) { v *= gamma[c]; }
      if ((params.affine & 2u) != 0u) { v += beta[c]; }
      // relu that keeps NaN (max(NaN, 0) may give 0 in WGSL).
      if (ACT == 1u && v < 0.0) { v = 0.0; }
      y[e] = v;
    }
  }
}
