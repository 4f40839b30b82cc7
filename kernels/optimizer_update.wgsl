// optimizer_update.wgsl — one optimizer step for one parameter tensor, element-wise, out of place.
//
// Per element, with g = grad · scale (scale: the global-norm clipping factor, computed on the
// GPU, 1 when unclipped), then clamped to [−clip_value, clip_value] when clip_value > 0:
//   KIND 0 SGD    g += wd·p (L2); vel = momentum·vel + g;
//                 step = g + momentum·vel (nesterov) or vel (momentum > 0) or g;  p −= lr·step
//   KIND 1 Adam   g += wd·p (L2); m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²
//                 p −= lr·(m / bc1) / (sqrt(v / bc2) + ε)
//   KIND 2 AdamW  as Adam without the L2 term, then p −= lr·wd·p (decoupled weight decay)
// bc1 = 1 − β1^t and bc2 = 1 − β2^t are the bias corrections of step t (computed by the host).
//
// Bindings (group 0):
//   0 params     uniform       Params
//   1 param      storage read  array<f32>, n
//   2 grad       storage read  array<f32>, n
//   3 state      storage read  array<f32>, SGD with momentum: velocity (n); Adam(W): m and v of
//                              each element side by side (2n), so that n consecutive elements'
//                              state is one contiguous range (the host splits large tensors)
//   4 scale      storage read  array<f32>, 1 element
//   5 param_out  storage rw    array<f32>, n
//   6 state_out  storage rw    array<f32>, like state
// Workgroup: 256 x 1 x 1. Dispatch: ceil(n / 256) workgroups (folded into x, y, z by the host).

override KIND: u32 = 0u;
override NESTEROV: u32 = 0u;

struct Params {
  n: u32,
  lr: f32,
  weight_decay: f32,
  momentum: f32,
  beta1: f32,
  beta2: f32,
  epsilon: f32,
  bc1: f32,
  bc2: f32,
  clip_value: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read> state: array<f32>;
@group(0) @binding(4) var<storage, read> scale: array<f32>;
@group(0) @binding(5) var<storage, read_write> param_out: array<f32>;
@group(0) @binding(6) var<storage, read_write> state_out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y) * 256u + lid;
  if (i >= params.n) { return; }
  let p = param[i];
  var g = grad[i] * scale[0];
  if (params.clip_value > 0.0) { g = clamp(g, -params.clip_value, params.clip_value); }
  if (KIND != 2u) { g += params.weight_decay * p; }

  if (KIND == 0u) {
    var step = g;
    if (params.momentum > 0.0) {
      let vel = params.momentum * state[i] + g;
      state_out[i] = vel;
      step = select(vel, g + params.momentum * vel, NESTEROV == 1u);
    }
    param_out[i] = p - params.lr * step;
    return;
  }
  let m = params.beta1 * state[2u * i] + (1.0 - params.beta1) * g;
  let v = params.beta2 * state[2u * i + 1u] + (1.0 - params.beta2) * g * g;
  state_out[2u * i] = m;
  state_out[2u * i + 1u] = v;
  var next = p - params.lr * (m / params.bc1) / (sqrt(v / params.bc2) + params.epsilon);
  if (KIND == 2u) { next -= params.lr * params.weight_decay * p; }
  param_out[i] = next;
}
