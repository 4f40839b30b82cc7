/**
 * Batched matrix multiplication with broadcasting over batch dims and free transposes (a
 * transposed operand only swaps the strides the kernel reads with).
 */
import matmulSource from '../../../kernels/matmul.wgsl';
import matmulDirectSource from '../../../kernels/matmul_direct.wgsl';
import matmulRowsSource from '../../../kernels/matmul_rows.wgsl';
import matmulRowsBSource from '../../../kernels/matmul_rows_b.wgsl';
import matmulRowsBRoundsSubgroupSource from '../../../kernels/matmul_rows_b_rounds_subgroup.wgsl';
import matmulRowsBSubgroupSource from '../../../kernels/matmul_rows_b_subgroup.wgsl';
import matmulRowsB4SubgroupSource from '../../../kernels/matmul_rows_b4_subgroup.wgsl';
import { argMessage, ShapeError, show } from '../../errors.js';
import { bind, bindingWindowElements, bindVec4, dispatch } from '../dispatch.js';
import { engine } from '../engine.js';
import { defineKernel } from '../kernel.js';
import { defineOp } from '../op.js';
import { broadcastShapes } from '../shape.js';
import { LANES, LANES_SUBGROUP, subgroupsFit } from '../subgroups.js';
import type { Tensor } from '../tensor.js';
import { chooseVariant, registerTunable, withVariant } from '../tuning.js';
import { checkFloat } from './check.js';
import { randomNormal } from './creation.js';
import { add } from './elementwise/index.js';
import { broadcastTo, concat, reshape, slice } from './movement.js';
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
  consts: ['TM', 'TN', 'TK', 'RM', 'RN'],
});

const MATMUL_ROWS_DEFINITION = {
  file: 'matmul_rows.wgsl',
  source: matmulRowsSource,
  params: MATMUL_PARAMS,
  bindings: ['a', 'b', 'c'],
  consts: ['RM', 'CB4', 'WG'],
} as const;

/** Row blocks with every invocation loading the rows of B itself. */
const MATMUL_ROWS = defineKernel({
  ...MATMUL_ROWS_DEFINITION,
  name: 'matmul_rows',
  preludes: [LANES, { file: 'matmul_rows_b.wgsl', source: matmulRowsBSource }],
});

/** How the subgroup row blocks share a round of B's rows (whatever loads them). */
const B_ROUNDS_SUBGROUP = { file: 'matmul_rows_b_rounds_subgroup.wgsl', source: matmulRowsBRoundsSubgroupSource };

/** Row blocks with the rows of B loaded once per subgroup (`enable subgroups` comes first). */
const MATMUL_ROWS_SUBGROUP = defineKernel({
  ...MATMUL_ROWS_DEFINITION,
  name: 'matmul_rows_subgroup',
  requires: ['subgroups'],
  preludes: [
    LANES_SUBGROUP,
    B_ROUNDS_SUBGROUP,
    { file: 'matmul_rows_b_subgroup.wgsl', source: matmulRowsBSubgroupSource },
  ],
});

/** The same, reading B's rows as whole vec4s (contiguous, vec4-aligned rows: see vec4Rows). */
const MATMUL_ROWS_SUBGROUP_B4 = defineKernel({
  ...MATMUL_ROWS_DEFINITION,
  name: 'matmul_rows_subgroup_b4',
  requires: ['subgroups'],
  preludes: [
    LANES_SUBGROUP,
    B_ROUNDS_SUBGROUP,
    { file: 'matmul_rows_b4_subgroup.wgsl', source: matmulRowsB4SubgroupSource },
  ],
});

