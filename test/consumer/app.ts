// The browser consumer, bundled by plain esbuild: the default entry (navigator.gpu).
import { type TrainResult, train } from './train.js';

declare global {
  var consumerResult: TrainResult | { error: string } | undefined;
}

train().then(
  (result) => {
    globalThis.consumerResult = result;
  },
  (e: unknown) => {
    globalThis.consumerResult = { error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  },
);
