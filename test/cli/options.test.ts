import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addConfigOptions, resolveConfig, type ConfigFlags } from '../../src/cli/options.js';

/** The config the protocol flags give, parsed by the real option definitions. */
function configOf(args: string[]) {
  const cmd = addConfigOptions(new Command())
    .exitOverride()
    .configureOutput({ writeErr: () => {} });
  cmd.parse(args, { from: 'user' });
  return resolveConfig(cmd.opts<ConfigFlags>());
}

describe('protocol flags', () => {
  it("--eval-samples takes a count or 'all' (the whole test set: null)", () => {
    expect(configOf([]).evalSamples).toBe(1000);
    expect(configOf(['--eval-samples', '250']).evalSamples).toBe(250);
    expect(configOf(['--eval-samples', 'all']).evalSamples).toBeNull();
    expect(configOf(['--preset', 'study']).evalSamples).toBeNull();
    expect(configOf(['--preset', 'study', '--eval-samples', '500']).evalSamples).toBe(500);
    expect(() => configOf(['--eval-samples', 'most'])).toThrow(/--eval-samples must be an integer, got 'most'/);
  });

  it('--seed and the other numeric flags reach the config', () => {
    const c = configOf(['--seed', '3', '--steps', '25', '--lr', '0.005', '--epochs', '2']);
    expect([c.seed, c.numSteps, c.lr, c.epochs.snn, c.epochs.cnn]).toEqual([3, 25, 0.005, 2, 2]);
  });
});
