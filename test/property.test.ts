// A property test of the public API (fast-check): generated calls with valid and invalid arguments
// across tensor creation, elementwise ops, reductions, movement, matmul, losses, layers and weights
// I/O. Each call ends in a correct result (checked against the float64 host oracle) or in a named
// voxgrad error (an instance of the classes of src/errors.ts, its message starting with the
// function's name); a call valid by construction must succeed and one invalid by construction must
// fail so. After each: nothing is left behind (live tensors, buffers, bytes) and a small op still
// computes correctly. VOXGRAD_PROPERTY_RUNS sets the number of cases (default 3000), VOXGRAD_PROPERTY_SEED the seed.
import fc from 'fast-check';
import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { tensorsIn } from '../src/tensor/engine.js';
import { setup, suite } from './harness.js';
import * as L from './loss_oracle.js';
import * as O from './oracle.js';

const t = suite('public API property test (fast-check)');
t.before(setup);

const RUNS = Number(process.env.VOXGRAD_PROPERTY_RUNS ?? 3000);

interface Case {
  /** The call, as shown when a case fails. */
  label: string;
  /** Valid by construction: must succeed (and pass `check`); invalid: must throw a named error. */
  valid: boolean;
  /** The function whose name an error message must start with. */
  fn: string;
  run: () => unknown;
  /** Checks a valid call's result against the host oracle. */
  check?: (out: unknown) => void | Promise<void>;
}

/** A case whose label is what fast-check prints for a counterexample. */
const named = (c: Case): Case => Object.assign(c, { toString: () => `${c.valid ? 'valid' : 'invalid'}: ${c.label}` });

// --- values and shapes ------------------------------------------------------------------------------

/** Small shapes (rank 0 to 4, dims 0 to 4: empty tensors included). */
const shapeArb = fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 4 });
const nonEmptyShapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 });
/** float32 values, mostly ordinary, sometimes NaN or ±inf. */
const valueArb = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: -400, max: 400 }).map((i) => Math.fround(i / 64)) },
  { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Infinity, -Infinity, -0) },
);
const sizeOf = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const valuesOf = (shape: readonly number[]) =>
  fc.array(valueArb, { minLength: sizeOf(shape), maxLength: sizeOf(shape) });

/** A float tensor's shape and values. */
const floatArb = (shape: fc.Arbitrary<number[]> = shapeArb) =>
  shape.chain((s) => valuesOf(s).map((values) => ({ shape: s, values })));

function nest(values: readonly number[], shape: readonly number[]): unknown {
  if (shape.length === 0) return values[0];
  const step = sizeOf(shape.slice(1));
  return Array.from({ length: shape[0] }, (_, i) => nest(values.slice(i * step, (i + 1) * step), shape.slice(1)));
}

/** Compares a result with the float64 oracle rounded to float32 (NaN matches NaN). */
async function expectClose(out: unknown, expected: O.Nd, label: string, tol = 1e-5): Promise<void> {
  assert.ok(out instanceof vg.Tensor, `${label}: a tensor`);
  const got = out as vg.Tensor;
  assert.equal([...got.shape], expected.shape, `${label}: shape`);
  const data = await got.data();
  for (let i = 0; i < data.length; i++) {
    const e = Math.fround(expected.data[i]);
    const g = data[i];
    const same = Number.isNaN(e)
      ? Number.isNaN(g)
      : !Number.isFinite(e)
        ? g === e
        : Math.abs(g - e) <= tol * (1 + Math.abs(e));
    assert.ok(same, `${label}: element ${i}: got ${g}, expected ${e}`);
  }
}

const upload = (x: { shape: number[]; values: number[] }): vg.Tensor => vg.tensor(Float32Array.from(x.values), x.shape);
const hostNd = (x: { shape: number[]; values: number[] }): O.Nd => O.Nd.from(x.shape, x.values);

// --- tensor creation --------------------------------------------------------------------------------

