import { create, globals } from 'webgpu';
Object.assign(globalThis, globals);
const gpu = create([]);
globalThis.__keep = gpu;
Object.defineProperty(globalThis, 'navigator', { value: { gpu, userAgent: 'node' }, configurable: true });
const jax = await import('@jax-js/jax');
const { numpy: np, init, defaultDevice, jit, grad } = jax;
const devices = await init();
console.log('devices', devices);
defaultDevice('webgpu');
const shape = [1, 128, 128, 128, 4];
const n = shape.reduce((a, b) => a * b, 1);
const pd = new Float32Array(n).map(() => Math.random()), td = new Float32Array(n).map(() => Math.random());
const p = np.array(pd).reshape(shape), t = np.array(td).reshape(shape);
const dice = (pp, tt) => {
  const i = np.sum(tt.ref.mul(pp.ref), [1, 2, 3]);
  const s = np.sum(tt, [1, 2, 3]).add(np.sum(pp, [1, 2, 3]));
  return np.mean(i.mul(2).add(1e-5).div(s.add(1e-5))).mul(-1).add(1);
};
const f = jit(grad(dice));
for (let r = 0; r < 4; r++) {
  const t0 = performance.now();
  const g = f(p.ref, t.ref);
  await g.data();
  console.log('jax-js jit dice grad', (performance.now() - t0).toFixed(1));
}
process.exit(0);
