/**
 * Batched matrix multiplication with broadcasting over batch dims and free transposes (a
 * transposed operand only swaps the strides the kernel reads with).
 */
import { ShapeError, argMessage, show } from '../../errors.js';
import { engine } from '../engine.js';
import { ParamWriter } from '../params.js';
import { broadcastShapes } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { bind, checkFloat } from './check.js';
import { broadcastTo } from './movement.js';

export interface MatmulOptions {
  transposeA?: boolean;
  transposeB?: boolean;
}

/** a: (..., M, K) or (..., K, M) if transposeA; b: (..., K, N) or (..., N, K) if transposeB. */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const fn = 'matmul';
  checkFloat(fn, 'a', a);
  checkFloat(fn, 'b', b);
  if (a.rank < 2) throw new ShapeError(argMessage(fn, 'a', 'rank >= 2', `shape ${show(a.shape)}`));
  if (b.rank < 2) throw new ShapeError(argMessage(fn, 'b', 'rank >= 2', `shape ${show(b.shape)}`));
  const tA = !!options.transposeA;
  const tB = !!options.transposeB;
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const M = tA ? ac : ar;
  const K = tA ? ar : ac;
  const Kb = tB ? bc : br;
  const N = tB ? br : bc;
  if (K !== Kb) {
    throw new ShapeError(`${fn}: inner dimensions differ: a ${show(a.shape)}${tA ? ' (transposed)' : ''} has K=${K}, b ${show(b.shape)}${tB ? ' (transposed)' : ''} has K=${Kb}`);
  }
  const batchShape = broadcastShapes(fn, a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = batchShape.reduce((x, y) => x * y, 1);
  return engine.run(fn, [a, b], { transposeA: tA, transposeB: tB }, () => {
    const out = engine.empty([...batchShape, M, N], 'float32');
    if (out.size === 0) return out;
    // A batch broadcast one-to-all reads one matrix with stride 0; any other broadcast is materialised.
    const operand = (t: Tensor, rows: number, cols: number): { t: Tensor; stride: number; owned: boolean } => {
      const own = t.shape.slice(0, -2).reduce((x, y) => x * y, 1);
      if (own === batch) return { t, stride: rows * cols, owned: false };
      if (own === 1) return { t, stride: 0, owned: false };
      return { t: broadcastTo(t, [...batchShape, rows, cols]), stride: rows * cols, owned: true };
    };
    const A = operand(a, ar, ac);
    const B = operand(b, br, bc);
    const params = new ParamWriter()
      .u32(M).u32(N).u32(K).u32(batch)
      .u32(A.stride).u32(B.stride)
      .u32(tA ? 1 : ac).u32(tA ? ac : 1)
      .u32(tB ? 1 : bc).u32(tB ? bc : 1)
      .bytes();
    engine.gpu.dispatch({ kernel: 'matmul' }, params, [bind(A.t), bind(B.t), bind(out)], Math.ceil(N / 16) * Math.ceil(M / 16) * batch);
    if (A.owned) A.t.dispose();
    if (B.owned) B.t.dispose();
    return out;
  });
}