const creation = fc
  .record({
    data: floatArb(),
    form: fc.constantFrom(
      'nested',
      'Float32Array',
      'Int32Array',
      'Uint8Array',
      'Float64Array',
      'BigInt64Array',
      'DataView',
    ),
    ragged: fc.boolean(),
    shapeArg: fc.constantFrom('none', 'same', 'wrong', 'negative', 'fraction'),
    dtype: fc.constantFrom(undefined, 'float32', 'int32', 'float16'),
  })
  .map(({ data, form, ragged, shapeArg, dtype }) => {
    const { shape, values } = data;
    let input: unknown;
    let valid = true;
    let expected = values.slice();
    if (form === 'nested') {
      input = nest(values, shape);
      // A ragged array: one row of the first axis loses an element (only where it has rows).
      if (ragged && shape.length >= 2 && shape[0] >= 2 && shape[1] >= 1) {
        (input as unknown[][])[1] = (input as unknown[][])[1].slice(1);
        valid = false;
      }
    } else if (form === 'BigInt64Array') {
      input = new BigInt64Array(values.length);
      valid = false;
    } else if (form === 'DataView') {
      input = new DataView(new ArrayBuffer(4 * values.length));
      valid = false;
    } else {
      const T = { Float32Array, Int32Array, Uint8Array, Float64Array }[form]!;
      const typed = T.from(
        values.map((v) => (T === Float32Array || T === Float64Array ? v : Number.isFinite(v) ? Math.trunc(v) : 0)),
      );
      input = typed;
      expected = Array.from(typed, Number);
    }
    // Nested arrays stop at their first empty axis ([[], []] is [2, 0], as in NumPy).
    const empty = shape.indexOf(0);
    const flatShape = form === 'nested' ? (empty >= 0 ? shape.slice(0, empty + 1) : shape) : [values.length];
    let shapeGiven: unknown;
    if (shapeArg === 'same') shapeGiven = shape;
    if (shapeArg === 'wrong') {
      shapeGiven = [values.length + 1];
      valid = false;
    }
    if (shapeArg === 'negative') {
      shapeGiven = [-1, ...shape];
      valid = false;
    }
    if (shapeArg === 'fraction') {
      shapeGiven = [0.5];
      valid = false;
    }
    if (dtype === 'float16') valid = false;
    const resolved = dtype ?? (form === 'Int32Array' ? 'int32' : 'float32');
    // int32 takes integers only.
    if (resolved === 'int32' && expected.some((v) => !Number.isInteger(v))) valid = false;
    const finalShape = (shapeGiven as number[] | undefined) ?? flatShape;
    return named({
      label: `tensor(${form}${ragged ? ' ragged' : ''} of shape [${shape}], shape ${JSON.stringify(shapeGiven)}, ${dtype})`,
      valid,
      fn: 'tensor',
      run: () => vg.tensor(input as vg.NestedArray, shapeGiven as number[] | undefined, dtype as vg.DType | undefined),
      check: async (out) => {
        const got = out as vg.Tensor;
        assert.equal([...got.shape], finalShape);
        assert.is(got.dtype, resolved);
        const data = Array.from(await got.data());
        data.forEach((g, i) =>
          assert.ok(Object.is(g, Math.fround(expected[i])) || g === Math.fround(expected[i]), `element ${i}`),
        );
      },
    });
  });

// --- elementwise ------------------------------------------------------------------------------------

const UNARY = ['neg', 'abs', 'exp', 'sqrt', 'square', 'relu', 'sigmoid', 'tanh', 'softplus', 'sign', 'step'] as const;
const unaryCase = fc
  .record({ op: fc.constantFrom(...UNARY), x: floatArb(), disposed: fc.boolean(), asInt: fc.boolean() })
  .map(({ op, x, disposed, asInt }) => {
    const valid = !disposed && !asInt;
    return named({
      label: `${op}(${asInt ? 'int32 ' : ''}${disposed ? 'disposed ' : ''}[${x.shape}])`,
      valid,
      fn: op,
      run: () => {
        const input = asInt ? vg.zeros(x.shape, 'int32') : upload(x);
        if (disposed) input.dispose();
        try {
          return (vg[op] as (t: vg.Tensor) => vg.Tensor)(input);
        } finally {
          input.dispose();
        }
      },
      check: (out) => expectClose(out, hostNd(x).map(O.unaryFns[op]), op, 2e-5),
    });
  });

