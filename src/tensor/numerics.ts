/**
 * The probe of the checkNumerics debug mode (flags.checkNumerics): the number of finite values of
 * a tensor, counted on the GPU (|x| <= FLT_MAX is false for NaN and ±inf), read with the next read.
 */
import { engine } from './engine.js';
import { cast } from './ops/cast.js';
import { abs, lessEqual } from './ops/elementwise/index.js';
import { sum } from './ops/reduce.js';

engine.numericsProbe = (t) => {
  const finite = cast(lessEqual(abs(t), 3.4028234663852886e38), 'float32');
  const count = sum(finite);
  finite.dispose();
  return count;
};

/** Reads the pending numerics checks now; throws a NumericsError naming the first bad op. */
export async function checkNumerics(): Promise<void> {
  await engine.readMany([]);
}
