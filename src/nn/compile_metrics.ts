/**
 * The metrics of `compile({ metrics })`, by output name: 'dice', 'iou' or a named function of
 * (yTrue, yPred), reported as '<output>_<name>' beside the losses.
 */
import { argMessage, ValueError } from '../errors.js';
import { diceMetric, iouMetric } from '../losses/metrics.js';
import { checkKeys } from '../options.js';
import { describe } from '../tensor/ops/check.js';
import type { MetricFn } from './model_options.js';

export interface CompiledMetric {
  readonly output: string;
  readonly name: string;
  readonly fn: MetricFn;
}

/** The metrics of each output (keys must be output names), checked. */
export function resolveMetrics(
  outputs: readonly string[],
  metrics: Readonly<Record<string, readonly (string | MetricFn)[]>>,
): CompiledMetric[] {
  const fn = 'compile';
  const out: CompiledMetric[] = [];
  for (const [output, list] of Object.entries(metrics)) {
    checkKeys(fn, 'metrics', { [output]: list }, outputs, 'output');
    for (const m of list) {
      if (m === 'dice') out.push({ output, name: 'dice', fn: (t, p) => diceMetric(t, p) });
      else if (m === 'iou') out.push({ output, name: 'iou', fn: (t, p) => iouMetric(t, p) });
      else if (typeof m === 'function' && m.name) out.push({ output, name: m.name, fn: m });
      else
        throw new ValueError(argMessage(fn, `metrics['${output}']`, "'dice', 'iou' or a named function", describe(m)));
    }
  }
  return out;
}
