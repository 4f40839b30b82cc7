/**
 * Batched matrix multiplication with broadcasting over batch dims and free transposes (a
 * transposed operand only swaps the strides the kernel reads with).
 */
import matmulSource from '../../../kernels/matmul.wgsl';
import matmulDirectSource from '../../../kernels/matmul_direct.wgsl';
import { argMessage, ShapeError, show } from '../../errors.js';
import { bind, dispatch } from '../dispatch.js';
import { engine } from '../engine.js';
import { defineKernel } from '../kernel.js';
import { defineOp } from '../op.js';
import { broadcastShapes } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { checkFloat } from './check.js';
import { broadcastTo, reshape } from './movement.js';
import { sum, sumToShape } from './reduce.js';

export interface MatmulOptions {
  transposeA?: boolean;
  transposeB?: boolean;
}

declare module '../op.js' {
  interface OpAttrs {
    matmul: { transposeA: boolean; transposeB: boolean };
  }
}

const MATMUL_PARAMS = {
  M: 'u32',
  N: 'u32',
  K: 'u32',
  batch: 'u32',
  a_batch: 'u32',
  b_batch: 'u32',
  a_rs: 'u32',
  a_cs: 'u32',
  b_rs: 'u32',
  b_cs: 'u32',
} as const;

const MATMUL = defineKernel({
  name: 'matmul',
  file: 'matmul.wgsl',
  source: matmulSource,
  params: MATMUL_PARAMS,
  bindings: ['a', 'b', 'c'],
});

const MATMUL_DIRECT = defineKernel({
  name: 'matmul_direct',
  file: 'matmul_direct.wgsl',
  source: matmulDirectSource,
  params: { ...MATMUL_PARAMS, splits: 'u32', k_chunk: 'u32' },
  bindings: ['a', 'b', 'c'],
});

/**
 * Whether a product goes to matmul_direct.wgsl (one output per invocation, optionally split along
 * K) instead of the 16 x 16 tiled kernel, and how. Thin products (K, M or N below a tile) leave
 * most of a tile idle, and a tiny output with a long K (a weight gradient over every voxel) would
 * run one workgroup through the whole of K; on software adapters every tile also pays for its
 * barriers.
 */
function planDirect(M: number, N: number, K: number, batch: number): { splits: number; kChunk: number } | null {
  const thin = K <= 32 || M < 16 || N < 16;
  const outputs = batch * M * N;
  const longK = outputs < 16384 && K > 1024;
  if (!thin && !longK) return null;
  // Split K until there are enough invocations to fill the device, 256 or more products each.
  const splits = Math.max(1, Math.min(Math.ceil(K / 256), Math.ceil(65536 / outputs)));
  return { splits, kChunk: Math.ceil(K / splits) };
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
    throw new ShapeError(
      `${fn}: argument 'b' expected K=${K} on its inner axis (a ${show(a.shape)}${tA ? ' (transposed)' : ''} has K=${K}), got ${show(b.shape)}${tB ? ' (transposed)' : ''} with K=${Kb} (inner dimensions differ)`,
    );
  }
  const batchShape = broadcastShapes(fn, a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = batchShape.reduce((x, y) => x * y, 1);
  return engine.run(fn, [a, b], { transposeA: tA, transposeB: tB }, () => {
    const outShape = [...batchShape, M, N];
    if (batch * M * N === 0) return engine.empty(outShape, 'float32');
    // A batch broadcast one-to-all reads one matrix with stride 0; any other broadcast is materialised.
    const operand = (t: Tensor, rows: number, cols: number): { t: Tensor; stride: number; owned: boolean } => {
      const own = t.shape.slice(0, -2).reduce((x, y) => x * y, 1);
      if (own === batch) return { t, stride: rows * cols, owned: false };
      if (own === 1) return { t, stride: 0, owned: false };
      return { t: broadcastTo(t, [...batchShape, rows, cols]), stride: rows * cols, owned: true };
    };
    const A = operand(a, ar, ac);
    const B = operand(b, br, bc);
    const params = {
      M,
      N,
      K,
      batch,
      a_batch: A.stride,
      b_batch: B.stride,
      a_rs: tA ? 1 : ac,
      a_cs: tA ? ac : 1,
      b_rs: tB ? 1 : bc,
      b_cs: tB ? bc : 1,
    };
    const plan = planDirect(M, N, K, batch);
    let out: Tensor;
    if (!plan) {
      out = engine.empty(outShape, 'float32');
      dispatch(MATMUL, {
        params,
        bindings: { a: bind(A.t), b: bind(B.t), c: bind(out) },
        workgroups: Math.ceil(N / 16) * Math.ceil(M / 16) * batch,
      });
    } else if (plan.splits === 1) {
      out = engine.empty(outShape, 'float32');
      dispatch(MATMUL_DIRECT, {
        params: { ...params, splits: 1, k_chunk: K },
        bindings: { a: bind(A.t), b: bind(B.t), c: bind(out) },
        workgroups: Math.ceil((batch * M * N) / 256),
      });
    } else {
      // Partial products per K chunk, then their sum in a fixed order (deterministic).
      const partial = engine.empty([plan.splits, batch * M * N], 'float32');
      dispatch(MATMUL_DIRECT, {
        params: { ...params, splits: plan.splits, k_chunk: plan.kChunk },
        bindings: { a: bind(A.t), b: bind(B.t), c: bind(partial) },
        workgroups: Math.ceil((plan.splits * batch * M * N) / 256),
      });
      const summed = sum(partial, 0);
      out = reshape(summed, outShape);
      summed.dispose();
      partial.dispose();
    }
    if (A.owned) A.t.dispose();
    if (B.owned) B.t.dispose();
    return out;
  });
}

defineOp('matmul', {
  saveInputs: true,
  grad: (dy, s) => {
    const { transposeA: tA, transposeB: tB } = s.attrs;
    const A = s.inputs[0]!;
    const B = s.inputs[1]!;
    return [
      () =>
        sumToShape(
          tA ? matmul(B, dy, { transposeA: tB, transposeB: true }) : matmul(dy, B, { transposeB: !tB }),
          s.inputShapes[0],
        ),
      () =>
        sumToShape(
          tB ? matmul(dy, A, { transposeA: true, transposeB: tA }) : matmul(A, dy, { transposeA: !tA }),
          s.inputShapes[1],
        ),
    ];
  },
});
