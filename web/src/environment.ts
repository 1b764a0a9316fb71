import type { experiment } from 'spikets';
import { version } from '../../package.json';
import type { BackendInfo } from './protocol.js';

/** Logical cores the browser reports (navigator.hardwareConcurrency), at least 1. */
export function browserCores(): number {
  return Math.max(1, navigator.hardwareConcurrency || 1);
}

/** results.json's `environment` for a run in this browser (works in the page and in workers). */
export function browserEnvironment(info: BackendInfo): experiment.Environment {
  return {
    backend: info.name,
    threads: info.threads,
    cpu: 'unknown (browsers do not expose the CPU model)',
    cores: browserCores(),
    userAgent: navigator.userAgent,
    platform: `browser (${navigator.platform || 'unknown platform'})`,
    spiketsVersion: version,
    ...(info.simd !== null ? { simd: info.simd } : {}),
  };
}
