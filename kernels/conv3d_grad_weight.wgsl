// conv3d_grad_weight.wgsl — dL/dw of conv3d.wgsl: dw[k, ci, co] = Σ_b Σ_o x[b, i(o, k), ci] ·
// dy[b, o, co], split over chunks of the B·OX·OY·OZ output voxels (a weight gradient sums over
// the whole batch volume): partial[s, k, ci, co] covers voxels [s·per_chunk, (s+1)·per_chunk),
// and the host sums the chunks with the deterministic reduce kernel.
// (Preceded by conv3d_geometry.wgsl: Params at binding 0 and the index helpers.)
//
// Bindings (group 0):
//   1 x        storage read  array<f32>  (B, IX, IY, IZ, CI)
//   2 dy       storage read  array<f32>  (B, OX, OY, OZ, CO)
//   3 partial  storage rw    array<f32>  (chunks, KX, KY, KZ, CI, CO)
// Params.extra: chunks, voxels per chunk. CO4 = ceil(CO / 4) is fixed at shader creation.
// Workgroup: 64 threads. Dispatch: ceil(chunks·KX·KY·KZ·CI / 64) workgroups (folded by the host).
// Invocation i computes every output channel of one (chunk, tap, ci). The invocations of a
// workgroup walk the same voxels in step (padding taps are weighted by 0, not skipped), so they
// read the same dy values together.

const CO4: u32 = 2u;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let CI = params.in_shape.w;
  let CO = params.out_shape.w;
  let taps = params.ksize.x * params.ksize.y * params.ksize.z;
  let chunks = params.extra.x;
  let per_chunk = params.extra.y;
  let i = linear_index(wid, nwg, lid);
  let count = chunks * taps * CI;
  let ii = min(i, count - 1u);
  let ci = ii % CI;
  let tap = (ii / CI) % taps;
  let s = ii / (CI * taps);
  let k = vec3<u32>(tap / (params.ksize.y * params.ksize.z), (tap / params.ksize.z) % params.ksize.y, tap % params.ksize.z);
  let total = params.ksize.w * params.out_shape.x * params.out_shape.y * params.out_shape.z;
  let v_end = min(total, (s + 1u) * per_chunk);
  var acc: array<vec4<f32>, CO4>;
  for (var v = s * per_chunk; v < v_end; v++) {
    let o = voxel_coords(v, params.out_shape.xyz);
    let p = input_position(o.yzw, k);
    let keep = select(0.0, 1.0, inside(p));
    let q = vec3<u32>(clamp(p, vec3<i32>(0), vec3<i32>(params.in_shape.xyz) - vec3<i32>(1)));
    let xv = x[voxel_index(o.x, q, params.in_shape.xyz) * CI + ci] * keep;
    let db = v * CO;
    for (var j = 0u; j < CO4; j++) {
      var g = vec4<f32>(0.0);
      for (var l = 0u; l < 4u; l++) {
        if (4u * j + l < CO) { g[l] = dy[db + 4u * j + l]; }
      }
      acc[j] += xv * g;
    }
  }
  if (i >= count) { return; }
  let pb = ((s * taps + tap) * CI + ci) * CO;
  for (var j = 0u; j < CO4; j++) {
    for (var l = 0u; l < 4u; l++) {
      if (4u * j + l < CO) { partial[pb + 4u * j + l] = acc[j][l]; }
    }
  }
}
