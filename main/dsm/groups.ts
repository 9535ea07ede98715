// Groups: on a FIPS appliance the ceremony reads them (preflight: the group exists and has a
// quorum policy); on the non-FIPS cluster it creates and updates FIPS-backed groups and tests
// their hmg configs (dsm-api.md §7, §11). A failed hmg check is a BadRequestError whose message is
// the cluster's text naming what failed.
import { ConflictError } from './errors'
import {
  buildCheckHmgBody, buildCreateGroupBody, buildPatchGroupBody, type CheckHmgRequest, type CreateGroupRequest, type FipsClusterHmgConfig, type PatchGroupRequest,
} from './hmg'
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

  /** POST /sys/v1/groups → Group (with `hmg` as a map by config uuid). */
  async create(req: CreateGroupRequest): Promise<Group> {
    const r = await this.#s.call({ method: 'POST', path: '/sys/v1/groups', body: buildCreateGroupBody(req), expect: [200, 201], schema: GroupSchema })
    return r.value
  }

  /** PATCH /sys/v1/groups/{id} (add_hmg, mod_hmg, del_hmg, hmg_redundancy, …) → Group. */
  async patch(groupId: string, req: PatchGroupRequest): Promise<Group> {
    const id = checkUuid(groupId, 'group_id')
    const r = await this.#s.call({ method: 'PATCH', path: `/sys/v1/groups/${id}`, body: buildPatchGroupBody(req), expect: [200], schema: GroupSchema })
    return r.value
  }

  /** POST /sys/v1/groups/hmg/check with one draft config ("test connection" before saving) → 204. */
  async checkHmgConfig(config: FipsClusterHmgConfig): Promise<void> {
    const body = buildCheckHmgBody({ config }).config
    await this.#s.call({ method: 'POST', path: '/sys/v1/groups/hmg/check', body, expect: [204, 200] })
  }

  /** POST /sys/v1/groups/{id}/hmg/check: `{}` every saved config, `{id}` one, `{config}` a draft → 204. */
  async checkHmg(groupId: string, req: CheckHmgRequest = {}): Promise<void> {
    const id = checkUuid(groupId, 'group_id')
    await this.#s.call({ method: 'POST', path: `/sys/v1/groups/${id}/hmg/check`, body: buildCheckHmgBody(req), expect: [204, 200] })
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
