// where.wgsl — out = cond ? a : b, elementwise with NumPy broadcasting over all three inputs.
//
// Bindings (group 0):
//   0 params  uniform       Params
//   1 cond    storage read  array<u32>: raw 32-bit words of an int32 or float32 tensor
//   2 a       storage read  array<u32>: raw words (values are selected, never computed on)
//   3 b       storage read  array<u32>
//   4 out     storage rw    array<u32>, n elements, contiguous row-major
//   Each is a window of its tensor from element c_base / a_base / b_base / out_base (tensors
//   larger than one binding are split; the dispatch covers output elements [first, end)).
// Params: n, rank (<= 8), shape (output dims), c/a/b_strides (element strides, 0 on broadcast axes).
// COND_IS_FLOAT: 1 when cond holds float32 (then -0.0 counts as false), 0 for int32.
// Workgroup: 256 x 1 x 1. Dispatch: ceil((end - first) / 256) workgroups, folded into (x, y, z)
// by the host.

override COND_IS_FLOAT: u32 = 0u;

struct Params {
  n: u32,
  rank: u32,
  first: u32,
  end: u32,
  out_base: u32,
  c_base: u32,
  a_base: u32,
  b_base: u32,
  shape: array<vec4<u32>, 2>,
  c_strides: array<vec4<u32>, 2>,
  a_strides: array<vec4<u32>, 2>,
  b_strides: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> cond: array<u32>;
@group(0) @binding(2) var<storage, read> a: array<u32>;
@group(0) @binding(3) var<storage, read> b: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<u32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = params.first + (wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y) * 256u + lid;
  if (i >= min(params.n, params.end)) { return; }
  var rem = i;
  var oc = 0u;
  var oa = 0u;
  var ob = 0u;
  for (var d = params.rank; d > 0u; d = d - 1u) {
    let k = d - 1u;
    let s = params.shape[k / 4u][k % 4u];
    let c = rem % s;
    rem = rem / s;
    oc = oc + c * params.c_strides[k / 4u][k % 4u];
    oa = oa + c * params.a_strides[k / 4u][k % 4u];
    ob = ob + c * params.b_strides[k / 4u][k % 4u];
  }
  let bits = cond[oc - params.c_base];
  var take_a = bits != 0u;
  // A float is true unless it is ±0 (NaN is true, as in NumPy), read from its bits: a compiler may
  // fold NaN != 0 to false.
  if (COND_IS_FLOAT == 1u) { take_a = (bits & 0x7fffffffu) != 0u; }
  out[i - params.out_base] = select(b[ob - params.b_base], a[oa - params.a_base], take_a);
}
