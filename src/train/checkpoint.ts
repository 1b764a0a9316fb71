import type { Module, Parameter } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import { CheckpointError } from '../tensor/checkpoint-error.js';
import { decodeSafetensors, encodeSafetensors } from '../tensor/safetensors.js';
import { loadInto, underPrefix, withPrefix, type StateDict } from '../tensor/state.js';
import { Tensor } from '../tensor/tensor.js';

const OPTIM_PREFIX = 'optim.';

/** The module's parameters by PyTorch-style name (`0.weight`), sharing data with the module. */
export function moduleState(module: Module): StateDict {
  return Object.fromEntries(module.namedParameters());
}

/** An optimizer's buffers as `<param name>.<buffer>` (e.g. `0.weight.exp_avg`, PyTorch's names), sharing data. */
function optimizerState(module: Module, optimizer: Optimizer): StateDict {
  const out: StateDict = {};
  for (const [name, p] of module.namedParameters()) {
    const buffers = optimizer.state.buffers.get(p);
    if (!buffers) continue;
    for (const [b, data] of Object.entries(buffers)) out[`${name}.${b}`] = new Tensor(data, p.shape);
  }
  return out;
}

/**
 * A checkpoint in the safetensors format: the module's parameters under their names (loadable by PyTorch's
 * `load_state_dict` after `safetensors.torch.load_file`), the optimizer's buffers under `optim.` and its step count
 * and any caller metadata in `__metadata__`.
 */
export function saveState(module: Module, optimizer?: Optimizer, metadata: Record<string, string> = {}): Uint8Array {
  const tensors = {
    ...moduleState(module),
    ...(optimizer ? withPrefix(optimizerState(module, optimizer), OPTIM_PREFIX) : {}),
  };
  const meta = { format: 'spikets', ...metadata, ...(optimizer ? { 'optim.step': String(optimizer.state.step) } : {}) };
  return encodeSafetensors(tensors, meta);
}

/**
 * Restores what `saveState` wrote into `module` (and `optimizer`), validating names, shapes and dtypes first:
 * on any mismatch a CheckpointError names the tensor and nothing is changed. Returns the file's metadata.
 */
export function loadState(
  bytes: Uint8Array,
  module: Module,
  optimizer?: Optimizer,
  source = '<checkpoint>',
): Record<string, string> {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  const params = Object.fromEntries(Object.entries(tensors).filter(([name]) => !name.startsWith(OPTIM_PREFIX)));
  const target = moduleState(module);
  if (optimizer) {
    const saved = underPrefix(tensors, OPTIM_PREFIX);
    const step = Number(metadata['optim.step'] ?? NaN);
    if (!Number.isInteger(step) || step < 0) {
      throw new CheckpointError(
        source,
        `expected a non-negative integer optimizer step, got ${metadata['optim.step']}`,
        { field: 'optim.step' },
      );
    }
    // allocate the buffers the checkpoint has, then validate everything before copying anything
    const buffers = new Map<string, { p: Parameter; names: string[] }>();
    for (const [name, p] of module.namedParameters()) {
      const names = Object.keys(saved)
        .filter((k) => k.startsWith(`${name}.`) && !k.slice(name.length + 1).includes('.'))
        .map((k) => k.slice(name.length + 1));
      if (names.length) buffers.set(name, { p, names });
    }
    const optTarget: StateDict = {};
    const created = new Map<Parameter, Record<string, Float32Array>>();
    for (const [name, { p, names }] of buffers) {
      const record = Object.fromEntries(
        names.map((b) => [b, optimizer.state.buffers.get(p)?.[b] ?? new Float32Array(p.size)]),
      );
      created.set(p, record);
      for (const b of names) optTarget[`${name}.${b}`] = new Tensor(record[b]!, p.shape);
    }
    loadInto({ ...target, ...withPrefix(optTarget, OPTIM_PREFIX) }, tensors, { strict: true, source });
    for (const [p, record] of created) optimizer.state.buffers.set(p, record);
    optimizer.state.step = step;
  } else {
    loadInto(target, params, { strict: true, source });
  }
  return metadata;
}
