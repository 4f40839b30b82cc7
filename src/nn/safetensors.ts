/**
 * Weights in the safetensors format (https://github.com/huggingface/safetensors): an 8-byte
 * little-endian header length, a JSON header mapping each name to its dtype, shape and byte range,
 * then the raw little-endian data. float32 round-trips exactly; int32 is supported too.
 * Works on bytes (Uint8Array) so it runs the same in Node and in a browser.
 */
import { argMessage, ShapeError, ValueError } from '../errors.js';
import { Variable } from '../grad/variable.js';
import { readAll, tidy } from '../tensor/api.js';
import { describe } from '../tensor/ops/check.js';
import { tensor } from '../tensor/ops/creation.js';
import { MAX_RANK } from '../tensor/shape.js';
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

/** The reference implementation's limit on the header (100 MB): a larger length is corruption. */
const MAX_HEADER_BYTES = 100_000_000;
/** Names that would reach Object.prototype machinery if used as plain-object keys. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
const ENTRY_KEYS = ['dtype', 'shape', 'data_offsets'];

interface Checked {
  tensors: Map<string, Entry>;
  metadata: Map<string, string>;
  dataStart: number;
}

/**
 * Checks a whole file before anything is created: the header length, the header (a JSON object
 * of plain names), each entry's dtype, shape and byte range (inside the data, the right size, no
 * two overlapping) and the metadata (strings). Returns the entries by name.
 */
