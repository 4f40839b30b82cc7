/** Activation functions by name, as layers take them. */
import { argMessage, ValueError } from '../errors.js';
import { describe } from '../tensor/ops/check.js';
import { relu, sigmoid, tanh } from '../tensor/ops/elementwise/index.js';
import { softmax } from '../tensor/ops/softmax.js';
import type { Tensor } from '../tensor/tensor.js';

export type ActivationName = 'linear' | 'relu' | 'sigmoid' | 'tanh' | 'softmax';

const ACTIVATIONS: Record<ActivationName, ((x: Tensor) => Tensor) | null> = {
  linear: null,
  relu,
  sigmoid,
  tanh,
  softmax: (x) => softmax(x, -1),
};

export function checkActivation(fn: string, name: unknown): ActivationName {
  const a = (name ?? 'linear') as ActivationName;
  if (!(a in ACTIVATIONS))
    throw new ValueError(
      argMessage(
        fn,
        'activation',
        Object.keys(ACTIVATIONS)
          .map((k) => `'${k}'`)
          .join(' | '),
        describe(name),
      ),
    );
  return a;
}

export function activate(name: ActivationName, x: Tensor): Tensor {
  const f = ACTIVATIONS[name];
  return f ? f(x) : x;
}
