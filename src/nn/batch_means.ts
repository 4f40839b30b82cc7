/**
 * The loss and metric values of the batches of an epoch (or of an evaluation), averaged as
 * Keras's Mean trackers do: each batch's value weighted by its size. A metric's NaN (nothing to
 * score in that batch) is skipped; a loss's NaN is kept, so a diverged run shows as NaN. Values stay on the GPU until `read`, which waits once for all of them.
 */
import { readAll } from '../tensor/api.js';
import type { Tensor } from '../tensor/tensor.js';

/** Loss and metric values by name, as numbers. */
export interface Logs {
  [name: string]: number;
}

export class BatchMeans {
  #pending: { size: number; values: Tensor[] }[] = [];
  readonly #sums: number[];
  readonly #counts: number[];

  /**
   * One name per value of each batch, in order ('loss', '<output>_loss', ..., then metrics);
   * values from index `metricsFrom` on are metrics.
   */
  constructor(
    readonly names: readonly string[],
    readonly metricsFrom = names.length,
  ) {
    this.#sums = names.map(() => 0);
    this.#counts = names.map(() => 0);
  }

  /** A batch of `size` samples; its values (one scalar per name) now belong to this object. */
  add(values: readonly Tensor[], size: number): void {
    this.#pending.push({ size, values: [...values] });
  }

  /** Reads every pending value with one wait, adds it to the means, and disposes it. */
  async read(): Promise<void> {
    const pending = this.#pending;
    this.#pending = [];
    try {
      const data = await readAll(pending.flatMap((p) => p.values));
      let at = 0;
      for (const { size, values } of pending) {
        values.forEach((_, i) => {
          const v = data[at + i][0];
          if (Number.isNaN(v) && i >= this.metricsFrom) return;
          this.#sums[i] += v * size;
          this.#counts[i] += size;
        });
        at += values.length;
      }
    } finally {
      for (const p of pending) for (const t of p.values) t.dispose();
    }
  }

  /** The means read so far, by name (NaN where nothing was counted). */
  means(prefix = ''): Logs {
    return Object.fromEntries(
      this.names.map((name, i) => [`${prefix}${name}`, this.#counts[i] ? this.#sums[i] / this.#counts[i] : NaN]),
    );
  }

  /** Disposes the values not read yet (a run that failed midway). */
  dispose(): void {
    for (const p of this.#pending) for (const t of p.values) t.dispose();
    this.#pending = [];
  }
}
