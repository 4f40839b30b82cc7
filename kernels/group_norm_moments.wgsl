// group_norm_moments.wgsl — forward, pass 1 of 3: the mean and the sum of squared deviations (M2)
// of one channel over one chunk of voxels, by Welford's update (stable for any offset of x).
// (Preceded by group_norm_layout.wgsl: Params at binding 0.)
//
// Bindings (group 0):
//   1 x        storage read  array<f32>  (B, N, C), a window from element base
//   2 partial  storage rw    array<f32>  (B, chunks, C, 2): mean, M2
// Workgroup: 64 threads. Dispatch: ceil(B·chunks·C / 64) workgroups (folded by the host); one
// (b, k, c) per invocation, c fastest so neighbouring invocations read neighbouring values.

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> partial: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_index(wid, nwg, lid);
  if (i >= min(params.B * params.chunks * params.C, params.end)) { return; }
  let bkc = partial_coords(i);
  let b = bkc.x;
  let c = bkc.z;
  let r = chunk_range(bkc.y);
  var mean = 0.0;
  var m2 = 0.0;
  var n = 0.0;
  for (var v = r.x; v < r.y; v++) {
    let xv = x[(b * params.N + v) * params.C + c - params.base];
    n += 1.0;
    let d = xv - mean;
    mean += d / n;
    m2 += d * (xv - mean);
  }
  partial[2u * i] = mean;
  partial[2u * i + 1u] = m2;
}
