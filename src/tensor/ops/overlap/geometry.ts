/**
 * The arguments of the fused overlap sums, checked once: y_pred channels-last (B, ...spatial, C);
 * y_true float32 of the same shape (one-hot, binary or soft labels) or int32 class indices of
 * shape (B, ...spatial) or (B, ...spatial, 1); the fused activation; the optional statistics and
 * their slots along axis 1 of the (B, S, C) result.
 */
import { argMessage, ShapeError, ValueError } from '../../../errors.js';
import { checkFloat, checkTensor, describe } from '../check.js';

export type Activation = 'none' | 'sigmoid' | 'softmax';

/** Which statistics to compute besides S_tp, S_t, S_p (each costs a little ALU, no extra reads). */
export interface OverlapStats {
  /** Σ |p − t| (the soft-label intersection (S_p + S_t − Σ|p − t|) / 2). */
  absDiff?: boolean;
  /** Σ p² and Σ t² (squared-denominator dice). */
  squares?: boolean;
  /** Σ t·log p (categorical cross-entropy). */
  logLikelihood?: boolean;
  /** Σ t·log p + (1 − t)·log(1 − p) (binary cross-entropy). */
  binaryLogLikelihood?: boolean;
}

export type StatName = 'tp' | 't' | 'p' | 'absDiff' | 'pp' | 'tt' | 'logLikelihood' | 'binaryLogLikelihood';

/** The slot of each statistic along axis 1 of overlapSums' (B, S, C) result. */
export function statSlots(stats: OverlapStats): Partial<Record<StatName, number>> {
  const slots: Partial<Record<StatName, number>> = { tp: 0, t: 1, p: 2 };
  let next = 3;
  if (stats.absDiff) slots.absDiff = next++;
  if (stats.squares) {
    slots.pp = next++;
    slots.tt = next++;
  }
  if (stats.logLikelihood) slots.logLikelihood = next++;
  if (stats.binaryLogLikelihood) slots.binaryLogLikelihood = next++;
  return slots;
}

/** Classes a voxel may have: each invocation keeps a voxel's classes in registers. */
export const MAX_CLASSES = 256;

export interface OverlapGeometry {
  /** Samples, voxels per sample, classes. */
  readonly B: number;
  readonly N: number;
  readonly C: number;
  /** y_true holds int32 class indices (else float32 of y_pred's shape). */
  readonly labels: boolean;
}

/** Validates y_true / y_pred and returns (B, N voxels per sample, C classes). */
export function overlapGeometry(fn: string, yTrue: unknown, yPred: unknown): OverlapGeometry {
  const p = checkFloat(fn, 'yPred', yPred);
  if (p.rank < 2) {
    throw new ShapeError(
      argMessage(fn, 'yPred', 'a channels-last tensor (batch, ...spatial, classes) of rank >= 2', describe(p)),
    );
  }
  const t = checkTensor(fn, 'yTrue', yTrue);
  const B = p.shape[0];
  const C = p.shape[p.rank - 1];
  const N = p.shape.slice(1, -1).reduce((a, b) => a * b, 1);
  if (C < 1 || C > MAX_CLASSES)
    throw new ShapeError(argMessage(fn, 'yPred', `1 to ${MAX_CLASSES} classes on the last axis`, describe(p)));
  if (t.dtype === 'float32') {
    if (t.rank !== p.rank || t.shape.some((d, i) => d !== p.shape[i])) {
      throw new ShapeError(
        argMessage(
          fn,
          'yTrue',
          `float32 of yPred's shape [${p.shape.join(', ')}] (or int32 class indices of shape [${p.shape.slice(0, -1).join(', ')}])`,
          describe(t),
        ),
      );
    }
    return { B, N, C, labels: false };
  }
  const lead = p.shape.slice(0, -1);
  const same = (s: readonly number[]): boolean => s.length === lead.length && s.every((d, i) => d === lead[i]);
  const ok = same(t.shape) || (t.rank === p.rank && t.shape[t.rank - 1] === 1 && same(t.shape.slice(0, -1)));
  if (!ok) {
    throw new ShapeError(
      argMessage(
        fn,
        'yTrue',
        `int32 class indices of shape [${lead.join(', ')}] or [${[...lead, 1].join(', ')}]`,
        describe(t),
      ),
    );
  }
  return { B, N, C, labels: true };
}

/** The activation option, which must leave more than one value for softmax to normalise. */
export function checkActivation(fn: string, activation: unknown, C: number): Activation {
  if (activation !== 'none' && activation !== 'sigmoid' && activation !== 'softmax') {
    throw new ValueError(argMessage(fn, 'activation', "'none', 'sigmoid' or 'softmax'", describe(activation)));
  }
  if (activation === 'softmax' && C === 1) {
    throw new ValueError(
      argMessage(
        fn,
        'activation',
        "'sigmoid' or 'none' for a single class (softmax over 1 class is always 1)",
        "'softmax'",
      ),
    );
  }
  return activation;
}

/** The statistics asked for, checked against the activation. */
export function checkStats(fn: string, activation: Activation, stats: OverlapStats): Required<OverlapStats> {
  const s = {
    absDiff: !!stats.absDiff,
    squares: !!stats.squares,
    logLikelihood: !!stats.logLikelihood,
    binaryLogLikelihood: !!stats.binaryLogLikelihood,
  };
  if (s.binaryLogLikelihood && activation === 'softmax') {
    throw new ValueError(
      argMessage(fn, 'activation', "'none' or 'sigmoid' with the binary log-likelihood", "'softmax'"),
    );
  }
  return s;
}
