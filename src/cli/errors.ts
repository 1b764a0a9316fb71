/** A problem with what the user asked for (flags, config, data path, output folder): exit code 2, one line. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Exit codes of the CLI. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** The one-line message of any error the CLI prints. */
export function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]!;
}
