// NIfTI reading and writing (src/io/nifti.ts): every supported datatype in both byte orders and both
// versions, scaling, 4D as channels, qform and sform affines, write -> read round trips (plain and
// gzipped), and corrupt files, each refused with a ValueError naming the file and the field, in
// bounded time and memory. Files are built byte by byte (test/nifti_files.ts); no GPU is used.
import { gunzipSync, gzipSync } from 'node:zlib';
import * as assert from 'uvu/assert';
import { assertSameGeometry, readNifti, sameGeometry, ValueError, writeNifti } from '../src/index.node.js';
import { suite } from './harness.js';
import { buildNifti, DATATYPES, type RawNifti, toVoxgradOrder } from './nifti_files.js';

const t = suite('NIfTI: read and write, geometry, corrupt files');

const bits = (a: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(a).buffer));

/** Values that exercise each datatype's range. */
function valuesFor(code: number, n: number): number[] {
  const pick: Record<number, (i: number) => number> = {
    2: (i) => [0, 1, 255, 128][i % 4] + (i % 4 === 1 ? i : 0),
    256: (i) => [-128, 127, 0, -1][i % 4] + (i % 4 === 2 ? i : 0),
    4: (i) => [-32768, 32767, 0, -7][i % 4] + (i % 4 === 2 ? i : 0),
    512: (i) => [0, 65535, 300, 1][i % 4] + (i % 4 === 2 ? i : 0),
    8: (i) => [-2147483648, 2147483647, 0, -100000][i % 4] + (i % 4 === 2 ? i : 0),
    768: (i) => [0, 4294967295, 70000, 1][i % 4] + (i % 4 === 2 ? i : 0),
    16: (i) => Math.fround(Math.sin(i) * 10 ** ((i % 7) - 3)),
    64: (i) => Math.sin(i) * 1e5 + 1e-9 * i,
  };
  return Array.from({ length: n }, (_, i) => pick[code](i));
}

const CODES = Object.keys(DATATYPES).map(Number);
const [X, Y, Z] = [3, 4, 5];

t('every datatype, NIfTI-1 and NIfTI-2, little- and big-endian, in voxgrad order', () => {
  for (const version of [1, 2] as const)
    for (const littleEndian of [true, false])
      for (const code of CODES) {
        const values = valuesFor(code, X * Y * Z);
        const what = `NIfTI-${version} ${littleEndian ? 'LE' : 'BE'} ${DATATYPES[code].name}`;
        const v = readNifti(buildNifti({ version, littleEndian, dim: [X, Y, Z], datatype: code, values }), what);
        assert.equal(v.dims, [X, Y, Z], what);
        assert.is(v.channels, 1);
        assert.is(v.datatype, DATATYPES[code].name, what);
        assert.equal(bits(v.data), bits(toVoxgradOrder(values, X, Y, Z)), what);
      }
  // The order itself: NIfTI's voxel (x=1, y=2, z=3) is voxgrad's index (1·Y + 2)·Z + 3.
  const values = Array.from({ length: X * Y * Z }, (_, i) => i);
  const v = readNifti(buildNifti({ dim: [X, Y, Z], datatype: 4, values }), 'order.nii');
  assert.is(v.data[(1 * Y + 2) * Z + 3], 1 + X * (2 + Y * 3));
  // A Node Buffer that is a view into a larger pool reads the same (its byteOffset is not 0).
  const file = buildNifti({ dim: [X, Y, Z], datatype: 4, values });
  const pooled = Buffer.from(file);
  const shifted = new Uint8Array(file.length + 3).subarray(3);
  shifted.set(file);
  for (const b of [pooled, shifted]) assert.equal(Array.from(readNifti(b, 'view.nii').data), Array.from(v.data));
  assert.ok(pooled.byteOffset > 0 || pooled.buffer.byteLength > pooled.length, 'a pooled Buffer');
  // Fewer than 3 dims read as size 1; trailing bytes after the voxels are allowed.
  const flat = readNifti(
    buildNifti({ dim: [6], datatype: 2, values: [1, 2, 3, 4, 5, 6], tail: new Uint8Array(5) }),
    'a',
  );
  assert.equal(flat.dims, [6, 1, 1]);
  assert.equal(Array.from(flat.data), [1, 2, 3, 4, 5, 6]);
});

