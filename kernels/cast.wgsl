// cast.wgsl — dtype conversion between float32 and int32.
//
// Bindings (group 0):
//   0 params  uniform       Params
//   1 x       storage read  array<u32>: raw words of the source tensor
//   2 y       storage rw    array<u32>: raw words of the result
// Params: n.
// TO_INT: 1 float32 -> int32 (truncates toward zero, saturates at the int32 range; NaN -> 0),
//         0 int32 -> float32 (rounds to nearest float32).
// Workgroup: 256 x 1 x 1. Dispatch: ceil(n / 256) workgroups, folded into (x, y, z) by the host.

override TO_INT: u32 = 1u;

struct Params {
  n: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> y: array<u32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y) * 256u + lid;
  if (i >= params.n) { return; }
  if (TO_INT == 1u) {
    let v = bitcast<f32>(x[i]);
    var r = 0;
    // NaN keeps 0 (read from its bits: a compiler may fold `v == v` to true); the clamp avoids
    // implementation-defined overflow.
    if ((x[i] & 0x7fffffffu) <= 0x7f800000u) { r = i32(clamp(v, -2147483648.0, 2147483520.0)); }
    y[i] = bitcast<u32>(r);
  } else {
    y[i] = bitcast<u32>(f32(bitcast<i32>(x[i])));
  }
}