const BINARY = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'less', 'equal', 'greaterEqual'] as const;
/** Two shapes that broadcast (or, when `clash`, an axis of two different sizes > 1). */
const broadcastPair = fc
  .record({
    out: nonEmptyShapeArb,
    dropA: fc.nat(4),
    dropB: fc.nat(4),
    maskA: fc.nat(15),
    maskB: fc.nat(15),
    clash: fc.boolean(),
  })
  .map(({ out, dropA, dropB, maskA, maskB, clash }) => {
    const a = out.slice(Math.min(dropA, out.length)).map((d, i) => ((maskA >> i) & 1 ? 1 : d));
    const b = out.slice(Math.min(dropB, out.length)).map((d, i) => ((maskB >> i) & 1 ? 1 : d));
    const valid = !clash || a.length === 0 || b.length === 0;
    if (!valid) {
      a[a.length - 1] = 2;
      b[b.length - 1] = 3;
    }
    return { a, b, valid };
  });
const binaryCase = fc
  .record({
    op: fc.constantFrom(...BINARY),
    pair: broadcastPair,
    seed: fc.nat(),
    scalarB: fc.boolean(),
    mixedDType: fc.boolean(),
  })
  .chain(({ op, pair, seed, scalarB, mixedDType }) =>
    fc.tuple(valuesOf(pair.a), valuesOf(pair.b), valueArb).map(([av, bv, s]) => {
      const finite = Number.isFinite(s) && !(op === 'div' && s === 0);
      const valid =
        (pair.valid || scalarB) &&
        !(mixedDType && !scalarB) &&
        (!scalarB || finite || !['add', 'sub', 'mul', 'div'].includes(op));
      const a = { shape: pair.a, values: av };
      const b = scalarB ? { shape: [], values: [s] } : { shape: pair.b, values: bv };
      return named({
        label: `${op}([${pair.a}], ${scalarB ? `number ${s}` : `${mixedDType ? 'int32 ' : ''}[${pair.b}]`}) seed ${seed}`,
        valid,
        fn: op,
        run: () => {
          const ta = upload(a);
          const tb = scalarB ? null : mixedDType ? vg.zeros(pair.b, 'int32') : upload(b);
          try {
            return (vg[op] as (x: vg.Tensor, y: vg.Tensor | number) => vg.Tensor)(ta, tb ?? s);
          } finally {
            ta.dispose();
            tb?.dispose();
          }
        },
        check: (out) => expectClose(out, O.binary(op, hostNd(a), hostNd(b)), op),
      });
    }),
  );

// --- reductions and softmax ---------------------------------------------------------------------------

const reduceCase = fc
  .record({
    op: fc.constantFrom('sum', 'mean', 'max', 'min'),
    x: floatArb(fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 4 })),
    axes: fc.array(fc.integer({ min: -5, max: 4 }), { minLength: 0, maxLength: 3 }),
    all: fc.boolean(),
    keepDims: fc.boolean(),
  })
  .map(({ op, x, axes, all, keepDims }) => {
    const rank = x.shape.length;
    const norm = axes.map((a) => (a < 0 ? a + rank : a));
    const reduced = all ? [...Array(rank).keys()] : norm;
    let valid = all || (norm.every((a) => a >= 0 && a < rank) && new Set(norm).size === norm.length);
    // NumPy: a max or min of no values is an error.
    if (valid && (op === 'max' || op === 'min') && reduced.some((a) => x.shape[a] === 0)) valid = false;
    return named({
      label: `${op}([${x.shape}], ${all ? 'all' : `[${axes}]`}, keepDims ${keepDims})`,
      valid,
      fn: op,
      run: () => {
        const tx = upload(x);
        try {
          return vg[op as 'sum'](tx, all ? undefined : axes, keepDims);
        } finally {
          tx.dispose();
        }
      },
      check: (out) => {
        const e = O.reduce(op as 'sum', hostNd(x), reduced, keepDims);
        return expectClose(out, e, op, 1e-4);
      },
    });
  });