t('scl_slope and scl_inter apply when the slope is finite and non-zero', () => {
  const values = [0, 1, -2, 300, 7, 8, 9, 10];
  const read = (s: Partial<RawNifti>) =>
    Array.from(readNifti(buildNifti({ dim: [2, 2, 2], datatype: 4, values, ...s }), 'scaled.nii').data);
  assert.equal(
    read({ sclSlope: 2, sclInter: -3 }),
    toVoxgradOrder(values, 2, 2, 2).map((x) => x * 2 - 3),
  );
  assert.equal(
    read({ version: 2, littleEndian: false, sclSlope: 0.5, sclInter: 1 }),
    toVoxgradOrder(values, 2, 2, 2).map((x) => x * 0.5 + 1),
  );
  // Slope 0 (or not finite) means no scaling, whatever the intercept.
  assert.equal(read({ sclSlope: 0, sclInter: 5 }), toVoxgradOrder(values, 2, 2, 2));
  assert.equal(read({ sclSlope: Number.NaN, sclInter: 5 }), toVoxgradOrder(values, 2, 2, 2));
  assert.throws(() => read({ sclSlope: 2, sclInter: Number.POSITIVE_INFINITY }), /scaled\.nii: field 'scl_inter'/);
});

t('4D: an error by default, channels last with { channels: true }; dims 5..7 > 1 always an error', () => {
  const C = 3;
  const values = Array.from({ length: 2 * 3 * 2 * C }, (_, i) => i);
  const bytes = buildNifti({ dim: [2, 3, 2, C], datatype: 16, values });
  assert.throws(
    () => readNifti(bytes, 'four.nii'),
    (e: Error) => {
      return (
        e instanceof ValueError && /four\.nii: field 'dim\[4\]' expected 1 .*channels: true.*got 3/.test(e.message)
      );
    },
  );
  const v = readNifti(bytes, 'four.nii', { channels: true });
  assert.is(v.channels, C);
  assert.equal(v.dims, [2, 3, 2]);
  assert.equal(Array.from(v.data), toVoxgradOrder(values, 2, 3, 2, C));
  // A 4th dimension of 1 is a 3D volume.
  assert.is(readNifti(buildNifti({ dim: [2, 2, 2, 1], values: new Array(8).fill(1) }), 'a').channels, 1);
  assert.throws(
    () =>
      readNifti(buildNifti({ dim: [2, 2, 2, 1, 2], values: new Array(16).fill(1) }), 'five.nii', { channels: true }),
    /five\.nii: field 'dim\[5\]'/,
  );
});

const close = (a: number[], b: number[], tol: number, what: string) =>
  a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) <= tol, `${what}: [${a}] vs [${b}] at ${i}`));

