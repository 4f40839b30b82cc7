import * as vg from '../src/index.node.js';
import { convFamily } from '../src/tensor/ops/conv3d/variants.js';

const PASSES = ['forward', 'input', 'weight'] as const;

/**
 * Runs a test body with one variant forced for every conv3d pass (then back to the defaults); a
 * pass without that variant (the weight gradient has no 'direct-subgroup') runs 'direct'.
 */
export async function withConvVariant<T>(variant: string, body: () => Promise<T>): Promise<T> {
  const families = vg.tuning.families();
  for (const pass of PASSES) {
    const family = convFamily(pass);
    vg.tuning.force(family, families[family]!.includes(variant) ? variant : 'direct');
  }
  try {
    return await body();
  } finally {
    for (const pass of PASSES) vg.tuning.force(convFamily(pass), null);
  }
}
