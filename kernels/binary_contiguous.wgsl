// binary_contiguous.wgsl — out = f(a, b) for operands of the output's own shape (no broadcasting),
// 16 elements per invocation: the fast path of binary.wgsl's ops.
//
// Bindings (group 0):
//   0 params  uniform       Params
//   1 a       storage read  array<vec4<T>>, n elements (bound rounded up to 16 bytes)
//   2 b       storage read  array<vec4<T>>, n elements (likewise)
//   3 out     storage rw    array<vec4<U>>, n elements (the output's own buffer: a last partial
//                           vec4 writes padding that belongs to nobody)
// Params: n (elements).
// T, U, OP and apply(): see binary_ops.wgsl, which the registry puts in front of this file.
// Workgroup: 256 x 1 x 1. Dispatch: ceil(n / 4096) workgroups, folded into (x, y, z) by the host;
// each invocation handles 4 vec4s, 256 vec4s apart, so neighbouring invocations read neighbouring
// memory.

struct Params {
  n: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<T>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<T>>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4<U>>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let first = (wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y) * 1024u + lid;
  for (var k = 0u; k < 4u; k++) {
    let q = first + k * 256u;
    if (q * 4u >= params.n) { return; }
    let u = a[q];
    let v = b[q];
    out[q] = vec4<U>(apply(u.x, v.x), apply(u.y, v.y), apply(u.z, v.z), apply(u.w, v.w));
  }
}