/**
 * Row blocks of matmul_rows.wgsl the tuner tries: RM rows × CB4 vec4s of columns per invocation,
 * WG invocations per workgroup. The '-subgroup' blocks load each row of B once per subgroup
 * (matmul_rows_b_subgroup.wgsl) where the device's subgroups fit them (src/tensor/subgroups.ts),
 * else they run as the plain kernel. On lavapipe (AVX2, FMA peak 56 GFLOP/s) 8 rows × 32 columns,
 * one row of B a step (one vec4 a lane, shuffled to all), reach 29-31 GFLOP/s at 512³ and 23-27 at
 * 256³, 4 × 32 reach 26-27 at both, where 4 × 32 with two rows of B a step reached 21-22; the
 * accumulators are a two-level array, which lavapipe keeps out of scratch memory (as one flat
 * array, 64 vec4s ran 25% slower and 48 or more 3-4x slower). Without subgroups, 16 rows × 16
 * columns do the most multiply-adds per load, and workgroups of 8-16 invocations keep both cores
 * busy on a 256³ product.
 */
export const MATMUL_ROWS_BLOCKS: Readonly<Record<string, { RM: number; CB4: number; WG: number; subgroup?: boolean }>> =
  {
    rows4x16: { RM: 4, CB4: 4, WG: 64 },
    rows8x16: { RM: 8, CB4: 4, WG: 64 },
    rows8x16w32: { RM: 8, CB4: 4, WG: 32 },
    rows16x16w16: { RM: 16, CB4: 4, WG: 16 },
    rows16x16w8: { RM: 16, CB4: 4, WG: 8 },
    'rows8x16w32-subgroup': { RM: 8, CB4: 4, WG: 32, subgroup: true },
    'rows4x32-subgroup': { RM: 4, CB4: 8, WG: 16, subgroup: true },
    'rows8x32-subgroup': { RM: 8, CB4: 8, WG: 16, subgroup: true },
  };

/** The tiles of matmul.wgsl the tuner tries (256 invocations each; 1 to 32 results per invocation). */
export const MATMUL_TILES: Readonly<Record<string, { TM: number; TN: number; TK: number; RM: number; RN: number }>> = {
  tiled32: { TM: 32, TN: 32, TK: 16, RM: 2, RN: 4 },
  tiled64: { TM: 64, TN: 64, TK: 16, RM: 4, RN: 4 },
  tiled64x128: { TM: 64, TN: 128, TK: 8, RM: 4, RN: 8 },
  tiled128x64: { TM: 128, TN: 64, TK: 8, RM: 8, RN: 4 },
};
/** The default before tuning: tiles on a GPU, row blocks on a software adapter. */
const MATMUL_DEFAULT = 'tiled64';
const MATMUL_DEFAULT_CPU = 'rows16x16w16';
const MATMUL_DEFAULT_CPU_SUBGROUP = 'rows8x32-subgroup';

/** Whether a variant runs as itself here: a '-subgroup' block needs subgroups that fit its workgroup. */
function rowsRunAsThemselves(variant: string): boolean {
  const rows = MATMUL_ROWS_BLOCKS[variant];
  return !rows?.subgroup || subgroupsFit(rows.WG);
}

/**
 * The tuner's shape class of a product: M, N, K rounded up to powers of two (at most 1024), the
 * transposes, and ' odd-n' where B's rows are contiguous but N is not a multiple of 4 (they are
 * then read element by element, not as vec4s: another kernel to time).
 */
function matmulClass(M: number, N: number, K: number, tA: boolean, tB: boolean): string {
  const cap = (d: number): number => Math.min(1024, 2 ** Math.ceil(Math.log2(Math.max(1, d))));
  const odd = !tB && N % 4 !== 0 ? ' odd-n' : '';
  return `m${cap(M)} n${cap(N)} k${cap(K)} ${tA ? 't' : 'n'}${tB ? 't' : 'n'}${odd}`;
}

