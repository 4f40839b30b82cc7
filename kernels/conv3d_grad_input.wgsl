// conv3d_grad_input.wgsl — dL/dx of conv3d.wgsl: dx[b, i, ci] = Σ over (k, o) with i = i(o, k) of
// Σ_co dy[b, o, co] · w[k, ci, co]. A gather (each invocation sums what reaches its input
// values), so there are no atomics and the result is deterministic.
// (Preceded by conv3d_geometry.wgsl: Params at binding 0 and the index helpers.)
//
// Bindings (group 0):
//   1 dy  storage read  array<f32>        (B, OX, OY, OZ, CO), a window from element window.w
//   2 wt  uniform       array<vec4<f32>, WU4>  (KX, KY, KZ, COC, CI4): the kernel's output channels
//                                          [extra.x, extra.x + COC) (COC = extra.y), its two channel
//                                          axes swapped and the input channels padded with zeros
//                                          to whole blocks of CB4 vec4s, then zeros to WU4 vec4s
//                                          (the host prepares it)
//   3 dx  storage rw    array<f32>        (B, IX, IY, IZ, CI), a window from element window.z
// Fixed at shader creation (a variant the tuner chooses): VZ input voxels per invocation
// (consecutive along z) and CB4 vec4 blocks of input channels per invocation.
// Output-channel chunks: as in conv3d.wgsl, the weights come through the uniform path (WU4 vec4s,
// at most the device's maxUniformBufferBindingSize), so a larger kernel is split over the output
// channels it sums: one dispatch per chunk, each after the first (extra.z = 1) adding its partial
// sums to dx's.
// Workgroup: 64 threads. Dispatch: ceil(B·IX·IY·ceil(IZ / VZ) / 64) · CBLOCKS workgroups (folded by
// the host; CBLOCKS = ceil(CI / (4·CB4))): workgroup g computes channel block g mod CBLOCKS of the
// 64 voxel blocks g / CBLOCKS; a windowed dispatch covers workgroups [window.x, window.y). For each tap the
// output position o = (i + pad − k·dilation) / stride must be a whole number inside the output;
// taps where it is not are read at a clamped position and weighted by 0, so control flow stays
// uniform and the invocations of a workgroup read the same weights together.

const VZ: u32 = 4u;
const CB4: u32 = 2u;
const WU4: u32 = 4096u;

@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<uniform> wt: array<vec4<f32>, WU4>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let CI = params.in_shape.w;
  let CO = params.out_shape.w;
  // This dispatch's chunk of output channels.
  let co0 = params.extra.x;
  let COC = params.extra.y;
  // The input channels come in blocks of CB4 vec4s (the host pads wt to whole blocks).
  let CBLOCKS = (CI + 4u * CB4 - 1u) / (4u * CB4);
  let CI4 = CBLOCKS * CB4;
  let O = vec3<i32>(params.out_shape.xyz);
  let s = vec3<i32>(params.stride.xyz);
  // Workgroup g: channel block g mod CBLOCKS of the 64 voxel blocks g / CBLOCKS.
  let g = params.window.x + wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y;
  let cb = g % CBLOCKS;
  let i = (g / CBLOCKS) * 64u + lid;
  let B = params.ksize.w;
  let rows = vec3<u32>(params.in_shape.xy, (params.in_shape.z + VZ - 1u) / VZ);
  let total = B * rows.x * rows.y * rows.z;
  let p = voxel_coords(min(i, total - 1u), rows);
  let z0 = p.w * VZ;
  var acc: array<vec4<f32>, CB4 * VZ>;
  for (var kx = 0u; kx < params.ksize.x; kx++) {
    for (var ky = 0u; ky < params.ksize.y; ky++) {
      let txy = vec2<i32>(p.yz + params.pad.xy) - vec2<i32>(vec2<u32>(kx, ky) * params.dilation.xy);
      let oxy = txy / s.xy;
      let row_hit = all(txy >= vec2<i32>(0)) && all(txy % s.xy == vec2<i32>(0)) && all(oxy < O.xy);
      let qxy = vec2<u32>(clamp(oxy, vec2<i32>(0), O.xy - vec2<i32>(1)));
      let row = ((p.x * params.out_shape.x + qxy.x) * params.out_shape.y + qxy.y) * params.out_shape.z;
      for (var kz = 0u; kz < params.ksize.z; kz++) {
        var db: array<u32, VZ>;
        // Gradients of outputs that do not exist are 0: selected, not multiplied by 0 (which
        // would turn an infinity read there into NaN).
        var keep: array<bool, VZ>;
        for (var j = 0u; j < VZ; j++) {
          let tz = i32(z0 + j + params.pad.z) - i32(kz * params.dilation.z);
          let oz = tz / s.z;
          keep[j] = row_hit && tz >= 0 && tz % s.z == 0 && oz < O.z;
          db[j] = (row + u32(clamp(oz, 0, O.z - 1))) * CO + co0 - params.window.w;
        }
        let wb = ((kx * params.ksize.y + ky) * params.ksize.z + kz) * COC * CI4 + cb * CB4;
        for (var co = 0u; co < COC; co++) {
          var wv: array<vec4<f32>, CB4>;
          for (var c = 0u; c < CB4; c++) { wv[c] = wt[wb + co * CI4 + c]; }
          for (var j = 0u; j < VZ; j++) {
            let gv = select(0.0, dy[db[j] + co], keep[j]);
            for (var c = 0u; c < CB4; c++) { acc[j * CB4 + c] += gv * wv[c]; }
          }
        }
      }
    }
  }
  if (i >= total || g >= params.window.y) { return; }
  for (var j = 0u; j < VZ; j++) {
    let z = z0 + j;
    if (z >= params.in_shape.z) { break; }
    let xb = voxel_index(p.x, vec3<u32>(p.yz, z), params.in_shape.xyz) * CI - params.window.z;
    for (var c = 0u; c < CB4; c++) {
      for (var l = 0u; l < 4u; l++) {
        let ch = 4u * (cb * CB4 + c) + l;
        if (ch < CI) {
          var r = acc[j * CB4 + c][l];
          if (params.extra.z == 1u) { r += dx[xb + ch]; }
          dx[xb + ch] = r;
        }
      }
    }
  }
}
