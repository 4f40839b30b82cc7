/**
 * What each buffer binding of a pipeline (binding 1 upwards) accepts, read from its specialised
 * WGSL: whether the kernel writes it, whether it is a uniform buffer, and the smallest range it
 * may be bound over (one element of a storage binding's runtime array; the whole fixed-size array
 * of a uniform binding). The backend checks every dispatch against it before recording anything, so a binding
 * that WebGPU would reject (too small, past the buffer's end, misaligned, a writable range that
 * overlaps another binding of the same buffer) is a KernelError naming the op at once, and never
 * an invalid command that would take the rest of the batch down with it.
 */

export interface StorageBinding {
  readonly name: string;
  readonly writable: boolean;
  /** A `var<uniform>` array (bound with the uniform offset alignment and size limit). */
  readonly uniform: boolean;
  /** WebGPU's minimum binding size: one element of a runtime-sized array, or a whole fixed one. */
  readonly minBytes: number;
}

const SCALAR_BYTES: Readonly<Record<string, number>> = { f32: 4, i32: 4, u32: 4, f16: 2 };

/** Bytes of a WGSL type written as text (scalars and vectors; 4 for anything else). */
function typeBytes(type: string, aliases: ReadonlyMap<string, string>, depth = 0): number {
  const t = type.replace(/\s+/g, '');
  if (t in SCALAR_BYTES) return SCALAR_BYTES[t];
  const vec = /^vec([234])<(\w+)>$/.exec(t);
  if (vec) return Number(vec[1] === '3' ? 4 : vec[1]) * (SCALAR_BYTES[vec[2]] ?? 4);
  const alias = aliases.get(t);
  if (alias !== undefined && depth < 8) return typeBytes(alias, aliases, depth + 1);
  return 4;
}

/** The buffer bindings of group 0 from binding 1 (storage arrays, uniform arrays), in binding order. */
export function storageBindings(code: string): StorageBinding[] {
  const aliases = new Map([...code.matchAll(/^alias (\w+) = (.+);$/gm)].map((m) => [m[1], m[2]] as const));
  const consts = new Map(
    [...code.matchAll(/^const (\w+): u32 = (\d+)u;$/gm)].map((m) => [m[1], Number(m[2])] as const),
  );
  const storage = [
    ...code.matchAll(/@group\(0\) @binding\((\d+)\) var<storage, (read|read_write)> (\w+): array<(.+)>;/g),
  ].map((m) => ({
    index: Number(m[1]),
    binding: { name: m[3], writable: m[2] === 'read_write', uniform: false, minBytes: typeBytes(m[4], aliases) },
  }));
  // A uniform array's length is a literal or a `const` of the specialised source.
  const uniform = [...code.matchAll(/@group\(0\) @binding\(([1-9]\d*)\) var<uniform> (\w+): array<(.+), (\w+)>;/g)].map(
    (m) => ({
      index: Number(m[1]),
      binding: {
        name: m[2],
        writable: false,
        uniform: true,
        minBytes: typeBytes(m[3], aliases) * (consts.get(m[4]) ?? (Number.parseInt(m[4], 10) || 1)),
      },
    }),
  );
  return [...storage, ...uniform].sort((a, b) => a.index - b.index).map((b) => b.binding);
}
