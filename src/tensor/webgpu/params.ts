/**
 * Packs a kernel's `Params` uniform from named values, by WGSL's layout rules for the uniform
 * address space: scalars are 4-byte aligned, `vec4<u32>` and `array<vec4<u32>, 2>` 16-byte aligned
 * (16 and 32 bytes). Shapes and strides travel as `array<vec4<u32>, 2>` (rank <= 8), so no kernel
 * is specialised on rank. The contract test checks this layout against each kernel's WGSL struct.
 */
import type { ParamFields, ParamType, ParamValues } from '../kernel.js';

const SIZE: Record<ParamType, number> = { u32: 4, i32: 4, f32: 4, 'vec4<u32>': 16, 'array<vec4<u32>, 2>': 32 };
const ALIGN: Record<ParamType, number> = { u32: 4, i32: 4, f32: 4, 'vec4<u32>': 16, 'array<vec4<u32>, 2>': 16 };

export interface FieldLayout {
  readonly name: string;
  readonly type: ParamType;
  readonly offset: number;
}

const layouts = new WeakMap<ParamFields, { fields: FieldLayout[]; bytes: number }>();

/** Field offsets and the struct's byte size (rounded to 16, as a uniform binding wants). */
export function paramLayout(fields: ParamFields): { fields: FieldLayout[]; bytes: number } {
  const hit = layouts.get(fields);
  if (hit) return hit;
  let offset = 0;
  const out: FieldLayout[] = [];
  for (const [name, type] of Object.entries(fields)) {
    offset = Math.ceil(offset / ALIGN[type]) * ALIGN[type];
    out.push({ name, type, offset });
    offset += SIZE[type];
  }
  const layout = { fields: out, bytes: Math.max(16, Math.ceil(offset / 16) * 16) };
  layouts.set(fields, layout);
  return layout;
}

/** The packed bytes. A value that does not fit its field is a host bug: it throws, naming both. */
export function packParams<P extends ParamFields>(kernel: string, fields: P, values: ParamValues<P>): Uint8Array {
  const { fields: layout, bytes } = paramLayout(fields);
  const view = new DataView(new ArrayBuffer(bytes));
  const named = values as Readonly<Record<string, number | readonly number[]>>;
  for (const f of layout) {
    const v = named[f.name];
    if (f.type === 'f32') view.setFloat32(f.offset, v as number, true);
    else if (f.type === 'i32')
      view.setInt32(f.offset, checked(kernel, f.name, v as number, -(2 ** 31), 2 ** 31 - 1), true);
    else if (f.type === 'u32') view.setUint32(f.offset, checked(kernel, f.name, v as number, 0, 2 ** 32 - 1), true);
    else {
      const list = v as readonly number[];
      const n = f.type === 'vec4<u32>' ? 4 : 8;
      if (!Array.isArray(list) || list.length > n)
        throw new Error(`kernel ${kernel}: param ${f.name} expects at most ${n} values, got ${String(v)}`);
      for (let i = 0; i < n; i++)
        view.setUint32(f.offset + 4 * i, checked(kernel, f.name, list[i] ?? 0, 0, 2 ** 32 - 1), true);
    }
  }
  return new Uint8Array(view.buffer);
}

function checked(kernel: string, name: string, v: number, lo: number, hi: number): number {
  if (!Number.isInteger(v) || v < lo || v > hi)
    throw new Error(`kernel ${kernel}: param ${name} expects an integer in [${lo}, ${hi}], got ${v}`);
  return v;
}
