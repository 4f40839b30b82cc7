// conv3d.wgsl — 3D convolution, channels-last, forward: y[b, o, co] = act(Σ_k Σ_ci x[b, i(o, k), ci] · w[k, ci, co] + bias[co]),
// with the bias and a relu fused in (HAS_BIAS, ACT), so a conv layer is one pass over its output.
// (Preceded by lanes.wgsl and conv3d_weights.wgsl, or by lanes_subgroup.wgsl and
// conv3d_weights_subgroup.wgsl: whether lanes share values, and how the weights of an input
// channel are read; then by conv3d_geometry.wgsl: Params at binding 0 and the index helpers.)
//
// Bindings (group 0):
//   1 x  storage read  array<f32>        (B, IX, IY, IZ, CI), a window from element window.z
//   2 w  uniform       array<vec4<f32>, WU4>  (KX, KY, KZ, CIC, CO4): the kernel's input channels
//                                         [extra.x, extra.x + CIC) (CIC = extra.y) and output
//                                         channel blocks [blocks.x, blocks.x + blocks.y) of CB4
//                                         vec4s each (CO4 = CB4 · blocks.y; the output channels
//                                         padded with zeros to whole blocks; the host slices and
//                                         pads), then zeros to WU4 vec4s
//   3 y  storage rw    array<f32>        (B, OX, OY, OZ, CO), a window from element window.w
//   4 bias storage read array<vec4<f32>>  (ceil(CO / (4·CB4)) · CB4): all the output channels,
//                                         padded with zeros to whole blocks, indexed by the
//                                         absolute block; read only when HAS_BIAS is 1 (else any
//                                         vec4 buffer is bound)
// Override constants: HAS_BIAS (0 / 1), ACT (0 linear, 1 relu), FLIP (1: the kernel's taps are
// read in reverse order on every axis, for the input gradient of a unit-stride convolution).
// Chunks: the weights come through the uniform path (WU4 vec4s, at most the device's
// maxUniformBufferBindingSize), where every invocation of a workgroup reads the same address, so
// a kernel whose weights are larger is split: over its output-channel blocks, each dispatch
// computing blocks [blocks.x, blocks.x + blocks.y) with every input channel, and only where one
// block's weights alone are too large also over its input channels, each dispatch of a block
// adding its partial sums to y's (extra.z = 1 after the first), the last one (extra.w = 1) adding
// the bias and applying the activation. (Input chunks alone made every chunk re-read and re-write
// y and cut the input channels per window set-up: 64³ 16 → 48 channels ran 17% slower than 16 → 32.)
// Fixed at shader creation (a variant the tuner chooses per adapter and shape class): VZ output
// voxels per invocation (consecutive along z) and CB4 vec4 blocks of output channels per
// invocation, so VZ · CB4 vec4 accumulators live in registers; and KZ, SZ, DZ, the kernel's z
// extent, stride and dilation, so the ZWIN input values along z that the invocation's voxels read
// are loaded once per (kx, ky, ci) and reused by all VZ · KZ products (ZWIN ≤ VZ · KZ loads).
// Workgroup: 64 threads. Dispatch: ceil(B·OX·OY·ceil(OZ / VZ) / 64) · CBLOCKS workgroups (folded by
// the host; CBLOCKS = blocks.y, the dispatch's channel blocks): workgroup g computes channel block
// blocks.x + g mod CBLOCKS of the 64 voxel blocks g / CBLOCKS; a windowed dispatch covers
// workgroups [window.x, window.y).
// Each weight block read is used for VZ voxels and each input value for 4·CB4 products. Taps
// outside the input are read at a clamped position and weighted by 0 instead of skipped, so
// control flow stays uniform and every invocation of a workgroup reads the same weights at the same
// time: what a uniform binding serves best (a GPU's constant cache; lavapipe, which loads storage
// elements lane by lane with a bounds check and a branch each, gathers uniform ones plainly).

