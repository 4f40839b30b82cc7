/** Group normalisation layer (instance norm with groups = channels), learned scale and shift per channel. */
import { argMessage, ShapeError, ValueError } from '../../errors.js';
import { variable } from '../../grad/variable.js';
import { tidy } from '../../tensor/api.js';
import { describe } from '../../tensor/ops/check.js';
import { ones, zeros } from '../../tensor/ops/creation.js';
import { groupNorm } from '../../tensor/ops/group_norm/index.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { LayerConfig } from '../layer.js';
import { Layer, layerOptions } from '../layer.js';

export interface GroupNormalizationOptions {
  /** Channel groups (must divide the channels); groups = channels is instance normalisation. */
  groups: number;
  /** Added to the variance (default 1e-5). */
  epsilon?: number;
  /** 'linear' (default) or 'relu', fused into the normalisation (one tensor kept, not two). */
  activation?: 'linear' | 'relu';
  name?: string;
}

/** GroupNormalization's options with every default filled in, as `getConfig()` gives them. */
export interface GroupNormalizationConfig extends LayerConfig {
  groups: number;
  epsilon: number;
  activation: 'linear' | 'relu';
}

const KEYS = ['groups', 'epsilon', 'activation', 'name'];

export class GroupNormalization extends Layer {
  readonly groups: number;
  readonly epsilon: number;
  readonly activation: 'linear' | 'relu';

  constructor(options: GroupNormalizationOptions) {
    const fn = 'GroupNormalization';
    const o = layerOptions(fn, options, KEYS);
    super('group_normalization', o.name);
    if (!Number.isInteger(o.groups) || (o.groups as number) < 1)
      throw new ValueError(argMessage(fn, 'groups', 'a positive integer', describe(o.groups)));
    this.groups = o.groups as number;
    this.epsilon = o.epsilon ?? 1e-5;
    if (typeof this.epsilon !== 'number' || !(this.epsilon > 0 && Number.isFinite(this.epsilon)))
      throw new ValueError(argMessage(fn, 'epsilon', 'a finite number > 0', describe(o.epsilon)));
    this.activation = o.activation ?? 'linear';
    if (this.activation !== 'linear' && this.activation !== 'relu')
      throw new ValueError(argMessage(fn, 'activation', "'linear' or 'relu'", describe(o.activation)));
  }

  override getConfig(): GroupNormalizationConfig {
    return { name: this.name, groups: this.groups, epsilon: this.epsilon, activation: this.activation };
  }

  outputShape([s]: readonly (readonly number[])[]): number[] {
    const C = s[s.length - 1];
    if (C % this.groups !== 0)
      throw new ShapeError(
        argMessage(this.name, 'input', `channels divisible by ${this.groups} groups`, `[${s.join(', ')}]`),
      );
    return [...s];
  }

  protected override build([s]: readonly (readonly number[])[]): void {
    const C = s[s.length - 1];
    this.weights.push(tidy(() => variable(ones([C]), { name: `${this.name}/gamma` })));
    this.weights.push(tidy(() => variable(zeros([C]), { name: `${this.name}/beta` })));
  }

  call([x]: readonly Tensor[]): Tensor {
    const [gamma, beta] = this.weights;
    return groupNorm(x, gamma, beta, { groups: this.groups, epsilon: this.epsilon, activation: this.activation });
  }
}
