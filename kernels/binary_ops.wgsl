// binary_ops.wgsl — the op table shared by binary.wgsl and binary_contiguous.wgsl (the registry
// puts it in front of both): element types T (inputs) and U (output), substituted by the host
// (f32/f32, i32/i32, or f32|i32 -> i32 for comparisons), and
// OP: 0 add, 1 sub, 2 mul, 3 div, 4 pow, 5 maximum, 6 minimum,
//     10 equal, 11 notEqual, 12 less, 13 lessEqual, 14 greater, 15 greaterEqual.

alias T = f32;
alias U = f32;

override OP: u32 = 0u;

fn apply(u: T, v: T) -> U {
  switch (OP) {
    case 0u: { return U(u + v); }
    case 1u: { return U(u - v); }
    case 2u: { return U(u * v); }
    case 3u: { return U(u / v); }
    case 4u: { return U(pow(f32(u), f32(v))); }
    case 5u: { return U(max(u, v)); }
    case 6u: { return U(min(u, v)); }
    case 10u: { return U(select(0, 1, u == v)); }
    case 11u: { return U(select(0, 1, u != v)); }
    case 12u: { return U(select(0, 1, u < v)); }
    case 13u: { return U(select(0, 1, u <= v)); }
    case 14u: { return U(select(0, 1, u > v)); }
    default: { return U(select(0, 1, u >= v)); }
  }
}
