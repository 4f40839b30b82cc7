// fill.wgsl — y[i] = value for every element, dtype-agnostic (the value's 32-bit pattern).
//
// Bindings (group 0):
//   0 params  uniform       Params
//   1 y       storage rw    array<u32>, n elements
// Params: n, bits (the value's raw 32-bit pattern: a float32 or an int32).
// Workgroup: 256 x 1 x 1. Dispatch: ceil(n / 256) workgroups, folded into (x, y, z) by the host.

struct Params {
  n: u32,
  bits: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> y: array<u32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y) * 256u + lid;
  if (i >= params.n) { return; }
  y[i] = params.bits;
}
