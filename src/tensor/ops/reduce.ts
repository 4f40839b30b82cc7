/**
 * Reductions over any set of axes: sum, mean, max, min, with keepdims.
 *
 * Dims of size 1 are dropped, and each maximal run of adjacent reduced axes becomes the middle
 * axis R of an (O, R, I) view, reduced in place by kernels/reduce.wgsl without any transpose.
 * Runs are reduced from the innermost outwards. Every addition happens in an order fixed by the
 * shapes, so a reduction is bitwise repeatable. A tensor larger than one storage binding is reduced
 * in windows of whole rows.
 */
import reduceSource from '../../../kernels/reduce.wgsl';
import { argMessage, DeviceError, ValueError } from '../../errors.js';
import { bind, bindingWindowBytes, dispatch } from '../dispatch.js';
import { engine } from '../engine.js';
import { defineKernel } from '../kernel.js';
import { defineOp, type GradRule, type Saved } from '../op.js';
import { normalizeAxes } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { cast } from './cast.js';
import { checkFloat } from './check.js';
import { fill } from './creation.js';
import { add, affine, equal, maximum, minimum, mul } from './elementwise/index.js';
import { broadcastTo, reshape } from './movement.js';

export type ReduceName = 'sum' | 'mean' | 'max' | 'min';
const REDUCE_OP: Record<ReduceName, number> = { sum: 0, mean: 0, max: 1, min: 2 };

export interface ReduceAttrs {
  /** The reduced axes, normalised and sorted. */
  axes: readonly number[];
  keepDims: boolean;
}

declare module '../op.js' {
  interface OpAttrs extends Record<ReduceName, ReduceAttrs> {}
}

const REDUCE = defineKernel({
  name: 'reduce',
  file: 'reduce.wgsl',
  source: reduceSource,
  params: {
    outer: 'u32',
    rows: 'u32',
    inner: 'u32',
    chunk_len: 'u32',
    num_chunks: 'u32',
    cols: 'u32',
    col_tiles: 'u32',
    scale: 'f32',
  },
  bindings: ['x', 'out'],
  overrides: ['OP', 'SERIAL'],
  aliases: ['V', 'VU'],
});

/** Workgroups a pass aims for: enough to keep every core (or SM) busy, few enough to keep merges cheap. */
const targetWorkgroups = (): number => (engine.backend.isCpuAdapter ? 64 : 1024);

/** Columns per pass above which each column is reduced by one thread (no workgroup merges). */
const SERIAL_MIN_COLUMNS = 4096;
const SERIAL_MAX_ROWS = 256;
/** Rows of one value from which a reduction reads them as vec4s (below, one more dispatch costs more than it saves). */
const VEC4_ROWS_MIN = 4096;

function nextPow2(n: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, n)));
}

/** How many chunks one pass splits R into: enough workgroups, at least 8 rows per thread. */
function planChunks(O: number, R: number, I: number): number {
  const vecI = I % 4 === 0 ? I / 4 : I;
  const cols = Math.min(256, nextPow2(vecI));
  const rowsPerGroup = 256 / cols;
  const colTiles = Math.ceil(vecI / cols);
  const byWork = Math.ceil(R / (rowsPerGroup * 8));
  const byParallelism = Math.ceil(targetWorkgroups() / Math.max(1, O * colTiles));
  return Math.max(1, Math.min(byWork, byParallelism));
}

/** One kernel pass over an (O, R, I) view; returns the (O, chunks, I) result. */
function reducePass(x: Tensor, O: number, R: number, I: number, op: number, chunks: number, scale: number): Tensor {
  // Inner sizes divisible by 4 (e.g. 4 classes, channels-last) load vec4s.
  const width = I % 4 === 0 ? 4 : 1;
  const cols = Math.min(256, nextPow2(I / width));
  const colTiles = Math.ceil(I / width / cols);
  const chunkLen = Math.ceil(R / chunks);
  const out = engine.empty([O * chunks * I], 'float32');
  dispatch(REDUCE, {
    params: {
      outer: O,
      rows: R,
      inner: I / width,
      chunk_len: chunkLen,
      num_chunks: chunks,
      cols,
      col_tiles: colTiles,
      scale,
    },
    bindings: { x: bind(x), out: bind(out) },
    workgroups: O * chunks * colTiles,
    overrides: { OP: op },
    aliases: width === 4 ? { V: 'vec4<f32>', VU: 'vec4<u32>' } : { V: 'f32', VU: 'u32' },
  });
  return out;
}

