// pool3d.wgsl — max or average pooling over 3D windows of a channels-last volume, forward, and
// (MODE 2, 3) its gradient as a gather.
// (Preceded by numpy_floats.wgsl and conv3d_geometry.wgsl: Params at binding 0 and the index
// helpers; the window is ksize, channels in_shape.w = out_shape.w = C.)
//
//   MODE 0 max      y[b, o, c] = max over the window's taps inside the input of x[b, i, c]
//                   (NaN if one of them is NaN, as NumPy's max; -inf if all are -inf)
//   MODE 1 average  y[b, o, c] = mean over the window's taps inside the input (padding excluded,
//                   as Keras' 'same' average pooling)
//   MODE 2 max grad      dx[b, i, c] = Σ over windows o whose first maximal tap is i of dy[b, o, c]
//                        (the first NaN tap, when the window holds one: the tap the max returned)
//   MODE 3 average grad  dx[b, i, c] = Σ over windows o containing i of dy[b, o, c] / count(o)
//   MODE 4 max grad of non-overlapping windows (stride ≥ window on every axis), as a scatter:
//                        each window writes dy[b, o, c] to its first maximal tap and 0 to its other
//                        taps inside the input (no other window writes them; positions that no
//                        window covers are zeroed by the host first). One search per window,
//                        where the gather searches once per input element.
// Bindings (group 0):
//   1 src  storage read  array<f32>  MODE 0, 1: x (B, IX, IY, IZ, C); MODE 2, 3: dy (B, OX, OY, OZ, C)
//   2 x    storage read  array<f32>  MODE 2, 4: x, to find each window's maximum; otherwise a dummy
//   3 dst  storage rw    array<f32>  MODE 0, 1: y; MODE 2, 3, 4: dx
// Each is a window: input-shaped ones (x, dx) from element window.z, output-shaped ones (y, dy)
// from window.w; the dispatch covers elements [window.x, window.y) of dst (MODE 4: of dy).
// Workgroup: 64 threads. Dispatch: ceil(elements of dst / 64) workgroups (folded by the host);
// one element of dst per invocation (MODE 4: ceil(elements of dy / 64), one window per invocation).

override MODE: u32 = 0u;

@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;

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
  if (MODE == 4u) {
    if (i >= last_invocation(B * params.out_shape.x * params.out_shape.y * params.out_shape.z * C)) { return; }
    let o = voxel_coords(i / C, params.out_shape.xyz);
    let at = argmax_position(o.x, o.yzw, c);
    let g = src[i - params.window.w];
    for (var kx = 0u; kx < params.ksize.x; kx++) {
      for (var ky = 0u; ky < params.ksize.y; ky++) {
        for (var kz = 0u; kz < params.ksize.z; kz++) {
          let p = input_position(o.yzw, vec3<u32>(kx, ky, kz));
          if (!inside(p)) { continue; }
          dst[voxel_index(o.x, vec3<u32>(p), params.in_shape.xyz) * C + c - params.window.z] = select(0.0, g, all(p == at));
        }
      }
    }
    return;
  }
  if (MODE <= 1u) {
    if (i >= last_invocation(B * params.out_shape.x * params.out_shape.y * params.out_shape.z * C)) { return; }
    let o = voxel_coords(i / C, params.out_shape.xyz);
    var best = neg_inf();
    var total = 0.0;
    var n = 0.0;
    for (var kx = 0u; kx < params.ksize.x; kx++) {
      for (var ky = 0u; ky < params.ksize.y; ky++) {
        for (var kz = 0u; kz < params.ksize.z; kz++) {
          let p = input_position(o.yzw, vec3<u32>(kx, ky, kz));
          if (!inside(p)) { continue; }
          let v = src[voxel_index(o.x, vec3<u32>(p), params.in_shape.xyz) * C + c - params.window.z];
          best = nan_max(best, v);
          total += v;
          n += 1.0;
        }
      }
    }
    dst[i - params.window.w] = select(total / max(n, 1.0), best, MODE == 0u);
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
        let g = src[voxel_index(q.x, o, params.out_shape.xyz) * C + c - params.window.w];
        if (MODE == 3u) {
          acc += g / window_count(o);
        } else if (all(argmax_position(q.x, o, c) == vec3<i32>(q.yzw))) {
          acc += g;
        }
      }
    }
  }
  dst[i - params.window.z] = acc;
}
