// load_probe.wgsl — what a compute shader's loads cost: each invocation sums params.iterations
// vec4s read one way (MODE), so the benchmark can state a kernel's loads in multiply-adds. On
// software adapters a storage load is a per-lane sequence (bounds check, branch, insert) while a
// uniform load is a plain gather, and either costs many multiply-adds; a GPU's are nearly free.
//   MODE 0: four f32 storage loads (consecutive elements)   MODE 1: one vec4<f32> storage load
//   MODE 2: one vec4 from a uniform array (the address differs per invocation)
//   MODE 3: one vec4 from a uniform array at the address every invocation reads at that step
//           (lavapipe 25.0 still gathers it lane by lane: only a compile-time constant address
//           is loaded once and broadcast)
//
// Bindings (group 0):
//   0 params  uniform       Params
//   1 a       storage read  array<f32>, at least 4 · 65536 elements (read as f32 in MODE 0)
//   2 a4      storage read  array<vec4<f32>>, the same buffer read as vec4s (MODE 1)
//   3 u       uniform       array<vec4<f32>, 4096>, 64 KiB (MODE 2)
//   4 out     storage rw    array<f32>, one element per invocation
// Dispatch: params.invocations / 64 workgroups of 64 (folded by the host). Loads counted:
// invocations · iterations · 4 floats.

const MODE: u32 = 0u;

struct Params {
  iterations: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> a4: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> u: array<vec4<f32>, 4096>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y) * 64u + lid;
  var s = vec4<f32>(0.0);
  for (var k = 0u; k < params.iterations; k++) {
    // Neighbouring invocations read neighbouring vec4s, each step 256 vec4s further on.
    let q = (i + k * 256u) % 65536u;
    if (MODE == 0u) { s += vec4<f32>(a[4u * q], a[4u * q + 1u], a[4u * q + 2u], a[4u * q + 3u]); }
    if (MODE == 1u) { s += a4[q]; }
    if (MODE == 2u) { s += u[q % 4096u]; }
    if (MODE == 3u) { s += u[k % 4096u]; }
  }
  out[i] = s.x + s.y + s.z + s.w;
}
