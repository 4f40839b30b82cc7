/**
 * Learning-rate schedules: functions of the optimizer's step count (0 for the first update), as
 * Keras' LearningRateSchedule. They run on the host; the rate reaches the kernel as a uniform.
 */
import { argMessage, ValueError } from '../../errors.js';

export type Schedule = (step: number) => number;

function positive(fn: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
    throw new ValueError(argMessage(fn, arg, 'a finite number > 0', v));
  return v;
}

function inUnit(fn: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new ValueError(argMessage(fn, arg, 'a number in [0, 1]', v));
  return v;
}

/** initial · factor^floor(step / every): e.g. halve the rate every 1000 steps. */
export function stepDecay(options: { initial: number; factor: number; every: number }): Schedule {
  const fn = 'stepDecay';
  const initial = positive(fn, 'initial', options.initial);
  const factor = positive(fn, 'factor', options.factor);
  const every = positive(fn, 'every', options.every);
  return (step) => initial * factor ** Math.floor(step / every);
}

/**
 * Cosine decay from `initial` to `alpha · initial` over `decaySteps`, after an optional linear
 * warm-up of `warmupSteps` (Keras CosineDecay).
 */
export function cosineDecay(options: {
  initial: number;
  decaySteps: number;
  alpha?: number;
  warmupSteps?: number;
}): Schedule {
  const fn = 'cosineDecay';
  const initial = positive(fn, 'initial', options.initial);
  const decaySteps = positive(fn, 'decaySteps', options.decaySteps);
  const alpha = inUnit(fn, 'alpha', options.alpha ?? 0);
  const warmup = options.warmupSteps === undefined ? 0 : positive(fn, 'warmupSteps', options.warmupSteps);
  return (step) => {
    if (step < warmup) return (initial * (step + 1)) / warmup;
    const t = Math.min(step - warmup, decaySteps) / decaySteps;
    return initial * (alpha + (1 - alpha) * 0.5 * (1 + Math.cos(Math.PI * t)));
  };
}
