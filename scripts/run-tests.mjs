// Runs the uvu suites built into dist/test in one process (one GPU device for all of them) and
// ends with one line `N passed, N failed, N skipped`. Exit code 1 on any failure.
// Usage: node scripts/run-tests.mjs [substring-of-test-file ...]
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const r = spawnSync(process.execPath, [`${root}dist/test/run.js`, ...process.argv.slice(2)], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 28 });
process.stdout.write(r.stdout ?? '');
const m = /Total:\s+(\d+)[\s\S]*?Passed:\s+(?:\x1b\[\d+m)?(\d+)[\s\S]*?Skipped:\s+(?:\x1b\[\d+m)?(\d+)/.exec(r.stdout ?? '');
if (!m) {
  console.log(`test run did not finish (exit ${r.status}, signal ${r.signal ?? 'none'})`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const [total, passed, skipped] = m.slice(1).map(Number);
const failed = total - passed - skipped;
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || r.status !== 0 ? 1 : 0);
