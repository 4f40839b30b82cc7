// numpy_floats.wgsl — NumPy's results for NaN and infinities, for the kernels that compare, clamp
// or take extremes of floats. Not a kernel by itself: the registry puts it in front of theirs
// (compile errors name this file and its line). No bindings, no params.
//
// Why: WGSL's max, min and clamp may return the other operand when one is NaN, and compilers may
// fold float comparisons as if NaN did not exist (lavapipe folds `x != x` to false and `x == x` to
// true), while NumPy propagates NaN through maximum, minimum, clip and every reduction. So NaN is
// recognised from its bits (exponent all ones, mantissa not zero), which no float rule can fold.

fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

fn is_nan4(v: vec4<f32>) -> vec4<bool> {
  return (bitcast<vec4<u32>>(v) & vec4<u32>(0x7fffffffu)) > vec4<u32>(0x7f800000u);
}

fn is_pos_inf(v: f32) -> bool {
  return bitcast<u32>(v) == 0x7f800000u;
}

fn is_pos_inf4(v: vec4<f32>) -> vec4<bool> {
  return bitcast<vec4<u32>>(v) == vec4<u32>(0x7f800000u);
}

// Infinity and NaN as values (a constant of either is a shader-creation error; a var is not one).
fn pos_inf() -> f32 {
  var bits = 0x7f800000u;
  return bitcast<f32>(bits);
}

fn neg_inf() -> f32 {
  var bits = 0xff800000u;
  return bitcast<f32>(bits);
}

fn nan() -> f32 {
  var bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}

// NumPy's maximum, minimum and clip: NaN when an operand is NaN.
fn nan_max(a: f32, b: f32) -> f32 {
  return select(select(max(a, b), b, is_nan(b)), a, is_nan(a));
}

fn nan_min(a: f32, b: f32) -> f32 {
  return select(select(min(a, b), b, is_nan(b)), a, is_nan(a));
}

fn nan_max4(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
  return select(select(max(a, b), b, is_nan4(b)), a, is_nan4(a));
}

fn nan_clamp(v: f32, lo: f32, hi: f32) -> f32 {
  return select(clamp(v, lo, hi), v, is_nan(v));
}

fn nan_clamp4(v: vec4<f32>, lo: vec4<f32>, hi: vec4<f32>) -> vec4<f32> {
  return select(clamp(v, lo, hi), v, is_nan4(v));
}

// NumPy's power (C99's pow): x^0 = 1 and 1^y = 1 (NaN included), (-1)^±inf = 1, 0^y = 0 for
// y > 0 and inf for y < 0, a negative base (-0 and -inf included) with an odd integer exponent
// gives the negative of |x|^y, with an even one |x|^y, with any other a NaN (but -0 and -inf give
// |x|^y). WGSL's pow is exp2(y·log2 x): NaN for every x < 0, and not always inf for 0^-y.
fn numpy_pow(x: f32, y: f32) -> f32 {
  if (y == 0.0 || x == 1.0) { return 1.0; }
  if (is_nan(x) || is_nan(y)) { return nan(); }
  let negative = (bitcast<u32>(x) & 0x80000000u) != 0u;
  let integer = floor(y) == y;
  if (negative && !integer && x != 0.0 && x != neg_inf()) { return nan(); }
  var m = pow(abs(x), y);
  if (x == 0.0) { m = select(pos_inf(), 0.0, y > 0.0); }
  if (x == -1.0 && abs(y) == pos_inf()) { m = 1.0; }
  // An f32 of magnitude 2^24 or more (infinity too) is even.
  let odd = integer && abs(y) < 16777216.0 && (i32(y) & 1) == 1;
  return select(m, -m, negative && odd);
}
