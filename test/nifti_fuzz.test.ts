// Fuzzing the NIfTI reader: mutated copies of valid files (NIfTI-1 and NIfTI-2, little- and
// big-endian, with extensions, 4D, plain and gzipped) by byte flips, random header field values,
// truncations and extension-chain edits, 20,000 cases. Every case must be answered within a second
// by either a ValueError naming the file or a volume whose data matches its dims; nothing else may
// be thrown.
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import * as assert from 'uvu/assert';
import { readNifti, ValueError, writeNifti } from '../src/index.node.js';
import { suite } from './harness.js';
import { buildNifti, FIELDS, type Field, put } from './nifti_files.js';

const t = suite('NIfTI fuzz: mutated headers give a ValueError or a valid volume, quickly');

// Cases per test (5 tests); VOXGRAD_FUZZ_ROUNDS multiplies them (npm run test:long).
const RUNS = 4000 * Number(process.env.VOXGRAD_FUZZ_ROUNDS ?? 1);
const NAME = 'fuzz.nii';

interface Seed {
  bytes: Uint8Array;
  version: 1 | 2;
  littleEndian: boolean;
}

const ramp = (n: number, f = (i: number) => i) => Array.from({ length: n }, (_, i) => f(i));

const SEEDS: Seed[] = [
  {
    bytes: writeNifti(
      {
        data: Float32Array.from(ramp(60, Math.sin)),
        dims: [3, 4, 5],
        affine: [0, -2, 0, 9, 1.5, 0, 0, -8, 0, 0, 3, 7, 0, 0, 0, 1],
      },
      { datatype: 'float32' },
    ),
    version: 1,
    littleEndian: true,
  },
  {
    bytes: buildNifti({
      littleEndian: false,
      dim: [4, 3, 2],
      datatype: 4,
      values: ramp(24, (i) => i * 100 - 1000),
      qformCode: 1,
      quatern: [0, 0, Math.SQRT1_2],
      qoffset: [1, 2, 3],
      pixdim: [-1, 2, 3, 4, 1, 1, 1, 1],
      sclSlope: 0.5,
      sclInter: 3,
      extensions: [32, 16],
    }),
    version: 1,
    littleEndian: false,
  },
  {
    bytes: buildNifti({
      version: 2,
      dim: [4, 3, 2],
      datatype: 2,
      values: ramp(24),
      sformCode: 1,
      srow: [2, 0, 0, 1, 0, 2, 0, 1, 0, 0, 2, 1],
    }),
    version: 2,
    littleEndian: true,
  },
  {
    bytes: buildNifti({
      version: 2,
      littleEndian: false,
      dim: [2, 2, 2, 3],
      datatype: 64,
      values: ramp(24, (i) => i / 7),
      extensions: [48],
    }),
    version: 2,
    littleEndian: false,
  },
  {
    bytes: buildNifti({ dim: [5, 2, 3], datatype: 512, values: ramp(30, (i) => i * 2000), extensions: [16, 16, 16] }),
    version: 1,
    littleEndian: true,
  },
];

const tally = { cases: 0, volumes: 0, errors: 0, slowestMs: 0 };

/** Reads one mutated file: a ValueError naming it, or a volume consistent with its dims, within a second. */
function answer(bytes: Uint8Array, channels: boolean): void {
  const start = performance.now();
  let volume: ReturnType<typeof readNifti> | undefined;
  try {
    volume = readNifti(bytes, NAME, { channels });
  } catch (e) {
    if (!(e instanceof ValueError)) throw new Error(`not a ValueError: ${(e as Error)?.stack ?? e}`);
    if (!e.message.includes(NAME)) throw new Error(`the message does not name the file: ${e.message}`);
  }
  const ms = performance.now() - start;
  tally.cases++;
  tally.slowestMs = Math.max(tally.slowestMs, ms);
  if (ms > 1000) throw new Error(`took ${ms.toFixed(0)} ms`);
  if (!volume) {
    tally.errors++;
    return;
  }
  tally.volumes++;
  const { data, dims, channels: C, affine, spacing } = volume;
  if (!dims.every((d) => Number.isInteger(d) && d >= 1)) throw new Error(`dims ${dims}`);
  if (!(Number.isInteger(C) && C >= 1 && (channels || C === 1))) throw new Error(`channels ${C}`);
  if (!(data instanceof Float32Array) || data.length !== dims[0] * dims[1] * dims[2] * C)
    throw new Error(`${data.length} values for dims ${dims} x ${C}`);
  if (affine.length !== 16 || !affine.every(Number.isFinite)) throw new Error(`affine ${affine}`);
  if (!spacing.every((s) => Number.isFinite(s) && s > 0)) throw new Error(`spacing ${spacing}`);
}

const seed = fc.nat(SEEDS.length - 1);
const EDGES = [
  0,
  -1,
  1,
  2,
  3,
  4,
  7,
  8,
  15,
  16,
  64,
  255,
  348,
  351,
  352,
  540,
  544,
  32767,
  -32768,
  2 ** 31 - 1,
  -(2 ** 31),
  2 ** 40,
  1e30,
  -1e-30,
  0.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
];
const value = fc.oneof(fc.constantFrom(...EDGES), fc.integer({ min: -70000, max: 70000 }), fc.double());

