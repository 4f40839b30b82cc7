// conv3d_grad_input.wgsl — dL/dx of conv3d.wgsl: dx[b, i, ci] = Σ over (k, o) with i = i(o, k) of
// Σ_co dy[b, o, co] · w[k, ci, co]. A gather (each invocation sums what reaches its input
// values), so there are no atomics and the result is deterministic.
// (Preceded by conv3d_geometry.wgsl: Params at binding 0 and the index helpers.)
//
// Bindings (group 0):
//   1 dy  storage read  array<f32>        (B, OX, OY, OZ, CO), a window from element window.w
//   2 wt  storage read  array<vec4<f32>>  (KX, KY, KZ, CO, CI4): the kernel with its two channel
//                                          axes swapped and the input channels padded with zeros
//                                          to CI4 blocks of 4 (the host prepares it)
//   3 dx  storage rw    array<f32>        (B, IX, IY, IZ, CI), a window from element window.z
// CI4 = ceil(CI / 4) and VZ (input voxels per invocation, consecutive along z) are fixed at shader
// creation; the host keeps CI4 · VZ accumulators within a register budget.
// Workgroup: 64 threads. Dispatch: ceil(B·IX·IY·ceil(IZ / VZ) / 64) workgroups (folded by the host).
// Invocation i computes every input channel of VZ input voxels of one z row. For each tap the
// output position o = (i + pad − k·dilation) / stride must be a whole number inside the output;
// taps where it is not are read at a clamped position and weighted by 0, so control flow stays
// uniform and the invocations of a workgroup read the same weights together.

const CI4: u32 = 2u;
const VZ: u32 = 4u;

@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> wt: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let CI = params.in_shape.w;
  let CO = params.out_shape.w;
  let O = vec3<i32>(params.out_shape.xyz);
  let s = vec3<i32>(params.stride.xyz);
  let i = linear_index(wid, nwg, lid);
  let B = params.ksize.w;
  let rows = vec3<u32>(params.in_shape.xy, (params.in_shape.z + VZ - 1u) / VZ);
  let total = B * rows.x * rows.y * rows.z;
  let p = voxel_coords(min(i, total - 1u), rows);
  let z0 = p.w * VZ;
  var acc: array<vec4<f32>, CI4 * VZ>;
  for (var kx = 0u; kx < params.ksize.x; kx++) {
    for (var ky = 0u; ky < params.ksize.y; ky++) {
      let txy = vec2<i32>(p.yz + params.pad.xy) - vec2<i32>(vec2<u32>(kx, ky) * params.dilation.xy);
      let oxy = txy / s.xy;
      let row_hit = all(txy >= vec2<i32>(0)) && all(txy % s.xy == vec2<i32>(0)) && all(oxy < O.xy);
      let qxy = vec2<u32>(clamp(oxy, vec2<i32>(0), O.xy - vec2<i32>(1)));
      let row = ((p.x * params.out_shape.x + qxy.x) * params.out_shape.y + qxy.y) * params.out_shape.z;
      for (var kz = 0u; kz < params.ksize.z; kz++) {
        var db: array<u32, VZ>;
        var keep: array<f32, VZ>;
        for (var j = 0u; j < VZ; j++) {
          let tz = i32(z0 + j + params.pad.z) - i32(kz * params.dilation.z);
          let oz = tz / s.z;
          keep[j] = select(0.0, 1.0, row_hit && tz >= 0 && tz % s.z == 0 && oz < O.z);
          db[j] = (row + u32(clamp(oz, 0, O.z - 1))) * CO - params.window.w;
        }
        let wb = ((kx * params.ksize.y + ky) * params.ksize.z + kz) * CO * CI4;
        for (var co = 0u; co < CO; co++) {
          var wv: array<vec4<f32>, CI4>;
          for (var c = 0u; c < CI4; c++) { wv[c] = wt[wb + co * CI4 + c]; }
          for (var j = 0u; j < VZ; j++) {
            let g = dy[db[j] + co] * keep[j];
            for (var c = 0u; c < CI4; c++) { acc[j * CI4 + c] += g * wv[c]; }
          }
        }
      }
    }
  }
  if (i >= last_invocation(total)) { return; }
  for (var j = 0u; j < VZ; j++) {
    let z = z0 + j;
    if (z >= params.in_shape.z) { break; }
    let xb = voxel_index(p.x, vec3<u32>(p.yz, z), params.in_shape.xyz) * CI - params.window.z;
    for (var c = 0u; c < CI4; c++) {
      for (var l = 0u; l < 4u; l++) {
        if (4u * c + l < CI) { dx[xb + 4u * c + l] = acc[j * CI4 + c][l]; }
      }
    }
  }
}
