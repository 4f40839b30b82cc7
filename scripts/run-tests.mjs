// Runs the built suites (build/test) in one process, one GPU device for all of them, and ends
// with one line `N passed, N failed, N skipped`; exit status 1 on any failure. The runner
// (test/run.ts) prints that line itself; if the process dies first, the counts it wrote after
// each test are read back here and the death counts as one more failure.
// Usage: node scripts/run-tests.mjs [substring-of-test-file ...]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'voxgrad-tally-'));
const tallyFile = join(dir, 'tally.json');
const r = spawnSync(process.execPath, [join(root, 'build/test/run.js'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, VOXGRAD_TALLY_FILE: tallyFile },
});
let tally = { passed: 0, failed: 0, skipped: 0, done: false };
try {
  tally = JSON.parse(readFileSync(tallyFile, 'utf8'));
} catch {
  // No test finished before the process died.
}
rmSync(dir, { recursive: true, force: true });
if (tally.done) process.exit(r.status ?? 1);
console.log(`the test process died (exit ${r.status}, signal ${r.signal ?? 'none'}) before its summary`);
console.log(`${tally.passed} passed, ${tally.failed + 1} failed, ${tally.skipped} skipped`);
process.exit(1);
