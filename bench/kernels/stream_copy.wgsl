// stream_copy.wgsl — what a compute shader itself moves: out[i] = a[i] as vec4s, 16 elements per
// invocation in the layout of the elementwise kernels (binary_contiguous.wgsl), so the benchmark
// can tell the adapter's copy engine from what any shader can read and write.
//
// Bindings (group 0):
//   0 params  uniform       Params
//   1 a       storage read  array<vec4<f32>>, params.n vec4s
//   2 out     storage rw    array<vec4<f32>>, params.n vec4s
// Workgroup: 256 x 1 x 1. Dispatch: ceil(n / 1024) workgroups, folded into (x, y, z) by the host;
// each invocation copies 4 vec4s, 256 apart, so neighbouring invocations touch neighbouring memory.

struct Params {
  n: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let first = (wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y) * 1024u + lid;
  for (var k = 0u; k < 4u; k++) {
    let q = first + k * 256u;
    if (q >= params.n) { return; }
    out[q] = a[q];
  }
}
