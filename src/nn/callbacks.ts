/** Training callbacks. */
import { argMessage, ValueError } from '../errors.js';
import type { Callback, Logs } from './model.js';

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
