export { Optimizer, type OptimizerState } from './optimizer.js';
export { Adam, type AdamOptions } from './adam.js';
export { SGD, type SgdOptions } from './sgd.js';
