/** Group normalisation layer (instance norm with groups = channels), learned scale and shift per channel. */
import { argMessage, ShapeError, ValueError } from '../../errors.js';
import { variable } from '../../grad/variable.js';
import { tidy } from '../../tensor/api.js';
import { ones, zeros } from '../../tensor/ops/creation.js';
import { groupNorm } from '../../tensor/ops/group_norm/index.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Layer } from '../layer.js';

export interface GroupNormalizationOptions {
  /** Channel groups (must divide the channels); groups = channels is instance normalisation. */
  groups: number;
  /** Added to the variance (default 1e-5). */
  epsilon?: number;
  /** 'linear' (default) or 'relu', fused into the normalisation (one tensor kept, not two). */
  activation?: 'linear' | 'relu';
  name?: string;
}

export class GroupNormalization extends Layer {
  readonly groups: number;
  readonly epsilon: number;
  readonly activation: 'linear' | 'relu';

  constructor(o: GroupNormalizationOptions) {
    super('group_normalization', o.name);
    if (!Number.isInteger(o.groups) || o.groups < 1)
      throw new ValueError(argMessage('GroupNormalization', 'groups', 'a positive integer', o.groups));
    this.groups = o.groups;
    this.epsilon = o.epsilon ?? 1e-5;
    this.activation = o.activation ?? 'linear';
    if (this.activation !== 'linear' && this.activation !== 'relu')
      throw new ValueError(argMessage('GroupNormalization', 'activation', "'linear' or 'relu'", o.activation));
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