/** The elements [first, first + count) of x in a tensor of their own (any offset: a copy). */
function windowCopy(x: Tensor, first: number, count: number): Tensor {
  const t = engine.empty([count], 'float32');
  engine.backend.copy(x.buffer, first * 4, t.buffer, 0, count * 4);
  return t;
}

/**
 * Reduces an (O, R, I) view larger than one storage binding, window by window: each window of
 * whole rows is copied to a tensor of its own (so no binding offset needs aligning) and reduced;
 * when one o's rows span several windows, their results are folded together in order.
 */
function reduceLargeView(x: Tensor, O: number, R: number, I: number, op: number, scale: number): Tensor {
  const window = bindingWindowBytes();
  const rowsPerWindow = Math.floor(window / (I * 4));
  if (rowsPerWindow < 1) {
    throw new DeviceError(
      `a row of ${I} values kept by the reduction (${I * 4} bytes) exceeds the largest binding window (${window} bytes, under this device's maxStorageBufferBindingSize (${engine.backend.limits.maxStorageBufferBindingSize} bytes)), and rows are not split`,
    );
  }
  const out = engine.empty([O * I], 'float32');
  const place = (part: Tensor, o: number, n: number): void => {
    engine.backend.copy(part.buffer, 0, out.buffer, o * I * 4, n * I * 4);
    part.dispose();
  };
  if (R <= rowsPerWindow) {
    // Whole (R, I) slabs per window.
    const slabs = Math.floor(rowsPerWindow / R);
    for (let o = 0; o < O; o += slabs) {
      const n = Math.min(slabs, O - o);
      const part = windowCopy(x, o * R * I, n * R * I);
      place(reduceView(part, n, R, I, op, scale), o, n);
      part.dispose();
    }
    return out;
  }
  // One o's rows span several windows: fold each window's result into a running one (an
  // elementwise add / maximum / minimum of I values), in window order.
  const combine = [add, maximum, minimum][op];
  for (let o = 0; o < O; o++) {
    let acc: Tensor | null = null;
    for (let first = 0; first < R; first += rowsPerWindow) {
      const rows = Math.min(rowsPerWindow, R - first);
      const part = windowCopy(x, (o * R + first) * I, rows * I);
      const r = reduceView(part, 1, rows, I, op, 1);
      part.dispose();
      if (acc === null) acc = r;
      else {
        const next: Tensor = combine(acc, r);
        acc.dispose();
        r.dispose();
        acc = next;
      }
    }
    if (scale !== 1) {
      const scaled = affine(acc!, scale);
      acc!.dispose();
      acc = scaled;
    }
    place(acc!, o, 1);
  }
  return out;
}

/** Reduces the middle axis of an (O, R, I) view completely, in as many passes as needed. */
function reduceView(x: Tensor, O: number, R: number, I: number, op: number, scale: number): Tensor {
  if (x.size * 4 > bindingWindowBytes()) return reduceLargeView(x, O, R, I, op, scale);
  if (I === 1 && R % 4 === 0 && R >= VEC4_ROWS_MIN) {
    // Rows of one value, as many as a multiple of 4: read as (O, R / 4, 4) in vec4s (4x fewer
    // loads, which bound the pass on a software adapter), then the 4 columns of each o reduced.
    const columns = reduceView(x, O, R / 4, 4, op, 1);
    const out = reduceView(columns, O, 4, 1, op, scale);
    columns.dispose();
    return out;
  }
  if (O * I >= SERIAL_MIN_COLUMNS && R <= SERIAL_MAX_ROWS) {
    // Many short columns: one thread per column is far cheaper than a workgroup per column.
    const out = engine.empty([O * I], 'float32');
    dispatch(REDUCE, {
      params: { outer: O, rows: R, inner: I, chunk_len: R, num_chunks: 1, cols: 1, col_tiles: 1, scale },
      bindings: { x: bind(x), out: bind(out) },
      workgroups: Math.ceil((O * I) / 256),
      overrides: { OP: op, SERIAL: 1 },
    });
    return out;
  }
  let cur = x;
  let rows = R;
  for (;;) {
    const chunks = planChunks(O, rows, I);
    const out = reducePass(cur, O, rows, I, op, chunks, chunks === 1 ? scale : 1);
    if (cur !== x) cur.dispose();
    cur = out;
    if (chunks === 1) return cur;
    rows = chunks;
  }
}