registerTunable({
  family: 'matmul',
  kernelFiles: ['matmul.wgsl', 'matmul_direct.wgsl', 'matmul_rows.wgsl'],
  variants: [
    MATMUL_DEFAULT,
    ...[...Object.keys(MATMUL_TILES), ...Object.keys(MATMUL_ROWS_BLOCKS)].filter((v) => v !== MATMUL_DEFAULT),
  ],
  usable: rowsRunAsThemselves,
  trial(shapeClass) {
    const m = /^m(\d+) n(\d+) k(\d+) ([nt])([nt])( odd-n)?$/.exec(shapeClass);
    if (!m) return null;
    const [M, K] = [Number(m[1]), Number(m[3])];
    // An odd-n class is timed on 2 columns fewer than its power of two (not a multiple of 4).
    const N = m[6] && Number(m[2]) % 4 === 0 ? Number(m[2]) - 2 : Number(m[2]);
    const [tA, tB] = [m[4] === 't', m[5] === 't'];
    const a = randomNormal(tA ? [K, M] : [M, K], { seed: 1 });
    const b = randomNormal(tB ? [N, K] : [K, N], { seed: 2 });
    return {
      run: (variant) =>
        withVariant('matmul', variant, () => matmul(a, b, { transposeA: tA, transposeB: tB })).dispose(),
      dispose: () => {
        a.dispose();
        b.dispose();
      },
    };
  },
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
 * K) instead of the tiled kernel, and how. Thin products (K, M or N below a tile) leave
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
  const K = tA ? ar : ac;
  const Kb = tB ? bc : br;
  if (K !== Kb) {
    throw new ShapeError(
      `${fn}: argument 'b' expected K=${K} on its inner axis (a ${show(a.shape)}${tA ? ' (transposed)' : ''} has K=${K}), got ${show(b.shape)}${tB ? ' (transposed)' : ''} with K=${Kb} (inner dimensions differ)`,
    );
  }
  broadcastShapes(fn, a.shape.slice(0, -2), b.shape.slice(0, -2));
  return engine.run(fn, [a, b], { transposeA: tA, transposeB: tB }, () => productInPieces(a, b, tA, tB));
}

/** The logical (M, K) / (K, N) sizes and batch shape of a product. */
function dims(
  a: Tensor,
  b: Tensor,
  tA: boolean,
  tB: boolean,
): { M: number; N: number; K: number; batchShape: number[] } {
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  return {
    M: tA ? ac : ar,
    K: tA ? ar : ac,
    N: tB ? br : bc,
    batchShape: broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2)),
  };
}

/**
 * The product, split when an operand, the result or the partial sums would exceed one binding
 * window: the output rows (M), then its columns (N), then the batch are halved and the pieces
 * joined, or, when one row of an operand alone is too long, K is halved and the pieces summed.
 */
