// voxgrad as a dependency, as a user gets it: `npm pack`, the tarball installed in a new project
// (its runtime dependencies from the registry, through npm's cache when it has them), a consumer's
// code (test/consumer/) type-checked by a strict tsc without skipLibCheck against both entries,
// run in Node (the node entry, dawn.node), and bundled by plain esbuild for the browser (the
// default entry, no Node import) and run in Chromium: each trains a small two-head model.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { chromiumPath, launchChromium, serveDir } from './chromium.js';
import { repoRoot, suite } from './harness.js';

const t = suite('the package as a dependency (npm pack, strict tsc, Node, esbuild, Chromium)');

const root = repoRoot();
const fixtures = join(root, 'test/consumer');
const MAX_PACKED_BYTES = 1_000_000;

/** What test/consumer/train.ts reports (app.ts sets it as globalThis.consumerResult). */
interface TrainResult {
  adapter: string;
  loss: number;
  perOutput: Record<string, number>;
  fitLoss: number;
}
type PageResult = TrainResult | { error: string } | undefined;
const pageResult = (): PageResult => (globalThis as { consumerResult?: PageResult }).consumerResult;

let work = '';
let app = '';
let tarball = '';

/** Runs a command; its output, or an assertion naming it with its output when it fails. */
function run(cmd: string, args: string[], cwd: string, timeoutMs = 120_000): string {
  // Under `npm test`, npm's settings come in as npm_config_* (kept: registry, cache, ...) but
  // so does this repository as the project root (npm_config_local_prefix, dropped).
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.toLowerCase() === 'npm_config_local_prefix') delete env[k];
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const shown = [cmd.replace(`${root}/`, ''), ...args].join(' ');
  assert.ok(r.status === 0, `\`${shown}\` failed (${r.error ?? `exit ${r.status}`}):\n${output.slice(-4000)}`);
  return r.stdout;
}

t.before(() => {
  work = mkdtempSync(join(tmpdir(), 'voxgrad-consumer-'));
  app = join(work, 'app');
});
t.after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

t('npm pack: under 1 MB, the library, CLI, types and README only', () => {
  interface Packed {
    filename: string;
    size: number;
    files: { path: string }[];
  }
  const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], root)) as Packed[];
  assert.ok(packed, 'npm pack reported its tarball');
  tarball = join(work, packed.filename);
  assert.ok(existsSync(tarball), `the tarball ${packed.filename} exists`);
  assert.ok(packed.size < MAX_PACKED_BYTES, `packed size ${packed.size} B < ${MAX_PACKED_BYTES} B`);
  const paths = packed.files.map((f) => f.path);
  const stray = paths.filter(
    (p) =>
      !(p.startsWith('dist/') || p === 'package.json' || p === 'README.md') || /(^|\/)(test|bench)\b|\.test\./.test(p),
  );
  assert.equal(stray, [], 'no tests, benchmarks or sources in the package');
  assert.equal(
    paths.filter((p) => p.endsWith('.map')),
    [],
    'no source maps (they hold the sources)',
  );
  for (const p of [
    'dist/voxgrad.node.js',
    'dist/voxgrad.browser.js',
    'dist/cli/voxgrad.js',
    'dist/types/index.d.ts',
    'dist/types/index.node.d.ts',
  ])
    assert.ok(paths.includes(p), `the package holds ${p}`);
});

