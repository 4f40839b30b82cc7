// conv3d_igemm.wgsl — conv3d's forward pass (MODE 0) and input gradient (MODE 1) as a tiled
// implicit GEMM, C[m, n] = Σ_k A[m, k] · W[k, n]:
//   MODE 0  m an output voxel, n an output channel, k = (tap, ci):
//           A[m, k] = x[b, o·stride + tap·dilation − pad, ci] (0 in the padding);
//           C = y = act(· + bias)
//   MODE 1  m an input voxel, n an input channel, k = (tap, co):
//           A[m, k] = dy[b, (i + pad − tap·dilation) / stride, co] where that is a whole output
//           position (else 0); C = dx
// A is gathered on the fly: no im2col matrix is ever made.
// (Preceded by conv3d_geometry.wgsl: Params at binding 0 and the index helpers.)
//
// Bindings (group 0):
//   1 a     storage read  array<f32>        MODE 0: x (B, IX, IY, IZ, CI) from element window.z;
//                                            MODE 1: dy (B, OX, OY, OZ, CO) from element window.w
//   2 w     storage read  array<vec4<f32>>  (K, N4): MODE 0 the kernel (KX, KY, KZ, CI, CO);
//                                            MODE 1 its channel axes swapped (KX, KY, KZ, CO, CI);
//                                            the n axis padded to N4 blocks of 4 (the host pads)
//   3 c     storage rw    array<f32>        MODE 0: y from element window.w; MODE 1: dx from
//                                            element window.z
//   4 bias  storage read  array<vec4<f32>>  (N4), read when HAS_BIAS is 1 (else any vec4 buffer)
// Override constants: MODE, HAS_BIAS (0 / 1), ACT (0 linear, 1 relu).
// Tile constants (fixed at shader creation, chosen per adapter by the tuner): TM rows × TN columns
// of C per workgroup, TK reduction steps staged per round, RM rows × RN columns per invocation;
// the workgroup has WG = (TM / RM) · (TN / RN) invocations (TK divides WG, WG divides TK · TM).
// Dispatch: ceil(M / TM) · ceil(N4·4 / TN) workgroups (folded by the host), column tiles fastest;
// window.x and window.y are the first and end tile of a windowed dispatch.
// Each round stages a TK × TM slice of A in workgroup memory (each invocation gathers TK·TM / WG
// values for one k, fixed per round, over rows whose positions it computed once per tile) and a
// TK × TN slice of W, then every invocation accumulates its RM × RN block in registers: RM·RN/4
// vec4 multiply-adds per RM + RN/4 workgroup-memory loads, with no index arithmetic in that loop.

const TM: u32 = 64u;
const TN: u32 = 16u;
const TK: u32 = 16u;
const RM: u32 = 4u;
const RN: u32 = 4u;
const WG: u32 = (TM / RM) * (TN / RN);
const RN4: u32 = RN / 4u;
// Values of A each invocation stages per round.
const LA: u32 = (TK * TM) / WG;

override MODE: u32 = 0u;
override HAS_BIAS: u32 = 0u;
override ACT: u32 = 0u;

@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<vec4<f32>>;

