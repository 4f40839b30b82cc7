// unary.wgsl — elementwise y = f(x) on float32, one function per pipeline (override OP).
// (Preceded by numpy_floats.wgsl: NaN in gives NaN out, as in NumPy, except x^0 = 1.)
//
// Bindings (group 0):
//   0 params  uniform       Params
//   1 x       storage read  array<vec4<f32>>, n elements (bound rounded up to 16 bytes)
//   2 y       storage rw    array<vec4<f32>>, n elements (the output tensor's own buffer, so the
//                           padding past n that a last partial vec4 writes belongs to nobody)
// Params: n (element count), alpha, beta (scalar arguments of affine, pow and clip).
// OP: one of the op codes below (the host reads them from this file, so they are defined once);
//   an unknown code gives NaN.
// Workgroup: 256 x 1 x 1. Dispatch: ceil(n / 4096) workgroups, folded into (x, y, z) by the host
//   when above maxComputeWorkgroupsPerDimension; the kernel rebuilds the linear index.
// Each invocation transforms 4 vec4s (16 elements), 256 vec4s apart so that neighbouring
// invocations touch neighbouring memory: on a software adapter an invocation costs several
// nanoseconds, so one element per invocation would run 4x slower than this.

override OP: u32 = 0u;

const NEG: u32 = 0u;
const ABS: u32 = 1u;
const EXP: u32 = 2u;
const LOG: u32 = 3u;
const SQRT: u32 = 4u;
const SQUARE: u32 = 5u;
const RELU: u32 = 6u;
const SIGMOID: u32 = 7u;
const TANH: u32 = 8u;
const SOFTPLUS: u32 = 9u;
const SIGN: u32 = 10u;
const RECIPROCAL: u32 = 11u;
const STEP: u32 = 12u;               // 1 where x > 0, else 0 (relu's derivative)
const AFFINE: u32 = 13u;             // alpha * x + beta
const POW_SCALAR: u32 = 14u;         // x ^ alpha
const CLIP: u32 = 15u;               // x clamped to [alpha, beta]
const RSQRT: u32 = 16u;
const SIN: u32 = 17u;
const COS: u32 = 18u;
const LOG1P: u32 = 19u;
const ONE_MINUS_SQUARE: u32 = 20u;   // 1 - x * x (tanh's derivative from its output)

struct Params {
  n: u32,
  alpha: f32,
  beta: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4<f32>>;

// log(1 + e) for e in [0, 1], accurate when e is tiny (log(1 + e) rounds to 0 there).
fn log1p_small(e: f32) -> f32 {
  if (e < 1e-4) { return e - 0.5 * e * e; }
  return log(1.0 + e);
}

// tanh with small relative error everywhere: a series near 0 (where the builtin may lose all
// precision), and 1 - 2 / (exp(2|x|) + 1) elsewhere (never overflows: exp of +inf gives 1 - 0).
fn stable_tanh(v: f32) -> f32 {
  let a = abs(v);
  if (a < 0.0625) {
    let v2 = v * v;
    return v * (1.0 - v2 * (1.0 / 3.0 - v2 * (2.0 / 15.0)));
  }
  return sign(v) * (1.0 - 2.0 / (exp(2.0 * a) + 1.0));
}

fn apply(v: f32) -> f32 {
  switch (OP) {
    case NEG: { return -v; }
    case ABS: { return abs(v); }
    case EXP: { return exp(v); }
    case LOG: { return log(v); }
    case SQRT: { return sqrt(v); }
    case SQUARE: { return v * v; }
    case RELU: { return max(v, 0.0); }
    case SIGMOID: {
      // Stable on both tails: never exp of a large positive number.
      if (v >= 0.0) { return 1.0 / (1.0 + exp(-v)); }
      let e = exp(v);
      return e / (1.0 + e);
    }
    case TANH: { return stable_tanh(v); }
    case SOFTPLUS: { return max(v, 0.0) + log1p_small(exp(-abs(v))); }
    case SIGN: { return sign(v); }
    case RECIPROCAL: { return 1.0 / v; }
    case STEP: { return select(0.0, 1.0, v > 0.0); }
    case AFFINE: { return params.alpha * v + params.beta; }
    case POW_SCALAR: { return numpy_pow(v, params.alpha); }
    case CLIP: { return clamp(v, params.alpha, params.beta); }
    case RSQRT: { return inverseSqrt(v); }
    case SIN: { return sin(v); }
    case COS: { return cos(v); }
    case LOG1P: {
      if (abs(v) < 1e-4) { return v - 0.5 * v * v; }
      return log(1.0 + v);
    }
    case ONE_MINUS_SQUARE: { return 1.0 - v * v; }
    default: {
      // An unknown code: NaN (held in a var, since a constant NaN is a shader-creation error).
      var nan_bits = 0x7fc00000u;
      return bitcast<f32>(nan_bits);
    }
  }
}

// NaN in, NaN out (NumPy), before any function sees it: WGSL's max, clamp and sign need not keep
// a NaN operand. Only x^0 is 1 whatever x is.
fn result(v: f32) -> f32 {
  if (is_nan(v) && !(OP == POW_SCALAR && params.alpha == 0.0)) { return v; }
  return apply(v);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let first = (wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y) * 1024u + lid;
  for (var k = 0u; k < 4u; k++) {
    let q = first + k * 256u;
    if (q * 4u >= params.n) { return; }
    let v = x[q];
    y[q] = vec4<f32>(result(v.x), result(v.y), result(v.z), result(v.w));
  }
}
