// The window arithmetic every split op relies on, as properties over generated shapes (fast-check):
// the element range a strided operand reads for an interval of the iteration, the split of a
// grid into dispatches whose bindings fit the window, and the rows a sliding window reads.
import fc from 'fast-check';
import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import {
  bindingWindowElements,
  coordsOf,
  splitWorkgroups,
  stridedRange,
  windowAlignElements,
} from '../src/tensor/dispatch.js';
import { inputRowsOf, outputRowsOf } from '../src/tensor/ops/conv3d/windows.js';
import { setup, suite } from './harness.js';

const t = suite('binding windows: strided ranges and grid splits (property tests)');
t.before(setup);

/** A shape of rank 1..5, strides for it (row-major of a broadcast operand, or arbitrary), an interval. */
const strided = fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 5 }).chain((shape) => {
  const size = shape.reduce((a, b) => a * b, 1);
  return fc.record({
    shape: fc.constant(shape),
    strides: fc.array(fc.integer({ min: 0, max: 50 }), { minLength: shape.length, maxLength: shape.length }),
    i0: fc.integer({ min: 0, max: size - 1 }),
    length: fc.integer({ min: 1, max: size }),
    offset: fc.integer({ min: 0, max: 100 }),
  });
});

t('stridedRange is the exact min and max of the offsets an interval reads', () => {
  fc.assert(
    fc.property(strided, ({ shape, strides, i0, length, offset }) => {
      const size = shape.reduce((a, b) => a * b, 1);
      const i1 = Math.min(size, i0 + length);
      let min = Infinity;
      let max = -Infinity;
      for (let i = i0; i < i1; i++) {
        const v = offset + coordsOf(shape, i).reduce((a, c, k) => a + c * strides[k], 0);
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      assert.equal(stridedRange(shape, strides, i0, i1, offset), [min, max + 1]);
    }),
    { numRuns: 2000, seed: 1 },
  );
});

t('splitWorkgroups covers the grid in order with windows that fit, or says which workgroup cannot fit', () => {
  const saved = vg.flags.maxBindingWindowBytes;
  vg.flags.maxBindingWindowBytes = 8192;
  try {
    const limit = bindingWindowElements();
    const align = windowAlignElements();
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 30 }),
        (total, per, halo) => {
          // Workgroup w reads elements [w·per − halo, (w + 1)·per + halo) of one tensor and writes [w·per, (w + 1)·per) of another.
          const extent = (w0: number, w1: number): [number, number][] => [
            [Math.max(0, w0 * per - halo), w1 * per + halo],
            [w0 * per, w1 * per],
          ];
          if (per + 2 * halo + align > limit) return;
          const windows = splitWorkgroups(total, extent);
          assert.is(windows[0].w0, 0);
          assert.is(windows.at(-1)!.w1, total);
          windows.forEach((w, i) => {
            if (i > 0) assert.is(w.w0, windows[i - 1].w1);
            w.ranges.forEach(([first, end], k) => {
              assert.is(first % align, 0, 'aligned start');
              assert.ok(end - first <= limit, 'fits the window');
              const [f, e] = extent(w.w0, w.w1)[k];
              assert.ok(first <= f && end === e, 'covers what the workgroups touch');
            });
          });
        },
      ),
      { numRuns: 300, seed: 2 },
    );
    assert.throws(() => splitWorkgroups(4, () => [[0, limit + 1]]), /binding window/);
  } finally {
    vg.flags.maxBindingWindowBytes = saved;
  }
});

t('outputRowsOf and inputRowsOf stay inside their volumes and hold every row that reads or is read', () => {
  fc.assert(
    fc.property(
      fc.record({
        k: fc.integer({ min: 1, max: 4 }),
        s: fc.integer({ min: 1, max: 4 }),
        d: fc.integer({ min: 1, max: 3 }),
      }),
      fc.integer({ min: 1, max: 12 }),
      fc.boolean(),
      fc.nat(),
      fc.nat(),
      ({ k, s, d }, IX, same, a, b) => {
        const span = (k - 1) * d + 1;
        const OX = same ? Math.ceil(IX / s) : Math.floor((IX - span) / s) + 1;
        if (OX < 1) return;
        const pad = same ? Math.floor(Math.max(0, (OX - 1) * s + span - IX) / 2) : 0;
        const g = {
          input: [IX, 1, 1],
          output: [OX, 1, 1],
          kernel: [k, 1, 1],
          strides: [s, 1, 1],
          dilation: [d, 1, 1],
          padBefore: [pad, 0, 0],
        };
        const geometry = g as unknown as Parameters<typeof outputRowsOf>[0];
        // Output row o reads input rows o·s − pad + t·d for taps t.
        const reads = (o: number): number[] =>
          Array.from({ length: k }, (_, t) => o * s - pad + t * d).filter((i) => i >= 0 && i < IX);
        const [i0, i1] = [a % IX, (a % IX) + (b % (IX - (a % IX)))];
        const [o0, o1] = outputRowsOf(geometry, i0, i1);
        assert.ok(0 <= o0 && o0 <= o1 && o1 < OX, `output rows [${o0}, ${o1}] of ${OX}`);
        for (let o = 0; o < OX; o++)
          if (reads(o).some((i) => i >= i0 && i <= i1))
            assert.ok(o >= o0 && o <= o1, `output row ${o} reads [${i0}, ${i1}]`);
        const [ox0, ox1] = [a % OX, (a % OX) + (b % (OX - (a % OX)))];
        const [r0, r1] = inputRowsOf(geometry, ox0, ox1);
        assert.ok(0 <= r0 && r0 <= r1 && r1 < IX, `input rows [${r0}, ${r1}] of ${IX}`);
        for (let o = ox0; o <= ox1; o++)
          for (const i of reads(o)) assert.ok(i >= r0 && i <= r1, `row ${i} read by ${o}`);
      },
    ),
    { numRuns: 500, seed: 3 },
  );
});

t.run();
