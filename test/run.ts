// The test runner: uvu's own parse and run (its public API) over the built suites, optionally
// filtered by substrings of their file names, then the device is released so the process exits.
// It ends with one line `N passed, N failed, N skipped` and exits 1 on any failure.
// (Nothing here imports uvu itself: uvu/run loads it once the suites are queued for one run.)
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'uvu/parse';
import { run } from 'uvu/run';
import { dispose } from '../src/index.node.js';

const dir = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const { suites } = await parse(dir, '\\.test\\.js$');
await run(suites.filter((s) => !filters.length || filters.some((f) => s.name.includes(f))));
await dispose();
const { finish, tally } = await import('./harness.js');
// uvu marks a failure outside any test (a hook) only in the exit code.
const failed = tally.failed + (process.exitCode && !tally.failed ? 1 : 0);
finish(failed);
console.log(`${tally.passed} passed, ${failed} failed, ${tally.skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
