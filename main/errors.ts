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