t('affines: sform, else qform (rotation, voxel sizes, qfac, offset), else diag(pixdim)', () => {
  const values = new Array(8).fill(0);
  const s = Math.SQRT1_2;
  // 90° about z: x' = -y, y' = x; voxel sizes 2, 3, 4; offset (10, 20, 30).
  const qform: Partial<RawNifti> = { qformCode: 1, quatern: [0, 0, s], qoffset: [10, 20, 30] };
  const expected = [0, -3, 0, 10, 2, 0, 0, 20, 0, 0, 4, 30, 0, 0, 0, 1];
  for (const version of [1, 2] as const)
    for (const littleEndian of [true, false]) {
      const what = `qform NIfTI-${version} ${littleEndian ? 'LE' : 'BE'}`;
      const v = readNifti(
        buildNifti({ version, littleEndian, dim: [2, 2, 2], values, pixdim: [1, 2, 3, 4, 1, 1, 1, 1], ...qform }),
        what,
      );
      close(v.affine, expected, 1e-6, what);
      assert.equal(v.spacing, [2, 3, 4]);
      assert.is(v.qformCode, 1);
      assert.is(v.sformCode, 0);
      // qfac -1 (pixdim[0]) flips the third axis.
      const flipped = readNifti(
        buildNifti({ version, littleEndian, dim: [2, 2, 2], values, pixdim: [-1, 2, 3, 4, 1, 1, 1, 1], ...qform }),
        what,
      );
      close(flipped.affine, [0, -3, 0, 10, 2, 0, 0, 20, 0, 0, -4, 30, 0, 0, 0, 1], 1e-6, `${what} qfac -1`);
    }
  // 180° about x (a = 0): the quaternion (1, 0, 0).
  const half = readNifti(buildNifti({ dim: [2, 2, 2], values, qformCode: 2, quatern: [1, 0, 0] }), 'half');
  close(half.affine, [1, 0, 0, 0, 0, -1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1], 1e-7, '180°');
  // The sform wins over the qform when both are set; its values are taken as stored.
  const srow = [0.5, 0.25, 0, -90, 0, 1.5, 0.125, 126, -0.75, 0, 2, -72];
  const sform = readNifti(
    buildNifti({ version: 2, littleEndian: false, dim: [2, 2, 2], values, ...qform, sformCode: 4, srow }),
    'sform',
  );
  assert.equal(sform.affine, [...srow, 0, 0, 0, 1]);
  assert.is(sform.sformCode, 4);
  // Neither: diag(pixdim); a zero voxel size reads as 1.
  const plain = readNifti(buildNifti({ dim: [2, 2, 2], values, pixdim: [1, 0.5, 0, 2, 1, 1, 1, 1] }), 'plain');
  assert.equal(plain.affine, [0.5, 0, 0, 0, 0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1]);
  assert.equal(plain.spacing, [0.5, 1, 2]);
});

/** An oblique affine: rotation about an oblique axis, voxel sizes 0.8, 1.2, 2.5, a shift. */
function obliqueAffine(flip = false): number[] {
  const [ax, ay, az] = [1 / Math.sqrt(3), 1 / Math.sqrt(3), 1 / Math.sqrt(3)];
  const th = 0.7;
  const [c, s, k] = [Math.cos(th), Math.sin(th), 1 - Math.cos(th)];
  const r = [
    [c + ax * ax * k, ax * ay * k - az * s, ax * az * k + ay * s],
    [ay * ax * k + az * s, c + ay * ay * k, ay * az * k - ax * s],
    [az * ax * k - ay * s, az * ay * k + ax * s, c + az * az * k],
  ];
  const size = [0.8, 1.2, flip ? -2.5 : 2.5];
  const t = [-91.5, 126.25, -72];
  return [0, 1, 2].flatMap((i) => [r[i][0] * size[0], r[i][1] * size[1], r[i][2] * size[2], t[i]]).concat([0, 0, 0, 1]);
}

