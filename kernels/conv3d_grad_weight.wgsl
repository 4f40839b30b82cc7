// conv3d_grad_weight.wgsl — dL/dw of conv3d.wgsl: dw[k, ci, co] = Σ_b Σ_o x[b, i(o, k), ci] ·
// dy[b, o, co], split over chunks of the B·OX·OY·OZ output voxels (a weight gradient sums over
// the whole batch volume): partial[s, k, ci, co] covers voxels [s·per_chunk, (s+1)·per_chunk),
// and the host sums the chunks with the deterministic reduce kernel.
// (Preceded by conv3d_geometry.wgsl: Params at binding 0 and the index helpers.)
//
// Bindings (group 0):
//   1 x        storage read  array<f32>  (B, IX, IY, IZ, CI), a window from element window.z
//   2 dy       storage read  array<f32>  (B, OX, OY, OZ, CO), a window from element window.w
//   3 partial  storage rw    array<f32>  (chunks, KX, KY, KZ, CI, CO)
// Params.extra: chunks, voxels per chunk. Fixed at shader creation: CO4 = ceil(CO / 4), and the
// block of weights one invocation owns, TB consecutive taps × CIB consecutive input channels
// (TB · CIB · CO4 vec4 accumulators, kept within a register budget by the host).
// Workgroup: 64 threads. Dispatch: ceil(chunks · ceil(taps / TB) · ceil(CI / CIB) / 64) workgroups
// (folded by the host); invocation order: channel block fastest, then tap block, then chunk.
// For each voxel of its chunk an invocation reads the CO values of dy once and TB · CIB input
// values, and does TB · CIB · CO4 vec4 multiply-adds. Padding taps are weighted by 0, not
// skipped, so the invocations of a workgroup walk the same voxels in step.

const CO4: u32 = 2u;
const TB: u32 = 1u;
const CIB: u32 = 8u;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let CI = params.in_shape.w;
  let CO = params.out_shape.w;
  let I = vec3<i32>(params.in_shape.xyz);
  let taps = params.ksize.x * params.ksize.y * params.ksize.z;
  let ci_blocks = (CI + CIB - 1u) / CIB;
  let tap_blocks = (taps + TB - 1u) / TB;
  let chunks = params.extra.x;
  let per_chunk = params.extra.y;
  let i = linear_index(wid, nwg, lid);
  let count = chunks * tap_blocks * ci_blocks;
  let ii = min(i, count - 1u);
  let ci0 = (ii % ci_blocks) * CIB;
  let t0 = ((ii / ci_blocks) % tap_blocks) * TB;
  let s = ii / (ci_blocks * tap_blocks);
  // Each tap's offset from the strided output position (taps past the end repeat the last one
  // and are never written).
  var koff: array<vec3<i32>, TB>;
  for (var t = 0u; t < TB; t++) {
    let tap = min(t0 + t, taps - 1u);
    let k = vec3<u32>(tap / (params.ksize.y * params.ksize.z), (tap / params.ksize.z) % params.ksize.y, tap % params.ksize.z);
    koff[t] = vec3<i32>(k * params.dilation.xyz) - vec3<i32>(params.pad.xyz);
  }
  let total = params.ksize.w * params.out_shape.x * params.out_shape.y * params.out_shape.z;
  let v_end = min(total, (s + 1u) * per_chunk);
  var acc: array<vec4<f32>, TB * CIB * CO4>;
  for (var v = s * per_chunk; v < v_end; v++) {
    let db = v * CO - params.window.w;
    var g: array<vec4<f32>, CO4>;
    for (var c = 0u; c < CO4; c++) {
      for (var l = 0u; l < 4u; l++) {
        if (4u * c + l < CO) { g[c][l] = dy[db + 4u * c + l]; }
      }
    }
    let o = voxel_coords(v, params.out_shape.xyz);
    let base = vec3<i32>(o.yzw * params.stride.xyz);
    for (var t = 0u; t < TB; t++) {
      let p = base + koff[t];
      // Taps in the padding read 0 (selected: a product with 0 would turn an infinity into NaN).
      let keep = all(p >= vec3<i32>(0)) && all(p < I);
      let q = vec3<u32>(clamp(p, vec3<i32>(0), I - vec3<i32>(1)));
      let xb = voxel_index(o.x, q, params.in_shape.xyz) * CI - params.window.z;
      for (var cb = 0u; cb < CIB; cb++) {
        let xv = select(0.0, x[xb + min(ci0 + cb, CI - 1u)], keep);
        for (var c = 0u; c < CO4; c++) { acc[(t * CIB + cb) * CO4 + c] += xv * g[c]; }
      }
    }
  }
  if (i >= last_invocation(count)) { return; }
  for (var t = 0u; t < TB; t++) {
    if (t0 + t >= taps) { break; }
    for (var cb = 0u; cb < CIB; cb++) {
      if (ci0 + cb >= CI) { break; }
      let pb = ((s * taps + t0 + t) * CI + ci0 + cb) * CO;
      for (var c = 0u; c < CO4; c++) {
        for (var l = 0u; l < 4u; l++) {
          if (4u * c + l < CO) { partial[pb + 4u * c + l] = acc[(t * CIB + cb) * CO4 + c][l]; }
        }
      }
    }
  }
}
