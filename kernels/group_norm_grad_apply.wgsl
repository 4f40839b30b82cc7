// group_norm_grad_apply.wgsl — backward, pass 3 of 3: dx = rstd · (γ_c·dy − coef.x − x̂ · coef.y),
// with x̂ = (x − mean) · rstd and coef the group means of γ·dy and γ·dy·x̂.
// (Preceded by group_norm_layout.wgsl: Params at binding 0.)
//
// Bindings (group 0):
//   1 x      storage read  array<f32>  (B, N, C), a window from element base
//   2 dy     storage read  array<f32>  (B, N, C), a window from element base
//   3 stats  storage read  array<f32>  (B, G, 2) from the forward pass
//   4 gamma  storage read  array<f32>  (C), read only when params.affine bit 0 is set
//   5 coef   storage read  array<f32>  (B, G, 2) from group_norm_grad_stats.wgsl
//   6 dx     storage rw    array<f32>  (B, N, C), a window from element base
// Workgroup: 64 threads. Dispatch: ceil(B·N / 64) workgroups (folded by the host); one voxel (all
// C channels, group by group) per invocation.

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> stats: array<f32>;
@group(0) @binding(4) var<storage, read> gamma: array<f32>;
@group(0) @binding(5) var<storage, read> coef: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let voxel = linear_index(wid, nwg, lid);
  if (voxel >= min(params.B * params.N, params.end)) { return; }
  let b = voxel / params.N;
  let CG = params.C / params.G;
  for (var g = 0u; g < params.G; g++) {
    let at = 2u * (b * params.G + g);
    let mean = stats[at];
    let rstd = stats[at + 1u];
    let m_dy = coef[at];
    let m_dyx = coef[at + 1u];
    for (var c = g * CG; c < (g + 1u) * CG; c++) {
      let e = voxel * params.C + c - params.base;
      var gc = 1.0;
      if ((params.affine & 1u) != 0u) { gc = gamma[c]; }
      dx[e] = rstd * (gc * dy[e] - m_dy - (x[e] - mean) * rstd * m_dyx);
    }
  }
}
