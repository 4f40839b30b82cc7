// softmax.wgsl — stable softmax or log-softmax over the middle axis of an (O, A, I) view.
// (Preceded by numpy_floats.wgsl.)
//
// Bindings (group 0):
//   0 params  uniform       Params
//   1 x       storage read  array<f32>, O * A * I elements (a window from element `base`)
//   2 y       storage rw    array<f32>, same shape as x (the same window)
// Params: outer (O), axis_len (A), inner (I); first, end: the lines [first, end) this dispatch
//   covers; base: the element x and y are bound from (tensors larger than one binding are split).
// LOG: 0 softmax, 1 log-softmax.
// Workgroup: 256 x 1 x 1. Dispatch: ceil((end - first) / 256) workgroups, folded into (x, y, z) by
// the host.
// Each invocation owns one (o, i) line: it finds the line's max, sums exp(x - max), then writes
// exp(x - max) / sum or (x - max) - log(sum). Subtracting the max keeps exp from overflowing.
// Special values: a NaN makes the line NaN (as NumPy); a line whose largest logit is +inf gives the
// limit when one logit is +inf (1 there and 0 elsewhere; log: 0 and -inf) and NaN when several
// are (inf - inf); a line of -inf only is NaN (as NumPy).

override LOG: u32 = 0u;

struct Params {
  outer: u32,
  axis_len: u32,
  inner: u32,
  first: u32,
  end: u32,
  base: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let line = params.first + (wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y) * 256u + lid;
  if (line >= min(params.outer * params.inner, params.end)) { return; }
  let o = line / params.inner;
  let i = line % params.inner;
  let base = o * params.axis_len * params.inner + i - params.base;
  let step = params.inner;
  var m = neg_inf();
  var infinities = 0u;
  for (var k = 0u; k < params.axis_len; k = k + 1u) {
    let v = x[base + k * step];
    m = nan_max(m, v);
    if (is_pos_inf(v)) { infinities += 1u; }
  }
  if (is_pos_inf(m)) {
    let hit = select(1.0, 0.0, LOG == 1u);
    let miss = select(0.0, neg_inf(), LOG == 1u);
    for (var k = 0u; k < params.axis_len; k = k + 1u) {
      let v = select(miss, hit, is_pos_inf(x[base + k * step]));
      y[base + k * step] = select(nan(), v, infinities == 1u);
    }
    return;
  }
  var s = 0.0;
  for (var k = 0u; k < params.axis_len; k = k + 1u) { s = s + exp(x[base + k * step] - m); }
  if (LOG == 1u) {
    let ls = log(s);
    for (var k = 0u; k < params.axis_len; k = k + 1u) { y[base + k * step] = (x[base + k * step] - m) - ls; }
  } else {
    let inv = 1.0 / s;
    for (var k = 0u; k < params.axis_len; k = k + 1u) { y[base + k * step] = exp(x[base + k * step] - m) * inv; }
  }
}
