/** Training callbacks: fit's check of them, and early stopping. */
import { argMessage, ValueError } from '../errors.js';
import { describe } from '../tensor/ops/check.js';
import type { Callback, Logs } from './model_options.js';

/** fit's `callbacks`: a list of objects whose onBatchEnd / onEpochEnd, when present, are functions. */
export function checkCallbacks(fn: string, value: unknown): readonly Callback[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value))
    throw new ValueError(
      argMessage(fn, 'callbacks', 'a list of callbacks ({ onBatchEnd?, onEpochEnd? })', describe(value)),
    );
  value.forEach((c, i) => {
    if (c === null || typeof c !== 'object')
      throw new ValueError(
        argMessage(fn, `callbacks[${i}]`, 'an object with onBatchEnd and/or onEpochEnd', describe(c)),
      );
    for (const hook of ['onBatchEnd', 'onEpochEnd'] as const)
      if (c[hook] !== undefined && typeof c[hook] !== 'function')
        throw new ValueError(argMessage(fn, `callbacks[${i}].${hook}`, 'a function', describe(c[hook])));
  });
  return value;
}

/**
 * Stops training when `monitor` (default 'val_loss', or 'loss' without validation data) has not
 * improved by more than `minDelta` for `patience` epochs.
 */
export function earlyStopping(
  o: { monitor?: string; patience?: number; minDelta?: number } = {},
): Callback & { stoppedEpoch: number | null } {
  const patience = o.patience ?? 0;
  if (!Number.isInteger(patience) || patience < 0)
    throw new ValueError(argMessage('earlyStopping', 'patience', 'an integer >= 0', patience));
  const minDelta = o.minDelta ?? 0;
  let best = Infinity;
  let wait = 0;
  const cb = {
    stoppedEpoch: null as number | null,
    onEpochEnd(epoch: number, logs: Logs): boolean {
      const key = o.monitor ?? ('val_loss' in logs ? 'val_loss' : 'loss');
      const value = logs[key];
      if (value === undefined)
        throw new ValueError(argMessage('earlyStopping', 'monitor', `one of ${Object.keys(logs).join(', ')}`, key));
      if (value < best - minDelta) {
        best = value;
        wait = 0;
        return false;
      }
      if (++wait > patience) {
        cb.stoppedEpoch = epoch;
        return true;
      }
      return false;
    },
  };
  return cb;
}
