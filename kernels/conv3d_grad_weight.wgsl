// conv3d_grad_weight.wgsl — dL/dw of conv3d.wgsl: dw[k, ci, co] = Σ_b Σ_o x[b, i(o, k), ci] ·
// dy[b, o, co], split over chunks of the B·OX·OY output rows (a weight gradient sums over the
// whole batch volume): partial[s, k, ci, co] covers rows [s·per_chunk, (s+1)·per_chunk), and the
// host sums the chunks with the deterministic reduce kernel.
// (Preceded by lanes.wgsl, or by lanes_subgroup.wgsl where lanes share values, then by
// conv3d_geometry.wgsl: Params at binding 0 and the index helpers.)
//
// Bindings (group 0):
//   1 x        storage read  array<V>    (B, IX, IY, IZ, CI), a window from element window.z
//   2 dy       storage read  array<V>    (B, OX, OY, OZ, CO), a window from element window.w
//   3 partial  storage rw    array<f32>  (chunks, KX, KY, KZ, CI, CO)
// Params.extra: chunks, output rows per chunk.
// Fixed at shader creation (this pipeline's geometry and register block): KZ, SZ, DZ, the
// kernel's z extent, stride and dilation; CIB input channels and COB4 vec4s of output channels
// per invocation; V, the element type x and dy are read as, f32 or (where CI, CO and CIB are
// multiples of 4) vec4<f32>, and VW its width: on lavapipe a float read as part of a vec4 costs
// about two thirds of one read alone (bench/kernels/load_probe.wgsl), and the weight gradient
// reads 8 + 8 floats for each 192 multiply-adds. An invocation owns one tap row (kx, ky) with all KZ taps along it, so its
// KZ · CIB · COB4 vec4 accumulators take, for each output voxel, CIB input values per tap and
// 4 · COB4 values of dy: each dy value is used KZ · CIB times and each input value 4 · COB4 times
// per tap. Along z with SZ = DZ = 1 the KZ inputs of voxel oz + 1 are those of oz shifted by one,
// so a voxel costs one new input load per channel, not KZ; there VP (1 or 2) voxels are taken
// per visit of the accumulators. Rows and voxels are walked by counters:
// no index divisions per voxel.
// Workgroup: 64 threads. Dispatch: ceil(chunks · KX·KY · ceil(CI / CIB) · ceil(CO / 4·COB4) / 64)
// workgroups (folded by the host); invocation order: output-channel block fastest, then
// input-channel block, then tap row, then chunk, so a workgroup's invocations share rows of dy.
// Taps in the padding read 0: the value is read at a clamped position and replaced by 0 (a
// select, not a product of the value with 0: an infinity there would give NaN), so a padding tap
// adds 0 · dy, as an explicitly zero-padded input would. Every invocation walks per_chunk rows
// (those past the end of the last chunk add 0 · 0) and every row whole, so all invocations run
// the same loops and branches. Channels past CI or CO are computed from clamped reads and never
// written.
// Partners (where lanes share values, the host sets XD and DD): invocations i and i ^ XD (XD = 1,
// where the output-channel blocks come in pairs) differ only in their output-channel block, so
// they read the same input values; invocations i and i ^ DD (DD = the number of output-channel
// blocks, 1, 2 or 4) differ only in their input-channel block where they share a tap row and a
// chunk, so they read the same dy. Each of a pair loads one of the two vec4s and takes the other
// from its partner's lane (on lavapipe, which loads storage lane by lane, 4 vec4 loads a voxel
// become 2 and the 64³ layers run 20-30% faster; with one of the two shared, 3). The shuffles
// sit in uniform control flow (every invocation runs the same loops); an invocation without its
// partner in the right lane loads both vec4s itself.

const KZ: u32 = 3u;
const SZ: u32 = 1u;
const DZ: u32 = 1u;
const CIB: u32 = 4u;
const COB4: u32 = 2u;
alias V = f32;
const VW: u32 = 1u;
// Output voxels per visit of the accumulators (2 only where the taps slide along z).
const VP: u32 = 1u;
// Consecutive output voxels along z share KZ − 1 of their KZ input positions.
const SLIDE: bool = SZ == 1u && DZ == 1u;
const_assert VP == 1u || (SZ == 1u && DZ == 1u);
// Lane distances of the partners sharing input values and dy (0: none).
const XD: u32 = 0u;
const DD: u32 = 0u;
const X_PAIRS: bool = LANES_SHARE && XD > 0u && CIB == 2u * VW && VW == 4u;
const DY_PAIRS: bool = LANES_SHARE && DD > 0u && COB4 == 2u && VW == 4u;
// Which of the pair's two vec4s this invocation loads, and whether its partner loads the other.
var<private> x_half: u32;
var<private> x_shared: bool;
var<private> dy_half: u32;
var<private> dy_shared: bool;

