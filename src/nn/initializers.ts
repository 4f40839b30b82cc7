/**
 * Weight initialisers (Glorot / He), seeded so a model is reproducible. Fans follow Keras: for a
 * kernel (..., in, out) the receptive field is the product of the leading axes.
 */
import { argMessage, ValueError } from '../errors.js';
import { describe } from '../tensor/ops/check.js';
import { randomNormal, randomUniform, zeros } from '../tensor/ops/creation.js';
import type { Tensor } from '../tensor/tensor.js';

export type Initializer = 'glorotUniform' | 'heNormal' | 'heUniform' | 'zeros';

const INITIALIZERS: readonly Initializer[] = ['glorotUniform', 'heNormal', 'heUniform', 'zeros'];

/** An initialiser's name (undefined gives `fallback`); anything else is an error listing them. */
export function checkInitializer(fn: string, arg: string, v: unknown, fallback: Initializer): Initializer {
  if (v === undefined) return fallback;
  if (!INITIALIZERS.includes(v as Initializer))
    throw new ValueError(argMessage(fn, arg, INITIALIZERS.map((k) => `'${k}'`).join(' | '), describe(v)));
  return v as Initializer;
}

function fans(shape: readonly number[]): [number, number] {
  if (shape.length < 2) return [shape[0] ?? 1, shape[0] ?? 1];
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return [receptive * shape[shape.length - 2], receptive * shape[shape.length - 1]];
}

export function initialize(kind: Initializer, shape: readonly number[], seed: number): Tensor {
  const [fanIn, fanOut] = fans(shape);
  switch (kind) {
    case 'glorotUniform': {
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      return randomUniform(shape, { minval: -limit, maxval: limit, seed });
    }
    case 'heNormal':
      return randomNormal(shape, { stddev: Math.sqrt(2 / fanIn), seed });
    case 'heUniform': {
      const limit = Math.sqrt(6 / fanIn);
      return randomUniform(shape, { minval: -limit, maxval: limit, seed });
    }
    default:
      return zeros(shape);
  }
}
