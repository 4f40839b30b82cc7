/**
 * Layer classes by name, so that a model's topology (model.json) can say which class each layer
 * is and `layerFromConfig` can rebuild it from its config. Classes are found by constructor, not by
 * `constructor.name`, so a minified bundle writes the same names. Every layer class of voxgrad is
 * listed here; `registerLayer` adds one of the user's.
 */
import { argMessage, ValueError, VoxgradError } from '../../errors.js';
import { nearest } from '../../options.js';
import { describe } from '../../tensor/ops/check.js';
import type { Layer, LayerConfig } from '../layer.js';
import { Conv3D } from './conv3d.js';
import { Dense } from './dense.js';
import { GroupNormalization } from './group_normalization.js';
import { Activation, AvgPool3D, Concatenate, Dropout, InputLayer, MaxPool3D, UpSampling3D } from './simple.js';

/** A layer class whose constructor takes its config (what `getConfig()` returns). */
export type LayerClass = new (config: never) => Layer;

const byName = new Map<string, LayerClass>();
const nameOf = new Map<LayerClass, string>();

/** Makes a layer class known by `className` to model.json and `layerFromConfig`. */
export function registerLayer(className: string, cls: LayerClass): void {
  const fn = 'registerLayer';
  if (typeof className !== 'string' || !className)
    throw new ValueError(argMessage(fn, 'className', 'a non-empty string', describe(className)));
  if (typeof cls !== 'function') throw new ValueError(argMessage(fn, 'cls', 'a layer class', describe(cls)));
  const known = byName.get(className);
  if (known && known !== cls)
    throw new ValueError(argMessage(fn, 'className', 'a name no other class is registered under', `'${className}'`));
  byName.set(className, cls);
  nameOf.set(cls, className);
}

for (const [name, cls] of [
  ['InputLayer', InputLayer],
  ['Conv3D', Conv3D],
  ['Dense', Dense],
  ['GroupNormalization', GroupNormalization],
  ['Activation', Activation],
  ['MaxPool3D', MaxPool3D],
  ['AvgPool3D', AvgPool3D],
  ['UpSampling3D', UpSampling3D],
  ['Concatenate', Concatenate],
  ['Dropout', Dropout],
] as const)
  registerLayer(name, cls);

/** The registered names, sorted. */
export function layerClassNames(): string[] {
  return [...byName.keys()].sort();
}

/** The registered name of a layer's class; a class not registered is an error naming the layer. */
export function layerClassName(fn: string, layer: Layer): string {
  const name = nameOf.get(layer.constructor as LayerClass);
  if (name === undefined)
    throw new ValueError(
      argMessage(
        fn,
        'layers',
        'layers of registered classes (registerLayer(className, cls) for your own)',
        `layer '${layer.name}' of the unregistered class ${layer.constructor.name}`,
      ),
    );
  return name;
}

/**
 * Builds a layer of a registered class from its config (creating no weights: they are made when
 * the layer is first applied). Errors name `fn`, the layer and what is wrong with its config.
 */
export function buildLayer(fn: string, className: unknown, config: unknown): Layer {
  if (config === null || typeof config !== 'object' || Array.isArray(config))
    throw new ValueError(argMessage(fn, 'config', "a layer's options (an object, getConfig())", describe(config)));
  const name = (config as { name?: unknown }).name;
  if (typeof name !== 'string' || !name)
    throw new ValueError(argMessage(fn, 'config.name', "the layer's name (a non-empty string)", describe(name)));
  const cls = typeof className === 'string' ? byName.get(className) : undefined;
  if (!cls) {
    const guess = typeof className === 'string' ? nearest(className, layerClassNames()) : null;
    throw new ValueError(
      argMessage(
        `${fn}: layer '${name}'`,
        'className',
        `a registered layer class (${layerClassNames().join(', ')})`,
        `${describe(className)}${guess ? ` (did you mean '${guess}'?)` : ''}`,
      ),
    );
  }
  try {
    // Each class takes its own options type; the constructor checks them.
    return new (cls as new (config: unknown) => Layer)(config);
  } catch (e) {
    // The constructor's message names the option; this names the layer it came from.
    if (e instanceof VoxgradError) throw new ValueError(`${fn}: layer '${name}' (${className}): ${e.message}`);
    throw e;
  }
}

/** A layer from its class name and config (Keras' `from_config`): `layerFromConfig('Conv3D', conv.getConfig())`. */
export function layerFromConfig(className: string, config: LayerConfig): Layer {
  return buildLayer('layerFromConfig', className, config);
}
