/**
 * Reads several appliances at once. A step that only reads (the preflight, the capture of the
 * appliances' own logs) asks every appliance concurrently: on a real network each request is a
 * round trip and each appliance's first socket a TCP and TLS handshake, and asking eleven appliances
 * one after the other made the operator wait for all of them in turn. Nothing that changes an
 * appliance is ever sent this way: the ceremony's changes stay one at a time, each behind its own
 * journaled intent.
 *
 * Every read is awaited before this returns, so none is left running after its step has ended or
 * failed; results come back in the order given, and when reads fail the first failure in that order
 * is thrown, the one asking them one by one would have met first.
 */
export async function readEach<T>(ids: readonly string[], read: (id: string) => Promise<T>): Promise<T[]> {
  const settled = await Promise.allSettled(ids.map(async (id) => read(id)))
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected')
  if (failed) throw failed.reason
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value)
}
