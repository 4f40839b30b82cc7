/**
 * What a training step must hold at least, counted from the tensors' shapes: the activations the
 * tape saves for backward (each storage once, however many ops save it), the weights, their
 * gradients and the optimizer's state. The benchmark sets the step's measured peak against it.
 */
import { Tape } from '../src/grad/tape.js';
import * as vg from '../src/index.node.js';
import { engine } from '../src/tensor/engine.js';
import type { Storage } from '../src/tensor/tensor.js';
import type { StepSetup } from './models.js';

export interface StepMemory {
  /** Bytes of the distinct tensors the tape keeps for backward. */
  savedBytes: number;
  weightBytes: number;
  /** One gradient per weight. */
  gradientBytes: number;
  /** Adam's m and v. */
  optimizerBytes: number;
  /** The sum of the above: what the step needs at its peak (the start of backward). */
  neededBytes: number;
}

export function stepMemory(s: StepSetup): StepMemory {
  const weights = s.model.trainableWeights;
  const tape = new Tape();
  for (const w of weights) tape.watch(w);
  const saved = new Set<Storage>();
  engine.observer = tape;
  try {
    vg.tidy(() => {
      const out = s.model.call(s.x, true);
      for (const [name, t] of Object.entries(s.y)) {
        // Each head's loss reads its logits once: what its overlap sums save.
        vg.dice(t.dtype === 'int32' ? t : vg.cast(t, 'float32'), out[name], {
          activation: name === 'segmentation' ? 'softmax' : 'sigmoid',
        });
      }
    });
    for (const node of tape.nodes) {
      for (const t of [...node.saved.inputs, ...node.saved.outputs]) {
        // Weights are counted as weights; the rest are activations.
        if (t && !weights.some((w) => w.storageFor() === t.storageFor())) saved.add(t.storageFor());
      }
    }
  } finally {
    engine.observer = null;
    tape.dispose();
  }
  const savedBytes = [...saved].reduce((a, st) => a + st.bytes, 0);
  const weightBytes = weights.reduce((a, w) => a + w.byteSize, 0);
  return {
    savedBytes,
    weightBytes,
    gradientBytes: weightBytes,
    optimizerBytes: 2 * weightBytes,
    neededBytes: savedBytes + 4 * weightBytes,
  };
}
