/**
 * Kernel definitions: the contract between a WGSL file in kernels/ and the host code that
 * dispatches it. A definition names the file, the fields of its `struct Params` in order with
 * their WGSL types, its storage bindings (binding 1, 2, ... in order) and what a pipeline may be
 * specialised on (override constants, `const` sizes, type aliases). The host writes params and
 * binds buffers by name through the definition, so TypeScript checks every dispatch against it,
 * and test/kernel_contracts.test.ts checks every definition against its WGSL source.
 *
 * An op defines its kernels next to its launcher; defining one also registers it, so `warmup()`
 * and the contract test see every kernel without a hand-kept list.
 */
import type { Binding } from './backend.js';

/** The WGSL types a Params field may have. `array<vec4<u32>, 2>` carries up to 8 dims or strides. */
export type ParamType = 'u32' | 'i32' | 'f32' | 'vec4<u32>' | 'array<vec4<u32>, 2>';
export type ParamFields = Readonly<Record<string, ParamType>>;

/** A WGSL file placed in front of the kernel (shared structs and helpers). */
export interface Prelude {
  readonly file: string;
  readonly source: string;
}

export interface Kernel<
  P extends ParamFields = ParamFields,
  B extends string = string,
  O extends string = string,
  C extends string = string,
  A extends string = string,
> {
  readonly name: string;
  /** File name in kernels/. */
  readonly file: string;
  readonly source: string;
  /** WGSL files placed in front of the kernel, in order (shared helpers, structs, params). */
  readonly preludes: readonly Prelude[];
  /** Params fields in WGSL order (the struct may live in a prelude). */
  readonly params: P;
  /** Storage bindings 1..n in order (binding 0 is always the Params uniform). */
  readonly bindings: readonly B[];
  /** `override NAME: u32` constants a pipeline may set. */
  readonly overrides: readonly O[];
  /** `const NAME: u32` lines a pipeline may replace (array sizes WGSL needs at shader creation). */
  readonly consts: readonly C[];
  /** `alias NAME = type;` lines a pipeline may replace (element types). */
  readonly aliases: readonly A[];
  /** Device features its WGSL enables (`enable subgroups;`): it compiles only where the device has them. */
  readonly requires: readonly GPUFeatureName[];
}

/** Values for each Params field: numbers, or lists of up to 4 / 8 unsigned values for vectors. */
export type ParamValues<P extends ParamFields> = {
  readonly [K in keyof P]: P[K] extends 'vec4<u32>' | 'array<vec4<u32>, 2>' ? readonly number[] : number;
};

/** What a pipeline is specialised on (names absent or undefined keep the kernel's defaults). */
export interface KernelVariant {
  readonly overrides?: Readonly<Partial<Record<string, number>>>;
  readonly consts?: Readonly<Partial<Record<string, number>>>;
  readonly aliases?: Readonly<Partial<Record<string, string>>>;
}

/** One dispatch of kernel K: its params and bindings by name, the workgroup count, the variant. */
export type KernelCall<K extends Kernel> =
  K extends Kernel<infer P, infer B, infer O, infer C, infer A>
    ? {
        readonly params: ParamValues<P>;
        readonly bindings: { readonly [N in B]: Binding };
        /** Linear workgroup count (the backend folds it into x, y, z within the device limit). */
        readonly workgroups: number;
        readonly overrides?: { readonly [N in O]?: number };
        readonly consts?: { readonly [N in C]?: number };
        readonly aliases?: { readonly [N in A]?: string };
      }
    : never;

const registry = new Map<string, Kernel>();

export function defineKernel<
  const P extends ParamFields,
  const B extends readonly string[],
  const O extends readonly string[] = [],
  const C extends readonly string[] = [],
  const A extends readonly string[] = [],
>(def: {
  name: string;
  file: string;
  source: string;
  preludes?: readonly Prelude[];
  params: P;
  bindings: B;
  overrides?: O;
  consts?: C;
  aliases?: A;
  requires?: readonly GPUFeatureName[];
}): Kernel<P, B[number], O[number], C[number], A[number]> {
  if (registry.has(def.name)) throw new Error(`kernel '${def.name}' defined twice`);
  const kernel: Kernel<P, B[number], O[number], C[number], A[number]> = {
    name: def.name,
    file: def.file,
    source: def.source,
    preludes: def.preludes ?? [],
    params: def.params,
    bindings: def.bindings,
    overrides: def.overrides ?? [],
    consts: def.consts ?? [],
    aliases: def.aliases ?? [],
    requires: def.requires ?? [],
  };
  registry.set(def.name, kernel);
  return kernel;
}

/** Every kernel defined so far (each op module defines its kernels when it loads). */
export function definedKernels(): Kernel[] {
  return [...registry.values()];
}

/**
 * The op codes a kernel declares as `const NAME: u32 = N;`, for the host's op names: `powScalar`
 * is the WGSL constant `POW_SCALAR`. The codes are written only in the WGSL file; a name without
 * a constant there is an error when the op module loads.
 */
export function opCodes<const N extends readonly string[]>(
  kernel: string,
  source: string,
  names: N,
): Readonly<Record<N[number], number>> {
  const out: Record<string, number> = {};
  for (const name of names) {
    const constant = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
    const m = new RegExp(`^const ${constant}: u32 = ([0-9]+)u;`, 'm').exec(source);
    if (!m) throw new Error(`${kernel}: the op '${name}' has no 'const ${constant}: u32' in its WGSL source`);
    out[name] = Number(m[1]);
  }
  return out as Readonly<Record<N[number], number>>;
}