const softmaxCase = fc
  .record({ x: floatArb(nonEmptyShapeArb), axis: fc.integer({ min: -5, max: 4 }), log: fc.boolean() })
  .map(({ x, axis, log }) => {
    const valid = axis >= -x.shape.length && axis < x.shape.length;
    const fn = log ? 'logSoftmax' : 'softmax';
    return named({
      label: `${fn}([${x.shape}], ${axis})`,
      valid,
      fn,
      run: () => {
        const tx = upload(x);
        try {
          return vg[fn](tx, axis);
        } finally {
          tx.dispose();
        }
      },
      check: (out) => expectClose(out, O.softmax(hostNd(x), axis, log), fn, 1e-4),
    });
  });

// --- movement and matmul ----------------------------------------------------------------------------

const movementCase = fc
  .record({
    x: floatArb(nonEmptyShapeArb),
    kind: fc.constantFrom('reshape', 'transpose', 'slice', 'concat', 'pad'),
    bad: fc.boolean(),
    perm: fc.array(fc.nat(3), { minLength: 1, maxLength: 4 }),
    n: fc.nat(3),
  })
  .map(({ x, kind, bad, perm, n }) => {
    const rank = x.shape.length;
    const nd = hostNd(x);
    let run: (tx: vg.Tensor) => vg.Tensor;
    let expected: () => O.Nd;
    let label: string;
    if (kind === 'reshape') {
      const shape = bad ? [sizeOf(x.shape) + 1] : [sizeOf(x.shape)];
      run = (tx) => vg.reshape(tx, shape);
      expected = () => O.Nd.from(shape, x.values);
      label = `reshape([${x.shape}], [${shape}])`;
    } else if (kind === 'transpose') {
      // A permutation of the axes (or, when bad, a repeated axis).
      const p = [...Array(rank).keys()].sort((a, b) => (perm[a] ?? a) - (perm[b] ?? b) || a - b);
      if (bad && rank > 1) p[0] = p[1];
      run = (tx) => vg.transpose(tx, p);
      expected = () => O.transpose(nd, p);
      label = `transpose([${x.shape}], [${p}])`;
      bad = bad && rank > 1;
    } else if (kind === 'slice') {
      const begin = x.shape.map((d) => Math.min(n, d - 1));
      const size = x.shape.map((d, i) => d - begin[i] + (bad && i === 0 ? 1 : 0));
      run = (tx) => vg.slice(tx, begin, size);
      expected = () => O.slice(nd, begin, size);
      label = `slice([${x.shape}], [${begin}], [${size}])`;
    } else if (kind === 'concat') {
      const axis = bad ? rank : n % rank;
      run = (tx) => vg.concat([tx, tx], axis);
      expected = () => O.concat([nd, nd], axis);
      label = `concat([${x.shape}] x2, ${axis})`;
    } else {
      const paddings = x.shape.map((_, i) => [i === 0 ? n : 0, bad && i === 0 ? -1 : 1] as [number, number]);
      run = (tx) => vg.pad(tx, paddings, 2);
      expected = () => O.pad(nd, paddings, 2);
      label = `pad([${x.shape}], ${JSON.stringify(paddings)})`;
    }
    return named({
      label,
      valid: !bad,
      fn: kind,
      run: () => {
        const tx = upload(x);
        try {
          return run(tx);
        } finally {
          tx.dispose();
        }
      },
      check: (out) => expectClose(out, expected(), kind, 0),
    });
  });

