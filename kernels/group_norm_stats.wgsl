// group_norm_stats.wgsl — forward, pass 2 of 3: merges the chunk moments of the CG channels of a
// group (Chan's parallel formula, in a fixed order: deterministic) into the group's mean and
// 1 / sqrt(variance + eps), and writes both beside each channel of the group for the output pass
// (group_norm_apply.wgsl), which then loads them as vec4s of channels.
// (Preceded by group_norm_layout.wgsl: Params at binding 0.)
//
// Bindings (group 0):
//   1 partial  storage read  array<f32>  (B, chunks, C, 2) from group_norm_moments.wgsl
//   2 stats    storage rw    array<f32>  (B, G, 2): mean, rstd (saved for the gradient)
//   3 chan     storage rw    array<f32>  (B, 2, C): each channel's group mean, then its rstd
// Workgroup: 64 threads. Dispatch: ceil(B·G / 64) workgroups; one (b, g) per invocation.

@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read_write> stats: array<f32>;
@group(0) @binding(3) var<storage, read_write> chan: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_index(wid, nwg, lid);
  if (i >= min(params.B * params.G, params.end)) { return; }
  let g = i % params.G;
  let b = i / params.G;
  let CG = params.C / params.G;
  var n = 0.0;
  var mean = 0.0;
  var m2 = 0.0;
  for (var k = 0u; k < params.chunks; k++) {
    let r = chunk_range(k);
    let nk = f32(r.y - r.x);
    if (nk == 0.0) { continue; }
    for (var c = g * CG; c < (g + 1u) * CG; c++) {
      let at = 2u * ((b * params.chunks + k) * params.C + c);
      let total = n + nk;
      let d = partial[at] - mean;
      mean += d * (nk / total);
      m2 += partial[at + 1u] + d * d * (n * nk / total);
      n = total;
    }
  }
  let rstd = inverseSqrt(max(m2, 0.0) / max(n, 1.0) + params.eps);
  stats[2u * i] = mean;
  stats[2u * i + 1u] = rstd;
  for (var c = g * CG; c < (g + 1u) * CG; c++) {
    chan[2u * b * params.C + c] = mean;
    chan[(2u * b + 1u) * params.C + c] = rstd;
  }
}
