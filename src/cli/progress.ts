/** Training progress: a bar over the epoch's steps on a terminal, and one line per epoch. */

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

  /** The epoch's line: its number, the time so far and `text`. */
  epoch(e: number, text: string): void {
    if (this.quiet) return;
    const t = ((performance.now() - this.#start) / 1000).toFixed(1);
    if (this.#tty) process.stdout.write('\r\x1b[2K');
    console.log(`epoch ${String(e + 1).padStart(String(this.epochs).length)}/${this.epochs}  ${t} s  ${text}`);
  }
}
