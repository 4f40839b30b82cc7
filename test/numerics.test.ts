import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { setup, suite } from './harness.js';

const t = suite('checkNumerics debug mode');
t.before(setup);

t('names the first op that produced a NaN or an infinity, at the next read', async () => {
  vg.flags.checkNumerics = true;
  try {
    const x = vg.tensor([1, 0, -1, 4]);
    const y = vg.log(x); // log(0) = -inf, log(-1) = NaN
    const z = vg.mul(vg.sqrt(y), 2); // non-finite too, but later
    try {
      await z.data();
      assert.unreachable('the read should report the log');
    } catch (e) {
      assert.instance(e, vg.NumericsError);
      assert.match(
        (e as Error).message,
        /checkNumerics: op 'log' \(call \d+\) produced 2 non-finite value\(s\) in its output of shape \[4\]/,
      );
    }
    // The report cleared the queue: finite work reads normally, losses and gradients included.
    const p = vg.tensor([0.2, 0.7, 0.1, 0.9], [1, 2, 1, 1, 2]);
    const { value, grads } = vg.valueAndGrad(() => vg.dice(vg.tensor([0, 1, 0, 1], [1, 2, 1, 1, 2]), p), [p]);
    const [v] = await vg.readAll([value, grads[0]!]);
    assert.ok(Number.isFinite(v[0]));
    await vg.checkNumerics();
    vg.tidy(() => [x, y, z, p, value, grads[0]!].forEach((k) => k.dispose()));
  } finally {
    vg.flags.checkNumerics = false;
  }
  // Off by default: nothing is counted.
  const d0 = vg.memory().dispatches;
  vg.tidy(() => void vg.log(vg.tensor([0])));
  assert.is(vg.memory().dispatches - d0, 1, 'no probe kernels when the mode is off (only the log)');
});

t.run();