type Mutation = (s: Seed) => Uint8Array;

const flips = fc
  .array(fc.tuple(fc.nat(), fc.nat(255), fc.boolean()), { minLength: 1, maxLength: 8 })
  .map<Mutation>((edits) => (s) => {
    const b = Uint8Array.from(s.bytes);
    // Mostly inside the header and the extension chain, sometimes anywhere.
    for (const [at, v, anywhere] of edits)
      b[at % (anywhere ? b.length : Math.min(b.length, s.version === 1 ? 420 : 620))] = v;
    return b;
  });

const fields = fc.array(fc.tuple(fc.nat(), value), { minLength: 1, maxLength: 3 }).map<Mutation>((edits) => (s) => {
  const b = Uint8Array.from(s.bytes);
  const view = new DataView(b.buffer);
  for (const [k, v] of edits) {
    const f: Field = FIELDS[s.version][k % FIELDS[s.version].length];
    put(view, f.offset, f.kind, v, s.littleEndian);
  }
  return b;
});

const truncation = fc.nat().map<Mutation>((n) => (s) => s.bytes.slice(0, n % (s.bytes.length + 1)));

const extensions = fc
  .record({
    flag: fc.nat(255),
    sizes: fc.array(
      fc.tuple(fc.nat(), fc.oneof(fc.constantFrom(0, 8, 16, 24, 32, 48, -16, -352, 2 ** 31 - 1), fc.integer())),
      {
        minLength: 1,
        maxLength: 4,
      },
    ),
    offset: fc.option(fc.nat(1200)),
  })
  .map<Mutation>(({ flag, sizes, offset }) => (s) => {
    const size = s.version === 1 ? 348 : 540;
    const b = Uint8Array.from(s.bytes);
    const view = new DataView(b.buffer);
    b[size] = flag;
    for (const [at, esize] of sizes) {
      // esize fields at 4-byte positions between the extender and the end of the file.
      const room = Math.max(0, b.length - 4 - (size + 4));
      const pos = size + 4 + 4 * Math.floor((at % (room + 1)) / 4);
      if (pos + 4 <= b.length) view.setInt32(pos, esize, s.littleEndian);
    }
    const f = FIELDS[s.version].find((x) => x.name === 'vox_offset')!;
    if (offset !== null) put(view, f.offset, f.kind, size + offset, s.littleEndian);
    return b;
  });

const mutation = fc.oneof(flips, fields, truncation, extensions);

t(`${RUNS} byte flips, field values, truncations and extension edits of plain files`, () => {
  fc.assert(
    fc.property(seed, mutation, fc.boolean(), (k, m, channels) => answer(m(SEEDS[k]), channels)),
    { numRuns: RUNS, seed: 1 },
  );
});

t(`${RUNS} random header field values (1 to 3 fields)`, () => {
  fc.assert(
    fc.property(seed, fields, fc.boolean(), (k, m, channels) => answer(m(SEEDS[k]), channels)),
    { numRuns: RUNS, seed: 2 },
  );
});

t(`${RUNS} extension chain edits`, () => {
  fc.assert(
    fc.property(seed, extensions, fc.boolean(), (k, m, channels) => answer(m(SEEDS[k]), channels)),
    { numRuns: RUNS, seed: 3 },
  );
});

t(`${RUNS} mutated files gzipped`, () => {
  fc.assert(
    fc.property(seed, mutation, fc.boolean(), (k, m, channels) => answer(gzipSync(m(SEEDS[k])), channels)),
    { numRuns: RUNS, seed: 4 },
  );
});

t(`${RUNS} flips and truncations of the gzip stream itself`, () => {
  const zipped: Seed[] = SEEDS.map((s) => ({ ...s, bytes: gzipSync(s.bytes) }));
  const gzFlips = fc
    .array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 })
    .map<Mutation>((edits) => (s) => {
      const b = Uint8Array.from(s.bytes);
      // Past the 10-byte gzip header, into the deflate stream and its trailer.
      for (const [at, v] of edits) b[10 + (at % (b.length - 10))] = v;
      return b;
    });
  fc.assert(
    fc.property(seed, fc.oneof(gzFlips, truncation), fc.boolean(), (k, m, channels) => answer(m(zipped[k]), channels)),
    { numRuns: RUNS, seed: 5 },
  );
});

t('the seeds themselves read, and the tally', () => {
  for (const s of SEEDS) assert.ok(readNifti(s.bytes, 'seed', { channels: true }).data.length >= 24);
  console.log(
    `  ${tally.cases} cases: ${tally.volumes} volumes, ${tally.errors} ValueErrors, slowest ${tally.slowestMs.toFixed(1)} ms`,
  );
  assert.ok(tally.cases >= 5 * RUNS, `${tally.cases} cases`);
  assert.ok(tally.volumes > 0 && tally.errors > 0, 'both outcomes occur');
});

t.run();
