/**
 * Engine tunables in one place. Each is a plain mutable field so tests and benchmarks can
 * adjust them; none changes results, only speed and memory.
 */
export const flags = {
  /** Dispatches recorded before the command encoder is submitted. Reads and syncs submit early. */
  submitBatchSize: 64,
  /** Bytes of the per-batch uniform arena; a full arena submits the batch. */
  uniformArenaBytes: 256 * 1024,
  /** Total bytes the buffer pool may keep for reuse; beyond it freed buffers are destroyed. */
  poolCapBytes: 1024 * 1024 * 1024,
  /**
   * The device memory voxgrad may hold at once, in bytes (0 = no budget: the device decides). An
   * allocation past it first releases the pool, then fails with a DeviceError naming the op and
   * the bytes it asked for, leaving the engine usable.
   */
  memoryBudgetBytes: 0,
  /** Buffers kept per size bucket. */
  poolBucketCap: 64,
  /** Buffers above this size are never pooled (they are rare and would pin memory). */
  poolMaxBufferBytes: 256 * 1024 * 1024,
  /**
   * Caps the bytes one storage binding may cover in ops that split large tensors into windows
   * (0 = the device's maxStorageBufferBindingSize). Tests lower it to exercise the splitting on
   * small volumes.
   */
  maxBindingWindowBytes: 0,
  /**
   * Debug mode: after every top-level op, count the non-finite values of its float32 outputs on
   * the GPU; the next read (or `checkNumerics()`) throws a NumericsError naming the first op that
   * produced one. Costs two extra small kernels per op.
   */
  checkNumerics: false,
  /**
   * Fault injection for tests of device loss: destroy the device when this many dispatches have
   * been recorded since it was opened (0 = never). The CLI reads it from the environment variable
   * VOXGRAD_LOSE_DEVICE_AFTER_DISPATCHES.
   */
  loseDeviceAfterDispatches: 0,
  /** Print every compiled kernel's source and constants. */
  debugShaders: false,
  /**
   * Milliseconds per process that `fit` may spend timing kernel variants of shape classes it
   * runs without a stored choice for this adapter (0 = never; `tune()` still works). Choices
   * persist per adapter, so this is spent once per machine and model shape. In Node,
   * VOXGRAD_AUTOTUNE_MS sets it.
   */
  autoTuneMs: 10000,
  /** In Node, poll Dawn's pending events with a timer instead of a busy setImmediate loop. */
  throttledPoll: true,
};
