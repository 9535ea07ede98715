/**
 * Adopting what an earlier attempt of a step made (design §6): a key is ours only if its name,
 * type, size, key operations, group and creator are exactly what that attempt intended. Anything
 * else under our name is NAME_IN_USE, with what differed; it is never used.
 */
import { ConflictError, type AppSession, type Sobject } from '../dsm'
import { CeremonyError } from '../errors'

export type KeyIntent = {
  name: string
  obj_type: string
  key_size: number
  key_ops: string[]
  group_id: string
}

export function nameInUse(name: string, where: string, why: string): CeremonyError {
  return new CeremonyError('NAME_IN_USE', `A key named "${name}" exists on ${where}, but ${why}. It was not used.`)
}

/** What differs between a key found on the appliance and the key an attempt intended to make. */
export function keyDifferences(found: Sobject, intent: KeyIntent, creator: string): string[] {
  const diffs: string[] = []
  if (found.obj_type !== intent.obj_type) diffs.push(`type ${found.obj_type}`)
  if ((found.key_size ?? found.rsa?.key_size) !== intent.key_size) diffs.push(`size ${found.key_size ?? '?'}`)
  if ([...found.key_ops].sort().join() !== [...intent.key_ops].sort().join()) diffs.push(`key operations ${found.key_ops.join(',')}`)
  if (found.group_id !== intent.group_id) diffs.push('group')
  const made = typeof found.creator === 'object' ? found.creator['app'] : undefined
  if (made !== creator) diffs.push('creator (not this ceremony\'s app)')
  return diffs
}

/** The key an earlier attempt made, if it is exactly what it intended; null if there is none. */
export async function adoptKey(app: AppSession, intent: KeyIntent, where: string, note: (finding: string) => void): Promise<Sobject | null> {
  const found = await app.keys.findByName(intent.name)
  if (!found) return null
  const diffs = keyDifferences(found, intent, app.entityId)
  if (diffs.length > 0) throw nameInUse(intent.name, where, `it is not the key this ceremony set out to make (${diffs.join('; ')})`)
  note(`found "${intent.name}" made by the interrupted attempt (kid ${found.kid}), exactly as intended; adopted`)
  return found
}

/** Runs a create call; a name already taken (409) is NAME_IN_USE: no attempt of ours made it. */
export async function createOnce<T>(create: () => Promise<T>, name: string, where: string): Promise<T> {
  try {
    return await create()
  } catch (err) {
    if (err instanceof ConflictError) throw nameInUse(name, where, 'no attempt of this ceremony made it')
    throw err
  }
}

/** KCVs are compared case-insensitively (the vendor reports lowercase; people may type either). */
export function sameKcv(a: string | null | undefined, b: string | null | undefined): boolean {
  return typeof a === 'string' && typeof b === 'string' && a.length > 0 && a.toLowerCase() === b.toLowerCase()
}