const matmulCase = fc
  .record({
    m: fc.integer({ min: 0, max: 5 }),
    k: fc.integer({ min: 0, max: 5 }),
    n: fc.integer({ min: 0, max: 5 }),
    ta: fc.boolean(),
    tb: fc.boolean(),
    clash: fc.boolean(),
  })
  .chain(({ m, k, n, ta, tb, clash }) => {
    const aShape = ta ? [k, m] : [m, k];
    const bShape = tb ? [n, k + (clash ? 1 : 0)] : [k + (clash ? 1 : 0), n];
    return fc.tuple(valuesOf(aShape), valuesOf(bShape)).map(([av, bv]) =>
      named({
        label: `matmul([${aShape}], [${bShape}], transposeA ${ta}, transposeB ${tb})`,
        valid: !clash,
        fn: 'matmul',
        run: () => {
          const a = upload({ shape: aShape, values: av });
          const b = upload({ shape: bShape, values: bv });
          try {
            return vg.matmul(a, b, { transposeA: ta, transposeB: tb });
          } finally {
            a.dispose();
            b.dispose();
          }
        },
        check: (out) =>
          expectClose(out, O.matmul(O.Nd.from(aShape, av), O.Nd.from(bShape, bv), ta, tb), 'matmul', 1e-4),
      }),
    );
  });

// --- losses -----------------------------------------------------------------------------------------

const LOSSES = ['dice', 'iou', 'tversky', 'generalizedDice', 'categoricalCrossentropy'] as const;
const lossCase = fc
  .record({
    loss: fc.constantFrom(...LOSSES),
    B: fc.integer({ min: 1, max: 2 }),
    N: fc.integer({ min: 1, max: 6 }),
    C: fc.integer({ min: 1, max: 4 }),
    labels: fc.boolean(),
    host: fc.boolean(),
    activation: fc.constantFrom('none', 'softmax', 'sigmoid'),
    bad: fc.constantFrom('none', 'none', 'none', 'option', 'value', 'shape', 'label'),
    seed: fc.nat(1000),
  })
  .map(({ loss, B, N, C, labels, host, activation, bad, seed }) => {
    const r = (i: number): number => (Math.sin(seed * 13.1 + i * 7.7) + 1) / 2;
    const logits = activation !== 'none';
    const act: L.Act = loss === 'categoricalCrossentropy' ? (logits ? 'softmax' : 'none') : (activation as L.Act);
    // y_pred of another shape: one voxel more.
    const NP = bad === 'shape' ? N + 1 : N;
    const p = Float64Array.from({ length: B * NP * C }, (_, i) =>
      Math.fround(logits ? 4 * r(i) - 2 : 0.05 + 0.9 * r(i)),
    );
    const lab = Int32Array.from({ length: B * N }, (_, i) =>
      Math.min(Math.floor(r(1000 + i) * (C === 1 ? 2 : C)), C === 1 ? 1 : C - 1),
    );
    const volume: L.Volume = { B, N, C, t: null, labels: lab, p };
    if (!labels) volume.t = L.dense(volume, 'none').t;
    const options: Record<string, unknown> =
      loss === 'categoricalCrossentropy' ? { fromLogits: logits } : { activation: act };
    if (loss === 'tversky') Object.assign(options, { alpha: 0.3, beta: 0.7 });
    if (bad === 'option') options.smoothing = 1;
    if (bad === 'value') options[loss === 'categoricalCrossentropy' ? 'reduction' : 'smoothNr'] = -1;
    // A label out of range: refused in host data; a tensor's labels are not read back (the kernel
    // marks no class for it, as the oracle does).
    if (bad === 'label') lab[0] = C + 3;
    let valid = bad === 'none' || (bad === 'label' && !(host && labels));
    // Softmax over one class is refused.
    if (act === 'softmax' && C === 1) valid = false;
    const expected = (): number => {
      if (loss === 'categoricalCrossentropy') return L.categoricalCrossentropy(volume, act);
      if (loss === 'generalizedDice') return L.generalizedDice(volume, { activation: act }) as number;
      return L.overlapLoss(loss, volume, options as L.LossOpts) as number;
    };
    return named({
      label: `${loss}(${host ? 'host' : 'tensor'} ${labels ? 'labels' : 'one-hot'}, B ${B} N ${N} C ${C}, ${JSON.stringify(options)}${bad === 'shape' ? ', y_pred with a voxel more' : ''})`,
      valid,
      fn: loss,
      run: () => {
        const made: vg.Tensor[] = [];
        try {
          const yTrue = host
            ? labels
              ? Int32Array.from(lab)
              : Float32Array.from(volume.t!)
            : labels
              ? vg.tensor(Int32Array.from(lab), [B, N], 'int32')
              : vg.tensor(Float32Array.from(volume.t!), [B, N, C]);
          if (yTrue instanceof vg.Tensor) made.push(yTrue);
          const yPred = vg.tensor(Float32Array.from(p), [B, NP, C]);
          made.push(yPred);
          return (vg[loss] as (a: unknown, b: vg.Tensor, o: unknown) => vg.Tensor)(yTrue, yPred, options);
        } finally {
          for (const m of made) m.dispose();
        }
      },
      check: (out) => expectClose(out, O.Nd.from([], [expected()]), loss, 2e-4),
    });
  });

