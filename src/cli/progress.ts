/** A per-epoch progress bar on a terminal (a line per epoch otherwise), with the epoch's logs. */
import type { Logs } from '../nn/model.js';

export class Progress {
  #start = performance.now();
  readonly #tty = !!process.stdout.isTTY;

  constructor(
    readonly epochs: number,
    readonly steps: number,
    readonly quiet: boolean,
  ) {}

  batch(b: number): void {
    if (this.quiet || !this.#tty) return;
    const width = 24;
    const done = Math.round((width * (b + 1)) / this.steps);
    process.stdout.write(`\r  [${'#'.repeat(done)}${'.'.repeat(width - done)}] step ${b + 1}/${this.steps}`);
  }

  epoch(e: number, logs: Logs): void {
    if (this.quiet) return;
    const t = ((performance.now() - this.#start) / 1000).toFixed(1);
    const parts = Object.entries(logs).map(([k, v]) => `${k} ${Number.isFinite(v) ? v.toFixed(4) : v}`);
    if (this.#tty) process.stdout.write('\r\x1b[2K');
    console.log(
      `epoch ${String(e + 1).padStart(String(this.epochs).length)}/${this.epochs} ${t}s  ${parts.join('  ')}`,
    );
  }
}