const VZ: u32 = 4u;
const CB4: u32 = 2u;
// The z extent of the kernel, and the stride and dilation along z (this pipeline's geometry).
const KZ: u32 = 3u;
const SZ: u32 = 1u;
const DZ: u32 = 1u;
const WU4: u32 = 4096u;
// Input positions along z that VZ consecutive output voxels read through the KZ taps: each is
// loaded once per (kx, ky, ci) and used by every (voxel, tap) pair that reads it.
const ZWIN: u32 = (VZ - 1u) * SZ + (KZ - 1u) * DZ + 1u;
// With unit stride and dilation along z the last ZWIN − VZ positions of a block's window are the
// first positions of the next block's, which the next invocation loads: where lanes share values
// (subgroups) they are taken from its lane when it runs that block, and loaded otherwise. On
// lavapipe, which loads storage lane by lane, 8 loads and 2 shuffles instead of 10 loads make the
// forward pass and the input gradient 3-7% faster.
const HALO: bool = LANES_SHARE && SZ == 1u && DZ == 1u && ZWIN - VZ <= VZ;
override HAS_BIAS: u32 = 0u;
override ACT: u32 = 0u;
override FLIP: u32 = 0u;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<uniform> w: array<vec4<f32>, WU4>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<vec4<f32>>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32, lanes: Lanes) {
  lanes_begin(lanes);
  let CI = params.in_shape.w;
  let CO = params.out_shape.w;
  // This dispatch's chunk of input channels.
  let ci0 = params.extra.x;
  let CIC = params.extra.y;
  // This dispatch's blocks of CB4 vec4s of output channels (the host pads them to whole blocks).
  let cb0 = params.blocks.x;
  let CBLOCKS = params.blocks.y;
  let CO4 = CBLOCKS * CB4;
  let I = vec3<i32>(params.in_shape.xyz);
  // Workgroup g: channel block cb0 + g mod CBLOCKS of the 64 voxel blocks g / CBLOCKS (so every
  // invocation of a workgroup reads the same weights).
  let g = params.window.x + wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y;
  let cb = cb0 + g % CBLOCKS;
  let i = (g / CBLOCKS) * 64u + lid;
  let B = params.ksize.w;
  let rows = vec3<u32>(params.out_shape.xy, (params.out_shape.z + VZ - 1u) / VZ);
  let total = B * rows.x * rows.y * rows.z;
  // Invocations past the end compute a clamped block and write nothing (uniform control flow).
  let o = voxel_coords(min(i, total - 1u), rows);
  let z0 = i32(o.w * VZ * SZ) - i32(params.pad.z);
  // Whether the next lane runs the next block of this row (invocation i + 1).
  let halo_shared = HALO && next_lane_runs(i) && i + 1u < total && o.w + 1u < rows.z;
  var acc: array<vec4<f32>, CB4 * VZ>;
  for (var kx = 0u; kx < params.ksize.x; kx++) {
    for (var ky = 0u; ky < params.ksize.y; ky++) {
      let pxy = vec2<i32>(o.yz * params.stride.xy + vec2<u32>(kx, ky) * params.dilation.xy) - vec2<i32>(params.pad.xy);
      let row_in = all(pxy >= vec2<i32>(0)) && all(pxy < I.xy);
      let qxy = vec2<u32>(clamp(pxy, vec2<i32>(0), I.xy - vec2<i32>(1)));
      let row = ((o.x * params.in_shape.x + qxy.x) * params.in_shape.y + qxy.y) * params.in_shape.z;
      // The window's positions: outside the input they are read clamped and replaced by 0 (a
      // select, not a product with 0: an infinity read there would give NaN).
      var xb: array<u32, ZWIN>;
      var keep: array<bool, ZWIN>;
      for (var t = 0u; t < ZWIN; t++) {
        let pz = z0 + i32(t);
        keep[t] = row_in && pz >= 0 && pz < I.z;
        xb[t] = (row + u32(clamp(pz, 0, I.z - 1))) * CI + ci0 - params.window.z;
      }
      let tx = select(kx, params.ksize.x - 1u - kx, FLIP == 1u);
      let ty = select(ky, params.ksize.y - 1u - ky, FLIP == 1u);
      let wb = (tx * params.ksize.y + ty) * KZ * CIC * CO4 + (cb - cb0) * CB4;
      for (var ci = 0u; ci < CIC; ci++) {
        var xs: array<f32, ZWIN>;
        for (var t = 0u; t < ZWIN; t++) {
          if (HALO && t >= VZ) {
            // Position t is the next block's position t − VZ.
            let theirs = from_next_lane(xs[t - VZ]);
            if (halo_shared) { xs[t] = theirs; } else { xs[t] = select(0.0, x[xb[t] + ci], keep[t]); }
          } else {
            xs[t] = select(0.0, x[xb[t] + ci], keep[t]);
          }
        }
        let wv = channel_weights(wb, ci, CIC, CO4);
        // Each accumulator takes its KZ products in a row (the same additions in the same order
        // as taps outermost): the accumulators outnumber the registers, and on lavapipe one
        // visit per accumulator and input channel, weights outermost, runs 10-20% faster.
        for (var c = 0u; c < CB4; c++) {
          for (var j = 0u; j < VZ; j++) {
            var s = acc[j * CB4 + c];
            for (var kz = 0u; kz < KZ; kz++) { s += xs[j * SZ + kz * DZ] * wv[kz * CB4 + c]; }
            acc[j * CB4 + c] = s;
          }
        }
      }
    }
  }
  if (i >= total || g >= params.window.y) { return; }
  let partial = params.extra.z == 1u;
  let last = params.extra.w == 1u;
  var b: array<vec4<f32>, CB4>;
  if (HAS_BIAS == 1u && last) {
    for (var c = 0u; c < CB4; c++) { b[c] = bias[cb * CB4 + c]; }
  }
  for (var j = 0u; j < VZ; j++) {
    let z = o.w * VZ + j;
    if (z >= params.out_shape.z) { break; }
    let yb = voxel_index(o.x, vec3<u32>(o.yz, z), params.out_shape.xyz) * CO - params.window.w;
    for (var c = 0u; c < CB4; c++) {
      var v = acc[j * CB4 + c] + b[c];
      // relu that keeps NaN.
      let relu = ACT == 1u && last;
      for (var l = 0u; l < 4u; l++) {
        let ch = 4u * (cb * CB4 + c) + l;
        if (ch < CO) {
          var r = v[l];
          if (partial) { r += y[yb + ch]; }
          if (relu && r < 0.0) { r = 0.0; }
          y[yb + ch] = r;
        }
      }
    }
  }
}
