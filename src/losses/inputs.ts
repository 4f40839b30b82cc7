/**
 * y_true / y_pred arguments of the losses and metrics. Tensors are used as they are (their values
 * live on the GPU and are not read back). Host data (nested arrays or typed arrays) is checked
 * value by value before anything is uploaded: finite numbers, probabilities in [0, 1] where the
 * loss reads them as probabilities, and class indices in range.
 */
import { argMessage, ShapeError, ValueError } from '../errors.js';
import { flattenNested, isNumberArray, type NumberArray } from '../tensor/host_data.js';
import { tensor } from '../tensor/ops/creation.js';
import {
  type Activation,
  checkActivation,
  type OverlapGeometry,
  overlapGeometry,
} from '../tensor/ops/overlap/index.js';
import { type NestedArray, Tensor } from '../tensor/tensor.js';

/** Host data: nested arrays of numbers, or a typed array of numbers (an Int32Array holds class indices). */
export type HostData = NestedArray[] | NumberArray;
export type SegInput = Tensor | HostData;

/** Whether x is host data; a typed array of another kind (BigInt64Array, ...) is a DTypeError. */
function isHost(fn: string, arg: string, x: unknown): x is HostData {
  return Array.isArray(x) || isNumberArray(fn, arg, x);
}

interface Host {
  values: ArrayLike<number>;
  shape: number[] | null;
  integer: boolean;
}

/** The values of host data; a ragged nested array is a ValueError naming its position. */
function hostOf(fn: string, arg: string, x: HostData): Host {
  if (Array.isArray(x)) {
    const { shape, flat } = flattenNested(fn, arg, x);
    return { values: flat, shape, integer: false };
  }
  return { values: x, shape: null, integer: x instanceof Int32Array };
}

function firstBad(values: ArrayLike<number>, ok: (v: number) => boolean): number {
  for (let i = 0; i < values.length; i++) if (!ok(values[i])) return i;
  return -1;
}

export interface Prepared {
  yTrue: Tensor;
  yPred: Tensor;
  /** (B, N, C) of the pair, checked. */
  geometry: OverlapGeometry;
  /** The activation, checked against the class count. */
  activation: Activation;
  /** Tensors made here from host data; the caller disposes them once the loss is built. */
  owned: Tensor[];
}

/**
 * Resolves y_true and y_pred to tensors and checks the pair (the one place a loss checks its
 * inputs). `predIsProbability`: y_pred must lie in [0, 1] (checked for host data only).
 */
export function prepareInputs(
  fn: string,
  yTrue: unknown,
  yPred: unknown,
  predIsProbability: boolean,
  activation: Activation = 'none',
): Prepared {
  const owned: Tensor[] = [];
  if (!(yPred instanceof Tensor) && !isHost(fn, 'yPred', yPred)) {
    throw new ValueError(argMessage(fn, 'yPred', 'a Tensor or host data (nested arrays / Float32Array)', typeof yPred));
  }
  if (!(yTrue instanceof Tensor) && !isHost(fn, 'yTrue', yTrue)) {
    throw new ValueError(
      argMessage(fn, 'yTrue', 'a Tensor or host data (nested arrays / Float32Array / Int32Array)', typeof yTrue),
    );
  }
  // The prediction's shape: from the tensor, the nested array, or a float y_true of the same shape.
  let predShape: readonly number[];
  let predHost: Host | null = null;
  if (yPred instanceof Tensor) predShape = yPred.shape;
  else {
    predHost = hostOf(fn, 'yPred', yPred);
    if (predHost.shape) predShape = predHost.shape;
    else if (yTrue instanceof Tensor && yTrue.dtype === 'float32') predShape = yTrue.shape;
    else if (Array.isArray(yTrue)) predShape = hostOf(fn, 'yTrue', yTrue).shape!;
    else
      throw new ShapeError(
        argMessage(fn, 'yPred', 'a Tensor or nested arrays when y_true gives no shape', 'a flat typed array'),
      );
    const size = predShape.reduce((a, b) => a * b, 1);
    if (predHost.values.length !== size)
      throw new ShapeError(
        argMessage(
          fn,
          'yPred',
          `${size} values for shape [${predShape.join(', ')}]`,
          `${predHost.values.length} values`,
        ),
      );
  }
  const C = predShape[predShape.length - 1];

  try {
    if (predHost) {
      const bad = firstBad(
        predHost.values,
        (v) => typeof v === 'number' && Number.isFinite(v) && (!predIsProbability || (v >= 0 && v <= 1)),
      );
      if (bad >= 0) {
        const what = predIsProbability ? 'probabilities: finite numbers in [0, 1]' : 'finite numbers';
        throw new ValueError(argMessage(fn, 'yPred', what, `${predHost.values[bad]} at flat index ${bad}`));
      }
      owned.push(tensor(Float32Array.from(predHost.values), predShape));
    }
    const pred = predHost ? owned[0] : (yPred as Tensor);

    let truth: Tensor;
    if (yTrue instanceof Tensor) truth = yTrue;
    else {
      const host = hostOf(fn, 'yTrue', yTrue as HostData);
      const lead = predShape.slice(0, -1);
      const fullSize = predShape.reduce((a, b) => a * b, 1);
      const leadSize = lead.reduce((a, b) => a * b, 1);
      const sameShape = (s: number[] | null, ref: readonly number[]): boolean =>
        !!s && s.length === ref.length && s.every((d, i) => d === ref[i]);
      let labels: boolean;
      if (host.shape) {
        if (sameShape(host.shape, predShape)) labels = false;
        else if (sameShape(host.shape, lead)) labels = true;
        else
          throw new ShapeError(
            argMessage(
              fn,
              'yTrue',
              `shape [${predShape.join(', ')}] (probabilities) or [${lead.join(', ')}] (class indices)`,
              `[${host.shape.join(', ')}]`,
            ),
          );
      } else {
        labels = host.integer;
        const want = labels ? leadSize : fullSize;
        if (host.values.length !== want)
          throw new ShapeError(argMessage(fn, 'yTrue', `${want} values`, `${host.values.length} values`));
      }
      if (labels) {
        const hi = C === 1 ? 1 : C - 1;
        const bad = firstBad(host.values, (v) => Number.isInteger(v) && v >= 0 && v <= hi);
        if (bad >= 0)
          throw new ValueError(
            argMessage(
              fn,
              'yTrue',
              `class indices: integers in [0, ${hi}]`,
              `${host.values[bad]} at flat index ${bad}`,
            ),
          );
        truth = tensor(Int32Array.from(host.values), lead, 'int32');
      } else {
        const bad = firstBad(host.values, (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1);
        if (bad >= 0)
          throw new ValueError(
            argMessage(fn, 'yTrue', 'finite numbers in [0, 1]', `${host.values[bad]} at flat index ${bad}`),
          );
        truth = tensor(Float32Array.from(host.values), predShape);
      }
      owned.push(truth);
    }
    const geometry = overlapGeometry(fn, truth, pred);
    return { yTrue: truth, yPred: pred, geometry, activation: checkActivation(fn, activation, geometry.C), owned };
  } catch (e) {
    for (const t of owned) t.dispose();
    throw e;
  }
}

/** Whether y_pred is read as probabilities under this activation and range option. */
export function predIsProbability(activation: Activation, predRange: 'probabilities' | 'any'): boolean {
  return activation === 'none' && predRange === 'probabilities';
}