function productInPieces(a: Tensor, b: Tensor, tA: boolean, tB: boolean): Tensor {
  const { M, N, K, batchShape } = dims(a, b, tA, tB);
  const batch = batchShape.reduce((x, y) => x * y, 1);
  const window = bindingWindowElements();
  const splits = planDirect(M, N, K, batch)?.splits ?? 1;
  const fits = (n: number): boolean => n <= window;
  if (fits(a.size) && fits(b.size) && fits(batch * M * N * splits)) return product(a, b, tA, tB);
  const rank = (t: Tensor): number => t.rank;
  const half = (t: Tensor, axis: number, n: number, part: 0 | 1): Tensor => {
    const m = Math.floor(n / 2);
    const begin = t.shape.map((_, k) => (k === axis ? part * m : 0));
    const size = t.shape.map((d, k) => (k === axis ? (part ? n - m : m) : d));
    return slice(t, begin, size);
  };
  const join = (axis: number, piece: (part: 0 | 1) => Tensor): Tensor => {
    const [p0, p1] = [piece(0), piece(1)];
    const out = concat([p0, p1], axis);
    p0.dispose();
    p1.dispose();
    return out;
  };
  const aRowAxis = rank(a) - (tA ? 1 : 2);
  const bColAxis = rank(b) - (tB ? 2 : 1);
  if (M > 1 && (!fits(a.size) || !fits(batch * M * N * splits) || fits(b.size))) {
    return join(batchShape.length, (part) => {
      const ai = half(a, aRowAxis, M, part);
      const r = productInPieces(ai, b, tA, tB);
      ai.dispose();
      return r;
    });
  }
  if (N > 1) {
    return join(batchShape.length + 1, (part) => {
      const bi = half(b, bColAxis, N, part);
      const r = productInPieces(a, bi, tA, tB);
      bi.dispose();
      return r;
    });
  }
  if (batch > 1 && batchShape[0] > 1) {
    // Along the first batch axis (an operand broadcast along it is used whole by both halves).
    const lead = (t: Tensor): boolean => t.rank - 2 === batchShape.length && t.shape[0] > 1;
    return join(0, (part) => {
      const ai = lead(a) ? half(a, 0, batchShape[0], part) : a;
      const bi = lead(b) ? half(b, 0, batchShape[0], part) : b;
      const r = productInPieces(ai, bi, tA, tB);
      if (ai !== a) ai.dispose();
      if (bi !== b) bi.dispose();
      return r;
    });
  }
  // One row of A (or one column of B) is longer than a window: split K and sum the halves.
  const aK = rank(a) - (tA ? 2 : 1);
  const bK = rank(b) - (tB ? 1 : 2);
  const parts = ([0, 1] as const).map((part) => {
    const ai = half(a, aK, K, part);
    const bi = half(b, bK, K, part);
    const r = productInPieces(ai, bi, tA, tB);
    ai.dispose();
    bi.dispose();
    return r;
  });
  const out = add(parts[0], parts[1]);
  for (const p of parts) p.dispose();
  return out;
}

/** One product whose operands and result each fit one binding. */
function product(a: Tensor, b: Tensor, tA: boolean, tB: boolean): Tensor {
  const { M, N, K, batchShape } = dims(a, b, tA, tB);
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const batch = batchShape.reduce((x, y) => x * y, 1);
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
    const cpu = rowsRunAsThemselves(MATMUL_DEFAULT_CPU_SUBGROUP) ? MATMUL_DEFAULT_CPU_SUBGROUP : MATMUL_DEFAULT_CPU;
    const fallback = engine.backend.isCpuAdapter ? cpu : MATMUL_DEFAULT;
    const variant = chooseVariant(engine.backend.tuningKey, 'matmul', matmulClass(M, N, K, tA, tB), fallback);
    const rows = MATMUL_ROWS_BLOCKS[variant];
    const tiles = MATMUL_TILES[variant] ?? MATMUL_TILES[MATMUL_DEFAULT]!;
    if (rows) {
      const subgroup = rows.subgroup && subgroupsFit(rows.WG);
      // B's rows as whole vec4s where they are contiguous and every row and matrix starts at a
      // multiple of 4 elements (the binding is rounded up to 16 bytes, inside the pool's buffer).
      const vec4Rows = subgroup && params.b_cs === 1 && N % 4 === 0;
      dispatch(vec4Rows ? MATMUL_ROWS_SUBGROUP_B4 : subgroup ? MATMUL_ROWS_SUBGROUP : MATMUL_ROWS, {
        params,
        bindings: { a: bind(A.t), b: vec4Rows ? bindVec4(B.t) : bind(B.t), c: bind(out) },
        workgroups: Math.ceil(M / (rows.WG * rows.RM)) * Math.ceil(N / (4 * rows.CB4)) * batch,
        consts: { RM: rows.RM, CB4: rows.CB4, WG: rows.WG },
      });
    } else
      dispatch(MATMUL, {
        params,
        bindings: { a: bind(A.t), b: bind(B.t), c: bind(out) },
        workgroups: Math.ceil(N / tiles.TN) * Math.ceil(M / tiles.TM) * batch,
        consts: { ...tiles },
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
