// unary.wgsl — elementwise y = f(x) on float32, one function per pipeline (override OP).
//
// Bindings (group 0):
//   0 params  uniform       Params
//   1 x       storage read  array<vec4<f32>>, n elements (bound rounded up to 16 bytes)
//   2 y       storage rw    array<vec4<f32>>, n elements (the output tensor's own buffer, so the
//                           padding past n that a last partial vec4 writes belongs to nobody)
// Params: n (element count), alpha, beta (scalar arguments of affine / pow / clip / leaky).
// OP: 0 neg, 1 abs, 2 exp, 3 log, 4 sqrt, 5 square, 6 relu, 7 sigmoid, 8 tanh, 9 softplus,
//     10 sign, 11 reciprocal, 12 step (x > 0), 13 affine (alpha*x + beta), 14 pow (x^alpha),
//     15 clip (to [alpha, beta]), 16 rsqrt, 17 sin, 18 cos, 19 log1p, 20 expm1-free tanh-grad (1 - x*x)
// Workgroup: 256 x 1 x 1. Dispatch: ceil(n / 4096) workgroups, folded into (x, y, z) by the host
//   when above maxComputeWorkgroupsPerDimension; the kernel rebuilds the linear index.
// Each invocation transforms 4 vec4s (16 elements), 256 vec4s apart so that neighbouring
// invocations touch neighbouring memory: on a software adapter an invocation costs several
// nanoseconds, so one element per invocation would run 4x slower than this.

override OP: u32 = 0u;

struct Params {
  n: u32,
  alpha: f32,
  beta: f32,
  _pad: u32,
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
    case 0u: { return -v; }
    case 1u: { return abs(v); }
    case 2u: { return exp(v); }
    case 3u: { return log(v); }
    case 4u: { return sqrt(v); }
    case 5u: { return v * v; }
    case 6u: { return max(v, 0.0); }
    case 7u: {
      // Stable on both tails: never exp of a large positive number.
      if (v >= 0.0) { return 1.0 / (1.0 + exp(-v)); }
      let e = exp(v);
      return e / (1.0 + e);
    }
    case 8u: { return stable_tanh(v); }
    case 9u: { return max(v, 0.0) + log1p_small(exp(-abs(v))); }
    case 10u: { return sign(v); }
    case 11u: { return 1.0 / v; }
    case 12u: { return select(0.0, 1.0, v > 0.0); }
    case 13u: { return params.alpha * v + params.beta; }
    case 14u: { return pow(v, params.alpha); }
    case 15u: { return clamp(v, params.alpha, params.beta); }
    case 16u: { return inverseSqrt(v); }
    case 17u: { return sin(v); }
    case 18u: { return cos(v); }
    case 19u: {
      if (abs(v) < 1e-4) { return v - 0.5 * v * v; }
      return log(1.0 + v);
    }
    default: { return 1.0 - v * v; }
  }
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let first = (wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y) * 1024u + lid;
  for (var k = 0u; k < 4u; k++) {
    let q = first + k * 256u;
    if (q * 4u >= params.n) { return; }
    let v = x[q];
    y[q] = vec4<f32>(apply(v.x), apply(v.y), apply(v.z), apply(v.w));
  }
}
