/**
 * The results of a run in progress, assembled on the page from the worker's RunEvents so the report's charts and
 * the analysis can be drawn while the models train. The records have the results.json shape; fields only known at a
 * model's end (confusion matrix, spikes, operations) stay empty until its `model-end` event brings the full record.
 */
import { experiment } from 'spikets';
import type { BackendInfo, ModelKind, Results, RunEvent } from './protocol.js';

type ModelRecord = experiment.ModelRecord;
type Config = experiment.ExperimentConfig;

export interface LiveProgress {
  iter: number;
  totalIters: number;
  lastLoss: number | null;
  lastTimeS: number | null;
  lastAccuracy: number | null;
  ended: boolean;
}

function emptyRecord(kind: ModelKind, itersPerEpoch: number): ModelRecord {
  return {
    kind,
    itersPerEpoch,
    iterations: [],
    evals: [],
    epochs: [],
    confusion: Array.from({ length: 10 }, () => new Array<number>(10).fill(0)),
    bestAccuracy: null,
    finalAccuracy: null,
    peakMemoryBytes: null,
    operationsPerInference: 0,
    status: 'interrupted',
  };
}

export class LiveRun {
  readonly createdAt = new Date().toISOString();
  private readonly records: Partial<Record<ModelKind, ModelRecord>> = {};
  private readonly progress: Partial<Record<ModelKind, LiveProgress>> = {};
  /** Kinds whose full record arrived (model-end): their confusion matrix and activity are real. */
  readonly ended = new Set<ModelKind>();

  constructor(
    readonly config: Config,
    private readonly backend: BackendInfo,
    private readonly subset: { train: number; test: number },
    private readonly environment: experiment.Environment,
  ) {}

  /** Applies one event; returns the kind it concerns. */
  apply(e: RunEvent): ModelKind {
    const kind = e.kind;
    switch (e.type) {
      case 'model-start': {
        const rec = this.records[kind] ?? emptyRecord(kind, e.itersPerEpoch);
        this.records[kind] = rec;
        this.ended.delete(kind);
        this.progress[kind] = { ...this.progressOf(kind), iter: e.startIter, totalIters: e.epochs * e.itersPerEpoch, ended: false };
        break;
      }
      case 'iteration': {
        const rec = this.recordOf(kind, e.itersPerEpoch);
        rec.iterations.push(e.record);
        const p = this.progressOf(kind);
        Object.assign(p, { iter: e.record.iter, totalIters: e.totalIters, lastLoss: e.record.loss, lastTimeS: e.record.timeS });
        break;
      }
      case 'eval': {
        const rec = this.recordOf(kind, 1);
        rec.evals.push(e.record);
        rec.finalAccuracy = e.record.testAccuracy;
        rec.bestAccuracy = Math.max(rec.bestAccuracy ?? 0, e.record.testAccuracy);
        this.progressOf(kind).lastAccuracy = e.record.testAccuracy;
        break;
      }
      case 'epoch':
        this.recordOf(kind, 1).epochs.push(e.record);
        break;
      case 'model-end':
        this.records[kind] = e.record;
        this.ended.add(kind);
        this.progressOf(kind).ended = true;
        break;
    }
    return kind;
  }

  progressOf(kind: ModelKind): LiveProgress {
    const p = this.progress[kind] ?? { iter: 0, totalIters: 0, lastLoss: null, lastTimeS: null, lastAccuracy: null, ended: false };
    this.progress[kind] = p;
    return p;
  }

  private recordOf(kind: ModelKind, itersPerEpoch: number): ModelRecord {
    const rec = this.records[kind] ?? emptyRecord(kind, itersPerEpoch);
    this.records[kind] = rec;
    return rec;
  }

  /** The run so far in the results.json shape (a snapshot: later events do not change it). */
  results(): Results {
    const models: Results['models'] = {};
    for (const kind of ['snn', 'cnn'] as const) {
      const rec = this.records[kind];
      if (rec !== undefined) {
        models[kind] = { ...rec, iterations: [...rec.iterations], evals: [...rec.evals], epochs: [...rec.epochs] };
      }
    }
    return {
      schemaVersion: experiment.RESULTS_SCHEMA_VERSION,
      createdAt: this.createdAt,
      config: { ...this.config, subset: this.subset, backend: this.backend.name, threads: this.backend.threads },
      environment: this.environment,
      models,
    };
  }
}
