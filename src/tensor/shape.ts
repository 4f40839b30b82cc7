/** Shape arithmetic shared by ops: sizes, strides, broadcasting, axis normalisation. */
import { argMessage, ShapeError, show, ValueError } from '../errors.js';

export type Shape = readonly number[];

/** The largest rank kernels accept: shapes and strides travel as two vec4<u32> in uniforms. */
export const MAX_RANK = 8;

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major element strides. */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function checkShape(fn: string, arg: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ShapeError(argMessage(fn, arg, 'an array of non-negative integers', shape));
  }
  if (shape.length > MAX_RANK) {
    throw new ShapeError(argMessage(fn, arg, `rank <= ${MAX_RANK}`, `rank ${shape.length} ${show(shape)}`));
  }
  return shape.slice();
}

/** NumPy broadcasting of two shapes; throws naming the op and both shapes. */
export function broadcastShapes(fn: string, a: Shape, b: Shape, argA = 'a', argB = 'b'): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        `${fn}: argument '${argB}' expected a shape that broadcasts with '${argA}' ${show(a)}, got ${show(b)} (shapes ${show(a)} and ${show(b)} cannot be broadcast together: axis ${i} has ${da} vs ${db})`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides that read `shape` as if broadcast to `outShape` (0 on broadcast axes). */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const own = stridesOf(shape);
  const offset = outShape.length - shape.length;
  return outShape.map((_, i) => {
    const k = i - offset;
    if (k < 0 || shape[k] === 1) return 0;
    return own[k];
  });
}

/** Normalises axes (negative counts from the end) and checks range and duplicates. */
export function normalizeAxes(fn: string, axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return [...Array(rank).keys()];
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const out = list.map((a) => {
    if (!Number.isInteger(a) || a < -rank || a >= rank) {
      throw new ValueError(
        argMessage(fn, 'axis', `an integer in [${-rank}, ${rank - 1}] for a rank-${rank} tensor`, a),
      );
    }
    return a < 0 ? a + rank : a;
  });
  if (new Set(out).size !== out.length) throw new ValueError(argMessage(fn, 'axis', 'distinct axes', list));
  return out.sort((x, y) => x - y);
}

export function normalizeAxis(fn: string, axis: number, rank: number): number {
  return normalizeAxes(fn, axis, rank)[0];
}
