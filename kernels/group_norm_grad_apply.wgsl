// group_norm_grad_apply.wgsl — backward, pass 3 of 3: dx = rstd · (γ_c·dy − m_dy − x̂ · m_dyx),
// with x̂ = (x − mean) · rstd and m_dy, m_dyx the group means of γ·dy and γ·dy·x̂; with ACT 1 (a
// fused relu) dy is first multiplied by step(y), as in group_norm_grad_sums.wgsl.
// (Preceded by group_norm_layout.wgsl: Params at binding 0.)
//
// Bindings (group 0):
//   1 x      storage read  array<V>  (B, N, C), a window from element base
//   2 dy     storage read  array<V>  (B, N, C), a window from element base
//   3 chan   storage read  array<V>  (B, 4, C): each channel's group mean, rstd, m_dy, m_dyx,
//                                    from group_norm_grad_stats.wgsl
//   4 gamma  storage read  array<V>  (C), read only when params.affine bit 0 is set (else any
//                                    buffer of at least 16 bytes is bound)
//   5 dx     storage rw    array<V>  (B, N, C), a window from element base
//   6 y      storage read  array<V>  (B, N, C), the forward output, a window from element base
//                                    (read only with ACT 1, else any buffer is bound)
// V is the element type: f32, or vec4<f32> where C is a multiple of 4 (VW is its width), as in
// group_norm_apply.wgsl; VU the unsigned integer of its shape.
// Workgroup: 64 threads. Dispatch: ceil(B·N / VPI / 64) workgroups (folded by the host); each
// invocation computes VPI consecutive voxels of one sample (VPI = 4 where N is a multiple of 4,
// else 1), loading each channel block's coefficients and gamma once for all of them.

alias V = f32;
alias VU = u32;
const VW: u32 = 1u;
const VPI: u32 = 1u;

@group(0) @binding(1) var<storage, read> x: array<V>;
@group(0) @binding(2) var<storage, read> dy: array<V>;
@group(0) @binding(3) var<storage, read> chan: array<V>;
@group(0) @binding(4) var<storage, read> gamma: array<V>;
@group(0) @binding(5) var<storage, read_write> dx: array<V>;
@group(0) @binding(6) var<storage, read> y: array<V>;

override ACT: u32 = 0u;

// relu's derivative at output v, as group_norm_grad_sums.wgsl's (NaN where v is NaN), per component.
fn relu_step(v: V) -> V {
  return select(select(V(0.0), V(1.0), v > V(0.0)), v, (bitcast<VU>(v) & VU(0x7fffffffu)) > VU(0x7f800000u));
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_index(wid, nwg, lid);
  if (i >= min(params.B * params.N / VPI, params.end)) { return; }
  let voxel0 = i * VPI;
  let b = voxel0 / params.N;
  let C = params.C;
  for (var c = 0u; c < C; c += VW) {
    let k = (4u * b * C + c) / VW;
    let mean = chan[k];
    let rstd = chan[k + C / VW];
    let m_dy = chan[k + 2u * C / VW];
    let m_dyx = chan[k + 3u * C / VW];
    var gc = V(1.0);
    if ((params.affine & 1u) != 0u) { gc = gamma[c / VW]; }
    for (var j = 0u; j < VPI; j++) {
      let e = ((voxel0 + j) * C + c - params.base) / VW;
      var g = dy[e];
      if (ACT == 1u) { g *= relu_step(y[e]); }
      dx[e] = rstd * (gc * g - m_dy - (x[e] - mean) * rstd * m_dyx);
    }
  }
}
