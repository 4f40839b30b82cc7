/**
 * A kernel's WGSL as a pipeline compiles it: its preludes (if any) in front of the kernel file,
 * with the variant's `const` sizes and type aliases substituted. Pipelines are keyed by kernel and
 * variant, never by tensor sizes, so one pipeline serves every shape. Compile errors are mapped
 * back to `kernels/<file>:<line>` of the prelude or the kernel.
 */
import type { Kernel, KernelVariant } from '../kernel.js';

export interface KernelSource {
  readonly file: string;
  readonly code: string;
  /** The preludes at the top of `code`, in order, with the lines each takes. */
  readonly preludes: readonly { readonly file: string; readonly lines: number }[];
}

export function variantKey(kernel: Kernel, v: KernelVariant = {}): string {
  return `${kernel.name}|${JSON.stringify(v.aliases ?? {})}|${JSON.stringify(v.overrides ?? {})}|${JSON.stringify(v.consts ?? {})}`;
}

export function kernelSource(kernel: Kernel, v: KernelVariant = {}): KernelSource {
  const texts = kernel.preludes.map((p) => (p.source.endsWith('\n') ? p.source : `${p.source}\n`));
  let code = texts.join('') + kernel.source;
  if (v.aliases) code = specialise(kernel, code, v.aliases);
  if (v.consts) code = specialiseConsts(kernel, code, v.consts);
  return {
    file: kernel.file,
    code,
    preludes: kernel.preludes.map((p, i) => ({ file: p.file, lines: texts[i].split('\n').length - 1 })),
  };
}

/** Maps a line of a kernel's full source to `kernels/<file>:<line>` (a prelude or the kernel file). */
export function sourceLocation(s: KernelSource, line: number): string {
  let first = 0;
  for (const p of s.preludes) {
    if (line <= first + p.lines) return `kernels/${p.file}:${line - first}`;
    first += p.lines;
  }
  return `kernels/${s.file}:${line - first}`;
}

/**
 * Replaces `alias NAME = ...;` lines with the given types. Kernels declare their default aliases
 * so each .wgsl file is valid WGSL on its own.
 */
function specialise(kernel: Kernel, code: string, aliases: Readonly<Partial<Record<string, string>>>): string {
  let out = code;
  for (const [name, type] of Object.entries(aliases)) {
    if (type === undefined) continue;
    const re = new RegExp(`^alias ${name} = [a-z0-9<>]+;$`, 'm');
    if (!kernel.aliases.includes(name) || !re.test(out))
      throw new Error(`kernel ${kernel.name} has no 'alias ${name}' to specialise`);
    out = out.replace(re, `alias ${name} = ${type};`);
  }
  return out;
}

/**
 * Replaces `const NAME: u32 = ...;` lines with the given values: sizes WGSL needs at shader
 * creation (private array lengths), which override constants cannot give.
 */
function specialiseConsts(kernel: Kernel, code: string, consts: Readonly<Partial<Record<string, number>>>): string {
  let out = code;
  for (const [name, value] of Object.entries(consts)) {
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < 0)
      throw new Error(`kernel ${kernel.name}: const ${name} must be a non-negative integer, got ${value}`);
    const re = new RegExp(`^const ${name}: u32 = [0-9]+u;$`, 'm');
    if (!kernel.consts.includes(name) || !re.test(out))
      throw new Error(`kernel ${kernel.name} has no 'const ${name}: u32' to specialise`);
    out = out.replace(re, `const ${name}: u32 = ${value}u;`);
  }
  return out;
}
