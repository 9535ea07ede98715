// Groups: the ceremony only reads them (preflight: the group exists and has a quorum policy).
import { ConflictError } from './errors'
import { checkName, checkUuid } from './requests'
import { GroupSchema, ListGroupsResponseSchema, type Group, type Quorum } from './schemas'
import type { AuthedCaller } from './session-core'

export class GroupsApi {
  readonly #s: AuthedCaller
  constructor(session: AuthedCaller) {
    this.#s = session
  }

  /** GET /sys/v1/groups/{group_id}, including approval_policy. */
  async get(groupId: string): Promise<Group> {
    const r = await this.#s.call({ method: 'GET', path: `/sys/v1/groups/${checkUuid(groupId, 'group_id')}`, expect: [200], schema: GroupSchema })
    return r.value
  }

  /** GET /sys/v1/groups (either response form). */
  async list(): Promise<Group[]> {
    const r = await this.#s.call({ method: 'GET', path: '/sys/v1/groups', expect: [200], schema: ListGroupsResponseSchema })
    return r.value
  }

  /** The one group with this exact name, or null. Two groups with the name: ConflictError (the plan is ambiguous). */
  async findByName(name: string): Promise<Group | null> {
    checkName(name, 'group name')
    const hits = (await this.list()).filter((g) => g.name === name)
    if (hits.length > 1) throw new ConflictError(`${hits.length} groups are named "${name}"; the ceremony needs exactly one`)
    return hits[0] ?? null
  }
}

/** The group's top-level quorum, if its approval policy has one. */
export function groupQuorum(group: Group): Quorum | undefined {
  return group.approval_policy?.quorum ?? undefined
}
