import { cpus, availableParallelism, platform, arch } from 'node:os';
import { readFileSync } from 'node:fs';
import type { Environment } from '../experiment/results.js';

export function spiketsVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** What the run ran on, for results.json. */
export function nodeEnvironment(backend: string, threads: number): Environment {
  return {
    backend,
    threads,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    userAgent: `Node.js ${process.version} (${platform()} ${arch()})`,
    platform: `${platform()}-${arch()}`,
    spiketsVersion: spiketsVersion(),
  };
}

/** Peak resident set size of this process so far, in bytes. */
export function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}
