// group_norm_grad_apply.wgsl — backward, pass 3 of 3: dx = a · dy + b · x + d per element, with the
// per-(sample, channel) coefficients group_norm_grad_stats.wgsl folds from the group's statistics
// and gradient sums (dx = rstd · (γ_c·dy − m_dy − x̂ · m_dyx) rearranged, as PyTorch's CPU kernel
// does): three loads an element instead of the statistics, gamma and the group means.
// (Preceded by group_norm_layout.wgsl: Params at binding 0.)
//
// Bindings (group 0):
//   1 x     storage read  array<V>  (B, N, C), a window from element base
//   2 dy    storage read  array<V>  (B, N, C), a window from element base
//   3 coef  storage read  array<V>  (B, 3, C): a, then b, then d
//   4 dx    storage rw    array<V>  (B, N, C), a window from element base
// V is the element type: f32, or vec4<f32> where C is a multiple of 4 (VW is its width), as in
// group_norm_apply.wgsl.
// Workgroup: 64 threads. Dispatch: ceil(B·N / 64) workgroups (folded by the host); one voxel (all
// C channels) per invocation.

alias V = f32;
const VW: u32 = 1u;

@group(0) @binding(1) var<storage, read> x: array<V>;
@group(0) @binding(2) var<storage, read> dy: array<V>;
@group(0) @binding(3) var<storage, read> coef: array<V>;
@group(0) @binding(4) var<storage, read_write> dx: array<V>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let voxel = linear_index(wid, nwg, lid);
  if (voxel >= min(params.B * params.N, params.end)) { return; }
  let b = voxel / params.N;
  let C = params.C;
  for (var c = 0u; c < C; c += VW) {
    let e = (voxel * C + c - params.base) / VW;
    let k = (3u * b * C + c) / VW;
    dx[e] = coef[k] * dy[e] + coef[k + C / VW] * x[e] + coef[k + 2u * C / VW];
  }
}
