/** Test helpers: random data and GPU-vs-oracle comparison with clear diagnostics. */
import * as assert from 'uvu/assert';
import { memory, type Tensor, tensor } from '../src/index.node.js';
import { Nd } from './oracle.js';

/** A small seeded PRNG (mulberry32) so test inputs are reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomNd(shape: number[], seed: number, lo = -1, hi = 1): Nd {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = Math.fround(lo + (hi - lo) * r());
  return new Nd(shape.slice(), d);
}

export function toGpu(x: Nd, dtype: 'float32' | 'int32' = 'float32'): Tensor {
  return tensor(dtype === 'float32' ? Float32Array.from(x.data) : Int32Array.from(x.data), x.shape, dtype);
}

export async function toNd(t: Tensor): Promise<Nd> {
  return new Nd(t.shape.slice(), Float64Array.from(await t.data()));
}

/**
 * Asserts |gpu - oracle| <= atol + rtol * |oracle| elementwise (NaN must match NaN, inf must
 * match inf) and equal shapes. On failure the message names the worst element and its index.
 */
export async function assertClose(
  actual: Tensor,
  expected: Nd,
  opts: { atol?: number; rtol?: number; label?: string } = {},
): Promise<void> {
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-5;
  const label = opts.label ? `${opts.label}: ` : '';
  assert.equal([...actual.shape], expected.shape, `${label}shape`);
  const got = await actual.data();
  let worst = -1;
  let worstErr = 0;
  let bad = 0;
  for (let i = 0; i < got.length; i++) {
    const e = expected.data[i];
    const g = got[i];
    let err: number;
    if (Number.isNaN(e) || Number.isNaN(g)) err = Number.isNaN(e) && Number.isNaN(g) ? 0 : Infinity;
    else if (!Number.isFinite(e) || !Number.isFinite(g)) err = e === g ? 0 : Infinity;
    else err = Math.abs(g - e) - (atol + rtol * Math.abs(e));
    if (err > 0) bad++;
    if (err > worstErr) {
      worstErr = err;
      worst = i;
    }
  }
  if (bad > 0) {
    assert.unreachable(
      `${label}${bad}/${got.length} elements differ from the float64 oracle; worst at flat index ${worst}: got ${got[worst]}, expected ${expected.data[worst]} (atol ${atol}, rtol ${rtol})`,
    );
  }
}

/**
 * Asserts that `p` rejects with an error matching `expected` (a message pattern, an error class,
 * or both) and returns the error; uvu's `throws` only sees synchronous throws.
 */
export async function rejects(
  p: Promise<unknown> | (() => Promise<unknown>),
  expected: RegExp | (new (...args: never[]) => Error),
  pattern?: RegExp,
): Promise<Error> {
  let error: unknown = null;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    error = e;
  }
  if (!(error instanceof Error)) assert.unreachable(`expected a rejection, got ${String(error)}`);
  const e = error as Error;
  const re = expected instanceof RegExp ? expected : pattern;
  const got = `${e.name}: ${e.message}`;
  if (!(expected instanceof RegExp || e instanceof expected))
    assert.unreachable(`expected a ${expected.name}, got ${got}`);
  if (re && !re.test(e.message)) assert.unreachable(`expected a message matching ${re}, got: ${e.message}`);
  return e;
}

/** Runs `f` (awaiting it) and asserts it left no tensor, buffer or byte alive that was not before. */
export async function noLeak(label: string, f: () => unknown): Promise<void> {
  const before = memory();
  await f();
  const after = memory();
  for (const k of ['liveTensors', 'liveBuffers', 'liveBytes'] as const)
    assert.is(after[k], before[k], `${label}: ${k} ${before[k]} -> ${after[k]}`);
}
