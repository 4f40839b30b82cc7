/**
 * Dawn prints two lines to stderr whenever it opens an adapter:
 *   Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.
 *   Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.
 * They come from Dawn's limit normalisation (dawn::WarningLog in native/Limits.cpp, written with
 * fprintf to the process's stderr), so nothing in JavaScript can catch or silence them, and they
 * say nothing a user can act on. The command line therefore runs its GPU commands in a child
 * process whose stderr passes through a filter that drops exactly these lines and forwards every
 * other line as it comes. stdin and stdout are the parent's own (a terminal stays a terminal).
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

/** Set in the child's environment: the command runs there, unfiltered. */
export const CHILD_ENV = 'VOXGRAD_CLI_CHILD';

/** One of Dawn's limit-normalisation warnings (a whole line). */
export const DAWN_LIMIT_WARNING =
  /^Warning: maxDynamic\w+ artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.$/;

/**
 * Runs `node script ...args` with Dawn's limit warnings removed from its stderr, whose other lines
 * go to `write` (this process's stderr by default); resolves to its exit status.
 */
export function runWithoutDawnWarnings(
  script: string,
  args: readonly string[],
  write: (text: string) => void = (text) => void process.stderr.write(text),
): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, script, ...args], {
      stdio: ['inherit', 'inherit', 'pipe'],
      env: { ...process.env, [CHILD_ENV]: '1' },
    });
    let pending = '';
    const forward = (text: string): void => {
      const kept = text.split('\n').filter((line) => !DAWN_LIMIT_WARNING.test(line.trimEnd()));
      if (kept.length) write(kept.map((l) => `${l}\n`).join(''));
    };
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      const text = pending + chunk;
      const end = text.lastIndexOf('\n');
      pending = text.slice(end + 1);
      if (end >= 0) forward(text.slice(0, end));
    });
    // Ctrl-C reaches the child too (same process group): the parent waits for it to finish.
    const ignore = (): void => undefined;
    const passOn = (signal: NodeJS.Signals) => (): void => void child.kill(signal);
    const onTerm = passOn('SIGTERM');
    const onHup = passOn('SIGHUP');
    process.on('SIGINT', ignore);
    process.on('SIGTERM', onTerm);
    process.on('SIGHUP', onHup);
    child.on('error', (e) => {
      write(`voxgrad: cannot start ${process.execPath}: ${e.message}\n`);
      resolve(1);
    });
    child.on('close', (code, signal) => {
      if (pending) forward(pending);
      process.off('SIGINT', ignore);
      process.off('SIGTERM', onTerm);
      process.off('SIGHUP', onHup);
      // A child killed by a signal exits as shells report it: 128 + the signal's number.
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 1));
    });
  });
}
