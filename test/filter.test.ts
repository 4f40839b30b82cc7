// Pure tape tests: filterNodesXToY on hand-built node lists, no GPU involved.
import * as assert from 'uvu/assert';
import { filterNodesXToY, type NodeLinks } from '../src/grad/tape.js';
import { suite } from './harness.js';

const t = suite('filterNodesXToY');

function node(id: number, inputIds: number[], outputIds: number[]): NodeLinks {
  return { id, inputIds, outputIds };
}

// x1 -> h (0); h, x2 -> y1 (1); h, x3 -> y2 (2); y1 -> L1 (3); y2 -> L2 (4); L1, L2 -> T (5)
const X1 = 1,
  X2 = 2,
  X3 = 3,
  H = 10,
  Y1 = 11,
  Y2 = 12,
  L1 = 13,
  L2 = 14,
  T = 15;
const nodes = [
  node(0, [X1], [H]),
  node(1, [H, X2], [Y1]),
  node(2, [H, X3], [Y2]),
  node(3, [Y1], [L1]),
  node(4, [Y2], [L2]),
  node(5, [L1, L2], [T]),
];

t('L1 keeps the trunk and head 1 only', () => {
  const f = filterNodesXToY(nodes, new Set([X1, X2, X3]), L1);
  assert.equal(
    f.map((n) => n.node.id),
    [0, 1, 3],
  );
  assert.equal(f[1].needed, [true, true]);
});

t('the total keeps every node; x3 is needed only through node 2', () => {
  const f = filterNodesXToY(nodes, new Set([X3]), T);
  assert.equal(
    f.map((n) => n.node.id),
    [2, 4, 5],
  );
  assert.equal(f[0].needed, [false, true]);
});

t('a source not connected to y gives no nodes', () => {
  assert.equal(filterNodesXToY(nodes, new Set([X3]), L1), []);
});

t.run();
