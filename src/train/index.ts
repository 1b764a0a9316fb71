export { bpttStep, tbptt, evaluateSnn, type BpttOptions, type TbpttOptions, type RecordLoss } from './bptt.js';
export { SnnRunner, leakyLifSpec } from './snn-runner.js';
export { FeedForwardPlan, type LifSpec, type PlanOutput } from './plan/feedforward.js';
export { CnnPlan } from './plan/cnn.js';
export { saveState, loadState, moduleState } from './checkpoint.js';
