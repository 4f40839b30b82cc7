/**
 * The prelude with NumPy's results for NaN and infinities (kernels/numpy_floats.wgsl): kernels that
 * compare, clamp or take extremes of floats put it in front of their own source.
 */
import numpyFloatsSource from '../../../kernels/numpy_floats.wgsl';
import type { Prelude } from '../kernel.js';

export const NUMPY_FLOATS: Prelude = { file: 'numpy_floats.wgsl', source: numpyFloatsSource };