// --- layers -----------------------------------------------------------------------------------------

const layerCase = fc
  .record({
    kind: fc.constantFrom('Dense', 'Conv3D', 'MaxPool3D', 'GroupNormalization'),
    size: fc.integer({ min: 1, max: 5 }),
    channels: fc.integer({ min: 1, max: 4 }),
    setting: fc.integer({ min: -1, max: 3 }),
    unknownKey: fc.boolean(),
    seed: fc.nat(100),
  })
  .map(({ kind, size, channels, setting, unknownKey, seed }) => {
    let valid = !unknownKey && setting >= 1;
    let options: Record<string, unknown>;
    let inputShape: number[];
    if (kind === 'Dense') {
      options = { units: setting, seed };
      inputShape = [channels];
    } else if (kind === 'Conv3D') {
      options = { filters: 2, kernelSize: setting, padding: 'same', seed };
      inputShape = [size, size, size, channels];
    } else if (kind === 'MaxPool3D') {
      options = { poolSize: setting, padding: 'same' };
      inputShape = [size, size, size, channels];
    } else {
      options = { groups: setting };
      inputShape = [size, size, size, channels];
      // Groups must divide the channels: found when the layer is applied.
      if (setting >= 1 && channels % setting !== 0) valid = false;
    }
    if (unknownKey) options.unknownOption = 1;
    return named({
      label: `new ${kind}(${JSON.stringify(options)}).apply(input [${inputShape}]).call(...)`,
      valid,
      fn: kind === 'GroupNormalization' && setting >= 1 && !unknownKey ? '' : kind,
      run: () => {
        const layer = new (vg[kind] as new (o: unknown) => vg.Layer)(options);
        try {
          const sym = layer.apply(vg.input({ shape: inputShape }));
          const x = vg.randomNormal([2, ...inputShape], { seed });
          try {
            const y = layer.call([x], false);
            return { y, expected: [2, ...sym.shape.slice(1)] };
          } finally {
            x.dispose();
          }
        } finally {
          for (const w of layer.allWeights) w.dispose();
        }
      },
      check: (out) => {
        const { y, expected } = out as { y: vg.Tensor; expected: number[] };
        assert.equal([...y.shape], expected, 'output shape = outputShape');
      },
    });
  });

// --- weights I/O ------------------------------------------------------------------------------------

