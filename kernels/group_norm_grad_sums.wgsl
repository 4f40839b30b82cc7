// group_norm_grad_sums.wgsl — backward, pass 1 of 3: per channel and chunk of voxels, Σ dy and
// Σ dy · x̂ with x̂ = (x − mean) · rstd (recomputed, not stored by the forward pass). With ACT 1
// (a fused relu) dy is first multiplied by step(y) of the forward output y (1 where y > 0, 0
// elsewhere, NaN where y is NaN, as the step op): mul(dy, step(y)) without its two passes.
// (Preceded by group_norm_layout.wgsl: Params at binding 0.)
//
// Bindings (group 0):
//   1 x        storage read  array<f32>  (B, N, C), a window from element base
//   2 dy       storage read  array<f32>  (B, N, C), a window from element base
//   3 stats    storage read  array<f32>  (B, G, 2) from the forward pass
//   4 partial  storage rw    array<f32>  (B, chunks, C, 2): Σ dy, Σ dy · x̂
//   5 y        storage read  array<f32>  (B, N, C), the forward output, a window from element base
//                                       (read only with ACT 1, else any buffer is bound)
// Workgroup: 64 threads. Dispatch: ceil(B·chunks·C / 64) workgroups (folded by the host); one
// (b, k, c) per invocation, c fastest.

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> stats: array<f32>;
@group(0) @binding(4) var<storage, read_write> partial: array<f32>;
@group(0) @binding(5) var<storage, read> y: array<f32>;

override ACT: u32 = 0u;

// relu's derivative at output v, as the step op computes it: 1 where v > 0, 0 elsewhere, and NaN
// where v is NaN (NumPy's rule, told from the bits: compilers may fold v != v).
fn relu_step(v: f32) -> f32 {
  return select(select(0.0, 1.0, v > 0.0), v, (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_index(wid, nwg, lid);
  if (i >= min(params.B * params.chunks * params.C, params.end)) { return; }
  let bkc = partial_coords(i);
  let b = bkc.x;
  let c = bkc.z;
  let at = 2u * (b * params.G + c / (params.C / params.G));
  let mean = stats[at];
  let rstd = stats[at + 1u];
  let r = chunk_range(bkc.y);
  var s_dy = 0.0;
  var s_dyx = 0.0;
  for (var v = r.x; v < r.y; v++) {
    let e = (b * params.N + v) * params.C + c - params.base;
    var g = dy[e];
    if (ACT == 1u) { g *= relu_step(y[e]); }
    s_dy += g;
    s_dyx += g * (x[e] - mean) * rstd;
  }
  partial[2u * i] = s_dy;
  partial[2u * i + 1u] = s_dyx;
}
