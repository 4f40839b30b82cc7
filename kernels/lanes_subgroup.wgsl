// lanes_subgroup.wgsl — the subgroup form of lanes.wgsl, first in a kernel's preludes (a WGSL
// `enable` comes before any declaration): the invocation's lane in its subgroup, for preludes that
// load what a whole workgroup reads once per subgroup and hand it out with subgroupShuffle. The
// host runs such kernels only where subgroups hold at least SUBGROUP_MIN invocations and the
// workgroup fills them (src/tensor/subgroups.ts).

enable subgroups;

// Values are loaded by lanes 0 .. SUBGROUP_MIN − 1 and shuffled from them.
const SUBGROUP_MIN: u32 = 8u;

struct Lanes {
  @builtin(subgroup_invocation_id) id: u32,
}

var<private> lane: u32;

fn lanes_begin(l: Lanes) {
  lane = l.id;
}
