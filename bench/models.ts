/**
 * The training steps the benchmark measures: the two-head demo model and the two-head 3D U-Net
 * (16 base channels, two max-pools, skip concatenations, group norm, a softmax/dice head and a
 * sigmoid/tversky head, 0.5·dice + 0.3·tversky, Adam), on synthetic volumes.
 */
import { SYNTHETIC_CLASSES, syntheticVolumes } from '../src/data/synthetic.js';
import { Tape } from '../src/grad/tape.js';
import * as vg from '../src/index.node.js';
import { foregroundLoss, segmentationLoss, twoHeadModel } from '../src/models/two_heads.js';
import { engine } from '../src/tensor/engine.js';
import type { Conv3dGeometry } from '../src/tensor/ops/conv3d/geometry.js';

export interface StepSetup {
  model: vg.Model;
  x: vg.Tensor;
  y: Record<string, vg.Tensor>;
  dispose(): void;
}

/** A compiled model and one batch of `batch` synthetic volumes of size³. */
export function stepSetup(kind: 'small' | 'unet', size: number, batch: number, filters: number): StepSetup {
  const data = syntheticVolumes(batch, size, 3);
  const shape = [batch, size, size, size];
  const model =
    kind === 'small'
      ? twoHeadModel({ size, classes: SYNTHETIC_CLASSES, filters })
      : vg.unet3d({
          inputShape: [size, size, size, 1],
          baseFilters: filters,
          depth: 3,
          heads: {
            segmentation: { classes: SYNTHETIC_CLASSES, activation: 'softmax' },
            foreground: { classes: 1, activation: 'sigmoid' },
          },
        });
  model.compile({
    optimizer: new vg.Adam({ learningRate: kind === 'small' ? 0.03 : 1e-3 }),
    loss: { segmentation: segmentationLoss, foreground: foregroundLoss },
    lossWeights: { segmentation: 0.5, foreground: 0.3 },
  });
  const x = vg.tensor(data.image, [...shape, 1]);
  const fgData = new Float32Array(data.labels.length);
  for (let i = 0; i < fgData.length; i++) fgData[i] = data.labels[i] > 0 ? 1 : 0;
  const y = { segmentation: vg.tensor(data.labels, shape, 'int32'), foreground: vg.tensor(fgData, [...shape, 1]) };
  return {
    model,
    x,
    y,
    dispose: () => {
      for (const t of [x, ...Object.values(y)]) t.dispose();
      for (const w of model.layers.flatMap((l) => l.allWeights)) w.dispose();
    },
  };
}

/** One optimizer step; returns the total loss tensor (unread). */
export function trainStep(s: StepSetup): vg.Tensor {
  return vg.tidy(() => vg.keep(s.model.trainStep(s.x, s.y).total));
}

/**
 * The FLOPs of a training step's convolutions, counted from the geometry of every conv3d the
 * forward pass runs: 2 · output voxels · taps · Cin · Cout for the forward pass, as much again
 * for the weight gradient, and for the input gradient where the input is itself computed (not
 * the image).
 */
export function stepConvFlops(s: StepSetup): number {
  const tape = new Tape();
  for (const w of s.model.trainableWeights) tape.watch(w);
  engine.observer = tape;
  let flops = 0;
  try {
    vg.tidy(() => {
      s.model.call(s.x, true);
    });
    const computed = new Set(tape.nodes.flatMap((n) => n.outputIds));
    for (const node of tape.nodes) {
      if (node.name !== 'conv3d') continue;
      const g = (node.saved.attrs as { geometry: Conv3dGeometry }).geometry;
      const once =
        2 * g.B * g.output[0] * g.output[1] * g.output[2] * g.kernel[0] * g.kernel[1] * g.kernel[2] * g.CI * g.CO;
      flops += once * (computed.has(node.inputIds[0]!) ? 3 : 2);
    }
  } finally {
    engine.observer = null;
    tape.dispose();
  }
  return flops;
}