var<workgroup> a_tile: array<f32, TK * TM>;
var<workgroup> w_tile: array<vec4<f32>, TK * TN / 4u>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  // The roles of the two volumes: rows of C live in `row_shape`, A is read in `src_shape`.
  let forward = MODE == 0u;
  let row_shape = select(params.in_shape, params.out_shape, forward);
  let src_shape = select(params.out_shape, params.in_shape, forward);
  let a_base = select(params.window.w, params.window.z, forward);
  let c_base = select(params.window.z, params.window.w, forward);
  let CK = src_shape.w;                     // channels of A (the k axis holds taps × CK)
  let N = row_shape.w;                      // channels of C
  let N4 = (N + 3u) / 4u;
  let K = params.ksize.x * params.ksize.y * params.ksize.z * CK;
  let M = params.ksize.w * row_shape.x * row_shape.y * row_shape.z;
  let n_tiles = (N4 * 4u + TN - 1u) / TN;
  let tile = params.window.x + wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y;
  let m0 = (tile / n_tiles) * TM;
  let n0 = (tile % n_tiles) * TN;
  let S = vec3<i32>(src_shape.xyz);
  let stride = vec3<i32>(params.stride.xyz);

  // The rows this invocation stages: lid / TK + i · (WG / TK) of the tile, for one k (lid % TK).
  let kk = lid % TK;
  var corner: array<vec3<i32>, LA>;   // MODE 0: input position of tap 0; MODE 1: i + pad
  var sample: array<u32, LA>;
  var live: array<bool, LA>;
  for (var i = 0u; i < LA; i++) {
    let m = m0 + lid / TK + i * (WG / TK);
    live[i] = m < M;
    let r = voxel_coords(min(m, M - 1u), row_shape.xyz);
    corner[i] = select(vec3<i32>(r.yzw + params.pad.xyz), vec3<i32>(r.yzw * params.stride.xyz) - vec3<i32>(params.pad.xyz), forward);
    sample[i] = r.x;
  }

  var acc: array<vec4<f32>, RM * RN4>;
  let tm = lid / (TN / RN);
  let tn = lid % (TN / RN);
  for (var k0 = 0u; k0 < K; k0 += TK) {
    // Stage A: this invocation's k is (tap, channel), decomposed once per round.
    let k = k0 + kk;
    let tap = k / CK;
    let ch = k % CK;
    let kz = tap % params.ksize.z;
    let ky = (tap / params.ksize.z) % params.ksize.y;
    let kx = tap / (params.ksize.z * params.ksize.y);
    let off = vec3<i32>(vec3<u32>(kx, ky, kz) * params.dilation.xyz);
    for (var i = 0u; i < LA; i++) {
      var p = corner[i] + off;
      var whole = true;
      if (!forward) {
        // The output position reading input i through this tap: (i + pad − tap·dilation) / stride.
        let t = corner[i] - off;
        whole = all(t >= vec3<i32>(0)) && all(t % stride == vec3<i32>(0));
        p = t / stride;
      }
      var v = 0.0;
      if (k < K && live[i] && whole && all(p >= vec3<i32>(0)) && all(p < S)) {
        v = a[voxel_index(sample[i], vec3<u32>(p), src_shape.xyz) * CK + ch - a_base];
      }
      a_tile[kk * TM + lid / TK + i * (WG / TK)] = v;
    }
    // Stage W: TK rows of TN / 4 vec4s (rows past K, columns past N4, are 0).
    for (var e = lid; e < TK * TN / 4u; e += WG) {
      let r = e / (TN / 4u);
      let col = n0 / 4u + e % (TN / 4u);
      var v = vec4<f32>(0.0);
      if (k0 + r < K && col < N4) { v = w[(k0 + r) * N4 + col]; }
      w_tile[e] = v;
    }
    workgroupBarrier();
    for (var t = 0u; t < TK; t++) {
      var b: array<vec4<f32>, RN4>;
      for (var j = 0u; j < RN4; j++) { b[j] = w_tile[t * (TN / 4u) + tn * RN4 + j]; }
      for (var i = 0u; i < RM; i++) {
        let av = a_tile[t * TM + tm * RM + i];
        for (var j = 0u; j < RN4; j++) { acc[i * RN4 + j] += av * b[j]; }
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
      if (c4 >= N4) { break; }
      var v = acc[i * RN4 + j];
      if (HAS_BIAS == 1u) { v += bias[c4]; }
      // relu that keeps NaN.
      if (ACT == 1u) { v = select(v, vec4<f32>(0.0), v < vec4<f32>(0.0)); }
      for (var l = 0u; l < 4u; l++) {
        if (4u * c4 + l < N) { c[m * N + 4u * c4 + l - c_base] = v[l]; }
      }
    }
  }
}
