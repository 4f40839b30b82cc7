/**
 * The weights of the direct conv3d kernels (forward and input gradient) come through a uniform
 * binding rather than a storage one: every invocation of a workgroup reads the same weight at the
 * same time, which is what the uniform path is for (a GPU's constant cache; on lavapipe a load
 * without the per-lane branches and bounds checks of a storage load, twice the throughput of the
 * 16-64-channel layers). A uniform binding holds at most the device's maxUniformBufferBindingSize
 * (64 KiB at most here, WebGPU's guaranteed size), so a larger kernel is split: kernels/conv3d.wgsl
 * (the forward pass and the unit-stride input gradient) over the channel blocks it computes, each
 * dispatch with all the channels it sums where a block's weights fit, and otherwise also over those
 * channels; kernels/conv3d_grad_input.wgsl (strided input gradients) over the channels it sums. A
 * dispatch of a chunk of summed channels adds to the partial sums of the one before.
 */
import { engine } from '../../engine.js';
import type { Tensor } from '../../tensor.js';
import { pad, reshape, slice } from '../movement.js';
import { stridedCopy } from '../strided_copy.js';

/**
 * The vec4s a direct kernel may read through its uniform weight binding: the device's
 * maxUniformBufferBindingSize, at most 64 KiB (WebGPU's guaranteed size).
 */
export function uniformWeightVec4s(): number {
  return Math.floor(Math.min(engine.backend.limits.maxUniformBufferBindingSize ?? 65536, 65536) / 16);
}

/**
 * Chunks of the summed channels (`summed` of them, each with taps · C4 vec4s of weights, C4 the
 * padded vec4s of the other channel axis) that fit the uniform binding: [first channel, channels]
 * per dispatch, or null when one channel's weights alone exceed it (then the GEMM variant runs).
 */
export function weightChunks(taps: number, summed: number, C4: number): [number, number][] | null {
  const fit = Math.floor(uniformWeightVec4s() / (taps * C4));
  if (fit < 1) return null;
  // As few chunks as fit, of one size but the last.
  const size = Math.ceil(summed / Math.ceil(summed / fit));
  const chunks: [number, number][] = [];
  for (let c0 = 0; c0 < summed; c0 += size) chunks.push([c0, Math.min(size, summed - c0)]);
  return chunks;
}

/** One dispatch of a blocked direct kernel: channel blocks [cb0, cb0 + cbc), summed channels [c0, c0 + n). */
export interface BlockChunk {
  cb0: number;
  cbc: number;
  c0: number;
  n: number;
}

/**
 * The dispatches of kernels/conv3d.wgsl, whose `blocks` channel blocks of B4 vec4s each sum
 * `summed` channels through taps · B4 weight vec4s apiece: as few dispatches of whole blocks with
 * every summed channel as fit the uniform binding (no partial sums to re-read), or, where one
 * block's weights alone are too large, each block over chunks of its summed channels. Null when one
 * summed channel of one block exceeds the binding (then the GEMM variant runs).
 */
export function blockChunks(taps: number, summed: number, blocks: number, B4: number): BlockChunk[] | null {
  const perBlock = taps * summed * B4;
  const fit = Math.floor(uniformWeightVec4s() / perBlock);
  if (fit >= 1) {
    const size = Math.ceil(blocks / Math.ceil(blocks / fit));
    const out: BlockChunk[] = [];
    for (let cb0 = 0; cb0 < blocks; cb0 += size) out.push({ cb0, cbc: Math.min(size, blocks - cb0), c0: 0, n: summed });
    return out;
  }
  const chunks = weightChunks(taps, summed, B4);
  if (!chunks) return null;
  const out: BlockChunk[] = [];
  for (let cb0 = 0; cb0 < blocks; cb0++) for (const [c0, n] of chunks) out.push({ cb0, cbc: 1, c0, n });
  return out;
}

/** The vec4s of a uniform weight binding holding `floats`: a power of two, so few pipeline variants. */
function bindingVec4s(floats: number): number {
  return Math.min(uniformWeightVec4s(), 2 ** Math.ceil(Math.log2(Math.max(16, floats / 4))));
}

/**
 * One dispatch's uniform weights for kernels/conv3d.wgsl in a single copy, straight from the
 * layer's kernel: summed channels [c0, c0 + n) and computed channels [o0, o0 + on) as (taps, n,
 * on), computed channels past the kernel's read as zeros (the padding of the last block). `w` is
 * (KX, KY, KZ, summed, computed), or with `swapped` (KX, KY, KZ, computed, summed): the forward
 * kernel as the input gradient reads it, so no transposed copy is made. The binding's tail past
 * the chunk is never read and left unwritten.
 */
export function uniformWeightChunk(
  w: Tensor,
  swapped: boolean,
  c0: number,
  n: number,
  o0: number,
  on: number,
): { weights: Tensor; WU4: number } {
  const [KX, KY, KZ, A, B] = w.shape as [number, number, number, number, number];
  const computed = swapped ? A : B;
  const WU4 = bindingVec4s(KX * KY * KZ * n * on);
  const weights = engine.empty([WU4 * 4], 'float32');
  stridedCopy(w, weights, {
    shape: [KX * KY * KZ, n, on],
    srcOffset: swapped ? o0 * B + c0 : c0 * B + o0,
    srcStrides: swapped ? [A * B, 1, B] : [A * B, B, 1],
    srcShape: [KX * KY * KZ, n, Math.min(on, computed - o0)],
    dstStrides: [n * on, on, 1],
  });
  return { weights, WU4 };
}

/**
 * A chunk of a (KX, KY, KZ, summed, C) kernel as its uniform binding (the strided input
 * gradient's kernels/conv3d_grad_input.wgsl): summed channels [c0, c0 + n), flattened, then zeros
 * up to WU4 vec4s.
 */
export function uniformWeights(w: Tensor, c0: number, n: number): { weights: Tensor; WU4: number } {
  const [KX, KY, KZ, CI, C] = w.shape as [number, number, number, number, number];
  const chunk = n === CI ? w : slice(w, [0, 0, 0, c0, 0], [KX, KY, KZ, n, C]);
  const flat = reshape(chunk, [chunk.size]);
  if (chunk !== w) chunk.dispose();
  const WU4 = bindingVec4s(flat.size);
  const weights = pad(flat, [[0, WU4 * 4 - flat.size]]);
  flat.dispose();
  return { weights, WU4 };
}
