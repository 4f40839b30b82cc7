// strided_copy.wgsl — out[dst(idx)] = in[src(idx)] over an iteration shape, dtype-agnostic.
//
// One kernel for every data-movement op: transpose (permuted source strides), slice (source
// offset), broadcastTo (zero source strides), pad (source index out of range -> pad value),
// concat (destination offset and strides of the output), and plain contiguous copies.
//
// Bindings (group 0):
//   0 params  uniform       Params
//   1 src     storage read  array<W>: raw 32-bit words of an int32 or float32 tensor, one word a
//                                     W = u32, or four where W = vec4<u32>
//   2 dst     storage rw    array<W>
// W = vec4<u32> where runs, offsets and the strides of the outer axes are all multiples of 4
// words (a channels-last concat or slice of 4k channels): the host then gives offsets, strides
// and run in units of W, while shapes, extents and padding stay in coordinates. On lavapipe,
// which loads storage lane by lane, a word costs a third less read as part of a vec4.
// Params: n (iteration runs), rank (<= 8), src_offset, dst_offset (offsets in units of W),
//   pad_bits (the pad value's 32-bit pattern), shape (iteration dims), src_shape (valid source
//   extent per dim, for padding), src_strides, pad_lo (leading pad per dim), dst_strides, run
//   (elements per run: the host merges the innermost axes that are contiguous and unpadded in
//   both tensors into a last axis of extent 1 here, whose run elements each invocation copies).
// Workgroup: 256 x 1 x 1. Dispatch: ceil(n / 256) workgroups, folded into (x, y, z) by the host.
// Each invocation moves one run, its index arithmetic (a division per axis) done once for all of
// its elements; invocations past n return.

struct Params {
  n: u32,
  rank: u32,
  src_offset: u32,
  dst_offset: u32,
  pad_bits: u32,
  shape: array<vec4<u32>, 2>,
  src_shape: array<vec4<u32>, 2>,
  src_strides: array<vec4<u32>, 2>,
  pad_lo: array<vec4<u32>, 2>,
  dst_strides: array<vec4<u32>, 2>,
  run: u32,
}

alias W = u32;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<W>;
@group(0) @binding(2) var<storage, read_write> dst: array<W>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y) * 256u + lid;
  if (i >= params.n) { return; }
  var rem = i;
  var s_off = params.src_offset;
  var d_off = params.dst_offset;
  var inside = true;
  for (var d = params.rank; d > 0u; d = d - 1u) {
    let k = d - 1u;
    let q = k / 4u;
    let e = k % 4u;
    let len = params.shape[q][e];
    let c = rem % len;
    rem = rem / len;
    d_off = d_off + c * params.dst_strides[q][e];
    // Unsigned wrap-around turns c < pad_lo into a huge index, caught by the extent test.
    let sc = c - params.pad_lo[q][e];
    if (sc >= params.src_shape[q][e]) { inside = false; }
    s_off = s_off + sc * params.src_strides[q][e];
  }
  if (!inside) {
    for (var j = 0u; j < params.run; j++) { dst[d_off + j] = W(params.pad_bits); }
    return;
  }
  for (var j = 0u; j < params.run; j++) { dst[d_off + j] = src[s_off + j]; }
}
