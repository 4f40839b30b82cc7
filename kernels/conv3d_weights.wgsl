// conv3d_weights.wgsl — how the direct conv3d kernel (conv3d.wgsl, which the registry puts after
// lanes.wgsl, this prelude and conv3d_geometry.wgsl) reads the weights of one input channel:
// every invocation loads each of the KZ · CB4 vec4s itself from the uniform binding w. Where
// every invocation of a workgroup reads the same address this is the GPU's constant-cache
// broadcast; lavapipe 25.0 loads any non-constant uniform address lane by lane, so on devices
// with subgroups conv3d_weights_subgroup.wgsl takes this file's place.

// The weights of input channel ci for the KZ taps along z of tap row wb (the index of its first
// vec4): [kz · CB4 + c] = w[wb + (tz · CIC + ci) · CO4 + c], tz the tap read (flipped with FLIP).
fn channel_weights(wb: u32, ci: u32, CIC: u32, CO4: u32) -> array<vec4<f32>, KZ * CB4> {
  var out: array<vec4<f32>, KZ * CB4>;
  for (var kz = 0u; kz < KZ; kz++) {
    let tz = select(kz, KZ - 1u - kz, FLIP == 1u);
    for (var c = 0u; c < CB4; c++) { out[kz * CB4 + c] = w[wb + (tz * CIC + ci) * CO4 + c]; }
  }
  return out;
}
