// lanes_subgroup.wgsl — the subgroup form of lanes.wgsl, first in a kernel's preludes (a WGSL
// `enable` comes before any declaration): the invocation's lane in its subgroup, for kernels that
// load once per subgroup what a whole workgroup reads and hand it out with subgroupShuffle, take
// values their next lane loaded (conv3d's overlapping input windows), or split loads with a
// partner lane (conv3d's weight gradient). The host runs such kernels only where subgroups hold at
// least SUBGROUP_MIN invocations and the workgroup fills them (src/tensor/subgroups.ts).

enable subgroups;

// Values are loaded by lanes 0 .. SUBGROUP_MIN − 1 and shuffled from them.
const SUBGROUP_MIN: u32 = 8u;

struct Lanes {
  @builtin(subgroup_invocation_id) id: u32,
  @builtin(subgroup_size) size: u32,
}

var<private> lane: u32;
var<private> lanes_in_subgroup: u32;

fn lanes_begin(l: Lanes) {
  lane = l.id;
  lanes_in_subgroup = l.size;
}

// Lanes here see each other's values (lanes.wgsl: they do not).
const LANES_SHARE: bool = true;

// Neighbours: whether the next lane of this subgroup runs invocation i + 1 (i: this invocation's
// index; the order of lanes is not tied to invocation indices, so it is checked), and a value
// taken from the next lane. Both in uniform control flow.

fn next_lane_runs(i: u32) -> bool {
  let next = subgroupShuffleDown(i, 1u);
  return lane + 1u < lanes_in_subgroup && next == i + 1u;
}

fn from_next_lane(v: f32) -> f32 {
  return subgroupShuffleDown(v, 1u);
}

// Partners: whether lane ^ d of this subgroup runs invocation i ^ d, and values taken from it (d a
// constant power of two below SUBGROUP_MIN), all in uniform control flow.
fn partner_runs(i: u32, d: u32) -> bool {
  return subgroupShuffleXor(i, d) == (i ^ d);
}

fn from_partner_u32(v: u32, d: u32) -> u32 {
  return subgroupShuffleXor(v, d);
}

fn from_partner(v: vec4<f32>, d: u32) -> vec4<f32> {
  return subgroupShuffleXor(v, d);
}
