/**
 * The arithmetic gradient table: one rule per unary and binary op and `where`, each written with
 * voxgrad's own ops (so backward reuses the tested kernels). Broadcasting is undone by
 * `sumToShape`. (Comparisons return integers and are declared not differentiable in binary.ts.)
 *
 * unary.ts, binary.ts and where.ts import this file, so their ops are never run undefined. Its
 * top level uses nothing but op.ts and its own helpers (the ops it imports appear only inside the
 * rules), so it loads correctly whichever module of the import cycle loads first.
 */
import { defineOp, type GradRule, type Saved } from '../../op.js';
import type { Tensor } from '../../tensor.js';
import { cast } from '../cast.js';
import { zeros } from '../creation.js';
import { sumToShape } from '../reduce.js';
import { type BinaryName, div, greater, greaterEqual, less, lessEqual, mul } from './binary.js';
import { affine, cos, log, neg, sigmoid, sign, sin, square, type UnaryName, unary } from './unary.js';
import { where } from './where.js';

const asFloat = (t: Tensor): Tensor => cast(t, 'float32');

// --- unary: dy times the derivative, from the saved input x or output y -------------------------
type UnarySaved = Saved<UnaryName>;
const x0 = (s: UnarySaved): Tensor => s.inputs[0]!;
const y0 = (s: UnarySaved): Tensor => s.outputs[0]!;
const fromX = (d: (x: Tensor, s: UnarySaved) => Tensor): GradRule<UnaryName> => ({
  saveInputs: true,
  grad: (dy, s) => [() => mul(dy, d(x0(s), s))],
});
const fromY = (d: (y: Tensor, s: UnarySaved) => Tensor): GradRule<UnaryName> => ({
  saveOutputs: true,
  grad: (dy, s) => [() => mul(dy, d(y0(s), s))],
});
const zeroGradient: GradRule<UnaryName> = { grad: (dy) => [() => zeros(dy.shape)] };

const UNARY_RULES: Record<UnaryName, GradRule<UnaryName>> = {
  neg: { grad: (dy) => [() => neg(dy)] },
  abs: fromX((x) => sign(x)),
  exp: fromY((y) => y),
  log: { saveInputs: true, grad: (dy, s) => [() => div(dy, x0(s))] },
  log1p: { saveInputs: true, grad: (dy, s) => [() => div(dy, affine(x0(s), 1, 1))] },
  sqrt: { saveOutputs: true, grad: (dy, s) => [() => div(dy, affine(y0(s), 2))] },
  rsqrt: fromY((y) => affine(mul(square(y), y), -0.5)),
  square: fromX((x) => affine(x, 2)),
  relu: fromX((x) => unary('step', x)),
  sigmoid: fromY((y) => mul(y, affine(y, -1, 1))),
  tanh: fromY((y) => unary('oneMinusSquare', y)),
  softplus: fromX((x) => sigmoid(x)),
  reciprocal: fromY((y) => neg(square(y))),
  sin: fromX((x) => cos(x)),
  cos: fromX((x) => neg(sin(x))),
  affine: { grad: (dy, s) => [() => affine(dy, s.attrs.alpha)] },
  powScalar: fromX((x, s) => affine(unary('powScalar', x, s.attrs.alpha - 1), s.attrs.alpha)),
  clip: fromX((x, s) => mul(asFloat(greaterEqual(x, s.attrs.alpha)), asFloat(lessEqual(x, s.attrs.beta)))),
  sign: zeroGradient,
  step: zeroGradient,
  oneMinusSquare: fromX((x) => affine(x, -2)),
};
for (const [name, rule] of Object.entries(UNARY_RULES) as [UnaryName, GradRule<UnaryName>][]) defineOp(name, rule);

// --- binary: each operand's gradient summed back to its own (broadcast) shape -------------------
type BinarySaved = Saved<BinaryName>;
const a_ = (s: BinarySaved): Tensor => s.inputs[0]!;
const b_ = (s: BinarySaved): Tensor => s.inputs[1]!;
const toA = (s: BinarySaved, g: Tensor): Tensor => sumToShape(g, s.inputShapes[0]);
const toB = (s: BinarySaved, g: Tensor): Tensor => sumToShape(g, s.inputShapes[1]);

defineOp('add', { grad: (dy, s) => [() => toA(s, dy), () => toB(s, dy)] });
defineOp('sub', { grad: (dy, s) => [() => toA(s, dy), () => toB(s, neg(dy))] });
defineOp('mul', { saveInputs: true, grad: (dy, s) => [() => toA(s, mul(dy, b_(s))), () => toB(s, mul(dy, a_(s)))] });
defineOp('div', {
  saveInputs: true,
  grad: (dy, s) => [() => toA(s, div(dy, b_(s))), () => toB(s, neg(div(mul(dy, a_(s)), square(b_(s)))))],
});
defineOp('pow', {
  saveInputs: true,
  saveOutputs: true,
  grad: (dy, s) => [
    () => toA(s, mul(dy, mul(b_(s), div(s.outputs[0]!, a_(s))))),
    // d/db a^b = a^b log a, defined as 0 where a <= 0 (as TensorFlow does).
    () => toB(s, mul(dy, where(greater(a_(s), 0), mul(s.outputs[0]!, log(a_(s))), zeros([])))),
  ],
});
// Ties send the gradient to a (maximum: a >= b, minimum: a <= b), never to both.
defineOp('maximum', {
  saveInputs: true,
  grad: (dy, s) => [
    () => toA(s, mul(dy, asFloat(greaterEqual(a_(s), b_(s))))),
    () => toB(s, mul(dy, asFloat(less(a_(s), b_(s))))),
  ],
});
defineOp('minimum', {
  saveInputs: true,
  grad: (dy, s) => [
    () => toA(s, mul(dy, asFloat(lessEqual(a_(s), b_(s))))),
    () => toB(s, mul(dy, asFloat(greater(a_(s), b_(s))))),
  ],
});

// --- where: the gradient goes to the branch each element was taken from ------------------------
defineOp('where', {
  saveInputs: [0],
  grad: (dy, s) => [
    null,
    () => sumToShape(where(s.inputs[0]!, dy, zeros([])), s.inputShapes[1]),
    () => sumToShape(where(s.inputs[0]!, zeros([]), dy), s.inputShapes[2]),
  ],
});
