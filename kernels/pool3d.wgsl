// pool3d.wgsl — max, average or sum over 3D windows of a channels-last volume (pool3d_grad.wgsl
// holds the gradients of the first two).
// (Preceded by numpy_floats.wgsl and conv3d_geometry.wgsl: Params at binding 0 and the index
// helpers; the window is ksize, channels in_shape.w = out_shape.w = C.)
//
//   MODE 0 max      y[b, o, c] = max over the window's taps inside the input of x[b, i, c]
//                   (NaN if one of them is NaN, as NumPy's max; -inf if all are -inf)
//   MODE 1 average  y[b, o, c] = mean over the window's taps inside the input (padding excluded,
//                   as Keras' 'same' average pooling)
//   MODE 2 sum      y[b, o, c] = Σ over the window's taps inside the input (the gradient of
//                   nearest-neighbour upsampling: each block's sum, in one pass)
// Bindings (group 0):
//   1 x  storage read  array<V>  (B, IX, IY, IZ, C), a window from element window.z
//   2 y  storage rw    array<V>  (B, OX, OY, OZ, C), a window from element window.w
// V: the element read and written, f32 or, where C is a multiple of 4, vec4<f32> (4 channels of
// a voxel: one index computation and one load per tap for all 4; VW is its width, VU its
// unsigned integer type, to recognise NaN from its bits).
// Workgroup: 64 threads. Dispatch: ceil(elements of y / (64 · VW)) workgroups (folded by the
// host); invocation i computes elements [i · VW, (i + 1) · VW) of y, and a windowed dispatch
// covers invocations [window.x, window.y).

alias V = f32;
alias VU = u32;
const VW: u32 = 1u;
override MODE: u32 = 0u;

@group(0) @binding(1) var<storage, read> x: array<V>;
@group(0) @binding(2) var<storage, read_write> y: array<V>;

// NumPy's maximum of each component: NaN when either is NaN.
fn max_or_nan(a: V, b: V) -> V {
  let nan_a = (bitcast<VU>(a) & VU(0x7fffffffu)) > VU(0x7f800000u);
  let nan_b = (bitcast<VU>(b) & VU(0x7fffffffu)) > VU(0x7f800000u);
  return select(select(max(a, b), b, nan_b), a, nan_a);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let C = params.in_shape.w;
  let i = linear_index(wid, nwg, lid);
  let elements = params.ksize.w * params.out_shape.x * params.out_shape.y * params.out_shape.z * C;
  if (i >= last_invocation(elements / VW)) { return; }
  let e = i * VW;
  let c = e % C;
  let o = voxel_coords(e / C, params.out_shape.xyz);
  var best = V(neg_inf());
  var total = V(0.0);
  var n = 0.0;
  for (var kx = 0u; kx < params.ksize.x; kx++) {
    for (var ky = 0u; ky < params.ksize.y; ky++) {
      for (var kz = 0u; kz < params.ksize.z; kz++) {
        let p = input_position(o.yzw, vec3<u32>(kx, ky, kz));
        if (!inside(p)) { continue; }
        let v = x[(voxel_index(o.x, vec3<u32>(p), params.in_shape.xyz) * C + c - params.window.z) / VW];
        if (MODE == 0u) { best = max_or_nan(best, v); }
        total += v;
        n += 1.0;
      }
    }
  }
  var r = total;
  if (MODE == 0u) { r = best; }
  if (MODE == 1u) { r = total / V(max(n, 1.0)); }
  y[(e - params.window.w) / VW] = r;
}