t('write -> read: data (float32 bit-exact), affine, codes, spacing, units, channels, gzip', () => {
  const dims: [number, number, number] = [5, 3, 4];
  const n = 60;
  const floats = Float32Array.from({ length: n }, (_, i) => Math.fround(Math.tan(i) * 10 ** ((i % 9) - 4)));
  floats[0] = -0;
  floats[1] = Number.NaN;
  floats[2] = 1e-42; // subnormal
  floats[3] = -3.4e38;
  for (const flip of [false, true])
    for (const gzip of [false, true]) {
      const affine = obliqueAffine(flip);
      const what = `${flip ? 'left-handed' : 'right-handed'} ${gzip ? 'gzip' : 'plain'}`;
      const bytes = writeNifti(
        { data: floats, dims, affine, qformCode: 2, sformCode: 4, xyztUnits: 2 },
        { datatype: 'float32', gzip },
      );
      assert.is(bytes[0] === 0x1f && bytes[1] === 0x8b, gzip, what);
      const v = readNifti(bytes, what);
      assert.equal(bits(v.data), bits(floats), what);
      assert.equal(v.dims, dims);
      assert.is(v.qformCode, 2);
      assert.is(v.sformCode, 4);
      assert.is(v.xyztUnits, 2);
      assert.is(v.datatype, 'float32');
      close(v.affine, affine.map(Math.fround), 0, `${what} sform`);
      close(v.spacing, [0.8, 1.2, 2.5], 1e-6, `${what} spacing`);
      // The qform alone (sform_code 0) gives the same affine, handedness included.
      const q = readNifti(
        writeNifti({ data: floats, dims, affine, sformCode: 0 }, { datatype: 'float32', gzip }),
        what,
      );
      assert.is(q.sformCode, 0);
      assert.is(q.qformCode, 1);
      close(q.affine, affine, 2e-5, `${what} qform`);
      // A gzip any zlib reads, holding the same bytes as the plain file.
      if (gzip)
        assert.equal(
          Array.from(gunzipSync(bytes)),
          Array.from(
            writeNifti(
              { data: floats, dims, affine, qformCode: 2, sformCode: 4, xyztUnits: 2 },
              { datatype: 'float32' },
            ),
          ),
        );
    }
  // Integer datatypes, exact; channels; zlib's own gzip is read too.
  for (const datatype of ['uint8', 'int16', 'int32'] as const) {
    const lim = { uint8: [0, 255], int16: [-32768, 32767], int32: [-2147483648, 2147483520] }[datatype]; // the largest float32 below 2^31
    const data = Float32Array.from({ length: n * 2 }, (_, i) => (i % 3 === 0 ? lim[i % 2] : (i * 7) % 100));
    const bytes = writeNifti({ data, dims, channels: 2, spacing: [0.5, 0.5, 3] }, { datatype });
    for (const b of [bytes, gzipSync(bytes)]) {
      const v = readNifti(b, datatype, { channels: true });
      assert.equal(Array.from(v.data), Array.from(data), datatype);
      assert.is(v.channels, 2);
      assert.is(v.datatype, datatype);
      assert.equal(v.spacing, [0.5, 0.5, 3]);
      assert.equal(v.affine, [0.5, 0, 0, 0, 0, 0.5, 0, 0, 0, 0, 3, 0, 0, 0, 0, 1]);
      assert.is(v.qformCode, 1);
      assert.is(v.sformCode, 1);
    }
  }
  // The read volume written back keeps its geometry and codes.
  const input = readNifti(
    buildNifti({
      dim: [2, 2, 2],
      values: new Array(8).fill(3),
      qformCode: 1,
      quatern: [0, 0, Math.SQRT1_2],
      qoffset: [1, 2, 3],
      pixdim: [-1, 2, 3, 4, 1, 1, 1, 1],
    }),
    'in',
  );
  const labels = readNifti(
    writeNifti({ ...input, data: new Float32Array(8) }, { datatype: 'int16', gzip: true }),
    'out',
  );
  assert.ok(sameGeometry(input, labels), `${input.affine} vs ${labels.affine}`);
  assert.is(labels.qformCode, 1);
  assert.is(labels.sformCode, 0);
});

