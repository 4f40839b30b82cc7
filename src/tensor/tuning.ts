/**
 * Which variant of a tunable kernel family runs for a shape class, and where that choice comes
 * from: a variant forced for the family (tests run every variant through the oracle), else the
 * tuner's choice timed on this adapter (in memory, persisted through the platform keyed by the
 * adapter's name and a fingerprint of the tunable kernels' sources, so choices timed on other
 * kernels are never reused), else the family's default. A class asked for without a choice is remembered
 * as pending, so `tune()` (src/tensor/tune.ts) knows what the program actually runs.
 */
import { platform } from '../platform.js';
import { definedKernels } from './kernel.js';

/** A kernel family whose variants compute the same thing at different speeds. */
export interface Tunable {
  /** e.g. 'conv3d.forward'. */
  readonly family: string;
  /** The variants' names; the first is the default. */
  readonly variants: readonly string[];
  /** The kernels/ files its variants run (their sources, preludes included, key the stored choices). */
  readonly kernelFiles: readonly string[];
  /**
   * A trial of one shape class: `run(variant)` records the class's work with that variant (no
   * wait), `dispose()` frees the trial's inputs. Null when the class cannot be rebuilt.
   */
  trial(shapeClass: string): { run(variant: string): void; dispose(): void } | null;
  /**
   * Whether a variant runs as itself on this device (one that needs a feature the device lacks
   * runs another variant's kernels, so the tuner does not time it). Absent: all do.
   */
  usable?(variant: string): boolean;
}

const families = new Map<string, Tunable>();
/** `${family}|${shapeClass}` → variant name, for the adapter in `loadedFor`. */
const chosen = new Map<string, string>();
const pending = new Map<string, { family: string; shapeClass: string }>();
const forced = new Map<string, string>();
let loadedFor: string | null = null;

/**
 * Stored format: { version, adapters: { [adapter name + kernels fingerprint]: { [family|class]:
 * variant } } }.
 */
const FORMAT_VERSION = 1;

/** FNV-1a of a string, as 8 hex digits. */
function fnv1a(text: string, hash = 0x811c9dc5): number {
  let h = hash;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** A fingerprint of every tunable family: its name, variants and the sources of its kernels. */
function kernelsFingerprint(): string {
  const kernels = definedKernels();
  let h = 0x811c9dc5;
  for (const t of [...families.values()].sort((a, b) => a.family.localeCompare(b.family))) {
    h = fnv1a(`${t.family}:${t.variants.join(',')}`, h);
    for (const file of [...t.kernelFiles].sort())
      for (const k of kernels.filter((k) => k.file === file))
        for (const part of [...k.preludes.map((p) => p.source), k.source]) h = fnv1a(part, h);
  }
  return h.toString(16).padStart(8, '0');
}

/** The stored entry of an adapter's choices: its name and the fingerprint of the kernels timed. */
export function storeKey(adapter: string): string {
  return `${adapter} [kernels ${kernelsFingerprint()}]`;
}

/** The store with this adapter's choices set (or removed), entries of its older kernels dropped. */
function withEntry(adapter: string, entry: Record<string, string> | null): ReturnType<typeof readStore> {
  const stored = readStore();
  for (const name of Object.keys(stored.adapters))
    if (name.startsWith(`${adapter} [kernels `)) delete stored.adapters[name];
  if (entry) stored.adapters[storeKey(adapter)] = entry;
  return stored;
}

export function registerTunable(t: Tunable): void {
  families.set(t.family, t);
}

export function tunable(family: string): Tunable | undefined {
  return families.get(family);
}

export function tunableFamilies(): Tunable[] {
  return [...families.values()];
}

/**
 * The variant to run for `shapeClass` of `family` on the adapter `adapter` (untuned: `fallback`,
 * else the family's first). Loads the stored choices for the adapter the first time it is asked
 * about.
 */
export function chooseVariant(adapter: string, family: string, shapeClass: string, fallback?: string): string {
  const force = forced.get(family);
  if (force !== undefined) return force;
  loadChoices(adapter);
  const key = `${family}|${shapeClass}`;
  const choice = chosen.get(key);
  const variants = families.get(family)?.variants ?? [];
  if (choice !== undefined && variants.includes(choice)) return choice;
  pending.set(key, { family, shapeClass });
  return fallback ?? variants[0] ?? 'default';
}

/** Forces one variant of a family (null: back to the tuned or default choice). For tests and benchmarks. */
export function forceVariant(family: string, variant: string | null): void {
  if (variant === null) {
    forced.delete(family);
    return;
  }
  const t = families.get(family);
  if (!t) throw new Error(`forceVariant: unknown kernel family '${family}'`);
  if (!t.variants.includes(variant))
    throw new Error(`forceVariant: family '${family}' has no variant '${variant}' (it has ${t.variants.join(', ')})`);
  forced.set(family, variant);
}

/** Runs `fn` with `variant` forced for `family`, then restores what was forced before. */
export function withVariant<T>(family: string, variant: string, fn: () => T): T {
  const before = forced.get(family);
  forceVariant(family, variant);
  try {
    return fn();
  } finally {
    forceVariant(family, before ?? null);
  }
}

/** The classes run without a timed choice since the last `tune()`. */
export function pendingClasses(): { family: string; shapeClass: string }[] {
  return [...pending.values()];
}

/** Every choice made for the adapter, as `family|class` → variant. */
export function currentChoices(adapter: string): Record<string, string> {
  loadChoices(adapter);
  return Object.fromEntries(chosen);
}

/** Records a timed choice and persists the adapter's choices. */
export function recordChoice(adapter: string, family: string, shapeClass: string, variant: string): void {
  loadChoices(adapter);
  const key = `${family}|${shapeClass}`;
  chosen.set(key, variant);
  pending.delete(key);
  platform().saveTuning(withEntry(adapter, Object.fromEntries(chosen)));
}

/** Forgets every choice (in memory and stored) for the adapter, and which classes are pending: a fresh start. */
export function clearChoices(adapter: string): void {
  loadChoices(adapter);
  chosen.clear();
  pending.clear();
  platform().saveTuning(withEntry(adapter, null));
}

/** Reads the stored choices again at the next question (another process may have tuned). */
export function reloadChoices(): void {
  loadedFor = null;
}

function loadChoices(adapter: string): void {
  if (loadedFor === adapter) return;
  loadedFor = adapter;
  chosen.clear();
  pending.clear();
  const mine = readStore().adapters[storeKey(adapter)];
  for (const [key, variant] of Object.entries(mine ?? {})) if (typeof variant === 'string') chosen.set(key, variant);
}

/** The stored value, or an empty store when it is missing, from another format, or malformed. */
function readStore(): { version: number; adapters: Record<string, Record<string, unknown>> } {
  const value = platform().loadTuning() as { version?: unknown; adapters?: unknown } | null;
  const adapters = value?.adapters;
  if (value?.version !== FORMAT_VERSION || typeof adapters !== 'object' || adapters === null || Array.isArray(adapters))
    return { version: FORMAT_VERSION, adapters: Object.create(null) };
  const clean: Record<string, Record<string, unknown>> = Object.create(null);
  for (const [name, entries] of Object.entries(adapters))
    if (typeof entries === 'object' && entries !== null && !Array.isArray(entries)) clean[name] = { ...entries };
  return { version: FORMAT_VERSION, adapters: clean };
}
