/**
 * Output written all at once or not at all: files go to a temporary folder beside the target
 * (same file system, so renames are atomic), and only once every file is complete are they
 * renamed into it. A failure at any point removes the temporary folder, so a stopped run leaves
 * neither a half-written file nor a partial set.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ValueError } from '../errors.js';

/** Throws (before any work) when `out` cannot become the output folder. */
export function checkOutputFolder(out: string): void {
  if (existsSync(out) && !statSync(out).isDirectory())
    throw new ValueError(`voxgrad train: argument '--out' expected a folder to write to, got ${out}, which is a file`);
}

/** The temporary folder for `out`: created empty, and named so it is recognisably voxgrad's. */
export function stagingFolder(out: string): string {
  const clean = out.replace(/[/\\]+$/, '');
  const dir = join(dirname(clean), `.${clean.split(/[/\\]/).pop()}.partial-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Moves every file of `staging` into `out` (created if needed; files of the same name replaced). */
export function commitFolder(staging: string, out: string): string[] {
  mkdirSync(out, { recursive: true });
  const files = readdirSync(staging).sort();
  for (const f of files) renameSync(join(staging, f), join(out, f));
  rmSync(staging, { recursive: true, force: true });
  return files;
}
