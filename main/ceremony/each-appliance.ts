/**
 * Reads several appliances at once. A step that only reads (the preflight, the capture of the
 * appliances' own logs) asks every appliance concurrently: on a real network each request is a
 * round trip and each appliance's first socket a TCP and TLS handshake, and asking eleven appliances
 * one after the other made the operator wait for all of them in turn. Nothing that changes an
 * appliance is ever sent this way: the ceremony's changes stay one at a time, each behind its own
 * journaled intent.
 *
 * Every read is awaited before this returns, so none is left running after its step has ended or
 * failed. Then the results are judged in the order given (`judge` throws what is wrong with one),
 * each only after the reads before it: what is named when several things are wrong is what asking
 * one by one, judging each answer as it came, would have named first — a failed read or a refused
 * answer alike.
 */
export async function readEach<T>(ids: readonly string[], read: (id: string) => Promise<T>, judge: (value: T, id: string) => void = () => undefined): Promise<T[]> {
  const settled = await Promise.allSettled(ids.map(async (id) => read(id)))
  return settled.map((s, i) => {
    if (s.status === 'rejected') throw s.reason
    judge(s.value, ids[i]!)
    return s.value
  })
}
