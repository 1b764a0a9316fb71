/**
 * Messages between the page (main thread: controls and drawing only) and the training worker (worker.ts: data,
 * backend, training, inference). Plain structured-clone data; Float32Array buffers are transferred.
 */
import type { experiment } from 'spikets';

export type Results = experiment.Results;
export type RunEvent = experiment.RunEvent;
export type SnnSample = experiment.SnnSample;
export type ModelKind = experiment.ModelKind;

export interface BackendInfo {
  /** 'wasm' or 'reference'. */
  name: string;
  threads: number;
  /** SIMD level of the wasm kernels ('relaxed' | 'simd128'); null for the reference backend. */
  simd: string | null;
  /** Why this backend and thread count, in words (shown on the page). */
  reason: string;
}

export interface DataInfo {
  train: number;
  test: number;
  /** Milliseconds to fetch, decompress and parse the four files. */
  loadMs: number;
}

export type ToWorker =
  | { type: 'init'; dataBase: string; threads: number }
  /** A config input for experiment.parseConfig; threads 0 = the machine's cores. */
  | { type: 'start'; config: Record<string, unknown>; threads: number }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  /** Record the trained SNN (and classify with the CNN) on test digit `index`. */
  | { type: 'sample'; index: number; id: number }
  /** Classify a 28x28 image in [0, 1] (row-major) with both trained models. */
  | { type: 'classify'; pixels: Float32Array; id: number };

export interface CnnPrediction {
  prediction: number;
  probabilities: number[];
}

/** Both trained models on one image, with the weights of the run's latest checkpoint (null: not trained yet). */
export interface Inference {
  /** The SNN's raster, membrane traces and output counts (experiment.recordSample). */
  snn: SnnSample | null;
  cnn: CnnPrediction | null;
  /** Iteration of the SNN / CNN weights used (null: no trained model yet). */
  snnIter: number | null;
  cnnIter: number | null;
}

export type FromWorker =
  | { type: 'ready'; backend: BackendInfo; data: DataInfo }
  | { type: 'backend'; backend: BackendInfo }
  | { type: 'event'; event: RunEvent }
  /** The run has stopped: 'complete', 'interrupted' (paused or stopped) or 'failed'. `resumable` after a pause. */
  | { type: 'finished'; results: Results; status: 'complete' | 'interrupted' | 'failed'; message?: string; resumable: boolean }
  /** New trained weights are available for inference (after a checkpoint). */
  | { type: 'weights'; snnIter: number | null; cnnIter: number | null }
  | { type: 'sample'; id: number; index: number; label: number; pixels: Float32Array; inference: Inference }
  | { type: 'classified'; id: number; inference: Inference }
  | { type: 'error'; message: string };
