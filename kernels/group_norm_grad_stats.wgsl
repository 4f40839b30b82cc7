// group_norm_grad_stats.wgsl — backward, pass 2 of 3: sums the chunk partials (fixed order,
// deterministic) into
//   per (b, g): m_dy, m_dyx = (Σ γ_c·dy, Σ γ_c·dy·x̂) / (N · CG) over the group's values, written
//               with the group's mean and rstd beside each of its channels for the input-gradient
//               pass (group_norm_grad_apply.wgsl), which loads them as vec4s of channels, and
//   per c:      dgamma = Σ_b Σ dy·x̂, dbeta = Σ_b Σ dy.
// (Preceded by group_norm_layout.wgsl: Params at binding 0.)
//
// Bindings (group 0):
//   1 partial  storage read  array<f32>  (B, chunks, C, 2) from group_norm_grad_sums.wgsl
//   2 gamma    storage read  array<f32>  (C), read only when params.affine bit 0 is set
//   3 stats    storage read  array<f32>  (B, G, 2) from the forward pass: mean, rstd
//   4 chan     storage rw    array<f32>  (B, 4, C): each channel's group mean, rstd, m_dy, m_dyx
//   5 dparams  storage rw    array<f32>  (2, C): dgamma then dbeta
// Workgroup: 64 threads. Dispatch: ceil((B·G + C) / 64) workgroups: invocations [0, B·G) each
// reduce one (b, g), the next C each one channel.

@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> stats: array<f32>;
@group(0) @binding(4) var<storage, read_write> chan: array<f32>;
@group(0) @binding(5) var<storage, read_write> dparams: array<f32>;

fn channel_sums(b: u32, c: u32) -> vec2<f32> {
  var s = vec2<f32>(0.0);
  for (var k = 0u; k < params.chunks; k++) {
    let at = 2u * ((b * params.chunks + k) * params.C + c);
    s += vec2<f32>(partial[at], partial[at + 1u]);
  }
  return s;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_index(wid, nwg, lid);
  let groups = params.B * params.G;
  let CG = params.C / params.G;
  if (i < groups) {
    let g = i % params.G;
    let b = i / params.G;
    var s = vec2<f32>(0.0);
    for (var c = g * CG; c < (g + 1u) * CG; c++) {
      var gc = 1.0;
      if ((params.affine & 1u) != 0u) { gc = gamma[c]; }
      s += gc * channel_sums(b, c);
    }
    let m = f32(params.N * CG);
    let values = vec4<f32>(stats[2u * i], stats[2u * i + 1u], s.x / m, s.y / m);
    for (var c = g * CG; c < (g + 1u) * CG; c++) {
      for (var q = 0u; q < 4u; q++) { chan[(4u * b + q) * params.C + c] = values[q]; }
    }
  } else if (i < groups + params.C) {
    let c = i - groups;
    var s = vec2<f32>(0.0);
    for (var b = 0u; b < params.B; b++) { s += channel_sums(b, c); }
    dparams[c] = s.y;
    dparams[params.C + c] = s.x;
  }
}
