// pool3d_grad.wgsl — the input gradients of pool3d.wgsl's max and average pooling.
// (Preceded by numpy_floats.wgsl and conv3d_geometry.wgsl: Params at binding 0 and the index
// helpers; the window is ksize, channels in_shape.w = out_shape.w = C.)
//
//   MODE 0 max grad      dx[b, i, c] = Σ over windows o whose first maximal tap is i of dy[b, o, c]
//                        (the first NaN tap, when the window holds one: the tap the max returned)
//   MODE 1 average grad  dx[b, i, c] = Σ over windows o containing i of dy[b, o, c] / count(o)
//   MODE 2 max grad of non-overlapping windows (stride ≥ window on every axis), as a scatter:
//                        each window writes dy[b, o, c] to its first maximal tap and 0 to its other
//                        taps inside the input (no other window writes them; positions that no
//                        window covers are zeroed by the host first). One search per window,
//                        where the gather searches once per input element.
// Bindings (group 0):
//   1 dy   storage read  array<f32>  (B, OX, OY, OZ, C)
//   2 x    storage read  array<f32>  MODE 0, 2: x, to find each window's maximum; MODE 1: a dummy
//   3 dx   storage rw    array<f32>  (B, IX, IY, IZ, C)
// Each is a window: x and dx from element window.z, dy from window.w; the dispatch covers
// elements [window.x, window.y) of dx (MODE 2: of dy).
// Workgroup: 64 threads. Dispatch: ceil(elements of dx / 64) workgroups (folded by the host);
// one element of dx per invocation (MODE 2: ceil(elements of dy / 64), one window per invocation).

override MODE: u32 = 0u;

@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

// Number of taps of the window at output o that fall inside the input.
fn window_count(o: vec3<u32>) -> f32 {
  var n = 0.0;
  for (var kx = 0u; kx < params.ksize.x; kx++) {
    for (var ky = 0u; ky < params.ksize.y; ky++) {
      for (var kz = 0u; kz < params.ksize.z; kz++) {
        if (inside(input_position(o, vec3<u32>(kx, ky, kz)))) { n += 1.0; }
      }
    }
  }
  return n;
}

// Input position of the first maximal tap of the window at output o, channel c of sample b.
fn argmax_position(b: u32, o: vec3<u32>, c: u32) -> vec3<i32> {
  var best = neg_inf();
  var at = vec3<i32>(-1);
  for (var kx = 0u; kx < params.ksize.x; kx++) {
    for (var ky = 0u; ky < params.ksize.y; ky++) {
      for (var kz = 0u; kz < params.ksize.z; kz++) {
        let p = input_position(o, vec3<u32>(kx, ky, kz));
        if (!inside(p)) { continue; }
        let v = x[voxel_index(b, vec3<u32>(p), params.in_shape.xyz) * params.in_shape.w + c - params.window.z];
        if (!is_nan(best) && (v > best || is_nan(v) || all(at == vec3<i32>(-1)))) {
          best = v;
          at = p;
        }
      }
    }
  }
  return at;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let C = params.in_shape.w;
  let B = params.ksize.w;
  let i = linear_index(wid, nwg, lid);
  let c = i % C;
  if (MODE == 2u) {
    if (i >= last_invocation(B * params.out_shape.x * params.out_shape.y * params.out_shape.z * C)) { return; }
    let o = voxel_coords(i / C, params.out_shape.xyz);
    let at = argmax_position(o.x, o.yzw, c);
    let g = dy[i - params.window.w];
    for (var kx = 0u; kx < params.ksize.x; kx++) {
      for (var ky = 0u; ky < params.ksize.y; ky++) {
        for (var kz = 0u; kz < params.ksize.z; kz++) {
          let p = input_position(o.yzw, vec3<u32>(kx, ky, kz));
          if (!inside(p)) { continue; }
          dx[voxel_index(o.x, vec3<u32>(p), params.in_shape.xyz) * C + c - params.window.z] = select(0.0, g, all(p == at));
        }
      }
    }
    return;
  }
  if (i >= last_invocation(B * params.in_shape.x * params.in_shape.y * params.in_shape.z * C)) { return; }
  let q = voxel_coords(i / C, params.in_shape.xyz);
  // The outputs whose windows hold input q: o·stride ≤ q + pad ≤ o·stride + (ksize − 1) on each
  // axis, a range walked directly (one output per axis for non-overlapping windows) instead of
  // testing every tap with divisions.
  let qp = vec3<i32>(q.yzw + params.pad.xyz);
  let s = vec3<i32>(params.stride.xyz);
  let lo_num = qp - vec3<i32>(params.ksize.xyz) + vec3<i32>(1);
  let lo = select(vec3<i32>(0), (lo_num + s - vec3<i32>(1)) / s, lo_num > vec3<i32>(0));
  let hi = min(qp / s, vec3<i32>(params.out_shape.xyz) - vec3<i32>(1));
  var acc = 0.0;
  for (var ox = lo.x; ox <= hi.x; ox++) {
    for (var oy = lo.y; oy <= hi.y; oy++) {
      for (var oz = lo.z; oz <= hi.z; oz++) {
        let o = vec3<u32>(vec3<i32>(ox, oy, oz));
        let g = dy[voxel_index(q.x, o, params.out_shape.xyz) * C + c - params.window.w];
        if (MODE == 1u) {
          acc += g / window_count(o);
        } else if (all(argmax_position(q.x, o, c) == vec3<i32>(q.yzw))) {
          acc += g;
        }
      }
    }
  }
  dx[i - params.window.z] = acc;
}
