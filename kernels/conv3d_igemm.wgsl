// conv3d_igemm.wgsl — 3D convolution forward as a tiled implicit GEMM:
//   Y[m, n] = act(Σ_k A[m, k] · W[k, n] + bias[n]),
// m an output voxel (b, o) of the B·OX·OY·OZ, n an output channel, k = (tap, ci) of the
// KX·KY·KZ·CI, and A[m, k] = x[b, o·stride + tap·dilation − pad, ci] (0 in the padding), gathered
// on the fly: no im2col matrix is ever made.
// (Preceded by conv3d_geometry.wgsl: Params at binding 0 and the index helpers.)
//
// Bindings (group 0):
//   1 x     storage read  array<f32>        (B, IX, IY, IZ, CI), a window from element window.z
//   2 w     storage read  array<vec4<f32>>  (K, CO4): the kernel, output channels padded to CO4
//                                            blocks of 4 (the host pads)
//   3 y     storage rw    array<f32>        (B, OX, OY, OZ, CO), a window from element window.w
//   4 bias  storage read  array<vec4<f32>>  (CO4), read when HAS_BIAS is 1 (else any vec4 buffer)
// Override constants: HAS_BIAS (0 / 1), ACT (0 linear, 1 relu).
// Tile constants (fixed at shader creation, chosen per adapter by the tuner): TM output voxels ×
// TN output channels per workgroup, TK reduction steps staged per round, RM voxels × RN channels
// per invocation; the workgroup has (TM / RM) · (TN / RN) invocations.
// Dispatch: ceil(M / TM) · ceil(CO4·4 / TN) workgroups (folded by the host), channel tiles fastest;
// window.x / window.y are the first and end *tile* of a windowed dispatch.
// Each round stages a TK × TM slice of A (each invocation gathers TK·TM / WG values: one k, fixed
// per round, over voxels whose input positions it computed once per tile) and a TK × TN slice of W
// in workgroup memory, then every invocation accumulates its RM × RN block in registers: RM·RN/4
// vec4 multiply-adds per RM + RN/4 loads, no index arithmetic in that loop.

const TM: u32 = 64u;
const TN: u32 = 16u;
const TK: u32 = 16u;
const RM: u32 = 4u;
const RN: u32 = 4u;
const WG: u32 = (TM / RM) * (TN / RN);
const RN4: u32 = RN / 4u;
// Values of A each invocation stages per round.
const LA: u32 = (TK * TM) / WG;

override HAS_BIAS: u32 = 0u;
override ACT: u32 = 0u;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<vec4<f32>>;

var<workgroup> a_tile: array<f32, TK * TM>;
var<workgroup> w_tile: array<vec4<f32>, TK * TN / 4u>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let CI = params.in_shape.w;
  let CO = params.out_shape.w;
  let CO4 = (CO + 3u) / 4u;
  let K = params.ksize.x * params.ksize.y * params.ksize.z * CI;
  let M = params.ksize.w * params.out_shape.x * params.out_shape.y * params.out_shape.z;
  let n_tiles = (CO4 * 4u + TN - 1u) / TN;
  let tile = params.window.x + wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y;
  let m0 = (tile / n_tiles) * TM;
  let n0 = (tile % n_tiles) * TN;
  let I = vec3<i32>(params.in_shape.xyz);

  // The voxels this invocation stages: rows lid / TK + i · (WG / TK) of the tile, one k (lid % TK).
  let kk = lid % TK;
  var corner: array<vec3<i32>, LA>;   // input position of tap 0 for each staged voxel
  var row: array<u32, LA>;            // its flat input voxel at that position (when inside)
  var live: array<bool, LA>;
  for (var i = 0u; i < LA; i++) {
    let m = m0 + lid / TK + i * (WG / TK);
    live[i] = m < M;
    let o = voxel_coords(min(m, M - 1u), params.out_shape.xyz);
    corner[i] = vec3<i32>(o.yzw * params.stride.xyz) - vec3<i32>(params.pad.xyz);
    row[i] = o.x;
  }

  var acc: array<vec4<f32>, RM * RN4>;
  let tm = lid / (TN / RN);
  let tn = lid % (TN / RN);
  for (var k0 = 0u; k0 < K; k0 += TK) {
    // Stage A: this invocation's k is (tap, ci), decomposed once per round.
    let k = k0 + kk;
    let tap = k / CI;
    let ci = k % CI;
    let kz = tap % params.ksize.z;
    let ky = (tap / params.ksize.z) % params.ksize.y;
    let kx = tap / (params.ksize.z * params.ksize.y);
    let off = vec3<i32>(vec3<u32>(kx, ky, kz) * params.dilation.xyz);
    for (var i = 0u; i < LA; i++) {
      let p = corner[i] + off;
      var v = 0.0;
      if (k < K && live[i] && all(p >= vec3<i32>(0)) && all(p < I)) {
        v = x[voxel_index(row[i], vec3<u32>(p), params.in_shape.xyz) * CI + ci - params.window.z];
      }
      a_tile[kk * TM + lid / TK + i * (WG / TK)] = v;
    }
    // Stage W: TK rows of TN / 4 vec4s (rows past K are 0).
    for (var e = lid; e < TK * TN / 4u; e += WG) {
      let r = e / (TN / 4u);
      let c = n0 / 4u + e % (TN / 4u);
      var v = vec4<f32>(0.0);
      if (k0 + r < K && c < CO4) { v = w[(k0 + r) * CO4 + c]; }
      w_tile[e] = v;
    }
    workgroupBarrier();
    for (var t = 0u; t < TK; t++) {
      var b: array<vec4<f32>, RN4>;
      for (var j = 0u; j < RN4; j++) { b[j] = w_tile[t * (TN / 4u) + tn * RN4 + j]; }
      for (var i = 0u; i < RM; i++) {
        let a = a_tile[t * TM + tm * RM + i];
        for (var j = 0u; j < RN4; j++) { acc[i * RN4 + j] += a * b[j]; }
      }
    }
    workgroupBarrier();
  }

  if (tile >= params.window.y) { return; }
  for (var i = 0u; i < RM; i++) {
    let m = m0 + tm * RM + i;
    if (m >= M) { break; }
    for (var j = 0u; j < RN4; j++) {
      let c4 = n0 / 4u + tn * RN4 + j;
      if (c4 >= CO4) { break; }
      var v = acc[i * RN4 + j];
      if (HAS_BIAS == 1u) { v += bias[c4]; }
      if (ACT == 1u) { v = select(v, vec4<f32>(0.0), v < vec4<f32>(0.0)); }
      for (var l = 0u; l < 4u; l++) {
        if (4u * c4 + l < CO) { y[m * CO + 4u * c4 + l - params.window.w] = v[l]; }
      }
    }
  }
}
