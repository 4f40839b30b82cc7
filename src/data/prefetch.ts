/**
 * Prefetching: items (training batches) are prepared on the host while the caller's GPU step for
 * the previous one runs, so loading and augmentation do not add to the step time.
 *
 * JavaScript has one thread, so "while" means: during the caller's awaits. When an item is handed
 * out, the preparation of the next ones is already scheduled, as macrotasks; they run as soon as
 * the caller awaits something that gives the event loop back (`await vg.sync()`, a read, the next
 * `next()`). A step submitted to the GPU runs on the device meanwhile, so the host builds batch
 * i + 1 while the GPU computes step i. The loop that gets this is:
 *
 *     for await (const batch of sampler.batches({ batchSize: 2, count: 100 })) {
 *       vg.tidy(() => { model.trainStep(...) });   // records the step
 *       await vg.sync();                            // submits it; batch i + 1 is built during the wait
 *     }
 *
 * A producer that yields between parts of its work (the patch sampler yields after each sample)
 * lets the GPU's completion be noticed between them. Items are produced strictly one after
 * another, in order, so a seeded producer gives the same items whatever the timing.
 */
import { argMessage, ValueError } from '../errors.js';
import { checkOptions } from '../options.js';
import { describe } from '../tensor/ops/check.js';

export interface PrefetchOptions {
  /** How many items to produce (default: no end; leave the loop with `break`). */
  count?: number;
  /** How many items are prepared ahead of the one being used (default 1). */
  depth?: number;
}

/** Resolves on a later macrotask (after pending I/O and timers get their turn). */
export const yieldToHost: () => Promise<void> =
  typeof setImmediate === 'function'
    ? // Wrapped: a native callback (a promise's resolve) would be delayed by the Dawn poll throttle.
      () => new Promise((resolve) => setImmediate(() => resolve()))
    : () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Iterates produce(0), produce(1), … with the next `depth` items prepared in the background (see
 * the file's header for when that work runs). Options are checked here, before any item is made;
 * an error thrown by `produce` is rethrown by the `next()` that would return its item. Leaving
 * the loop early stops the preparation of further items.
 */
export function prefetch<T>(
  produce: (index: number) => T | Promise<T>,
  options?: PrefetchOptions,
): AsyncGenerator<T, void, undefined> {
  const fn = 'prefetch';
  if (typeof produce !== 'function')
    throw new ValueError(argMessage(fn, 'produce', 'a function (index) => item', describe(produce)));
  const o = checkOptions(fn, options, ['count', 'depth']) as PrefetchOptions;
  const count = o.count ?? Infinity;
  if (count !== Infinity && (typeof count !== 'number' || !Number.isInteger(count) || count < 0))
    throw new ValueError(argMessage(fn, 'count', 'an integer >= 0', describe(count)));
  const depth = o.depth ?? 1;
  if (typeof depth !== 'number' || !Number.isInteger(depth) || depth < 1)
    throw new ValueError(argMessage(fn, 'depth', 'a positive integer', describe(depth)));
  return run(produce, count, depth);
}

async function* run<T>(
  produce: (index: number) => T | Promise<T>,
  count: number,
  depth: number,
): AsyncGenerator<T, void, undefined> {
  const queue: Promise<T>[] = [];
  let started = 0;
  let stopped = false;
  // Each item starts after the previous one has finished, on a later macrotask.
  let chain: Promise<unknown> = Promise.resolve();
  const start = (): void => {
    const index = started++;
    const item = chain.then(yieldToHost).then(() => {
      if (stopped) throw new ValueError('prefetch: stopped');
      return produce(index);
    });
    // Handled here so that an item failing before it is awaited is not an unhandled rejection;
    // awaiting `item` still throws.
    chain = item.catch(() => undefined);
    queue.push(item);
  };
  try {
    while (started < count && queue.length < depth) start();
    while (queue.length > 0) {
      // Item i + depth is scheduled before item i is handed out.
      if (started < count) start();
      yield await queue.shift()!;
    }
  } finally {
    stopped = true;
  }
}
