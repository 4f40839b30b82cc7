// group_norm_apply.wgsl — forward, pass 3 of 3: y = act(x · scale + shift) per element, with the
// per-(sample, channel) coefficients scale = rstd · gamma[c] and shift = beta[c] − mean · scale
// that group_norm_stats.wgsl folds from the group's statistics (PyTorch's CPU kernel does the
// same): two loads an element instead of the statistics, gamma and beta. ACT 0 linear or 1 relu
// is fused in (a norm-then-relu block writes one tensor, not two).
// (Preceded by group_norm_layout.wgsl: Params at binding 0.)
//
// Bindings (group 0):
//   1 x     storage read  array<V>  (B, N, C), a window from element base
//   2 coef  storage read  array<V>  (B, 2, C): scale, then shift, from group_norm_stats.wgsl
//   3 y     storage rw    array<V>  (B, N, C), a window from element base
// V is the element type: f32, or vec4<f32> where C is a multiple of 4 (the host's choice; VW is
// its width). On lavapipe, which loads storage lane by lane, a float costs about two thirds as
// much loaded as part of a vec4.
// Workgroup: 64 threads. Dispatch: ceil(B·N / 64) workgroups (folded by the host); one voxel (all
// C channels) per invocation, so the index arithmetic is paid once per voxel.

alias V = f32;
const VW: u32 = 1u;
override ACT: u32 = 0u;

@group(0) @binding(1) var<storage, read> x: array<V>;
@group(0) @binding(2) var<storage, read> coef: array<V>;
@group(0) @binding(3) var<storage, read_write> y: array<V>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let voxel = linear_index(wid, nwg, lid);
  if (voxel >= min(params.B * params.N, params.end)) { return; }
  let b = voxel / params.N;
  let C = params.C;
  for (var c = 0u; c < C; c += VW) {
    let e = (voxel * C + c - params.base) / VW;
    let k = (2u * b * C + c) / VW;
    var v = x[e] * coef[k] + coef[k + C / VW];
    // relu that keeps NaN (max(NaN, 0) may give 0 in WGSL).
    if (ACT == 1u) { v = select(v, V(0.0), v < V(0.0)); }
    y[e] = v;
  }
}
