// matmul.wgsl — batched C[b] = A[b] · B[b], A: (M, K), B: (K, N), tiled through shared memory.
//
// Bindings (group 0):
//   0 params  uniform       Params
//   1 a       storage read  array<f32>
//   2 b       storage read  array<f32>
//   3 c       storage rw    array<f32>, batch * M * N elements, contiguous
// Params: M, N, K, batch; a_batch / b_batch (element stride between batch items, 0 broadcasts one
//   matrix to all), a_rs / a_cs (A's row and column strides: a transposed A just swaps them),
//   b_rs / b_cs likewise for B.
// Workgroup: 16 x 16 threads, one output element each, a 16 x 16 tile of C per workgroup.
// Dispatch: ceil(N/16) * ceil(M/16) * batch workgroups (linear index, folded into x, y, z by the host).
// Shared memory: two 16 x 16 f32 tiles = 2 KiB. Threads outside C still load tiles (zero-padded)
// so every barrier is reached by the whole workgroup.

struct Params {
  M: u32,
  N: u32,
  K: u32,
  batch: u32,
  a_batch: u32,
  b_batch: u32,
  a_rs: u32,
  a_cs: u32,
  b_rs: u32,
  b_cs: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

var<workgroup> tile_a: array<array<f32, 16>, 16>;
var<workgroup> tile_b: array<array<f32, 16>, 16>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let w = wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y;
  let tiles_n = (params.N + 15u) / 16u;
  let tiles_m = (params.M + 15u) / 16u;
  if (w >= tiles_n * tiles_m * params.batch) { return; }
  let tn = w % tiles_n;
  let tm = (w / tiles_n) % tiles_m;
  let bi = w / (tiles_n * tiles_m);
  let row = tm * 16u + lid.y;
  let col = tn * 16u + lid.x;
  let a0 = bi * params.a_batch;
  let b0 = bi * params.b_batch;
  var acc = 0.0;
  let steps = (params.K + 15u) / 16u;
  for (var t = 0u; t < steps; t = t + 1u) {
    let ka = t * 16u + lid.x;
    let kb = t * 16u + lid.y;
    var va = 0.0;
    if (row < params.M && ka < params.K) { va = a[a0 + row * params.a_rs + ka * params.a_cs]; }
    var vb = 0.0;
    if (kb < params.K && col < params.N) { vb = b[b0 + kb * params.b_rs + col * params.b_cs]; }
    tile_a[lid.y][lid.x] = va;
    tile_b[lid.y][lid.x] = vb;
    workgroupBarrier();
    for (var k = 0u; k < 16u; k = k + 1u) { acc = acc + tile_a[lid.y][k] * tile_b[k][lid.x]; }
    workgroupBarrier();
  }
  if (row < params.M && col < params.N) {
    c[(bi * params.M + row) * params.N + col] = acc;
  }
}
