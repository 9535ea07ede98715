/** An error the operator is meant to see: a stable code and a message that is safe to show (no secret, no path). */
export class CeremonyError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'CeremonyError'
  }
}

/** The `code` an error carries (ours, the DSM client's, Node's), or the fallback. */
export function errorCode(err: unknown, fallback: string): string {
  const code = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined
  return typeof code === 'string' ? code : fallback
}
