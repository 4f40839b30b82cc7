// group_norm_layout.wgsl — what the group-normalisation kernels share (the registry puts it in
// front of each): the layout uniform. x is channels-last (B, N, C): N voxels of C channels per
// sample, G groups of CG = C / G consecutive channels. Statistics are per (b, g) over N · CG
// values; partial sums cover chunks of per_chunk voxels (chunk k: voxels [k·per_chunk, ...)).
// Binding 0 of every group_norm kernel: params, uniform Params.
// Windows: x, y, dy and dx (all (B, N, C)) may be larger than one storage binding; a dispatch then
// covers the invocations [first, end) of the whole grid and binds those tensors from element
// `base`, which the kernels subtract from the indices they compute (0 and the whole grid otherwise).

struct Params {
  B: u32,
  N: u32,
  C: u32,
  G: u32,
  chunks: u32,
  per_chunk: u32,
  eps: f32,
  affine: u32,   // bit 0: a gamma is bound, bit 1: a beta is bound
  first: u32,    // first invocation of this dispatch
  end: u32,      // one past the last invocation that writes
  base: u32,     // element of x / y / dy / dx where their bindings start
}

@group(0) @binding(0) var<uniform> params: Params;

// Global invocation index: this dispatch's grid (folded into x, y, z by the host) from `first`.
fn linear_index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return params.first + (wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y) * 64u + lid;
}

// (b, k, c) of partial-sum slot i of a (B, chunks, C) layout, c fastest.
fn partial_coords(i: u32) -> vec3<u32> {
  return vec3<u32>(i / (params.C * params.chunks), (i / params.C) % params.chunks, i % params.C);
}

// Voxels [first, end) of chunk k.
fn chunk_range(k: u32) -> vec2<u32> {
  let first = k * params.per_chunk;
  return vec2<u32>(min(first, params.N), min(first + params.per_chunk, params.N));
}
