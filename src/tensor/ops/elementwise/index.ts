/** Elementwise ops: unary maths, binary arithmetic and comparisons with broadcasting, where. */
export * from './binary.js';
export * from './unary.js';
export { where } from './where.js';