t('writeNifti refuses what NIfTI-1 cannot hold with named errors', () => {
  const ok = { data: new Float32Array(8), dims: [2, 2, 2] };
  const cases: [() => unknown, RegExp][] = [
    [() => writeNifti(ok, { datatype: 'float16' as 'float32' }), /writeNifti: argument 'options.datatype'/],
    [() => writeNifti({ ...ok, dims: [2, 2] }, { datatype: 'uint8' }), /argument 'dims' expected 3 integers/],
    [() => writeNifti({ ...ok, dims: [2, 2, 40000] }, { datatype: 'uint8' }), /argument 'dims'/],
    [() => writeNifti({ ...ok, dims: [2, 2, 3] }, { datatype: 'uint8' }), /argument 'data' expected 12 values/],
    [
      () => writeNifti({ ...ok, data: Float32Array.of(1, 2, 3, 4, 5, 6, 7, 256) }, { datatype: 'uint8' }),
      /'data' expected integers in 0\.\.255 for uint8, got 256 at voxel \(1, 1, 1\)/,
    ],
    [
      () => writeNifti({ ...ok, data: Float32Array.of(0.5, 2, 3, 4, 5, 6, 7, 8) }, { datatype: 'int16' }),
      /'data' expected integers/,
    ],
    [
      () => writeNifti({ ...ok, affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0] }, { datatype: 'uint8' }),
      /'affine' expected 16 finite/,
    ],
    [
      () => writeNifti({ ...ok, affine: [1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1] }, { datatype: 'uint8' }),
      /'affine' expected an invertible/,
    ],
    [() => writeNifti({ ...ok, spacing: [1, 0, 1] }, { datatype: 'uint8' }), /'spacing' expected 3 finite numbers > 0/],
    [() => writeNifti({ ...ok, qformCode: -1 }, { datatype: 'uint8' }), /'qformCode' expected an integer/],
  ];
  for (const [f, re] of cases)
    assert.throws(f, (e: Error) => e instanceof ValueError && re.test(e.message), String(re));
});

/** Asserts a ValueError naming the file and matching `field`, within a second. */
function refuses(bytes: Uint8Array, name: string, field: RegExp, options?: { channels?: boolean }): string {
  const start = performance.now();
  let message = '';
  try {
    readNifti(bytes, name, options);
  } catch (e) {
    assert.ok(e instanceof ValueError, `${name}: ${(e as Error)?.stack ?? e}`);
    message = (e as Error).message;
  }
  assert.ok(message, `${name} was read`);
  assert.ok(message.includes(name), `${name}: the message names the file: ${message}`);
  assert.match(message, field, name);
  assert.ok(performance.now() - start < 1000, `${name} took ${performance.now() - start} ms`);
  return message;
}

const eight = new Array(8).fill(1);

t('a corrupt extension chain: looping, zero, not a multiple of 16, past vox_offset', () => {
  // The 432-byte file: an extension flag, esize 0 at byte 352, 2x2x2 uint16 voxels from byte 416.
  const loop = buildNifti({ dim: [2, 2, 2], datatype: 512, values: eight, extensions: [0], voxOffset: 416 });
  assert.is(loop.length, 432);
  refuses(loop, 'loop.nii', /field 'esize \(extension 0 at byte 352\)' expected a positive multiple of 16, got 0/);
  refuses(
    buildNifti({ dim: [2, 2, 2], values: eight, extensions: [32, -32], voxOffset: 448 }),
    'back.nii',
    /'esize \(extension 1 at byte 384\)'.*got -32/,
  );
  refuses(
    buildNifti({ dim: [2, 2, 2], values: eight, extensions: [24], voxOffset: 400 }),
    'odd.nii',
    /'esize.*multiple of 16, got 24/,
  );
  refuses(
    buildNifti({ dim: [2, 2, 2], values: eight, extensions: [96], voxOffset: 400 }),
    'long.nii',
    /'esize.*ending by vox_offset 400, got 96/,
  );
  refuses(
    buildNifti({
      version: 2,
      littleEndian: false,
      dim: [2, 2, 2],
      values: eight,
      extensions: [16, 16, 0],
      voxOffset: 624,
    }),
    'v2.nii',
    /'esize \(extension 2 at byte 576\)'/,
  );
  // A well-formed chain (and a flag with no room for an extension) reads.
  const good = readNifti(buildNifti({ dim: [2, 2, 2], values: eight, extensions: [32, 16, 48] }), 'good.nii');
  assert.equal(Array.from(good.data), eight);
  assert.equal(
    Array.from(readNifti(buildNifti({ dim: [2, 2, 2], values: eight, extensions: [], voxOffset: 360 }), 'gap').data),
    eight,
  );
});

