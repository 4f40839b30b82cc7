// Builds voxgrad with esbuild (WGSL files are imported as text):
//   dist/voxgrad.node.js       the library for Node (ESM; 'webgpu' stays external)
//   dist/voxgrad.browser.js    the library for browsers (navigator.gpu)
//   dist/cli/voxgrad.js        the command line
//   dist/types/                declarations of the library (tsc, tsconfig.build.json)
// and, outside the published package:
//   build/test, build/bench    tests and benchmarks, one build with code splitting so that every
//                              entry of a process shares one engine (one device)
//   build/demo                 the browser demo (page + bundle)
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

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
const node = {
  ...common,
  platform: 'node',
  splitting: true,
  entryNames: '[dir]/[name]',
  chunkNames: 'chunks/[name]-[hash]',
};
const list = (dir, suffix) =>
  readdirSync(join(root, dir))
    .filter((f) => f.endsWith(suffix) && !f.endsWith('.d.ts'))
    .map((f) => join(root, dir, f));

rmSync(join(root, 'dist'), { recursive: true, force: true });
rmSync(join(root, 'build'), { recursive: true, force: true });
await Promise.all([
  // The published files carry no source maps (with the sources inside they doubled the package);
  // they are not minified, so a stack trace into them reads as the code.
  build({
    ...node,
    sourcemap: false,
    outdir: join(root, 'dist'),
    outbase: join(root, 'src'),
    entryPoints: [
      { in: join(root, 'src/index.node.ts'), out: 'voxgrad.node' },
      { in: join(root, 'src/cli/voxgrad.ts'), out: 'cli/voxgrad' },
    ],
  }),
  build({
    ...common,
    sourcemap: false,
    platform: 'browser',
    entryPoints: [join(root, 'src/index.ts')],
    outfile: join(root, 'dist/voxgrad.browser.js'),
  }),
  build({
    ...node,
    outdir: join(root, 'build'),
    outbase: root,
    // The benchmark bundles TensorFlow.js, CommonJS code that calls require().
    banner: {
      js: "import { createRequire as __voxgradCreateRequire } from 'node:module'; const require = __voxgradCreateRequire(import.meta.url);",
    },
    entryPoints: [...list('test', '.ts'), ...list('bench', '.ts')],
  }),
  build({
    ...common,
    platform: 'browser',
    entryPoints: [join(root, 'demo/main.ts')],
    outfile: join(root, 'build/demo/main.js'),
  }),
]);
mkdirSync(join(root, 'build/demo'), { recursive: true });
copyFileSync(join(root, 'demo/index.html'), join(root, 'build/demo/index.html'));

// The command line is an executable script.
const cli = join(root, 'dist/cli/voxgrad.js');
writeFileSync(cli, `#!/usr/bin/env node\n${readFileSync(cli, 'utf8')}`);
chmodSync(cli, 0o755);

// Type declarations of the library (dist/types/index.d.ts).
const tsc = spawnSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')],
  { stdio: 'inherit' },
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
