// conv3d.wgsl — 3D convolution, channels-last, forward: y[b, o, co] = Σ_k Σ_ci x[b, i(o, k), ci] · w[k, ci, co].
// (Preceded by conv3d_geometry.wgsl: Params at binding 0 and the index helpers.)
//
// Bindings (group 0):
//   1 x  storage read  array<f32>        (B, IX, IY, IZ, CI)
//   2 w  storage read  array<vec4<f32>>  (KX, KY, KZ, CI, CO) with CO padded... read as vec4 blocks
//                                         of 4 output channels when CO % 4 == 0 (VEC), else scalars
//   3 y  storage rw    array<f32>        (B, OX, OY, OZ, CO)
// CO4 (= ceil(CO / 4), at most 16 here; the host uses the per-channel-block variant above that)
// is fixed at shader creation.
// Workgroup: 64 threads. Dispatch: ceil(B·OX·OY·OZ / 64) workgroups (folded into x, y, z by the
// host). Invocation i computes every output channel of output voxel i: each input value read is
// used for CO products, and taps outside the input are read at a clamped position and weighted
// by 0 instead of skipped, so control flow stays uniform and every invocation of a workgroup
// reads the same weights at the same time (one load for all of them on SIMD hardware).

const CO4: u32 = 2u;
override VEC: u32 = 1u;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

fn weight_block(base: u32, j: u32, CO: u32) -> vec4<f32> {
  let c = base + 4u * j;
  if (VEC == 1u) { return vec4<f32>(w[c], w[c + 1u], w[c + 2u], w[c + 3u]); }
  var r = vec4<f32>(0.0);
  for (var l = 0u; l < 4u; l++) {
    if (4u * j + l < CO) { r[l] = w[c + l]; }
  }
  return r;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let CI = params.in_shape.w;
  let CO = params.out_shape.w;
  let i = linear_index(wid, nwg, lid);
  let B = params.ksize.w;
  let total = B * params.out_shape.x * params.out_shape.y * params.out_shape.z;
  // Invocations past the end compute a clamped voxel and write nothing (uniform control flow).
  let ov = min(i, total - 1u);
  let o = voxel_coords(ov, params.out_shape.xyz);
  var acc: array<vec4<f32>, CO4>;
  for (var kx = 0u; kx < params.ksize.x; kx++) {
    for (var ky = 0u; ky < params.ksize.y; ky++) {
      for (var kz = 0u; kz < params.ksize.z; kz++) {
        let p = input_position(o.yzw, vec3<u32>(kx, ky, kz));
        let keep = select(0.0, 1.0, inside(p));
        let q = vec3<u32>(clamp(p, vec3<i32>(0), vec3<i32>(params.in_shape.xyz) - vec3<i32>(1)));
        let xb = voxel_index(o.x, q, params.in_shape.xyz) * CI;
        let wb = ((kx * params.ksize.y + ky) * params.ksize.z + kz) * CI * CO;
        for (var ci = 0u; ci < CI; ci++) {
          let xv = x[xb + ci] * keep;
          for (var j = 0u; j < CO4; j++) { acc[j] += xv * weight_block(wb + ci * CO, j, CO); }
        }
      }
    }
  }
  if (i >= total) { return; }
  let yb = ov * CO;
  for (var j = 0u; j < CO4; j++) {
    for (var l = 0u; l < 4u; l++) {
      if (4u * j + l < CO) { y[yb + 4u * j + l] = acc[j][l]; }
    }
  }
}
