// random.wgsl — counter-based seeded random numbers: y[i] = F(hash(seed, i)).
//
// The value at index i depends only on (seed, i), never on the dispatch geometry or the device,
// so a seed reproduces the same tensor everywhere.
//
// Bindings (group 0):
//   0 params  uniform       Params
//   1 y       storage rw    array<f32>, n elements: a window of the tensor starting at element
//                           `first` (the host splits tensors larger than one binding)
// Params: n, seed_lo, seed_hi (64-bit seed), first, a, b (uniform: [a, b); normal: mean a,
//   stddev b). Element k of the window is tensor element first + k and gets that index's value.
// DIST: 0 uniform, 1 normal (Box-Muller on two independent hashes of index i).
// Workgroup: 256 x 1 x 1. Dispatch: ceil(n / 256) workgroups, folded into (x, y, z) by the host.

override DIST: u32 = 0u;

struct Params {
  n: u32,
  seed_lo: u32,
  seed_hi: u32,
  first: u32,
  a: f32,
  b: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;

// A 32-bit integer hash with good avalanche (lowbias32, Chris Wellons' hash-prospector).
fn mix32(v: u32) -> u32 {
  var h = v;
  h = h ^ (h >> 16u);
  h = h * 0x7feb352du;
  h = h ^ (h >> 15u);
  h = h * 0x846ca68bu;
  h = h ^ (h >> 16u);
  return h;
}

fn hash(i: u32, stream: u32) -> u32 {
  return mix32(mix32(mix32(i ^ params.seed_lo) + params.seed_hi) ^ (stream * 0x9e3779b9u));
}

// 24 random bits mapped to [0, 1).
fn unit(h: u32) -> f32 {
  return f32(h >> 8u) * (1.0 / 16777216.0);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let k = (wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y) * 256u + lid;
  if (k >= params.n) { return; }
  let i = params.first + k;
  if (DIST == 0u) {
    y[k] = params.a + (params.b - params.a) * unit(hash(i, 1u));
  } else {
    // u1 in (0, 1] keeps log finite.
    let u1 = 1.0 - unit(hash(i, 1u));
    let u2 = unit(hash(i, 2u));
    let r = sqrt(-2.0 * log(u1));
    y[k] = params.a + params.b * r * cos(6.283185307179586 * u2);
  }
}
