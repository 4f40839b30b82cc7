// conv3d_grad_input.wgsl — dL/dx of conv3d.wgsl: dx[b, i, ci] = Σ over (k, o) with i = i(o, k) of
// Σ_co dy[b, o, co] · w[k, ci, co]. A gather (each invocation sums what reaches its input
// values), so there are no atomics and the result is deterministic.
// (Preceded by conv3d_geometry.wgsl: Params at binding 0 and the index helpers.)
//
// Bindings (group 0):
//   1 dy  storage read  array<f32>  (B, OX, OY, OZ, CO)
//   2 w   storage read  array<f32>  (KX, KY, KZ, CI, CO)
//   3 dx  storage rw    array<f32>  (B, IX, IY, IZ, CI)
// Workgroup: 64 threads. Dispatch: ceil(B·IX·IY·IZ·ceil(CI/4) / 64) workgroups (folded by the
// host). Invocation i computes input channels 4·c4..4·c4+3 of one input voxel; for each tap the
// output position o = (i + pad − k·dilation) / stride must be a whole number inside the output.

@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let CI = params.in_shape.w;
  let CO = params.out_shape.w;
  let C4 = (CI + 3u) / 4u;
  let i = linear_index(wid, nwg, lid);
  let B = params.ksize.w;
  if (i >= B * params.in_shape.x * params.in_shape.y * params.in_shape.z * C4) { return; }
  let c0 = (i % C4) * 4u;
  let iv = i / C4;
  let p = voxel_coords(iv, params.in_shape.xyz);
  let lanes = min(4u, CI - c0);
  var acc = vec4<f32>(0.0);
  for (var kx = 0u; kx < params.ksize.x; kx++) {
    for (var ky = 0u; ky < params.ksize.y; ky++) {
      for (var kz = 0u; kz < params.ksize.z; kz++) {
        let k = vec3<u32>(kx, ky, kz);
        let t = vec3<i32>(p.yzw + params.pad.xyz) - vec3<i32>(k * params.dilation.xyz);
        let s = vec3<i32>(params.stride.xyz);
        if (any(t < vec3<i32>(0)) || any(t % s != vec3<i32>(0))) { continue; }
        let o = vec3<u32>(t / s);
        if (any(o >= params.out_shape.xyz)) { continue; }
        let db = voxel_index(p.x, o, params.out_shape.xyz) * CO;
        let wb = ((kx * params.ksize.y + ky) * params.ksize.z + kz) * CI * CO + c0 * CO;
        for (var co = 0u; co < CO; co++) {
          let g = dy[db + co];
          var wv = vec4<f32>(0.0);
          for (var l = 0u; l < lanes; l++) { wv[l] = w[wb + l * CO + co]; }
          acc += g * wv;
        }
      }
    }
  }
  let xb = iv * CI + c0;
  for (var l = 0u; l < lanes; l++) { dx[xb + l] = acc[l]; }
}
