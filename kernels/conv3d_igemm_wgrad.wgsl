// conv3d_igemm_wgrad.wgsl — conv3d's weight gradient as a tiled implicit GEMM with the reduction
// over voxels split into chunks:
//   partial[s, k, n] = Σ over output voxels m of chunk s of A[m, k] · dy[m, n],
// k = (tap, ci) of the KX·KY·KZ·CI, n an output channel, A[m, k] = x[b, o·stride + tap·dilation −
// pad, ci] (0 in the padding), gathered on the fly. The host sums the partials over s with the
// deterministic reduce kernel.
// (Preceded by conv3d_geometry.wgsl: Params at binding 0 and the index helpers.)
//
// Bindings (group 0):
//   1 x        storage read  array<f32>  (B, IX, IY, IZ, CI), a window from element window.z
//   2 dy       storage read  array<f32>  (B, OX, OY, OZ, CO), a window from element window.w
//   3 partial  storage rw    array<f32>  (chunks, K, CO)
// Params.extra: chunks, voxels per chunk.
// Tile constants (fixed at shader creation, chosen per adapter by the tuner): TM rows of k × TN
// output channels per workgroup, TK voxels staged per round, RM × RN per invocation; the
// workgroup has WG = (TM / RM) · (TN / RN) invocations (TK divides WG, WG divides TK · TM).
// Dispatch: chunks · ceil(K / TM) · ceil(CO / TN) workgroups (folded by the host), ordered
// (chunk, k tile, channel tile) with channel tiles fastest; window.x / window.y are the first and
// end workgroup of a windowed dispatch.
// Each round stages TK voxels × TM ks of A (an invocation gathers TK·TM / WG values: one voxel,
// fixed per round, across rows whose tap offsets it computed once per tile) and TK × TN of dy,
// then every invocation accumulates its RM × RN block in registers.

const TM: u32 = 64u;
const TN: u32 = 16u;
const TK: u32 = 16u;
const RM: u32 = 4u;
const RN: u32 = 4u;
const WG: u32 = (TM / RM) * (TN / RN);
const RN4: u32 = RN / 4u;
const LA: u32 = (TK * TM) / WG;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;

var<workgroup> a_tile: array<f32, TK * TM>;
var<workgroup> g_tile: array<vec4<f32>, TK * TN / 4u>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let CI = params.in_shape.w;
  let CO = params.out_shape.w;
  let taps = params.ksize.x * params.ksize.y * params.ksize.z;
  let K = taps * CI;
  let voxels = params.ksize.w * params.out_shape.x * params.out_shape.y * params.out_shape.z;
  let per_chunk = params.extra.y;
  let k_tiles = (K + TM - 1u) / TM;
  let n_tiles = (CO + TN - 1u) / TN;
  let tile = params.window.x + wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y;
  let s = tile / (k_tiles * n_tiles);
  let k0 = ((tile / n_tiles) % k_tiles) * TM;
  let n0 = (tile % n_tiles) * TN;
  let I = vec3<i32>(params.in_shape.xyz);

  // The k rows this invocation stages: lid / TK + i · (WG / TK) of the tile, for one voxel of
  // each round (lid % TK); their tap offsets and channels, once per tile.
  let vv = lid % TK;
  var off: array<vec3<i32>, LA>;
  var ch: array<u32, LA>;
  var live: array<bool, LA>;
  for (var i = 0u; i < LA; i++) {
    let k = k0 + lid / TK + i * (WG / TK);
    live[i] = k < K;
    let kc = min(k, K - 1u);
    let tap = kc / CI;
    ch[i] = kc % CI;
    let kk = vec3<u32>(tap / (params.ksize.y * params.ksize.z), (tap / params.ksize.z) % params.ksize.y, tap % params.ksize.z);
    off[i] = vec3<i32>(kk * params.dilation.xyz) - vec3<i32>(params.pad.xyz);
  }

  var acc: array<vec4<f32>, RM * RN4>;
  let tm = lid / (TN / RN);
  let tn = lid % (TN / RN);
  let v_end = min(voxels, (s + 1u) * per_chunk);
  for (var v0 = s * per_chunk; v0 < v_end; v0 += TK) {
    // Stage A: one voxel per invocation and round, its coordinates computed once.
    let v = v0 + vv;
    let o = voxel_coords(min(v, voxels - 1u), params.out_shape.xyz);
    let base = vec3<i32>(o.yzw * params.stride.xyz);
    for (var i = 0u; i < LA; i++) {
      let p = base + off[i];
      var val = 0.0;
      if (v < v_end && live[i] && all(p >= vec3<i32>(0)) && all(p < I)) {
        val = x[voxel_index(o.x, vec3<u32>(p), params.in_shape.xyz) * CI + ch[i] - params.window.z];
      }
      a_tile[vv * TM + lid / TK + i * (WG / TK)] = val;
    }
    // Stage dy: TK voxels × TN channels (past the chunk or the channels: 0).
    for (var e = lid; e < TK * TN / 4u; e += WG) {
      let r = e / (TN / 4u);
      let n = n0 + 4u * (e % (TN / 4u));
      var g = vec4<f32>(0.0);
      if (v0 + r < v_end) {
        let at = (v0 + r) * CO - params.window.w;
        for (var l = 0u; l < 4u; l++) {
          if (n + l < CO) { g[l] = dy[at + n + l]; }
        }
      }
      g_tile[e] = g;
    }
    workgroupBarrier();
    for (var t = 0u; t < TK; t++) {
      var b: array<vec4<f32>, RN4>;
      for (var j = 0u; j < RN4; j++) { b[j] = g_tile[t * (TN / 4u) + tn * RN4 + j]; }
      for (var i = 0u; i < RM; i++) {
        let av = a_tile[t * TM + tm * RM + i];
        for (var j = 0u; j < RN4; j++) { acc[i * RN4 + j] += av * b[j]; }
      }
    }
    workgroupBarrier();
  }

  if (tile >= params.window.y) { return; }
  for (var i = 0u; i < RM; i++) {
    let k = k0 + tm * RM + i;
    if (k >= K) { break; }
    for (var j = 0u; j < RN4; j++) {
      for (var l = 0u; l < 4u; l++) {
        let n = n0 + 4u * (tn * RN4 + j) + l;
        if (n < CO) { partial[(s * K + k) * CO + n] = acc[i * RN4 + j][l]; }
      }
    }
  }
}
