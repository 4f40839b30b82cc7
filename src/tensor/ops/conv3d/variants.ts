/**
 * Which variant of each convolution kernel runs: the register blocks of the direct kernels (VZ
 * voxels × CB4 vec4 channel blocks per invocation for the forward pass and the input gradient; TB
 * taps × CIB input channels per invocation for the weight gradient). The defaults were measured
 * on a software adapter; the tuner replaces them with choices timed on the current adapter.
 */

export interface DirectBlocks {
  /** Voxels per invocation, consecutive along z. */
  VZ: number;
  /** vec4 blocks of channels per invocation. */
  CB4: number;
}

export interface WeightBlocks {
  /** Taps per invocation. */
  TB: number;
  /** Input channels per invocation. */
  CIB: number;
}

export const convVariants = {
  /** The forward pass (channels = output channels) and the input gradient (channels = input channels). */
  direct(channels: number, zLength: number): DirectBlocks {
    const CB4 = Math.min(Math.ceil(channels / 4), 2);
    return { VZ: Math.max(1, Math.min(channels <= 4 ? 8 : 4, zLength)), CB4 };
  },
  /** The weight gradient, whose invocations each own TB · CIB · ceil(CO / 4) vec4 accumulators. */
  weight(CI: number, CO: number, taps: number): WeightBlocks {
    const CO4 = Math.ceil(CO / 4);
    const CIB = Math.max(1, Math.min(CI, Math.floor(32 / CO4)));
    return { TB: Math.max(1, Math.min(taps, Math.floor(32 / (CO4 * CIB)))), CIB };
  },
};