const weightsCase = fc
  .record({
    tensors: fc.array(floatArb(shapeArb), { minLength: 1, maxLength: 3 }),
    damage: fc.constantFrom('none', 'none', 'flip', 'truncate', 'header'),
    at: fc.nat(),
    bit: fc.nat(7),
  })
  .map(({ tensors, damage, at, bit }) => {
    const names = tensors.map((_, i) => `layer_${i}/w`);
    return named({
      label: `saveSafetensors -> ${damage} byte ${at} -> loadSafetensors of [${tensors.map((x) => `[${x.shape}]`).join(', ')}]`,
      // A damaged file may still be valid (a flipped bit inside the data): then its tensors must
      // match the header; otherwise it must be a ValueError.
      valid: damage === 'none',
      fn: 'loadSafetensors',
      run: async () => {
        const made = tensors.map(upload);
        let bytes: Uint8Array;
        try {
          bytes = await vg.saveSafetensors(Object.fromEntries(names.map((n, i) => [n, made[i]])));
        } finally {
          for (const m of made) m.dispose();
        }
        if (damage === 'flip') bytes[at % bytes.length] ^= 1 << bit;
        if (damage === 'truncate') bytes = bytes.subarray(0, at % bytes.length);
        if (damage === 'header') bytes[8 + (at % 16)] = 0x7b;
        return vg.loadSafetensors(bytes);
      },
      check: async (out) => {
        const { tensors: loaded } = out as vg.Safetensors;
        assert.equal(Object.keys(loaded).sort(), [...names].sort());
        for (const [i, n] of names.entries()) await expectClose(loaded[n], hostNd(tensors[i]), n, 0);
      },
    });
  });

const anyCase = fc.oneof(
  creation,
  unaryCase,
  binaryCase,
  reduceCase,
  softmaxCase,
  movementCase,
  matmulCase,
  lossCase,
  layerCase,
  weightsCase,
);

/** Disposes whatever a call returned. */
function release(value: unknown): void {
  for (const tensor of tensorsIn(value)) tensor.dispose();
  if (value && typeof value === 'object' && 'tensors' in value) release((value as vg.Safetensors).tensors);
}

const LIVE = ['liveTensors', 'liveBuffers', 'liveBytes'] as const;

t(
  `${RUNS} generated calls: a correct result or a named error, nothing left behind, the engine working after`,
  async () => {
    const counts = { valid: 0, invalid: 0, damagedButValid: 0 };
    const errorClasses = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(anyCase, async (c) => {
        const before = vg.memory();
        let out: unknown;
        let error: unknown = null;
        try {
          out = await c.run();
        } catch (e) {
          error = e;
        }
        try {
          if (c.valid) {
            if (error)
              throw new Error(`${c.label}: a valid call failed: ${(error as Error).name}: ${(error as Error).message}`);
            await c.check?.(out);
            counts.valid++;
          } else if (error === null && c.fn === 'loadSafetensors') {
            // A damaged file that still parses: its tensors must be what its header says.
            const { tensors } = out as vg.Safetensors;
            for (const x of Object.values(tensors)) assert.is(x.size, sizeOf(x.shape));
            counts.damagedButValid++;
          } else {
            if (!(error instanceof vg.VoxgradError))
              throw new Error(
                `${c.label}: expected a named voxgrad error, got ${error === null ? 'a result' : String(error)}`,
              );
            if (c.fn && !error.message.startsWith(c.fn))
              throw new Error(`${c.label}: the message does not start with '${c.fn}': ${error.message}`);
            errorClasses.set(error.name, (errorClasses.get(error.name) ?? 0) + 1);
            counts.invalid++;
          }
        } finally {
          release(out);
        }
        const after = vg.memory();
        for (const k of LIVE) assert.is(after[k], before[k], `${c.label}: ${k} left behind`);
        const check = vg.tidy(() => vg.sum(vg.mul(vg.tensor([1, 2, 3]), 2)));
        const [value] = await check.data();
        check.dispose();
        assert.is(value, 12, `${c.label}: the engine no longer computes correctly`);
      }),
      { numRuns: RUNS, seed: Number(process.env.VOXGRAD_PROPERTY_SEED ?? 20261202), endOnFailure: true },
    );
    console.log(
      `  ${RUNS} cases: ${counts.valid} valid (checked against the oracle), ${counts.invalid} invalid (${[...errorClasses].map(([k, n]) => `${n} ${k}`).join(', ')}), ${counts.damagedButValid} damaged files that still parse`,
    );
  },
);

t.run();
