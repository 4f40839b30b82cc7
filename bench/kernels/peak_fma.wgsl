// peak_fma.wgsl — the adapter's compute peak: each invocation runs CHAINS independent vec4
// multiply-add chains for params.iterations steps (no loads in the loop, so nothing but the
// arithmetic units limits it), then writes one sum so the work cannot be optimised away. The
// host times CHAINS of 2, 3, 4, 5, 6, 8 and 16 (enough chains to hide the latency, few enough to
// stay in registers: that balance is the device's) and keeps the fastest.
// FLOPs: invocations · iterations · CHAINS · 4 lanes · 2.
//
// Bindings (group 0):
//   0 params  uniform       Params
//   1 out     storage rw    array<f32>, one element per invocation
// Dispatch: (invocations / 64) workgroups of 64, folded by the host (measurePeak in
// bench/roofline.ts runs 64 · 1024 invocations).

const CHAINS: u32 = 8u;

struct Params {
  iterations: u32,
  seed: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y) * 64u + lid;
  let m = vec4<f32>(0.999, 0.998, 0.997, 0.996);
  let d = vec4<f32>(f32(i) * 1e-9 + params.seed);
  var acc: array<vec4<f32>, CHAINS>;
  for (var c = 0u; c < CHAINS; c++) { acc[c] = vec4<f32>(f32(c)); }
  for (var n = 0u; n < params.iterations; n++) {
    for (var c = 0u; c < CHAINS; c++) { acc[c] = acc[c] * m + d; }
  }
  var s = vec4<f32>(0.0);
  for (var c = 0u; c < CHAINS; c++) { s += acc[c]; }
  out[i] = s.x + s.y + s.z + s.w;
}
