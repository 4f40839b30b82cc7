/** Argument checks shared by the data pipeline and sliding-window inference (named errors, thrown before any work). */
import { argMessage, show, ValueError } from '../errors.js';
import { describe } from '../tensor/ops/check.js';

/** An argument as an error message shows it: arrays spelled out, other values described. */
export function showArg(v: unknown): string {
  return Array.isArray(v) ? show(v) : describe(v);
}

export function positiveInt(fn: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw new ValueError(argMessage(fn, arg, 'a positive integer', describe(v)));
  return v;
}

export function nonNegative(fn: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
    throw new ValueError(argMessage(fn, arg, 'a finite number >= 0', describe(v)));
  return v;
}

export function finite(fn: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new ValueError(argMessage(fn, arg, 'a finite number', describe(v)));
  return v;
}

/** Three positive integers [x, y, z] (a spatial size). */
export function size3(fn: string, arg: string, v: unknown): [number, number, number] {
  if (!Array.isArray(v) || v.length !== 3 || v.some((d) => !Number.isInteger(d) || d < 1))
    throw new ValueError(argMessage(fn, arg, '[x, y, z] of positive integers', showArg(v)));
  return [v[0], v[1], v[2]];
}
