// conv3d_geometry.wgsl — what the three conv3d kernels share (the registry puts it in front of
// conv3d.wgsl, conv3d_grad_input.wgsl and conv3d_grad_weight.wgsl): the geometry uniform and
// index helpers for channels-last volumes.
//
// x: (B, IX, IY, IZ, CI), w: (KX, KY, KZ, CI, CO) (Keras' layout), y: (B, OX, OY, OZ, CO), with
// input coordinate i = o·stride + k·dilation − pad_before on each spatial axis; taps that land
// outside the input read zeros (padding).
// Binding 0 of every conv3d kernel: params, uniform Params.
//
// Windows: a tensor larger than one storage binding is bound from an aligned element offset, and
// a dispatch covers the invocations [window.x, window.y) of the whole grid. Kernels compute global
// indices and subtract window.z from those of input-shaped tensors (x, dx) and window.w from those
// of output-shaped tensors (y, dy); invocations past window.y write nothing.

struct Params {
  in_shape: vec4<u32>,    // IX, IY, IZ, CI
  out_shape: vec4<u32>,   // OX, OY, OZ, CO
  ksize: vec4<u32>,       // KX, KY, KZ, B
  stride: vec4<u32>,      // sx, sy, sz, -
  dilation: vec4<u32>,    // dx, dy, dz, -
  pad: vec4<u32>,         // padding before on x, y, z, -
  extra: vec4<u32>,       // kernel-specific (conv3d_grad_weight: chunks, output rows per chunk)
  window: vec4<u32>,      // first invocation, end invocation, input-shaped base, output-shaped base
  blocks: vec4<u32>,      // conv3d.wgsl: the dispatch's first output-channel block and its blocks
}

@group(0) @binding(0) var<uniform> params: Params;

// Global invocation index: this dispatch's grid (folded into x, y, z by the host) from window.x.
fn linear_index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return params.window.x + (wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y) * 64u + lid;
}

// One past the last invocation that writes: the grid's size, or the window's end.
fn last_invocation(total: u32) -> u32 {
  return min(total, params.window.y);
}

// Flat index of voxel (b, x, y, z) of a (B, X, Y, Z, ·) volume with spatial shape s.
fn voxel_index(b: u32, p: vec3<u32>, s: vec3<u32>) -> u32 {
  return ((b * s.x + p.x) * s.y + p.y) * s.z + p.z;
}

// (b, x, y, z) of flat voxel v of a volume with spatial shape s.
fn voxel_coords(v: u32, s: vec3<u32>) -> vec4<u32> {
  let z = v % s.z;
  let y = (v / s.z) % s.y;
  let x = (v / (s.z * s.y)) % s.x;
  return vec4<u32>(v / (s.z * s.y * s.x), x, y, z);
}

// Input position of output voxel o through tap k, as signed integers (may lie in the padding).
fn input_position(o: vec3<u32>, k: vec3<u32>) -> vec3<i32> {
  return vec3<i32>(o * params.stride.xyz + k * params.dilation.xyz) - vec3<i32>(params.pad.xyz);
}

fn inside(p: vec3<i32>) -> bool {
  return all(p >= vec3<i32>(0)) && all(p < vec3<i32>(params.in_shape.xyz));
}
