// Builds voxgrad with esbuild: WGSL files are imported as text.
//   dist/voxgrad.node.js      Node entry (ESM; 'webgpu' stays external)
//   dist/voxgrad.browser.js   browser bundle (uses navigator.gpu)
//   dist/types                declarations (tsc)
//   dist/demo                              the browser demo (page + bundle)
//   dist/cli/voxgrad.js                    the command line
//   dist/test, dist/bench                  tests and benchmark: one build with code
//   splitting, so every entry shares one engine (one device) in a process.
import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';
import { chmodSync, copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const common = {
  bundle: true,
  format: 'esm',
  loader: { '.wgsl': 'text' },
  sourcemap: true,
  target: 'es2022',
  logLevel: 'warning',
  external: ['webgpu', 'playwright-core'],
};
const list = (dir, suffix) => {
  try {
    return readdirSync(join(root, dir)).filter((f) => f.endsWith(suffix)).map((f) => join(root, dir, f));
  } catch {
    return [];
  }
};

rmSync(join(root, 'dist'), { recursive: true, force: true });
await Promise.all([
  build({
    ...common,
    platform: 'node',
    splitting: true,
    outdir: join(root, 'dist'),
    outbase: root,
    entryNames: '[dir]/[name]',
    // CommonJS dependencies bundled into ESM (the benchmark's TensorFlow.js) call require().
    banner: { js: "import { createRequire as __voxgradCreateRequire } from 'node:module'; const require = __voxgradCreateRequire(import.meta.url);" },
    chunkNames: 'chunks/[name]-[hash]',
    entryPoints: [
      { in: join(root, 'src/index.ts'), out: 'voxgrad.node' },
      { in: join(root, 'src/cli/voxgrad.ts'), out: 'cli/voxgrad' },
      ...list('test', '.ts').filter((f) => !f.endsWith('.d.ts')),
      ...list('bench', '.ts'),
    ],
  }),
  build({ ...common, platform: 'browser', entryPoints: [join(root, 'src/index.ts')], outfile: join(root, 'dist/voxgrad.browser.js') }),
  build({ ...common, platform: 'browser', entryPoints: [join(root, 'demo/main.ts')], outfile: join(root, 'dist/demo/main.js') }),
]);
copyFileSync(join(root, 'demo/index.html'), join(root, 'dist/demo/index.html'));

// The command line is an executable script.
const cli = join(root, 'dist/cli/voxgrad.js');
writeFileSync(cli, `#!/usr/bin/env node\n${readFileSync(cli, 'utf8')}`);
chmodSync(cli, 0o755);

// Type declarations for the package (dist/types/src/index.d.ts).
const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json'), '--emitDeclarationOnly'], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
