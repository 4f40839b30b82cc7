// Host <-> kernel contracts, checked from the sources: every kernel definition against its WGSL
// (Params struct field by field, bindings, specialisations), op codes against the WGSL switch,
// every WGSL file in kernels/ used, every kernel compiling, and every op the engine can record
// either differentiable or declared not to be.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { definedKernels, type Kernel, type ParamType } from '../src/tensor/kernel.js';
import { definedOps } from '../src/tensor/op.js';
import { ARITHMETIC_OPS, COMPARISON_OPS } from '../src/tensor/ops/elementwise/binary.js';
import { UNARY_OPS } from '../src/tensor/ops/elementwise/unary.js';
import { storageBindings } from '../src/tensor/webgpu/binding_layout.js';
import { paramLayout } from '../src/tensor/webgpu/params.js';
import { repoRoot, setup, suite } from './harness.js';

const t = suite('kernel contracts (host definitions vs WGSL sources)');
t.before(setup);

const root = repoRoot();
const wgsl = (k: Kernel): string => k.preludes.map((p) => `${p.source}\n`).join('') + k.source;

/** WGSL's uniform layout rules, written out independently of the host's packer. */
const WGSL_SIZE: Record<string, [number, number]> = {
  u32: [4, 4],
  i32: [4, 4],
  f32: [4, 4],
  'vec4<u32>': [16, 16],
  'vec4<f32>': [16, 16],
  'array<vec4<u32>, 2>': [16, 32],
};

function parseParams(source: string): { name: string; type: string; offset: number }[] {
  const m = /^struct Params \{\n([\s\S]*?)\n\}/m.exec(source);
  if (!m) return [];
  let offset = 0;
  return m[1]
    .split('\n')
    .map((line) => line.replace(/\/\/.*$/, '').trim())
    .filter(Boolean)
    .map((line) => {
      const f = /^(\w+): (.+),$/.exec(line);
      if (!f) throw new Error(`unparsed Params line: ${line}`);
      const [align, size] = WGSL_SIZE[f[2]] ?? [NaN, NaN];
      offset = Math.ceil(offset / align) * align;
      const out = { name: f[1], type: f[2], offset };
      offset += size;
      return out;
    });
}

t('every kernel definition matches its WGSL: Params field by field, bindings, overrides, consts, aliases', () => {
  const kernels = definedKernels();
  assert.ok(kernels.length >= 20, `only ${kernels.length} kernels defined`);
  for (const k of kernels) {
    const src = wgsl(k);
    const fields = parseParams(src);
    const host = paramLayout(k.params).fields;
    assert.equal(
      fields.map((f) => `${f.name}: ${f.type} @${f.offset}`),
      host.map((f) => `${f.name}: ${f.type satisfies ParamType} @${f.offset}`),
      `${k.name}: Params`,
    );
    const bindings = [...src.matchAll(/@group\(0\) @binding\((\d+)\) var<([^>]+)> (\w+)/g)].map((b) => ({
      index: Number(b[1]),
      space: b[2],
      name: b[3],
    }));
    assert.equal(
      bindings.find((b) => b.index === 0),
      { index: 0, space: 'uniform', name: 'params' },
      `${k.name}: binding 0`,
    );
    const buffers = bindings.filter((b) => b.index > 0).sort((a, b) => a.index - b.index);
    assert.equal(
      buffers.map((b) => b.index),
      buffers.map((_, i) => i + 1),
      `${k.name}: buffer bindings are numbered 1..n`,
    );
    assert.equal(
      buffers.map((b) => b.name),
      [...k.bindings],
      `${k.name}: bindings`,
    );
    const overrides = [...src.matchAll(/^override (\w+)/gm)].map((o) => o[1]);
    assert.equal([...overrides].sort(), [...k.overrides].sort(), `${k.name}: override constants`);
    for (const c of k.consts)
      assert.ok(new RegExp(`^const ${c}: u32 = [0-9]+u;$`, 'm').test(src), `${k.name}: const ${c}`);
    const aliases = [...src.matchAll(/^alias (\w+) = /gm)].map((a) => a[1]);
    assert.equal([...aliases].sort(), [...k.aliases].sort(), `${k.name}: aliases`);
  }
});

t(
  "the backend's reading of every kernel's buffer bindings (names, access, uniform or storage, minimum size) matches the definition",
  () => {
    for (const k of definedKernels()) {
      const source = wgsl(k);
      const layout = storageBindings(source);
      assert.equal(
        layout.map((b) => b.name),
        [...k.bindings],
        `${k.name}: buffer bindings`,
      );
      for (const b of layout) {
        const uniform = new RegExp(`var<uniform> ${b.name}: array<(.+), (\\w+)>;`).exec(source);
        if (uniform) {
          // A uniform array is bound whole: its element bytes times its length (a specialised const).
          const length = Number(
            new RegExp(`^const ${uniform[2]}: u32 = (\\d+)u;$`, 'm').exec(source)?.[1] ?? uniform[2],
          );
          assert.ok(b.uniform && !b.writable, `${k.name}.${b.name}: a read-only uniform binding`);
          assert.is(b.minBytes, (/vec4/.test(uniform[1]) ? 16 : 4) * length, `${k.name}.${b.name}: bytes`);
          continue;
        }
        const decl = new RegExp(`var<storage, (read|read_write)> ${b.name}: array<(.+)>;`).exec(source)!;
        assert.not.ok(b.uniform, `${k.name}.${b.name}: a storage binding`);
        assert.is(b.writable, decl[1] === 'read_write', `${k.name}.${b.name}: access`);
        assert.is(b.minBytes, /vec4/.test(decl[2]) ? 16 : 4, `${k.name}.${b.name}: element bytes (${decl[2]})`);
      }
    }
  },
);