function checkSafetensors(fn: string, bytes: Uint8Array): Checked {
  const corrupt = (why: string): ValueError =>
    new ValueError(
      argMessage(fn, 'bytes', 'a safetensors file', `bytes that are not a valid safetensors file (${why})`),
    );
  if (!(bytes instanceof Uint8Array))
    throw new ValueError(argMessage(fn, 'bytes', 'a Uint8Array (or a Node Buffer)', describe(bytes)));
  if (bytes.byteLength < 8) throw corrupt(`${bytes.byteLength} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getBigUint64(0, true);
  if (length > BigInt(bytes.byteLength - 8))
    throw corrupt(`the header length ${length} exceeds the file's ${bytes.byteLength - 8} remaining bytes`);
  if (length > BigInt(MAX_HEADER_BYTES))
    throw corrupt(`the header length ${length} is above the ${MAX_HEADER_BYTES}-byte limit`);
  const headerLength = Number(length);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch (e) {
    throw corrupt(`the header is not JSON: ${(e as Error).message}`);
  }
  if (!isPlainObject(header)) throw corrupt(`the header is not a JSON object: ${describe(header)}`);
  const dataStart = 8 + headerLength;
  const dataBytes = bytes.byteLength - dataStart;
  const tensors = new Map<string, Entry>();
  const metadata = new Map<string, string>();
  for (const [name, raw] of Object.entries(header)) {
    if (RESERVED_NAMES.has(name) || name === '')
      throw corrupt(`the header has a tensor named ${JSON.stringify(name)}, which is not allowed`);
    if (name === '__metadata__') {
      if (!isPlainObject(raw)) throw corrupt(`__metadata__ is ${describe(raw)}, not an object of strings`);
      for (const [key, value] of Object.entries(raw)) {
        if (RESERVED_NAMES.has(key)) throw corrupt(`__metadata__ has the key ${JSON.stringify(key)}`);
        if (typeof value !== 'string') throw corrupt(`__metadata__ '${key}' is ${describe(value)}, not a string`);
        metadata.set(key, value);
      }
      continue;
    }
    tensors.set(name, checkEntry(name, raw, dataBytes, corrupt));
  }
  // Byte ranges in order: each must end before the next begins (empty tensors take no bytes).
  const ranges = [...tensors].filter(([, e]) => e.data_offsets[1] > e.data_offsets[0]);
  ranges.sort(([, a], [, b]) => a.data_offsets[0] - b.data_offsets[0]);
  for (let i = 1; i < ranges.length; i++) {
    const [prevName, prev] = ranges[i - 1];
    const [name, e] = ranges[i];
    if (e.data_offsets[0] < prev.data_offsets[1])
      throw corrupt(
        `tensors '${prevName}' ${JSON.stringify(prev.data_offsets)} and '${name}' ${JSON.stringify(e.data_offsets)} overlap`,
      );
  }
  return { tensors, metadata, dataStart };
}

function checkEntry(name: string, raw: unknown, dataBytes: number, corrupt: (why: string) => ValueError): Entry {
  if (!isPlainObject(raw))
    throw corrupt(`tensor '${name}' is ${describe(raw)}, not an object { dtype, shape, data_offsets }`);
  for (const key of Object.keys(raw))
    if (!ENTRY_KEYS.includes(key)) throw corrupt(`tensor '${name}' has the unknown field ${JSON.stringify(key)}`);
  const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
  if (dtype !== 'F32' && dtype !== 'I32')
    throw corrupt(`tensor '${name}' has dtype ${JSON.stringify(dtype) ?? 'undefined'}; F32 and I32 are supported`);
  if (!Array.isArray(shape) || shape.length > MAX_RANK || shape.some((d) => !Number.isSafeInteger(d) || d < 0))
    throw corrupt(
      `tensor '${name}' has shape ${JSON.stringify(shape) ?? 'undefined'} (expected at most ${MAX_RANK} non-negative integers)`,
    );
  // Dims are safe integers and at most 8, so the product is finite; one too large for the data
  // is caught below whether or not it is exact.
  const size = (shape as number[]).reduce((a, b) => a * b, 1);
  const [begin, end] = Array.isArray(offsets) && offsets.length === 2 ? offsets : [Number.NaN, Number.NaN];
  if (
    !Number.isSafeInteger(begin) ||
    !Number.isSafeInteger(end) ||
    begin < 0 ||
    end < begin ||
    end > dataBytes ||
    end - begin !== size * 4
  )
    throw corrupt(
      `tensor '${name}' has data_offsets ${JSON.stringify(offsets) ?? 'undefined'} for ${size} elements in ${dataBytes} data bytes`,
    );
  return { dtype, shape: [...(shape as number[])], data_offsets: [begin, end] };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Reads safetensors bytes (any Uint8Array view: a Node Buffer, a subarray) into new tensors, by
 * name. The whole file is checked first, so a corrupted file is a ValueError and creates nothing.
 */
function readSafetensors(
  fn: string,
  bytes: Uint8Array,
): { tensors: Map<string, Tensor>; metadata: Map<string, string> } {
  const { tensors: entries, metadata, dataStart } = checkSafetensors(fn, bytes);
  const tensors = new Map<string, Tensor>();
  try {
    for (const [name, e] of entries) {
      const [begin, end] = e.data_offsets;
      // A fresh, aligned copy: `bytes` may be a view into a larger buffer (a Node Buffer from its
      // pool, a subarray), and on a Buffer `slice` is a view too, not a copy.
      const copy = new Uint8Array(end - begin);
      copy.set(bytes.subarray(dataStart + begin, dataStart + end));
      const values = e.dtype === 'F32' ? new Float32Array(copy.buffer) : new Int32Array(copy.buffer);
      tensors.set(name, tensor(values, e.shape, e.dtype === 'F32' ? 'float32' : 'int32'));
    }
  } catch (e) {
    // Only the device can fail here (out of memory, lost): what was made is released.
    for (const t of tensors.values()) t.dispose();
    throw e;
  }
  return { tensors, metadata };
}

/** Parses safetensors bytes into new tensors; any inconsistency is a ValueError and creates nothing. */
export function loadSafetensors(bytes: Uint8Array): Safetensors {
  const { tensors, metadata } = readSafetensors('loadSafetensors', bytes);
  // Object.fromEntries defines own properties, so no name can reach a prototype.
  return { tensors: Object.fromEntries(tensors), metadata: Object.fromEntries(metadata) };
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
  if (!Array.isArray(variables) || variables.some((v) => !(v instanceof Variable)))
    throw new ValueError(argMessage(fn, 'variables', 'a list of variables', describe(variables)));
  const byName = new Map<string, Variable>();
  for (const v of variables) {
    if (byName.has(v.name)) throw new ValueError(argMessage(fn, 'variables', 'unique names', `'${v.name}' twice`));
    byName.set(v.name, v);
  }
  const { tensors } = readSafetensors(fn, bytes);
  try {
    const missing = variables.filter((v) => !tensors.has(v.name)).map((v) => v.name);
    if (missing.length)
      throw new ValueError(
        argMessage(
          fn,
          'bytes',
          `weights for ${variables.map((v) => `'${v.name}'`).join(', ')}`,
          `a file without ${missing.map((m) => `'${m}'`).join(', ')}`,
        ),
      );
    const extra = [...tensors.keys()].filter((n) => !byName.has(n));
    if (extra.length)
      throw new ValueError(
        argMessage(fn, 'bytes', `only the variables' names`, `unexpected ${extra.map((m) => `'${m}'`).join(', ')}`),
      );
    for (const v of variables) {
      const t = tensors.get(v.name)!;
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
    for (const v of variables) v.assign(tensors.get(v.name)!);
  } finally {
    tidy(() => tensors.forEach((t) => t.dispose()));
  }
}
