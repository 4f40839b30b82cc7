// matmul_rows_b_rounds_subgroup.wgsl — what matmul_rows_b_subgroup.wgsl and
// matmul_rows_b4_subgroup.wgsl (which load B element by element or as vec4s, and follow this
// prelude) share: how many rows of B a round takes, and how each lane gets the round's vec4s
// from the lane that loaded them. The first 8 lanes each load NB vec4s of a round: lane l loads
// vec4s l, l + 8, ... of its KR rows of CB4 vec4s (row-major), and subgroupShuffle hands every
// vec4 to every lane. (Preceded by lanes_subgroup.wgsl: `enable subgroups`, SUBGROUP_MIN and this
// invocation's lane.)

// Rows of B per round: enough that each of the first 8 lanes loads NB whole vec4s (one row of
// CB4 = 8 vec4s, two of CB4 = 4).
const KR: u32 = max(1u, SUBGROUP_MIN / CB4);
const NB: u32 = KR * CB4 / SUBGROUP_MIN;
const_assert (KR * CB4) % SUBGROUP_MIN == 0u;

// This lane's vec4s of a round.
struct BRound { v: array<vec4<f32>, NB> }

// Row r, column block j of the round, from the lane that loaded it.
fn b_at(round: BRound, r: u32, j: u32) -> vec4<f32> {
  let e = r * CB4 + j;
  return subgroupShuffle(round.v[e / SUBGROUP_MIN], e % SUBGROUP_MIN);
}