t('the tarball installs in a new project with its runtime dependencies', () => {
  assert.ok(tarball, 'packed above');
  mkdirSync(app);
  cpSync(fixtures, app, { recursive: true });
  writeFileSync(
    join(app, 'package.json'),
    `${JSON.stringify({ name: 'voxgrad-consumer', private: true, type: 'module' }, null, 2)}\n`,
  );
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--no-update-notifier', tarball], app, 300_000);
  const manifest = JSON.parse(readFileSync(join(app, 'node_modules/voxgrad/package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  const deps = Object.keys(manifest.dependencies ?? {});
  assert.ok(deps.includes('@webgpu/types'), `@webgpu/types is a runtime dependency (${deps.join(', ')})`);
  for (const d of deps) assert.ok(existsSync(join(app, 'node_modules', d, 'package.json')), `${d} is installed`);
});

t('a strict tsc without skipLibCheck type-checks the consumer against the node and browser entries', () => {
  assert.ok(existsSync(join(app, 'node_modules/voxgrad')), 'installed above');
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  // NodeNext resolution takes the 'node' condition (index.node.d.ts) and emits the Node consumer;
  // Bundler resolution takes the default one (index.d.ts), as a browser app's bundler does.
  run(process.execPath, [tsc, '-p', 'tsconfig.json'], app);
  run(process.execPath, [tsc, '-p', 'tsconfig.browser.json'], app);
  assert.ok(existsSync(join(app, 'out/node.js')), 'tsc emitted the Node consumer');
});

t('Node resolves the node entry and trains a step and an epoch on the GPU', () => {
  assert.ok(existsSync(join(app, 'out/node.js')), 'compiled above');
  const resolved = run(
    process.execPath,
    ['--input-type=module', '-e', "console.log(import.meta.resolve('voxgrad'))"],
    app,
  );
  assert.ok(
    resolved.trim().endsWith('/node_modules/voxgrad/dist/voxgrad.node.js'),
    `'voxgrad' resolves to the node entry: ${resolved.trim()}`,
  );
  const lines = run(process.execPath, ['out/node.js'], app).trim().split('\n');
  const r = JSON.parse(lines[lines.length - 1] ?? '') as TrainResult;
  assert.ok(Number.isFinite(r.loss) && r.loss > 0, `a finite loss: ${JSON.stringify(r)}`);
  assert.equal(Object.keys(r.perOutput).sort(), ['fg', 'seg']);
  assert.ok(Object.values(r.perOutput).every(Number.isFinite), `finite per-output losses: ${JSON.stringify(r)}`);
  assert.ok(Number.isFinite(r.fitLoss), `fit logged a finite loss: ${JSON.stringify(r)}`);
});

t('plain esbuild bundles the browser consumer, with no Node import left', () => {
  assert.ok(existsSync(join(app, 'node_modules/voxgrad')), 'installed above');
  const esbuild = join(root, 'node_modules/esbuild/bin/esbuild');
  run(esbuild, ['app.ts', '--bundle', '--format=esm', '--outfile=app.js', '--log-level=warning'], app);
  const bundle = readFileSync(join(app, 'app.js'), 'utf8');
  const nodeImports = bundle.match(
    /["']node:[\w/]+["']|\b(from|import|require)\s*\(?\s*["'](webgpu|fs|path|url|module)["']/g,
  );
  assert.equal(nodeImports, null, 'no node: specifier and no import of webgpu or a Node built-in');
  assert.not.match(bundle, /^\s*(import|export)\s.*\sfrom\s/m, 'a self-contained bundle (no import statements)');
});

const browserTest = existsSync(chromiumPath) ? t : t.skip;
if (!existsSync(chromiumPath))
  console.log(
    `  (consumer's Chromium test skipped: no Chromium at ${chromiumPath}; .ci/run installs Debian's chromium)`,
  );

browserTest('the bundle trains a step and an epoch in Chromium (navigator.gpu)', async () => {
  assert.ok(existsSync(join(app, 'app.js')), 'bundled above');
  const server = await serveDir(app);
  const browser = await launchChromium();
  const errors: string[] = [];
  try {
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(server.url);
    await page.waitForFunction(pageResult, undefined, { timeout: 90_000 });
    const r = await page.evaluate(pageResult);
    assert.ok(r && !('error' in r), `the page trained: ${JSON.stringify(r)}`);
    if (!r || 'error' in r) return;
    assert.ok(Number.isFinite(r.loss) && r.loss > 0, `a finite loss: ${JSON.stringify(r)}`);
    assert.ok(Object.values(r.perOutput).every(Number.isFinite), `finite per-output losses: ${JSON.stringify(r)}`);
    assert.ok(Number.isFinite(r.fitLoss), `fit logged a finite loss: ${JSON.stringify(r)}`);
    assert.equal(errors, [], 'no console errors');
  } finally {
    await browser.close();
    server.close();
  }
});

t.run();
