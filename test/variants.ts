import * as vg from '../src/index.node.js';
import { convFamily } from '../src/tensor/ops/conv3d/variants.js';

const PASSES = ['forward', 'input', 'weight'] as const;

/** Runs a test body with one variant forced for every conv3d pass (then back to the defaults). */
export async function withConvVariant<T>(variant: string, body: () => Promise<T>): Promise<T> {
  for (const pass of PASSES) {
    const family = convFamily(pass);
    if (!vg.tuning.families()[family]!.includes(variant)) throw new Error(`${family} has no variant ${variant}`);
    vg.tuning.force(family, variant);
  }
  try {
    return await body();
  } finally {
    for (const pass of PASSES) vg.tuning.force(convFamily(pass), null);
  }
}
