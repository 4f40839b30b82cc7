// conv3d.wgsl — 3D convolution, channels-last, forward: y[b, o, co] = Σ_k Σ_ci x[b, i(o, k), ci] · w[k, ci, co].
// (Preceded by conv3d_geometry.wgsl: Params at binding 0 and the index helpers.)
//
// Bindings (group 0):
//   1 x  storage read  array<f32>  (B, IX, IY, IZ, CI)
//   2 w  storage read  array<f32>  (KX, KY, KZ, CI, CO)
//   3 y  storage rw    array<f32>  (B, OX, OY, OZ, CO)
// Workgroup: 64 threads. Dispatch: ceil(B·OX·OY·OZ·ceil(CO/4) / 64) workgroups (folded into x, y,
// z by the host). Invocation i computes four output channels 4·c4..4·c4+3 (c4 = i mod ceil(CO/4))
// of one output voxel: each input value read is used for four products, and neighbouring
// invocations read the same input voxel and neighbouring weights.

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let CI = params.in_shape.w;
  let CO = params.out_shape.w;
  let C4 = (CO + 3u) / 4u;
  let i = linear_index(wid, nwg, lid);
  let B = params.ksize.w;
  if (i >= B * params.out_shape.x * params.out_shape.y * params.out_shape.z * C4) { return; }
  let c0 = (i % C4) * 4u;
  let ov = i / C4;
  let o = voxel_coords(ov, params.out_shape.xyz);
  let lanes = min(4u, CO - c0);
  var acc = vec4<f32>(0.0);
  for (var kx = 0u; kx < params.ksize.x; kx++) {
    for (var ky = 0u; ky < params.ksize.y; ky++) {
      for (var kz = 0u; kz < params.ksize.z; kz++) {
        let p = input_position(o.yzw, vec3<u32>(kx, ky, kz));
        if (!inside(p)) { continue; }
        let xb = voxel_index(o.x, vec3<u32>(p), params.in_shape.xyz) * CI;
        let wb = ((kx * params.ksize.y + ky) * params.ksize.z + kz) * CI * CO + c0;
        for (var ci = 0u; ci < CI; ci++) {
          let xv = x[xb + ci];
          let wr = wb + ci * CO;
          var wv = vec4<f32>(0.0);
          for (var l = 0u; l < lanes; l++) { wv[l] = w[wr + l]; }
          acc += xv * wv;
        }
      }
    }
  }
  let yb = ov * CO + c0;
  for (var l = 0u; l < lanes; l++) { y[yb + l] = acc[l]; }
}
