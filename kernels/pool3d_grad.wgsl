// pool3d_grad.wgsl — the input gradients of pool3d.wgsl's max and average pooling, and the
// spread of each window's value over its taps (nearest-neighbour upsampling; the gradient of
// pool3d.wgsl's window sums).
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
//   MODE 3 spread of non-overlapping windows: each window writes dy[b, o, c] to all its taps
//                        inside the input (as MODE 2, positions no window covers are zeroed by the
//                        host first).
// Bindings (group 0):
//   1 dy   storage read  array<V>  (B, OX, OY, OZ, C)
//   2 x    storage read  array<V>  MODE 0, 2: x, to find each window's maximum; MODE 1, 3 do not read it
//   3 dx   storage rw    array<V>  (B, IX, IY, IZ, C)
// Each is a window: x and dx from element window.z, dy from window.w (MODE 3 binds dy's window
// again at x, unread).
// V: the element read and written, f32 or, where C is a multiple of 4, vec4<f32> (4 channels of
// a voxel, each with its own maximum: one index computation and one load per tap for all 4);
// VW its width, VU and VB the unsigned integer and bool of its shape.
// Workgroup: 64 threads. Dispatch: ceil(elements of dx / (64 · VW)) workgroups (folded by the
// host; MODE 2, 3: of dy, VW channels of one window per invocation); invocation i takes elements
// [i · VW, (i + 1) · VW) of dx (MODE 2, 3: of dy), and a windowed dispatch covers invocations
// [window.x, window.y).

alias V = f32;
alias VU = u32;
alias VB = bool;
const VW: u32 = 1u;
override MODE: u32 = 0u;

@group(0) @binding(1) var<storage, read> dy: array<V>;
@group(0) @binding(2) var<storage, read> x: array<V>;
@group(0) @binding(3) var<storage, read_write> dx: array<V>;

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

fn is_nan_v(v: V) -> VB {
  return (bitcast<VU>(v) & VU(0x7fffffffu)) > VU(0x7f800000u);
}

// The index (kx · KY + ky) · KZ + kz of the first maximal tap of the window at output o, for each
// channel of the V at channel c of sample b (the first NaN tap when the window holds one: the tap
// the max returned).
fn argmax_taps(b: u32, o: vec3<u32>, c: u32) -> VU {
  var best = V(neg_inf());
  var at = VU(0xffffffffu);
  var k = 0u;
  for (var kx = 0u; kx < params.ksize.x; kx++) {
    for (var ky = 0u; ky < params.ksize.y; ky++) {
      for (var kz = 0u; kz < params.ksize.z; kz++) {
        let p = input_position(o, vec3<u32>(kx, ky, kz));
        if (inside(p)) {
          let v = x[(voxel_index(b, vec3<u32>(p), params.in_shape.xyz) * params.in_shape.w + c - params.window.z) / VW];
          let take = !is_nan_v(best) & ((v > best) | is_nan_v(v) | (at == VU(0xffffffffu)));
          best = select(best, v, take);
          at = select(at, VU(k), take);
        }
        k++;
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
  let e = i * VW;
  let c = e % C;
  if (MODE >= 2u) {
    if (i >= last_invocation(B * params.out_shape.x * params.out_shape.y * params.out_shape.z * C / VW)) { return; }
    let o = voxel_coords(e / C, params.out_shape.xyz);
    var at = VU(0u);
    if (MODE == 2u) { at = argmax_taps(o.x, o.yzw, c); }
    let g = dy[(e - params.window.w) / VW];
    var k = 0u;
    for (var kx = 0u; kx < params.ksize.x; kx++) {
      for (var ky = 0u; ky < params.ksize.y; ky++) {
        for (var kz = 0u; kz < params.ksize.z; kz++) {
          let p = input_position(o.yzw, vec3<u32>(kx, ky, kz));
          if (inside(p)) {
            dx[(voxel_index(o.x, vec3<u32>(p), params.in_shape.xyz) * C + c - params.window.z) / VW] =
              select(select(V(0.0), g, at == VU(k)), g, MODE == 3u);
          }
          k++;
        }
      }
    }
    return;
  }
  if (i >= last_invocation(B * params.in_shape.x * params.in_shape.y * params.in_shape.z * C / VW)) { return; }
  let q = voxel_coords(e / C, params.in_shape.xyz);
  // The outputs whose windows hold input q: o·stride ≤ q + pad ≤ o·stride + (ksize − 1) on each
  // axis, a range walked directly (one output per axis for non-overlapping windows) instead of
  // testing every tap with divisions.
  let qp = vec3<i32>(q.yzw + params.pad.xyz);
  let s = vec3<i32>(params.stride.xyz);
  let lo_num = qp - vec3<i32>(params.ksize.xyz) + vec3<i32>(1);
  let lo = select(vec3<i32>(0), (lo_num + s - vec3<i32>(1)) / s, lo_num > vec3<i32>(0));
  let hi = min(qp / s, vec3<i32>(params.out_shape.xyz) - vec3<i32>(1));
  var acc = V(0.0);
  for (var ox = lo.x; ox <= hi.x; ox++) {
    for (var oy = lo.y; oy <= hi.y; oy++) {
      for (var oz = lo.z; oz <= hi.z; oz++) {
        let o = vec3<u32>(vec3<i32>(ox, oy, oz));
        let g = dy[(voxel_index(q.x, o, params.out_shape.xyz) * C + c - params.window.w) / VW];
        if (MODE == 1u) {
          acc += g / window_count(o);
        } else {
          // q's tap in window o (pooling windows are not dilated).
          let t = vec3<u32>(qp - vec3<i32>(ox, oy, oz) * s);
          let tap = (t.x * params.ksize.y + t.y) * params.ksize.z + t.z;
          acc += select(V(0.0), g, argmax_taps(q.x, o, c) == VU(tap));
        }
      }
    }
  }
  dx[(e - params.window.z) / VW] = acc;
}