t('every WGSL file in kernels/ is a defined kernel or a prelude of one', () => {
  const used = new Set(definedKernels().flatMap((k) => [k.file, ...k.preludes.map((p) => p.file)]));
  const files = readdirSync(join(root, 'kernels')).filter((f) => f.endsWith('.wgsl'));
  assert.equal(
    files.filter((f) => !used.has(f)),
    [],
  );
  for (const k of definedKernels())
    assert.is(k.source, readFileSync(join(root, 'kernels', k.file), 'utf8'), `${k.name} is kernels/${k.file}`);
});

/** The case labels and the default clause of a kernel's `fn apply` switch. */
function switchOf(source: string): { cases: string[]; fallback: string } {
  const body = /fn apply\([^)]*\) -> \w+ \{\n {2}switch \(OP\) \{\n([\s\S]*?)\n {2}\}\n\}/.exec(source);
  if (!body) throw new Error('no apply switch');
  const cases = [...body[1].matchAll(/^ {4}case (\w+):/gm)].map((c) => c[1]);
  const fallback = /^ {4}default: \{([\s\S]*)$/m.exec(body[1])?.[1] ?? '';
  return { cases, fallback };
}

t('op codes are defined once, in the WGSL: every host op has a named case, no silent default', () => {
  const constant = (name: string): string => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
  const table = [
    { kernel: 'unary', ops: UNARY_OPS, fallback: /nan_bits/ },
    { kernel: 'binary', ops: [...ARITHMETIC_OPS, ...COMPARISON_OPS], fallback: /return U\(0\)/ },
  ];
  for (const { kernel, ops, fallback } of table) {
    const k = definedKernels().find((d) => d.name === kernel)!;
    const { cases, fallback: body } = switchOf(wgsl(k));
    assert.equal([...cases].sort(), ops.map(constant).sort(), `${kernel}: cases`);
    assert.ok(
      cases.every((c) => !/^[0-9]/.test(c)),
      `${kernel}: numeric case labels`,
    );
    assert.match(body, fallback, `${kernel}: default`);
    const codes = cases.map((c) => Number(new RegExp(`^const ${c}: u32 = ([0-9]+)u;`, 'm').exec(wgsl(k))![1]));
    assert.is(new Set(codes).size, codes.length, `${kernel}: distinct codes`);
  }
});

t('warmup compiles every defined kernel (from the registry)', async () => {
  await vg.warmup();
  await vg.sync();
});

t('every op the engine can record has a gradient rule or is declared not differentiable', () => {
  const ops = definedOps();
  const names = new Set(ops.map((o) => o.name));
  // Every name an op module declares in OpAttrs is defined at run time.
  const declared = new Set<string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith('.ts')) {
        const text = readFileSync(join(dir, e.name), 'utf8');
        for (const block of text.matchAll(/interface OpAttrs \{\n([\s\S]*?)\n {2}\}/g)) {
          for (const key of block[1].matchAll(/^ {4}(\w+): /gm)) declared.add(key[1]);
        }
      }
    }
  };
  walk(join(root, 'src'));
  for (const n of [...declared, ...UNARY_OPS, ...ARITHMETIC_OPS, ...COMPARISON_OPS, 'sum', 'mean', 'max', 'min'])
    assert.ok(names.has(n as never), `op '${n}' is declared but never defined`);
  assert.ok(ops.length >= 60, `${ops.length} ops`);
  // The ops a model differentiates through all have rules; what is declared not differentiable
  // returns integers, creates constants, or is itself a backward pass.
  const differentiable = new Set<string>(ops.filter((o) => o.differentiable).map((o) => o.name));
  const mustHaveRules = [
    ...UNARY_OPS,
    ...ARITHMETIC_OPS,
    'where',
    'sum',
    'mean',
    'max',
    'min',
    'softmax',
    'logSoftmax',
    'matmul',
    'cast',
    'reshape',
    'transpose',
    'slice',
    'pad',
    'concat',
    'broadcastTo',
    'conv3d',
    'maxPool3d',
    'avgPool3d',
    'groupNorm',
    'overlapSums',
    'overlapHead',
    'customGrad',
  ];
  assert.equal(
    mustHaveRules.filter((n) => !differentiable.has(n)),
    [],
  );
  for (const o of ops.filter((d) => !d.differentiable)) {
    const why =
      /Grad/.test(o.name) ||
      /^(fill|zeros|ones|random)/.test(o.name) ||
      (COMPARISON_OPS as readonly string[]).includes(o.name);
    assert.ok(why, `'${o.name}' is declared not differentiable, but is no comparison, constant or backward pass`);
  }
});

t.run();
