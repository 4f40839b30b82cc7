/**
 * Weights in the safetensors format (https://github.com/huggingface/safetensors): an 8-byte
 * little-endian header length, a JSON header mapping each name to its dtype, shape and byte range,
 * then the raw little-endian data. float32 round-trips exactly; int32 is supported too.
 * Works on bytes (Uint8Array) so it runs the same in Node and in a browser.
 */
import { argMessage, ShapeError, ValueError } from '../errors.js';
import type { Variable } from '../grad/variable.js';
import { readAll, tidy } from '../tensor/api.js';
import { tensor } from '../tensor/ops/creation.js';
import { Tensor } from '../tensor/tensor.js';

const DTYPES = { float32: 'F32', int32: 'I32' } as const;

interface Entry {
  dtype: 'F32' | 'I32';
  shape: number[];
  data_offsets: [number, number];
}

/** Serialises named tensors (read back with one wait for the GPU). */
export async function saveSafetensors(
  tensors: Readonly<Record<string, Tensor>>,
  metadata: Readonly<Record<string, string>> = {},
): Promise<Uint8Array> {
  const fn = 'saveSafetensors';
  const names = Object.keys(tensors).sort();
  for (const name of names) {
    if (!(tensors[name] instanceof Tensor))
      throw new ValueError(argMessage(fn, `tensors['${name}']`, 'a Tensor', typeof tensors[name]));
    if (name === '__metadata__')
      throw new ValueError(argMessage(fn, 'tensors', "names other than '__metadata__'", name));
  }
  const data = await readAll(names.map((n) => tensors[n]));
  const header: Record<string, Entry | Record<string, string>> = {};
  if (Object.keys(metadata).length) header.__metadata__ = { ...metadata };
  let offset = 0;
  names.forEach((name, i) => {
    const t = tensors[name];
    const bytes = data[i].byteLength;
    header[name] = { dtype: DTYPES[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  });
  // The header is padded with spaces so the data starts 8-byte aligned.
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  names.forEach((name, i) => {
    const entry = header[name] as Entry;
    out.set(
      new Uint8Array(data[i].buffer, data[i].byteOffset, data[i].byteLength),
      8 + headerBytes.length + entry.data_offsets[0],
    );
  });
  return out;
}

export interface Safetensors {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

/** Parses safetensors bytes into new tensors; any inconsistency is a clear error, nothing leaks. */
export function loadSafetensors(bytes: Uint8Array): Safetensors {
  const fn = 'loadSafetensors';
  const corrupt = (why: string): ValueError =>
    new ValueError(
      argMessage(fn, 'bytes', 'a safetensors file', `bytes that are not a valid safetensors file (${why})`),
    );
  if (!(bytes instanceof Uint8Array)) throw new ValueError(argMessage(fn, 'bytes', 'a Uint8Array', typeof bytes));
  if (bytes.byteLength < 8) throw corrupt(`${bytes.byteLength} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.byteLength - 8)
    throw corrupt(`the header length ${headerLength} exceeds the file's ${bytes.byteLength - 8} remaining bytes`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch (e) {
    throw corrupt(`the header is not JSON: ${(e as Error).message}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    throw corrupt('the header is not a JSON object');
  const dataStart = 8 + headerLength;
  const dataBytes = bytes.byteLength - dataStart;
  const entries: [string, Entry][] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = raw as Entry;
    if (!e || (e.dtype !== 'F32' && e.dtype !== 'I32'))
      throw corrupt(`tensor '${name}' has dtype ${JSON.stringify(e?.dtype)}; F32 and I32 are supported`);
    if (!Array.isArray(e.shape) || e.shape.some((d) => !Number.isInteger(d) || d < 0))
      throw corrupt(`tensor '${name}' has shape ${JSON.stringify(e.shape)}`);
    const [begin, end] = Array.isArray(e.data_offsets) ? e.data_offsets : [NaN, NaN];
    const size = e.shape.reduce((a, b) => a * b, 1);
    if (
      !Number.isInteger(begin) ||
      !Number.isInteger(end) ||
      begin < 0 ||
      end > dataBytes ||
      end - begin !== size * 4
    ) {
      throw corrupt(
        `tensor '${name}' has data_offsets ${JSON.stringify(e.data_offsets)} for ${size} elements in ${dataBytes} data bytes`,
      );
    }
    entries.push([name, e]);
  }
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  // Copy each range out (aligned), then upload; tensors are made only once everything checked.
  const tensors: Record<string, Tensor> = {};
  for (const [name, e] of entries) {
    const [begin, end] = e.data_offsets;
    // A fresh, aligned copy: \`bytes\` may be a view into a larger buffer (a Node Buffer from its
    // pool, a subarray), and on a Buffer \`slice\` is a view too, not a copy.
    const copy = new Uint8Array(end - begin);
    copy.set(bytes.subarray(dataStart + begin, dataStart + end));
    const values = e.dtype === 'F32' ? new Float32Array(copy.buffer) : new Int32Array(copy.buffer);
    tensors[name] = tensor(values, e.shape, e.dtype === 'F32' ? 'float32' : 'int32');
  }
  return { tensors, metadata };
}

/** Saves variables by their names. */
export function saveWeights(
  variables: readonly Variable[],
  metadata: Readonly<Record<string, string>> = {},
): Promise<Uint8Array> {
  const named: Record<string, Tensor> = {};
  for (const v of variables) {
    if (named[v.name])
      throw new ValueError(argMessage('saveWeights', 'variables', 'unique names', `'${v.name}' twice`));
    named[v.name] = v;
  }
  return saveSafetensors(named, metadata);
}

/**
 * Loads weights into variables by name. Every variable must be in the file with its shape, and
 * every tensor of the file must belong to a variable: otherwise nothing is assigned. Async like
 * saveWeights; `bytes` may be any Uint8Array view (a Node Buffer, a subarray).
 */
export async function loadWeights(variables: readonly Variable[], bytes: Uint8Array): Promise<void> {
  const fn = 'loadWeights';
  const { tensors } = loadSafetensors(bytes);
  try {
    const byName = new Map(variables.map((v) => [v.name, v]));
    const missing = variables.filter((v) => !tensors[v.name]).map((v) => v.name);
    if (missing.length)
      throw new ValueError(
        argMessage(
          fn,
          'bytes',
          `weights for ${variables.map((v) => `'${v.name}'`).join(', ')}`,
          `a file without ${missing.map((m) => `'${m}'`).join(', ')}`,
        ),
      );
    const extra = Object.keys(tensors).filter((n) => !byName.has(n));
    if (extra.length)
      throw new ValueError(
        argMessage(fn, 'bytes', `only the variables' names`, `unexpected ${extra.map((m) => `'${m}'`).join(', ')}`),
      );
    for (const v of variables) {
      const t = tensors[v.name];
      if (t.dtype !== v.dtype || t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i])) {
        throw new ShapeError(
          argMessage(
            fn,
            `'${v.name}'`,
            `${v.dtype} [${v.shape.join(', ')}]`,
            `${t.dtype} [${t.shape.join(', ')}] in the file`,
          ),
        );
      }
    }
    for (const v of variables) v.assign(tensors[v.name]);
  } finally {
    tidy(() => Object.values(tensors).forEach((t) => t.dispose()));
  }
}
