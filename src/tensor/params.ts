/**
 * Packs a kernel's `Params` uniform struct. Scalars are 4 bytes; `dims` writes a rank <= 8
 * list as `array<vec4<u32>, 2>` (32 bytes), so every kernel takes shapes and strides the same way
 * and no kernel is specialised on rank.
 */
import { MAX_RANK } from './shape.js';

export class ParamWriter {
  readonly #view: DataView;
  #offset = 0;

  constructor(bytes = 256) {
    this.#view = new DataView(new ArrayBuffer(bytes));
  }

  u32(v: number): this {
    this.#view.setUint32(this.#offset, v >>> 0, true);
    this.#offset += 4;
    return this;
  }

  f32(v: number): this {
    this.#view.setFloat32(this.#offset, v, true);
    this.#offset += 4;
    return this;
  }

  /** Pads to the next 16-byte boundary (vec4 alignment). */
  align16(): this {
    this.#offset = Math.ceil(this.#offset / 16) * 16;
    return this;
  }

  /** A list of up to MAX_RANK unsigned values as array<vec4<u32>, 2>, zero-filled. */
  dims(values: readonly number[]): this {
    this.align16();
    for (let i = 0; i < MAX_RANK; i++) this.u32(values[i] ?? 0);
    return this;
  }

  /** The packed bytes, padded to 16. */
  bytes(): Uint8Array {
    this.align16();
    return new Uint8Array(this.#view.buffer, 0, this.#offset);
  }
}
