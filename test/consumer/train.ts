// What an app that depends on voxgrad writes: a strict type-check runs over it (test/consumer.test.ts)
// against the packed package, then Node and Chromium run it.
import * as vg from 'voxgrad';

export interface TrainResult {
  adapter: string;
  /** The total loss of one trainStep. */
  loss: number;
  /** Per output, unweighted. */
  perOutput: Record<string, number>;
  /** The loss logged by one epoch of fit. */
  fitLoss: number;
}

const S = 4;

/** A ball in a 4³ volume: the image, its labels (int32) and the foreground mask. */
function batch(): { x: vg.Tensor; seg: vg.Tensor; fg: vg.Tensor } {
  const labels = new Int32Array(S * S * S);
  for (let i = 0; i < labels.length; i++) {
    const d = Math.hypot((i % S) - 1.5, (Math.floor(i / S) % S) - 1.5, Math.floor(i / (S * S)) - 1.5);
    labels[i] = d < 1.5 ? 1 : 0;
  }
  return {
    x: vg.tensor(
      Float32Array.from(labels, (k) => (k ? 1 : -1)),
      [1, S, S, S, 1],
    ),
    seg: vg.tensor(labels, [1, S, S, S], 'int32'),
    fg: vg.tensor(Float32Array.from(labels), [1, S, S, S, 1]),
  };
}

/** A shared convolution and two heads: a 2-class segmentation and a foreground map. */
function build(): vg.Model {
  const image: vg.SymbolicTensor = vg.input({ shape: [S, S, S, 1], name: 'image' });
  const trunk = new vg.Conv3D({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', seed: 1 });
  const h = trunk.apply(image);
  const seg = new vg.Conv3D({ filters: 2, kernelSize: 1, seed: 2, name: 'seg' }).apply(h);
  const fg = new vg.Conv3D({ filters: 1, kernelSize: 1, seed: 3, name: 'fg' }).apply(h);
  return vg.model({ inputs: image, outputs: { seg, fg }, outputActivations: { seg: 'softmax', fg: 'sigmoid' } });
}

/** Opens the GPU (the device given, or one voxgrad selects), trains, and releases the GPU. */
export async function train(device?: GPUDevice): Promise<TrainResult> {
  const info: vg.DeviceInfo = await vg.init(device ? { device } : {});
  try {
    const m = build();
    const dice: vg.LossFn = (yTrue, yPred) => vg.dice(yTrue, yPred, { activation: 'softmax' });
    const options: vg.CompileOptions = {
      optimizer: new vg.Adam({ learningRate: 0.01 }),
      loss: { seg: dice, fg: 'binaryCrossentropy' },
      lossWeights: { seg: 0.5, fg: 0.3 },
    };
    m.compile(options);
    const { x, seg, fg } = batch();
    const { total, perOutput } = m.trainStep(x, { seg, fg });
    const names = Object.keys(perOutput);
    const values = await vg.readAll([total, ...names.map((n) => perOutput[n] as vg.Tensor)]);
    const history: vg.History = await m.fit(x, { seg, fg }, { epochs: 1, batchSize: 1 });
    return {
      adapter: info.adapter,
      loss: values[0]?.[0] ?? Number.NaN,
      perOutput: Object.fromEntries(names.map((n, i) => [n, values[i + 1]?.[0] ?? Number.NaN])),
      fitLoss: history.history.loss?.[0] ?? Number.NaN,
    };
  } finally {
    await vg.dispose();
  }
}
