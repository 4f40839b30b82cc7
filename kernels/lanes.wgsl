// lanes.wgsl — the plain form of the lane prelude that kernels with a subgroup form put first
// (conv3d.wgsl, conv3d_grad_weight.wgsl, matmul_rows.wgsl): an entry point takes `lanes: Lanes` and calls
// lanes_begin(lanes) so that one kernel file serves both forms. Here no lane is needed and no lane
// sees another's values; the struct carries a builtin the kernels do not otherwise use.
// lanes_subgroup.wgsl is the other form.

struct Lanes {
  @builtin(local_invocation_id) unused: vec3<u32>,
}

fn lanes_begin(l: Lanes) {}

// Without subgroups no lane sees another's values (lanes_subgroup.wgsl has the shared forms).
const LANES_SHARE: bool = false;

fn next_lane_runs(i: u32) -> bool {
  return false;
}

fn from_next_lane(v: f32) -> f32 {
  return v;
}

fn partner_runs(i: u32, d: u32) -> bool {
  return false;
}

fn from_partner_u32(v: u32, d: u32) -> u32 {
  return v;
}

fn from_partner(v: vec4<f32>, d: u32) -> vec4<f32> {
  return v;
}
