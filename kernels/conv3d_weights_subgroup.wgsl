// conv3d_weights_subgroup.wgsl — conv3d_weights.wgsl for devices with subgroups of at least 8
// invocations that the kernel's workgroups of 64 fill (src/tensor/subgroups.ts): the KZ · CB4
// weight vec4s of an input channel are loaded once per subgroup, lane j loading vec4 j (and
// j + 8, ...), then handed to every lane with subgroupShuffle. On lavapipe 25.0, which gathers a
// uniform address lane by lane unless it is a compile-time constant, this turns 8 loads of one
// address into one useful load and makes the 16-64-channel layers 1.5x faster. The weights of a
// workgroup are the same for all its invocations, and the caller keeps control flow uniform, as
// subgroupShuffle requires.
// (Preceded by lanes_subgroup.wgsl: `enable subgroups`, SUBGROUP_MIN and this invocation's lane.)

// As in conv3d_weights.wgsl: [kz · CB4 + c] = w[wb + (tz · CIC + ci) · CO4 + c].
fn channel_weights(wb: u32, ci: u32, CIC: u32, CO4: u32) -> array<vec4<f32>, KZ * CB4> {
  var out: array<vec4<f32>, KZ * CB4>;
  for (var r = 0u; r < KZ * CB4; r += SUBGROUP_MIN) {
    // This lane's vec4 of the round (lanes past the last repeat it).
    let q = min(r + lane % SUBGROUP_MIN, KZ * CB4 - 1u);
    let tz = select(q / CB4, KZ - 1u - q / CB4, FLIP == 1u);
    let mine = w[wb + (tz * CIC + ci) * CO4 + q % CB4];
    for (var j = 0u; j < SUBGROUP_MIN && r + j < KZ * CB4; j++) { out[r + j] = subgroupShuffle(mine, j); }
  }
  return out;
}