@group(0) @binding(1) var<storage, read> x: array<V>;
@group(0) @binding(2) var<storage, read> dy: array<V>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;

// The CIB input channels from ci0 at position iz of the input row starting at flat index row
// (zeros outside the input along z and where the row is outside it, row_in false; channels past
// CI repeat the last load and are never written).
fn input_values(row: u32, row_in: bool, iz: i32, ci0: u32) -> array<f32, CIB> {
  let IZ = i32(params.in_shape.z);
  let CI = params.in_shape.w;
  let keep = row_in && iz >= 0 && iz < IZ;
  let b = (row + u32(clamp(iz, 0, IZ - 1))) * CI - params.window.z;
  var v: array<f32, CIB>;
  if (X_PAIRS) {
    let mine = select(vec4<f32>(0.0), vec4<f32>(x[(b + min(ci0 + VW * x_half, CI - VW)) / VW]), keep);
    var other = from_partner(mine, XD);
    if (!x_shared) {
      other = select(vec4<f32>(0.0), vec4<f32>(x[(b + min(ci0 + VW * (1u - x_half), CI - VW)) / VW]), keep);
    }
    for (var c = 0u; c < CIB; c++) { v[c] = select(other, mine, c / 4u == x_half)[c % 4u]; }
    return v;
  }
  for (var c = 0u; c < CIB; c += VW) {
    let e = select(vec4<f32>(0.0), vec4<f32>(x[(b + min(ci0 + c, CI - VW)) / VW]), keep);
    for (var l = 0u; l < VW; l++) { v[c + l] = e[l]; }
  }
  return v;
}

