// reduce.wgsl — one pass of a deterministic reduction of a (O, R, I) view over its middle axis.
//
// The host merges adjacent dims so that any contiguous block of reduced axes becomes R, the
// kept axes before it O and after it I. A pass splits R into num_chunks chunks of chunk_len rows
// and writes partial results of shape (O, num_chunks, I); the host runs passes until one chunk is
// left. The order of every addition is fixed by the geometry, so results are bitwise repeatable.
//
// V: the element the kernel loads, f32 or vec4<f32> (the host substitutes the alias line). With
//   vec4, "I" counts vec4 columns (the tensor's inner size / 4): 4x fewer loads and invocations.
//   VU: the unsigned integer of V's shape (u32 or vec4<u32>), to read a NaN from its bits.
// NaN propagates as in NumPy: a sum holds it by itself, and max / min return it (found from its
// bits: WGSL's own max and min may drop a NaN operand, and `x != x` may be folded to false).
// Bindings (group 0):
//   0 params  uniform       Params
//   1 x       storage read  array<V>, O * R * I elements
//   2 out     storage rw    array<V>, O * num_chunks * I elements
// Params: outer (O), rows (R), inner (I), chunk_len, num_chunks, cols (threads per row of the
//   workgroup: a power of two <= 256, >= min(I, 256) when possible), col_tiles (ceil(I / cols)),
//   scale (multiplies the result: 1/count for a mean on the last pass, else 1).
// OP: 0 sum, 1 max, 2 min.
// Workgroup: 256 threads seen as (256 / cols) rows x cols columns. Dispatch: O * num_chunks *
//   col_tiles workgroups (folded into x, y, z by the host); workgroup w handles (o, chunk, tile).
// SERIAL = 1 (for many outputs and short rows, e.g. a sum over the class axis): each invocation
// reduces one whole (o, i) column by itself, 256 columns per workgroup, no barriers; the
// dispatch is then ceil(O * I / 256) workgroups and num_chunks must be 1.
// Otherwise each thread strides through its chunk's rows for one column; a shared-memory tree then merges
// the rows of each column. Shared memory: 256 V (1 KiB for f32, 4 KiB for vec4).

alias V = f32;
alias VU = u32;

override OP: u32 = 0u;
override SERIAL: u32 = 0u;

struct Params {
  outer: u32,
  rows: u32,
  inner: u32,
  chunk_len: u32,
  num_chunks: u32,
  cols: u32,
  col_tiles: u32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<V>;
@group(0) @binding(2) var<storage, read_write> out: array<V>;

var<workgroup> partial: array<V, 256>;

fn identity() -> V {
  // Infinities cannot be WGSL constants; a var keeps the bitcast out of constant evaluation.
  var bits = 0u;
  if (OP == 1u) { bits = 0xff800000u; } // -inf
  if (OP == 2u) { bits = 0x7f800000u; } // +inf
  return V(bitcast<f32>(bits));
}

fn combine(u: V, v: V) -> V {
  if (OP == 0u) { return u + v; }
  let m = select(min(u, v), max(u, v), OP == 1u);
  let nan_u = (bitcast<VU>(u) & VU(0x7fffffffu)) > VU(0x7f800000u);
  let nan_v = (bitcast<VU>(v) & VU(0x7fffffffu)) > VU(0x7f800000u);
  return select(select(m, v, nan_v), u, nan_u);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let w = wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y;
  if (SERIAL == 1u) {
    // No early return on the invocation index: it would make the barriers below non-uniform.
    let line = w * 256u + lid;
    if (line < params.outer * params.inner) {
      let o = line / params.inner;
      let i = line % params.inner;
      var acc = identity();
      for (var row = 0u; row < params.rows; row = row + 1u) {
        acc = combine(acc, x[(o * params.rows + row) * params.inner + i]);
      }
      out[line] = acc * params.scale;
    }
    return;
  }
  let total = params.outer * params.num_chunks * params.col_tiles;
  // The guard is uniform across the workgroup, so the barriers below stay in uniform control flow.
  if (w >= total) { return; }
  let tile = w % params.col_tiles;
  let chunk = (w / params.col_tiles) % params.num_chunks;
  let o = w / (params.col_tiles * params.num_chunks);
  let cols = params.cols;
  let nrows = 256u / cols;
  let c = lid % cols;
  let r = lid / cols;
  let i = tile * cols + c;
  let row_begin = chunk * params.chunk_len;
  let row_end = min(row_begin + params.chunk_len, params.rows);

  var acc = identity();
  if (i < params.inner) {
    for (var row = row_begin + r; row < row_end; row = row + nrows) {
      acc = combine(acc, x[(o * params.rows + row) * params.inner + i]);
    }
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var s = nrows / 2u; s > 0u; s = s / 2u) {
    if (r < s) {
      partial[lid] = combine(partial[lid], partial[lid + s * cols]);
    }
    workgroupBarrier();
  }
  if (r == 0u && i < params.inner) {
    out[(o * params.num_chunks + chunk) * params.inner + i] = partial[c] * params.scale;
  }
}
