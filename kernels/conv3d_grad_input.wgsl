// conv3d_grad_input.wgsl — dL/dx of conv3d.wgsl: dx[b, i, ci] = Σ over (k, o) with i = i(o, k) of
// Σ_co dy[b, o, co] · w[k, ci, co]. A gather (each invocation sums what reaches its input
// values), so there are no atomics and the result is deterministic.
// (Preceded by conv3d_geometry.wgsl: Params at binding 0 and the index helpers.)
//
// Bindings (group 0):
//   1 dy  storage read  array<f32>  (B, OX, OY, OZ, CO)
//   2 w   storage read  array<f32>  (KX, KY, KZ, CI, CO)
//   3 dx  storage rw    array<f32>  (B, IX, IY, IZ, CI)
// CI4 = ceil(CI / 4) is fixed at shader creation.
// Workgroup: 64 threads. Dispatch: ceil(B·IX·IY·IZ / 64) workgroups (folded by the host).
// Invocation i computes every input channel of input voxel i. For each tap the output position
// o = (i + pad − k·dilation) / stride must be a whole number inside the output; taps where it is
// not are read at a clamped position and weighted by 0, so control flow stays uniform and the
// invocations of a workgroup read the same weights together.

const CI4: u32 = 2u;

@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let CI = params.in_shape.w;
  let CO = params.out_shape.w;
  let i = linear_index(wid, nwg, lid);
  let B = params.ksize.w;
  let total = B * params.in_shape.x * params.in_shape.y * params.in_shape.z;
  let iv = min(i, total - 1u);
  let p = voxel_coords(iv, params.in_shape.xyz);
  var acc: array<vec4<f32>, CI4>;
  let s = vec3<i32>(params.stride.xyz);
  for (var kx = 0u; kx < params.ksize.x; kx++) {
    for (var ky = 0u; ky < params.ksize.y; ky++) {
      for (var kz = 0u; kz < params.ksize.z; kz++) {
        let k = vec3<u32>(kx, ky, kz);
        let t = vec3<i32>(p.yzw + params.pad.xyz) - vec3<i32>(k * params.dilation.xyz);
        let oi = t / s;
        let hit = all(t >= vec3<i32>(0)) && all(t % s == vec3<i32>(0)) && all(oi < vec3<i32>(params.out_shape.xyz));
        let keep = select(0.0, 1.0, hit);
        let o = vec3<u32>(clamp(oi, vec3<i32>(0), vec3<i32>(params.out_shape.xyz) - vec3<i32>(1)));
        let db = voxel_index(p.x, o, params.out_shape.xyz) * CO;
        let wb = ((kx * params.ksize.y + ky) * params.ksize.z + kz) * CI * CO;
        for (var co = 0u; co < CO; co++) {
          let g = dy[db + co] * keep;
          for (var j = 0u; j < CI4; j++) {
            var wv = vec4<f32>(0.0);
            for (var l = 0u; l < 4u; l++) {
              if (4u * j + l < CI) { wv[l] = w[wb + (4u * j + l) * CO + co]; }
            }
            acc[j] += g * wv;
          }
        }
      }
    }
  }
  if (i >= total) { return; }
  let xb = iv * CI;
  for (var j = 0u; j < CI4; j++) {
    for (var l = 0u; l < 4u; l++) {
      if (4u * j + l < CI) { dx[xb + 4u * j + l] = acc[j][l]; }
    }
  }
}
