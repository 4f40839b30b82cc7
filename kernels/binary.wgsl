// binary.wgsl — elementwise out = f(a, b) with NumPy broadcasting, one function per pipeline.
//
// Bindings (group 0):
//   0 params  uniform       Params
//   1 a       storage read  array<T>, broadcast to the output shape through a_strides
//   2 b       storage read  array<T>, broadcast to the output shape through b_strides
//   3 out     storage rw    array<U>, n elements, contiguous row-major
//   Each is a window of its tensor from element a_base / b_base / out_base (tensors larger than
//   one binding are split; the dispatch covers output elements [first, end)).
// Params: n (output elements), rank (<= 8), flags (bit 0: a is contiguous with the output's shape,
//   bit 1: the same for b; bit 2: a repeats along leading axes only (a bias: its shape is the
//   output's trailing dims), so its index is i mod a_period; bit 3: the same for b; these fast
//   paths skip the index arithmetic), a_period / b_period, shape (output dims, innermost last),
//   a_strides / b_strides (element strides, 0 on broadcast axes), packed 4 per vec4.
// T, U, OP and apply(): see binary_ops.wgsl, which the registry puts in front of this file.
// Workgroup: 256 x 1 x 1. Dispatch: ceil((end - first) / 256) workgroups, folded into (x, y, z)
// by the host.
// Each invocation writes one output element; invocations past n return.

struct Params {
  n: u32,
  rank: u32,
  flags: u32,
  a_period: u32,
  b_period: u32,
  first: u32,
  end: u32,
  out_base: u32,
  a_base: u32,
  b_base: u32,
  shape: array<vec4<u32>, 2>,
  a_strides: array<vec4<u32>, 2>,
  b_strides: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<T>;
@group(0) @binding(2) var<storage, read> b: array<T>;
@group(0) @binding(3) var<storage, read_write> out: array<U>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = params.first + (wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y) * 256u + lid;
  if (i >= min(params.n, params.end)) { return; }
  var ia = i;
  var ib = i;
  if ((params.flags & 4u) != 0u) { ia = i % params.a_period; }
  if ((params.flags & 8u) != 0u) { ib = i % params.b_period; }
  if ((params.flags & 5u) == 0u || (params.flags & 10u) == 0u) {
    var rem = i;
    var oa = 0u;
    var ob = 0u;
    for (var d = params.rank; d > 0u; d = d - 1u) {
      let k = d - 1u;
      let s = params.shape[k / 4u][k % 4u];
      let c = rem % s;
      rem = rem / s;
      oa = oa + c * params.a_strides[k / 4u][k % 4u];
      ob = ob + c * params.b_strides[k / 4u][k % 4u];
    }
    if ((params.flags & 5u) == 0u) { ia = oa; }
    if ((params.flags & 10u) == 0u) { ib = ob; }
  }
  out[i - params.out_base] = apply(a[ia - params.a_base], b[ib - params.b_base]);
}
