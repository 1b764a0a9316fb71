export * from './config.js';
export * from './results.js';
export * from './analysis.js';
export { runComparison, type ComparisonOptions, type ComparisonOutcome, type RunState } from './experiment.js';
export { trainModel, evaluateModel, freshProgress, type Progress, type RunEvent, type TrainOutcome } from './runner.js';
export { createSnnModel, createCnnModel, buildSnnNet, buildCnnNet, type ComparisonModel } from './models.js';
export { spikeActivity, recordSample, macsPerSample, fanOut } from './metrics.js';
