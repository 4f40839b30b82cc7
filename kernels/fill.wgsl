// fill.wgsl — y[i] = value for every element, dtype-agnostic (the value's 32-bit pattern).
//
// Bindings (group 0):
//   0 params  uniform       Params
//   1 y       storage rw    array<vec4<u32>>, n elements (the tensor's own buffer, bound rounded
//                           up to 16 bytes: a last partial vec4 fills padding nobody reads)
// Params: n, bits (the value's raw 32-bit pattern: a float32 or an int32).
// Workgroup: 256 x 1 x 1. Dispatch: ceil(n / 4096) workgroups, folded into (x, y, z) by the host;
// each invocation writes 4 vec4s, 256 vec4s apart (as unary.wgsl).

struct Params {
  n: u32,
  bits: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> y: array<vec4<u32>>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let first = (wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y) * 1024u + lid;
  for (var k = 0u; k < 4u; k++) {
    let q = first + k * 256u;
    if (q * 4u >= params.n) { return; }
    y[q] = vec4<u32>(params.bits);
  }
}
