// loadSafetensors against mutated files (fast-check, fixed seeds): byte flips anywhere, truncation
// and trailing bytes, a corrupted length prefix, structured header edits (wrong types, huge,
// negative and overlapping offsets, odd names such as __proto__, bad metadata) and raw edits of the
// header text. Every file is answered within a second by a ValueError naming loadSafetensors and
// the argument, or by a valid result that agrees with the header; nothing is left on the GPU.
import fc from 'fast-check';
import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { setup, suite } from './harness.js';

const t = suite('safetensors fuzz: mutated files are a clear error or a valid result, nothing leaks');
t.before(setup);

type Entries = [string, unknown][];

/**
 * A file from header entries written in order (so a name like '__proto__' or a repeated name is
 * written as given, which an object literal cannot do), the data, and optionally a length prefix
 * other than the header's true length.
 */
function fileOf(entries: Entries | string, data: Uint8Array, prefix?: bigint): Uint8Array {
  const json =
    typeof entries === 'string'
      ? entries
      : `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
  const header = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + header.length + data.length);
  new DataView(out.buffer).setBigUint64(0, prefix ?? BigInt(header.length), true);
  out.set(header, 8);
  out.set(data, 8 + header.length);
  return out;
}

// Three valid files: three tensors (one of them empty) with metadata, an unpadded single tensor,
// and no tensors at all.
const data40 = new Uint8Array(new Float32Array([1, -2, 3.5, 0, 1e-38, -7, 4, 5, 6, 7]).buffer);
const BASES: { entries: Entries; data: Uint8Array }[] = [
  {
    entries: [
      ['__metadata__', { format: 'pt', note: 'x' }],
      ['w', { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] }],
      ['idx', { dtype: 'I32', shape: [4], data_offsets: [24, 40] }],
      ['empty', { dtype: 'F32', shape: [0, 5], data_offsets: [40, 40] }],
    ],
    data: data40,
  },
  { entries: [['layer/bias', { dtype: 'F32', shape: [3], data_offsets: [0, 12] }]], data: data40.slice(0, 12) },
  { entries: [], data: new Uint8Array(0) },
];
const baseFiles = BASES.map((b) => fileOf(b.entries, b.data));

const ODD_NAMES = [
  '__proto__',
  'constructor',
  'prototype',
  '__metadata__',
  '',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '__defineGetter__',
  'w',
  'idx',
  'a/b/c',
  '\u0000',
  '☃',
  'x'.repeat(300),
];
const WEIRD_NUMBERS = [-1, -0.5, 0, 0.5, 1.5, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 2 ** 64, 1e300, -1e300];
const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom<unknown>(
    null,
    true,
    '',
    'F32',
    'I32',
    'F16',
    'BF16',
    'f32',
    [],
    {},
    [0],
    [0, 4],
    [4, 0],
    [-4, 0],
    [0, 2 ** 53],
    [1e20, 1e20 + 4],
    [0, 4, 8],
    ['0', '4'],
    [0.5, 4.5],
    ...WEIRD_NUMBERS,
  ),
);
const weirdInt = fc.oneof(fc.integer({ min: -64, max: 64 }), fc.constantFrom(...WEIRD_NUMBERS));

/**
 * One structured edit of the header entries. `mustFail` marks an edit after which no file can be
 * valid, whatever came before it (so it is trusted only as the last edit).
 */
interface Edit {
  mustFail: boolean;
  apply: (entries: Entries) => void;
}

/** An edit that prints as `what` in a counterexample. */
const edit = (what: string, mustFail: boolean, apply: (entries: Entries) => void): Edit =>
  Object.assign({ mustFail, apply }, { [fc.toStringMethod]: () => what });

/** The i-th tensor entry (modulo their number), made first when the header has none. */
function target(entries: Entries, i: number): [string, Record<string, unknown>] {
  let tensors = entries.filter(([k]) => k !== '__metadata__');
  if (!tensors.length) {
    entries.push(['t', { dtype: 'F32', shape: [0], data_offsets: [0, 0] }]);
    tensors = entries.filter(([k]) => k !== '__metadata__');
  }
  return tensors[i % tensors.length] as [string, Record<string, unknown>];
}

const show = (v: unknown): string => JSON.stringify(v) ?? String(v);

const edits: fc.Arbitrary<Edit> = fc.oneof(
  // A field of a tensor set to any value, or an unknown field added.
  fc.tuple(fc.nat(), fc.constantFrom('dtype', 'shape', 'data_offsets', 'extra'), weirdValue).map(([i, field, value]) =>
    edit(`tensor ${i}: ${field} = ${show(value)}`, field === 'extra', (entries) => {
      const e = target(entries, i);
      e[1] = { ...e[1], [field]: value };
    }),
  ),
  // A field removed.
  fc.tuple(fc.nat(), fc.constantFrom('dtype', 'shape', 'data_offsets')).map(([i, field]) =>
    edit(`tensor ${i}: no ${field}`, true, (entries) => {
      const e = target(entries, i);
      const copy = { ...e[1] };
      delete copy[field];
      e[1] = copy;
    }),
  ),
  // A tensor renamed; the reserved names and '' always fail.
  fc.tuple(fc.nat(), fc.constantFrom(...ODD_NAMES)).map(([i, name]) =>
    edit(
      `tensor ${i} renamed ${show(name)}`,
      ['__proto__', 'constructor', 'prototype', ''].includes(name),
      (entries) => {
        target(entries, i)[0] = name;
      },
    ),
  ),
  // Offsets anywhere: negative, huge, reversed, fractional, past the data.
  fc.tuple(fc.nat(), weirdInt, weirdInt).map(([i, begin, end]) =>
    edit(
      `tensor ${i}: data_offsets [${begin}, ${end}]`,
      begin < 0 || end < begin || !Number.isSafeInteger(begin) || !Number.isSafeInteger(end),
      (entries) => {
        const e = target(entries, i);
        e[1] = { ...e[1], data_offsets: [begin, end] };
      },
    ),
  ),
  // Two tensors of 8 bytes whose ranges overlap (the second starts 0..7 bytes into the first).
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })).map(([at, shift]) =>
    edit(`two tensors at ${at % 16} and ${(at % 16) + shift}, 8 bytes each`, true, (entries) => {
      const a = target(entries, 0);
      if (entries.filter(([k]) => k !== '__metadata__').length < 2) entries.push(['second', {}]);
      const b = target(entries, 1);
      const begin = at % 16;
      a[1] = { dtype: 'F32', shape: [2], data_offsets: [begin, begin + 8] };
      b[1] = { dtype: 'I32', shape: [1, 2], data_offsets: [begin + shift, begin + shift + 8] };
    }),
  ),
  // Shapes of any rank with odd dims (too many elements, negative, fractional, rank 9+).
  fc.tuple(fc.nat(), fc.array(weirdInt, { maxLength: 10 })).map(([i, shape]) =>
    edit(
      `tensor ${i}: shape ${show(shape)}`,
      shape.length > 8 || shape.some((d) => !Number.isSafeInteger(d) || d < 0),
      (entries) => {
        const e = target(entries, i);
        e[1] = { ...e[1], shape };
      },
    ),
  ),
  // Metadata of any kind; it must be an object of strings.
  weirdValue.map((value) =>
    edit(
      `__metadata__ = ${show(value)}`,
      value === null ||
        typeof value !== 'object' ||
        Array.isArray(value) ||
        Object.values(value as object).some((v) => typeof v !== 'string'),
      (entries) => {
        const m = entries.find(([k]) => k === '__metadata__');
        if (m) m[1] = value;
        else entries.push(['__metadata__', value]);
      },
    ),
  ),
  // A metadata key named __proto__ (an own key, as JSON.parse makes it).
  fc.constant(
    edit('__metadata__ = {"__proto__": "x"}', true, (entries) => {
      const m = entries.find(([k]) => k === '__metadata__');
      const value = JSON.parse('{"__proto__": "x"}');
      if (m) m[1] = value;
      else entries.push(['__metadata__', value]);
    }),
  ),
  // A repeated name (the JSON parser keeps the last).
  fc.nat().map((i) =>
    edit(`tensor ${i} repeated`, false, (entries) => {
      entries.push([target(entries, i)[0], { dtype: 'I32', shape: [1], data_offsets: [0, 4] }]);
    }),
  ),
);

/** The header's tensors as the file says (last one wins for repeated names), for checking a valid result. */
function headerTensors(bytes: Uint8Array): Map<string, { dtype: string; shape: number[] }> {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  const out = new Map<string, { dtype: string; shape: number[] }>();
  for (const [k, v] of Object.entries(header)) if (k !== '__metadata__') out.set(k, v as never);
  return out;
}

const ERROR =
  /^loadSafetensors: argument 'bytes' expected a safetensors file, got bytes that are not a valid safetensors file \(.+\)$/s;
const tally = { files: 0, valid: 0, errors: 0, slowestMs: 0 };
let baseline: vg.MemoryInfo;

/** Loads one file: a ValueError of the expected form, or a result that matches its header; then checks for leaks. */
function check(bytes: Uint8Array, mustFail = false): void {
  tally.files++;
  const start = performance.now();
  let result: vg.Safetensors | null = null;
  let error: unknown = null;
  try {
    result = vg.loadSafetensors(bytes);
  } catch (e) {
    error = e;
  }
  try {
    if (result) {
      tally.valid++;
      assert.not.ok(mustFail, 'a file that can never be valid was accepted');
      assert.is(Object.getPrototypeOf(result.tensors), Object.prototype);
      const expected = headerTensors(bytes);
      assert.equal(Object.keys(result.tensors).sort(), [...expected.keys()].sort());
      for (const [name, x] of Object.entries(result.tensors)) {
        const e = expected.get(name)!;
        assert.ok(x instanceof vg.Tensor);
        assert.is(x.dtype, e.dtype === 'F32' ? 'float32' : 'int32');
        assert.equal([...x.shape], e.shape);
      }
      for (const v of Object.values(result.metadata)) assert.type(v, 'string');
    } else {
      tally.errors++;
      assert.ok(error instanceof vg.ValueError, `expected a ValueError, got ${String(error)}`);
      assert.match((error as Error).message, ERROR);
    }
  } finally {
    if (result) for (const x of Object.values(result.tensors)) x.dispose();
  }
  const ms = performance.now() - start;
  tally.slowestMs = Math.max(tally.slowestMs, ms);
  assert.ok(ms < 1000, `a file took ${ms.toFixed(0)} ms`);
  const now = vg.memory();
  for (const k of ['liveTensors', 'liveBuffers', 'liveBytes'] as const) assert.is(now[k], baseline[k], k);
  assert.is(({} as Record<string, unknown>).polluted, undefined);
}

/** Waits for the GPU between batches, so the writes of the valid files do not pile up. */
const settle = async (): Promise<void> => {
  const x = vg.zeros([1]);
  await x.data();
  x.dispose();
};

const base = fc.constantFrom(...baseFiles.keys());

t.before(async () => {
  await settle();
  baseline = vg.memory();
});

t('the valid bases load', () => {
  for (const b of baseFiles) check(b);
  assert.is(tally.valid, baseFiles.length);
});

t('byte flips anywhere (length prefix, header, data)', async () => {
  fc.assert(
    fc.property(
      base,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
      (b, flips) => {
        const bytes = baseFiles[b].slice();
        for (const [at, xor] of flips) bytes[at % bytes.length] ^= xor;
        check(bytes);
      },
    ),
    { numRuns: 2500, seed: 11 },
  );
  await settle();
});

t('truncated files and trailing bytes', async () => {
  fc.assert(
    fc.property(base, fc.nat(), fc.uint8Array({ maxLength: 24 }), fc.boolean(), (b, cut, extra, truncate) => {
      const file = baseFiles[b];
      if (truncate) {
        const n = cut % file.length;
        // Cutting into the header or the data always breaks the file.
        check(file.subarray(0, n), true);
      } else {
        const bytes = new Uint8Array(file.length + extra.length);
        bytes.set(file);
        bytes.set(extra, file.length);
        check(bytes);
      }
    }),
    { numRuns: 1500, seed: 12 },
  );
  await settle();
});

t('a corrupted length prefix', async () => {
  const near = fc.integer({ min: -24, max: 24 });
  const any = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
  const special = fc.constantFrom(0n, 1n, 7n, 2n ** 31n, 2n ** 32n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n, 100_000_001n);
  fc.assert(
    fc.property(
      base,
      fc.oneof(
        near.map((d) => ({ d })),
        any.map((v) => ({ v })),
        special.map((v) => ({ v })),
      ),
      (b, p) => {
        const { entries, data } = BASES[b];
        const trueLength = BigInt(fileOf(entries, new Uint8Array(0)).length - 8);
        const prefix = 'd' in p ? trueLength + BigInt(p.d) : p.v;
        check(fileOf(entries, data, prefix < 0n ? 0n : prefix));
      },
    ),
    { numRuns: 1500, seed: 13 },
  );
  await settle();
});

t('header edits: wrong types, huge, negative and overlapping offsets, odd names, bad metadata', async () => {
  fc.assert(
    fc.property(base, fc.array(edits, { minLength: 1, maxLength: 3 }), (b, list) => {
      const entries: Entries = BASES[b].entries.map(([k, v]) => [k, structuredClone(v)]);
      for (const e of list) e.apply(entries);
      // Only the last of repeated names counts, so a failing edit may have been hidden by a later entry.
      const names = entries.map(([k]) => k);
      const repeated = new Set(names).size !== names.length;
      check(fileOf(entries, BASES[b].data), !repeated && list[list.length - 1].mustFail);
    }),
    { numRuns: 4000, seed: 14 },
  );
  await settle();
});

t('raw edits of the header text (broken JSON, non-objects, odd characters)', async () => {
  const chars = fc.constantFrom(...'{}[]",:-+.0123456789eE \\u_ntfalsrF32I\u0000\u00ff☃');
  const roots = fc.constantFrom('[]', '[{}]', 'null', '0', '"x"', 'true', '{', '', ' ', '{"a":1e400}', '\ufeff{}');
  fc.assert(
    fc.property(
      base,
      fc.array(fc.tuple(fc.nat(), chars, fc.constantFrom('replace', 'insert', 'delete')), {
        minLength: 1,
        maxLength: 4,
      }),
      roots,
      fc.boolean(),
      (b, changes, root, replaceRoot) => {
        const { entries, data } = BASES[b];
        let text = `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
        if (replaceRoot) text = root;
        else
          for (const [at, c, how] of changes) {
            const i = at % (text.length + 1);
            text =
              how === 'insert'
                ? text.slice(0, i) + c + text.slice(i)
                : text.slice(0, i) + (how === 'replace' ? c : '') + text.slice(i + 1);
          }
        // A leading byte-order mark is dropped by the UTF-8 decoder: '\ufeff{}' is a valid empty header.
        check(fileOf(text, data), replaceRoot && root !== '\ufeff{}');
      },
    ),
    { numRuns: 2000, seed: 15 },
  );
  await settle();
});

t('at least 10,000 files, nothing left behind', async () => {
  await settle();
  const now = vg.memory();
  for (const k of ['liveTensors', 'liveBuffers', 'liveBytes'] as const) assert.is(now[k], baseline[k], k);
  assert.ok(tally.files >= 10_000, `${tally.files} files`);
  assert.ok(tally.valid > 100 && tally.errors > 100, `${tally.valid} valid, ${tally.errors} errors`);
  console.log(
    `  ${tally.files} files: ${tally.valid} valid, ${tally.errors} clear errors; slowest ${tally.slowestMs.toFixed(1)} ms`,
  );
});

t.run();