/** The result of reducing no values (max and min of none are refused before this). */
const IDENTITY: Record<ReduceName, number> = { sum: 0, mean: NaN, max: NaN, min: NaN };

function reduceImpl(name: ReduceName, x: Tensor, axes: readonly number[], keepDims: boolean): Tensor {
  const finalShape = keepDims
    ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
    : x.shape.filter((_, i) => !axes.includes(i));
  const count = axes.reduce((a, ax) => a * x.shape[ax], 1);
  // An empty reduction gives the identity (NaN for a mean, as NumPy does).
  if (count === 0) return fill(finalShape, IDENTITY[name]);
  if (finalShape.reduce((a, b) => a * b, 1) === 0) return engine.empty(finalShape, 'float32');
  // Dims of size 1 change nothing; dropping them lets runs of reduced axes merge.
  let dims = x.shape.map((d, i) => ({ d, reduced: axes.includes(i) })).filter((e) => e.d !== 1);
  if (!dims.some((e) => e.reduced)) return engine.view(x, finalShape);
  const prod = (list: typeof dims): number => list.reduce((a, e) => a * e.d, 1);
  let cur = x;
  while (dims.some((e) => e.reduced)) {
    let end = dims.length;
    while (!dims[end - 1].reduced) end--;
    let start = end - 1;
    while (start > 0 && dims[start - 1].reduced) start--;
    const isLastRun = !dims.slice(0, start).some((e) => e.reduced);
    const scale = isLastRun && name === 'mean' ? 1 / count : 1;
    const next = reduceView(
      cur,
      prod(dims.slice(0, start)),
      prod(dims.slice(start, end)),
      prod(dims.slice(end)),
      REDUCE_OP[name],
      scale,
    );
    if (cur !== x) cur.dispose();
    cur = next;
    dims = [...dims.slice(0, start), ...dims.slice(end)];
  }
  const result = engine.view(cur, finalShape);
  cur.dispose();
  return result;
}

function reduce(name: ReduceName, x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  checkFloat(name, 'x', x);
  const axes = normalizeAxes(name, axis, x.rank);
  // NumPy: a max or min over no values has no identity, even when the result is empty too.
  if ((name === 'max' || name === 'min') && axes.some((a) => x.shape[a] === 0)) {
    throw new ValueError(
      argMessage(
        name,
        'x',
        `values on every reduced axis (the ${name} of no values is undefined)`,
        `shape [${x.shape.join(', ')}] reduced over axes [${axes.join(', ')}]`,
      ),
    );
  }
  return engine.run(name, [x], { axes, keepDims }, () => reduceImpl(name, x, axes, keepDims));
}

/** Sum over `axis` (all axes when omitted). */
export const sum = (x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor =>
  reduce('sum', x, axis, keepDims);
export const mean = (x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor =>
  reduce('mean', x, axis, keepDims);
export const max = (x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor =>
  reduce('max', x, axis, keepDims);
export const min = (x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor =>
  reduce('min', x, axis, keepDims);

/** Sums `g` over the axes along which an input of `shape` was broadcast, then reshapes to `shape`. */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const s = axes.length ? sum(g, axes, true) : g;
  const r = reshape(s, shape);
  if (s !== g) s.dispose();
  return r;
}

// --- gradients -----------------------------------------------------------------------------------
/** dy of a reduction, reshaped with the reduced axes kept and broadcast back to the input. */
function expandReduced(dy: Tensor, s: Saved<ReduceName>): Tensor {
  const shape = s.inputShapes[0];
  const kept = shape.map((d, i) => (s.attrs.axes.includes(i) ? 1 : d));
  return broadcastTo(reshape(dy, kept), shape);
}
defineOp('sum', { grad: (dy, s) => [() => expandReduced(dy, s)] });
defineOp('mean', {
  grad: (dy, s) => {
    const count = s.attrs.axes.reduce((a, ax) => a * s.inputShapes[0][ax], 1);
    return [() => affine(expandReduced(dy, s), 1 / count)];
  },
});
// The gradient flows to every element equal to the extreme (as tfjs does).
const extremeRule: GradRule<'max' | 'min'> = {
  saveInputs: true,
  saveOutputs: true,
  grad: (dy, s) => [
    () => mul(expandReduced(dy, s), cast(equal(s.inputs[0]!, expandReduced(s.outputs[0]!, s)), 'float32')),
  ],
};
defineOp('max', extremeRule);
defineOp('min', extremeRule);