t('corrupt headers: each a ValueError naming the file and the field', () => {
  const base: RawNifti = { dim: [2, 2, 2], values: eight };
  const cases: [string, Uint8Array, RegExp][] = [
    [
      'inside.nii',
      buildNifti({ ...base, voxOffset: 100 }),
      /field 'vox_offset' expected a whole number of bytes >= the 348-byte header.*got 100/,
    ],
    ['zero-offset.nii', buildNifti({ ...base, voxOffset: 0 }), /'vox_offset'.*got 0/],
    ['fraction.nii', buildNifti({ ...base, voxOffset: 352.5 }), /'vox_offset'.*got 352\.5/],
    [
      'beyond.nii',
      buildNifti({ ...base, voxOffset: 9000 }).subarray(0, 400),
      /'vox_offset' expected at most the file size \(400 bytes\), got 9000/,
    ],
    ['v2-inside.nii', buildNifti({ ...base, version: 2, voxOffset: 500 }), /'vox_offset'.*540-byte header.*got 500/],
    [
      'negative.nii',
      buildNifti({ ...base, dim: [2, -3, 2] }),
      /field 'dim\[2\]' expected a size >= 1, got -3 \(dims 2x-3x2\)/,
    ],
    ['zero.nii', buildNifti({ ...base, dim: [2, 2, 0] }), /field 'dim\[3\]' expected a size >= 1, got 0/],
    [
      'ndim0.nii',
      buildNifti({ ...base, dim0: 0 }),
      /field 'dim\[0\]' expected a number of dimensions in 1\.\.7, got 0/,
    ],
    ['ndim8.nii', buildNifti({ ...base, dim0: 8 }), /field 'dim\[0\]'.*got 8/],
    [
      'overflow.nii',
      buildNifti({ ...base, version: 2, dim: [2 ** 40, 2 ** 40, 2 ** 40] }),
      /field 'dim' expected at most 2147483648 bytes of voxels/,
    ],
    [
      'overflow1.nii',
      buildNifti({ ...base, datatype: 64, dim: [32767, 32767, 32767] }),
      /field 'dim' expected at most/,
    ],
    [
      'exceeds.nii',
      buildNifti({ ...base, dim: [100, 100, 100] }),
      /field 'dim' expected voxels that fit in the file \(100x100x100 float32 = 4000000 bytes from vox_offset 352.*got a file of 384 bytes/,
    ],
    [
      'truncated.nii',
      buildNifti(base).subarray(0, 380),
      /field 'dim' expected voxels that fit.*got a file of 380 bytes \(truncated\)/,
    ],
    [
      'header.nii',
      buildNifti(base).subarray(0, 200),
      /field 'sizeof_hdr' expected a header of 348 bytes, got a file of 200 bytes/,
    ],
    ['empty.nii', new Uint8Array(0), /empty\.nii is not a NIfTI file: field 'sizeof_hdr'/],
    [
      'text.nii',
      new TextEncoder().encode('this is not a volume'),
      /text\.nii is not a NIfTI file: field 'sizeof_hdr' expected 348 \(NIfTI-1\) or 540 \(NIfTI-2\)/,
    ],
    [
      'magic.nii',
      buildNifti({ ...base, magic: 'abc' }),
      /magic\.nii is not a NIfTI file: field 'magic' expected "n\+1", got "abc\\x00"/,
    ],
    ['analyze.hdr', buildNifti({ ...base, magic: '\0\0\0\0' }), /is not a NIfTI file: field 'magic'/],
    [
      'pair.nii',
      buildNifti({ ...base, magic: 'ni1' }),
      /field 'magic' expected "n\+1" \(a single-file \.nii\), got "ni1" \(a header whose voxels are in a separate \.img file/,
    ],
    ['v2magic.nii', buildNifti({ ...base, version: 2, magic: 'n+1' }), /field 'magic' expected "n\+2"/],
    [
      'rgb.nii',
      buildNifti({ ...base, datatype: 128, bitpix: 24 }),
      /field 'datatype' expected one of 2 \(uint8\).*got 128 \(rgb24\), which is not supported/,
    ],
    ['int64.nii', buildNifti({ ...base, datatype: 1024, bitpix: 64 }), /'datatype'.*got 1024 \(int64\)/],
    ['complex.nii', buildNifti({ ...base, datatype: 32, bitpix: 64 }), /'datatype'.*got 32 \(complex64\)/],
    ['weird.nii', buildNifti({ ...base, datatype: 9999, bitpix: 8 }), /'datatype'.*got 9999, which/],
    [
      'bitpix.nii',
      buildNifti({ ...base, datatype: 4, bitpix: 32 }),
      /field 'bitpix' expected 16 for datatype 4 \(int16\), got 32/,
    ],
    [
      'pixdim.nii',
      buildNifti({ ...base, pixdim: [1, 1, Number.NaN, 1, 1, 1, 1, 1] }),
      /field 'pixdim\[2\]' expected a finite number, got NaN/,
    ],
    [
      'qfac.nii',
      buildNifti({ ...base, pixdim: [Number.POSITIVE_INFINITY, 1, 1, 1, 1, 1, 1, 1] }),
      /'pixdim\[0\]'.*Infinity/,
    ],
    [
      'srow.nii',
      buildNifti({ ...base, sformCode: 1, srow: [1, 0, 0, 0, 0, 1, Number.NaN, 0, 0, 0, 1, 0] }),
      /field 'srow_y\[2\]' expected a finite number \(sform_code is 1\), got NaN/,
    ],
    [
      'quatern.nii',
      buildNifti({ ...base, qformCode: 1, quatern: [0, Number.POSITIVE_INFINITY, 0] }),
      /field 'quatern_c' expected a finite number \(qform_code is 1\)/,
    ],
    [
      'qoffset.nii',
      buildNifti({ ...base, version: 2, qformCode: 1, qoffset: [0, 0, Number.NaN] }),
      /field 'qoffset_z'/,
    ],
  ];
  for (const [name, bytes, re] of cases) refuses(bytes, name, re);
  // Big-endian headers are checked the same way.
  refuses(buildNifti({ ...base, littleEndian: false, dim: [2, -3, 2] }), 'be.nii', /'dim\[2\]'.*-3/);
  refuses(
    buildNifti({ ...base, littleEndian: false, version: 2, datatype: 128, bitpix: 24 }),
    'be2.nii',
    /'datatype'.*128/,
  );
});

t('gzip: corrupt or truncated data, and bombs stopped near the promised size with bounded memory', () => {
  const plain = buildNifti({ dim: [4, 4, 4], values: new Array(64).fill(2) });
  const gz = gzipSync(plain);
  assert.equal(Array.from(readNifti(gz, 'ok.nii.gz').data), new Array(64).fill(2));
  refuses(gz.subarray(0, gz.length - 20), 'cut.nii.gz', /cut\.nii\.gz: its gzip data is corrupt or truncated/);
  const flipped = Uint8Array.from(gz);
  for (let i = 12; i < 20; i++) flipped[i] ^= 0xa5;
  refuses(flipped, 'flip.nii.gz', /flip\.nii\.gz: (its gzip data is corrupt|.*field)/);
  refuses(
    gzipSync(plain.subarray(0, 300)),
    'short.nii.gz',
    /field 'sizeof_hdr' expected a header of 348 bytes, got a file of 300/,
  );
  refuses(gzipSync(plain.subarray(0, 500)), 'short-data.nii.gz', /field 'dim' expected voxels that fit/);
  refuses(gzipSync(new Uint8Array(2)), 'tiny.nii.gz', /tiny\.nii\.gz is not a NIfTI file/);
  // The header is checked as soon as it is inflated: a bad one fails before the rest.
  refuses(gzipSync(buildNifti({ dim: [4, -4, 4] })), 'bad.nii.gz', /'dim\[2\]'/);

  // 64 MiB of zeros after a header promising 2x2x2 uint8 voxels (360 bytes), once and 64 times
  // over (a 4 GiB multi-member bomb), and after a header promising 64^3 voxels.
  const zeros = new Uint8Array(64 << 20);
  const stoppedAt = (message: string) => Number(/stopped at (\d+)/.exec(message)?.[1]);
  zeros.set(buildNifti({ dim: [2, 2, 2], datatype: 2, values: eight }));
  const bomb = gzipSync(zeros, { level: 1 });
  assert.ok(bomb.length < 1 << 20, `${bomb.length} bytes`);
  for (const [name, bytes] of [
    ['bomb.nii.gz', bomb],
    [
      'bombs.nii.gz',
      new Uint8Array(Buffer.concat([bomb, ...new Array(63).fill(gzipSync(new Uint8Array(64 << 20), { level: 1 }))])),
    ],
  ] as const) {
    const message = refuses(bytes, name, /inflates past the 360 bytes its header promises/);
    assert.ok(stoppedAt(message) < 4 << 20, `${name}: ${message}`);
  }
  const cube = buildNifti({ dim: [64, 64, 64], datatype: 2 }).subarray(0, 352);
  zeros.fill(0);
  zeros.set(cube);
  const promised = 352 + 64 ** 3;
  const message = refuses(
    gzipSync(zeros, { level: 1 }),
    'cube.nii.gz',
    new RegExp(`inflates past the ${promised} bytes`),
  );
  assert.ok(stoppedAt(message) < promised + (2 << 20), message);
});

t('image / label geometry: equal within tolerance, or an error naming both files', () => {
  const affine = obliqueAffine();
  const image = { dims: [4, 5, 6], affine };
  assert.ok(sameGeometry(image, { dims: [4, 5, 6], affine: affine.map((e) => e * (1 + 1e-7)) }));
  assert.ok(sameGeometry(image, { dims: [4, 5, 6], affine: affine.map(Math.fround) }));
  assert.not.ok(sameGeometry(image, { dims: [4, 5, 7], affine }));
  assert.not.ok(sameGeometry(image, { dims: [4, 5, 6], affine: affine.map((e, i) => (i === 3 ? e + 0.5 : e)) }));
  assert.ok(sameGeometry(image, { dims: [4, 5, 6], affine: affine.map((e, i) => (i === 3 ? e + 0.5 : e)) }, 0.01));
  assert.throws(
    () => assertSameGeometry(image, 'imgs/a.nii', { dims: [4, 5, 7], affine }, 'labels/a.nii'),
    (e: Error) =>
      e instanceof ValueError &&
      /^imgs\/a\.nii and labels\/a\.nii: image 4x5x6 and label map 4x5x7 differ in shape$/.test(e.message),
  );
  const shifted = affine.map((e, i) => (i === 7 ? e + 2 : e));
  assert.throws(
    () => assertSameGeometry(image, 'imgs/a.nii', { dims: [4, 5, 6], affine: shifted }, 'labels/a.nii'),
    (e: Error) =>
      e instanceof ValueError &&
      /^imgs\/a\.nii and labels\/a\.nii: image and label map differ in geometry: affine\[1\]\[3\] is 126\.25 vs 128\.25/.test(
        e.message,
      ),
  );
  // Through files: a label map written from another affine.
  const img = readNifti(
    writeNifti({ data: new Float32Array(120), dims: [4, 5, 6], affine }, { datatype: 'float32' }),
    'i',
  );
  const lab = readNifti(
    writeNifti({ data: new Float32Array(120), dims: [4, 5, 6], affine: shifted }, { datatype: 'uint8' }),
    'l',
  );
  assert.throws(() => assertSameGeometry(img, 'i.nii', lab, 'l.nii'), /i\.nii and l\.nii: .*differ in geometry/);
  assertSameGeometry(
    img,
    'i.nii',
    readNifti(writeNifti({ ...img, data: new Float32Array(120) }, { datatype: 'uint8', gzip: true }), 'l'),
    'l.nii',
  );
});

t.run();