// The 4 · COB4 channels from co0 of dy at flat index d, zeros where the output row is past the
// chunk (live false; channels past CO as in input_values).
fn dy_values(d: u32, live: bool, co0: u32) -> array<vec4<f32>, COB4> {
  let CO = params.out_shape.w;
  var g: array<vec4<f32>, COB4>;
  if (DY_PAIRS) {
    let mine = select(vec4<f32>(0.0), vec4<f32>(dy[(d + min(co0 + 4u * dy_half, CO - VW)) / VW]), live);
    var other = from_partner(mine, DD);
    if (!dy_shared) {
      other = select(vec4<f32>(0.0), vec4<f32>(dy[(d + min(co0 + 4u * (1u - dy_half), CO - VW)) / VW]), live);
    }
    for (var c = 0u; c < COB4; c++) { g[c] = select(other, mine, c == dy_half); }
    return g;
  }
  for (var c = 0u; c < 4u * COB4; c += VW) {
    let e = select(vec4<f32>(0.0), vec4<f32>(dy[(d + min(co0 + c, CO - VW)) / VW]), live);
    for (var l = 0u; l < VW; l++) { g[(c + l) / 4u][(c + l) % 4u] = e[l]; }
  }
  return g;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32, lanes: Lanes) {
  lanes_begin(lanes);
  let CI = params.in_shape.w;
  let CO = params.out_shape.w;
  let OZ = params.out_shape.z;
  let I = vec2<i32>(params.in_shape.xy);
  let co_blocks = (CO + 4u * COB4 - 1u) / (4u * COB4);
  let ci_blocks = (CI + CIB - 1u) / CIB;
  let tap_rows = params.ksize.x * params.ksize.y;
  let chunks = params.extra.x;
  let per_chunk = params.extra.y;
  let i = linear_index(wid, nwg, lid);
  let count = chunks * tap_rows * ci_blocks * co_blocks;
  let ii = min(i, count - 1u);
  let co0 = (ii % co_blocks) * 4u * COB4;
  let ci0 = ((ii / co_blocks) % ci_blocks) * CIB;
  let tr = (ii / (co_blocks * ci_blocks)) % tap_rows;
  let s = ii / (co_blocks * ci_blocks * tap_rows);
  let k = vec2<u32>(tr / params.ksize.y, tr % params.ksize.y);
  // Partners (in uniform control flow): the same tap row and chunk (the key), in the right lane.
  let key = i / (co_blocks * ci_blocks);
  let x_partner = partner_runs(i, XD);
  let partner_key = from_partner_u32(key, DD);
  let dy_partner = partner_runs(i, DD) && partner_key == key;
  x_half = i & XD & 1u;
  x_shared = x_partner && (i ^ XD) < count;
  dy_half = select(0u, 1u, (i & DD) != 0u);
  dy_shared = dy_partner && (i ^ DD) < count;
  let rows = params.ksize.w * params.out_shape.x * params.out_shape.y;
  let r0 = min(rows, s * per_chunk);
  let r_end = min(rows, r0 + per_chunk);
  // The first row's (b, ox, oy), then advanced by counting.
  var oy = r0 % params.out_shape.y;
  var ox = (r0 / params.out_shape.y) % params.out_shape.x;
  var b = r0 / (params.out_shape.y * params.out_shape.x);
  var acc: array<vec4<f32>, KZ * CIB * COB4>;
  for (var n = 0u; n < per_chunk; n++) {
    // Row r of the chunk; past its end (the last chunk's) the last row is read and adds 0 · 0.
    let r = r0 + n;
    let live = r < r_end;
    let p = vec2<i32>(vec2<u32>(ox, oy) * params.stride.xy + k * params.dilation.xy) - vec2<i32>(params.pad.xy);
    let row_in = live && all(p >= vec2<i32>(0)) && all(p < I);
    let pc = vec2<u32>(clamp(p, vec2<i32>(0), I - vec2<i32>(1)));
    let row = voxel_index(b, vec3<u32>(pc, 0u), params.in_shape.xyz);
    let z0 = -i32(params.pad.z);
    // The inputs of voxel oz through taps 0..KZ−1: with SLIDE, taps 1..KZ−1 of voxel −1 first.
    var xs: array<array<f32, CIB>, KZ>;
    if (SLIDE) {
      for (var t = 1u; t < KZ; t++) { xs[t] = input_values(row, row_in, z0 + i32(t) - 1, ci0); }
    }
    var d = (min(r, r_end - 1u) * OZ) * CO - params.window.w;
    var oz = 0u;
    if (VP > 1u) {
      // VP voxels a visit, each accumulator taking their VP products in a row (the additions of
      // voxel by voxel, in the same order): the accumulators outnumber the registers, and on
      // lavapipe 2 voxels a visit run the 64³ layers 6-10% faster on a host with 32 vector
      // registers, 1.35x slower on one with 16 (the host tunes VP per adapter). The
      // inputs of voxels oz .. oz + VP − 1 through taps 0..KZ−1 are the KZ + VP − 1 positions
      // from oz, the first KZ − 1 of them the last of the visit before.
      var win: array<array<f32, CIB>, KZ + VP - 1u>;
      for (var t = 1u; t < KZ; t++) { win[t + VP - 1u] = xs[t]; }
      for (; oz + VP <= OZ; oz += VP) {
        for (var t = 0u; t + 1u < KZ; t++) { win[t] = win[t + VP]; }
        for (var v = 0u; v < VP; v++) {
          win[KZ - 1u + v] = input_values(row, row_in, z0 + i32(oz + KZ - 1u + v), ci0);
        }
        var gs: array<array<vec4<f32>, COB4>, VP>;
        for (var v = 0u; v < VP; v++) { gs[v] = dy_values(d + v * CO, live, co0); }
        for (var t = 0u; t < KZ; t++) {
          for (var cb = 0u; cb < CIB; cb++) {
            for (var c = 0u; c < COB4; c++) {
              var a = acc[(t * CIB + cb) * COB4 + c];
              for (var v = 0u; v < VP; v++) { a += win[t + v][cb] * gs[v][c]; }
              acc[(t * CIB + cb) * COB4 + c] = a;
            }
          }
        }
        d += VP * CO;
      }
      // The rest of the row (OZ mod VP voxels) one at a time, from the window's last positions.
      for (var t = 1u; t < KZ; t++) { xs[t] = win[t + VP - 1u]; }
    }
    for (; oz < OZ; oz++) {
      if (SLIDE) {
        for (var t = 0u; t + 1u < KZ; t++) { xs[t] = xs[t + 1u]; }
        xs[KZ - 1u] = input_values(row, row_in, z0 + i32(oz + KZ - 1u), ci0);
      } else {
        for (var t = 0u; t < KZ; t++) { xs[t] = input_values(row, row_in, z0 + i32(oz * SZ + t * DZ), ci0); }
      }
      let g = dy_values(d, live, co0);
      for (var t = 0u; t < KZ; t++) {
        for (var cb = 0u; cb < CIB; cb++) {
          for (var c = 0u; c < COB4; c++) { acc[(t * CIB + cb) * COB4 + c] += xs[t][cb] * g[c]; }
        }
      }
      d += CO;
    }
    // The next row's (b, ox, oy), up to the chunk's last row.
    if (r + 1u < r_end) {
      oy++;
      if (oy == params.out_shape.y) {
        oy = 0u;
        ox++;
        if (ox == params.out_shape.x) {
          ox = 0u;
          b++;
        }
      }
    }
  }
  if (i >= last_invocation(count)) { return; }
  let taps = tap_rows * KZ;
  for (var t = 0u; t < KZ; t++) {
    let tap = tr * KZ + t;
    for (var cb = 0u; cb < CIB; cb++) {
      if (ci0 + cb >= CI) { break; }
      let pb = ((s * taps + tap) * CI + ci0 + cb) * CO + co0;
      for (var c = 0u; c < COB4; c++) {
        for (var l = 0u; l < 4u; l++) {
          if (co0 + 4u * c + l < CO) { partial[pb + 4u * c + l] = acc[(t * CIB + cb) * COB4 + c][l]; }
        }
      }
    }
  }
}
