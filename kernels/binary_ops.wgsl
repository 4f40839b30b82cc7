// binary_ops.wgsl — the op table shared by binary.wgsl and binary_contiguous.wgsl (the registry
// puts it in front of both): element types T (inputs) and U (output), substituted by the host
// (f32/f32, i32/i32, or f32|i32 -> i32 for comparisons), and
// OP: one of the op codes below (the host reads them from this file, so they are defined once);
//   codes from 10 up are comparisons (U = i32). An unknown code gives 0.
// NaN follows NumPy (numpy_floats.wgsl comes first): maximum and minimum return it, every
// comparison with it is false except notEqual, pow is NumPy's power.

alias T = f32;
alias U = f32;

override OP: u32 = 0u;

const ADD: u32 = 0u;
const SUB: u32 = 1u;
const MUL: u32 = 2u;
const DIV: u32 = 3u;
const POW: u32 = 4u;
const MAXIMUM: u32 = 5u;
const MINIMUM: u32 = 6u;
const EQUAL: u32 = 10u;
const NOT_EQUAL: u32 = 11u;
const LESS: u32 = 12u;
const LESS_EQUAL: u32 = 13u;
const GREATER: u32 = 14u;
const GREATER_EQUAL: u32 = 15u;

// Whether either operand is NaN (never for i32 operands).
fn either_nan(u: T, v: T) -> bool {
  return is_nan(f32(u)) || is_nan(f32(v));
}

// The NaN operand of a pair that has one (u's if both are).
fn nan_of(u: T, v: T) -> T {
  return select(v, u, is_nan(f32(u)));
}

fn apply(u: T, v: T) -> U {
  switch (OP) {
    case ADD: { return U(u + v); }
    case SUB: { return U(u - v); }
    case MUL: { return U(u * v); }
    case DIV: { return U(u / v); }
    case POW: { return U(numpy_pow(f32(u), f32(v))); }
    case MAXIMUM: { return U(select(max(u, v), nan_of(u, v), either_nan(u, v))); }
    case MINIMUM: { return U(select(min(u, v), nan_of(u, v), either_nan(u, v))); }
    case EQUAL: { return U(select(0, 1, u == v && !either_nan(u, v))); }
    case NOT_EQUAL: { return U(select(0, 1, u != v || either_nan(u, v))); }
    case LESS: { return U(select(0, 1, u < v && !either_nan(u, v))); }
    case LESS_EQUAL: { return U(select(0, 1, u <= v && !either_nan(u, v))); }
    case GREATER: { return U(select(0, 1, u > v && !either_nan(u, v))); }
    case GREATER_EQUAL: { return U(select(0, 1, u >= v && !either_nan(u, v))); }
    default: { return U(0); }
  }
}
