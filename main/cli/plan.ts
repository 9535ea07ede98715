// `ceremony plan --appliances FILE[,FILE…] [--kind KIND] …`: writes a ceremony plan for simulated
// systems to stdout (no secret goes into it). For replicate-cmk (the default) the first appliance is
// the source; for link-cluster and verify-cluster every appliance is a FIPS appliance, in the order
// given (priority order), with --cluster FILE (cluster.json), optionally --load-balancer FILE, and
// --record FILE: the sealed record the plan builds on (verified here; its final digest goes in).
// An add-appliance or replace-appliance plan goes through a load balancer when --load-balancer
// FILE is given or the latest link or membership record given went through one.
// --materials adds a materials manifest as the simulated rooms show it (replicate-cmk; across sites each
// station's items and safe are its own).
import { RECORD_MAX_BYTES, readCappedTextSync } from '../ceremony/plan-file'
import { parseArgs } from 'node:util'
import { clusterPlanFor, readCredentialFiles } from '../ceremony/simulated-cluster-plan'
import { membershipPlanFor } from '../ceremony/simulated-membership-plan'
import { planWithStations } from '../ceremony/station-plan'
import { verifyRecord } from '../evidence'

const USAGE = `usage: ceremony plan --appliances FILE[,FILE…] [--targets id,id] [--id ID] [--title TITLE] [--mode rehearsal|production] [--sites N] [--materials] > plan.json
       ceremony plan --kind link-cluster|verify-cluster --appliances FILE[,FILE…] --cluster FILE [--load-balancer FILE]
                     [--record RECORD…] [--group NAME] [--no-failover-drill] [--id ID] [--title TITLE] [--mode M] > plan.json
       ceremony plan --kind add-appliance --appliances FILE[,FILE…] --cluster FILE --record RECORD… --added ID
                     [--load-balancer FILE] [--source ID] [--no-prove-alone] [--group NAME] [--id ID] [--title TITLE] [--mode M] > plan.json
       ceremony plan --kind replace-appliance … --added ID --failed ID --failed-serial SERIAL
                     --disposition zeroised|destroyed|returned-rma [--rma NUMBER] --evidence-file NAME > plan.json
`

const KINDS = ['replicate-cmk', 'link-cluster', 'verify-cluster', 'add-appliance', 'replace-appliance']
const DISPOSITIONS = ['zeroised', 'destroyed', 'returned-rma']

function fail(message: string): number {
  process.stderr.write(`${message}\n${USAGE}`)
  return 2
}

export async function run(argv: string[]): Promise<number> {
  let values
  try {
    ;({ values } = parseArgs({
      args: argv, strict: true,
      options: {
        kind: { type: 'string' }, appliances: { type: 'string' }, cluster: { type: 'string' }, 'load-balancer': { type: 'string' }, record: { type: 'string', multiple: true },
        group: { type: 'string' }, 'no-failover-drill': { type: 'boolean' }, targets: { type: 'string' }, id: { type: 'string' }, title: { type: 'string' }, mode: { type: 'string' },
        sites: { type: 'string' }, materials: { type: 'boolean' }, added: { type: 'string' }, source: { type: 'string' }, 'no-prove-alone': { type: 'boolean' },
        failed: { type: 'string' }, 'failed-serial': { type: 'string' }, disposition: { type: 'string' }, rma: { type: 'string' }, 'evidence-file': { type: 'string' },
      },
    }))
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err))
  }
  const kind = values.kind ?? 'replicate-cmk'
  if (!KINDS.includes(kind)) return fail(`--kind must be one of ${KINDS.join(', ')}`)
  if (!values.appliances) return fail('--appliances is required')
  if (values.mode !== undefined && values.mode !== 'rehearsal' && values.mode !== 'production') return fail('--mode must be rehearsal or production')
  const sites = values.sites === undefined ? 1 : Number(values.sites)
  if (!Number.isInteger(sites) || sites < 1 || sites > 8) return fail('--sites must be a whole number from 1 to 8 (the source at site A, the targets spread over the others)')
  // Only replication is planned across sites: the cluster kinds reach the cluster from one room.
  if (sites > 1 && kind !== 'replicate-cmk') return fail(`--sites is for replicate-cmk plans only, not ${kind}`)
  const files = [...values.appliances.split(','), ...(values.cluster ? [values.cluster] : []), ...(values['load-balancer'] ? [values['load-balancer']] : [])]
  const set = readCredentialFiles(files.map((f) => ({ name: f, text: readCappedTextSync(f) })))
  const common = {
    ...(values.id ? { id: values.id } : {}), ...(values.title ? { title: values.title } : {}),
    ...(values.mode ? { mode: values.mode as 'rehearsal' | 'production' } : {}),
  }
  if (values.materials && kind !== 'replicate-cmk') return fail('--materials is for a replicate-cmk ceremony (at one site or across --sites N)')
  if (kind === 'replicate-cmk') {
    const plan = planWithStations(set.credentials, { ...common, sites, ...(values.materials ? { materials: true } : {}), ...(values.targets ? { targets: values.targets.split(',').map((t) => t.trim()).filter(Boolean) } : {}) })
    process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`)
    return 0
  }
  if (!values.cluster) return fail(`a ${kind} plan needs --cluster FILE`)
  if (kind !== 'verify-cluster' && !values.record?.length) return fail(`a ${kind} plan builds on earlier records: give --record RECORD`)
  const buildsOn: string[] = []
  let recordedBalancer: { host: string; port: number } | undefined
  for (const file of values.record ?? []) {
    const record = JSON.parse(readCappedTextSync(file, RECORD_MAX_BYTES)) as { plan?: { kind?: string; loadBalancer?: { host: string; port: number } } }
    const verified = verifyRecord(record)
    if (!verified.ok) {
      process.stderr.write(`${file} does not verify: entry ${verified.firstBadEntry}: ${verified.reason}\n`)
      return 1
    }
    buildsOn.push(verified.finalDigest)
    // As the latest link or membership record reached the appliances: through its balancer, or not.
    if (['link-cluster', 'add-appliance', 'replace-appliance'].includes(record.plan?.kind ?? '')) recordedBalancer = record.plan?.loadBalancer
  }
  if (kind === 'add-appliance' || kind === 'replace-appliance') {
    if (!values.added) return fail(`a ${kind} plan names the new appliance: give --added ID`)
    const replace = kind === 'replace-appliance'
    if (replace && (!values.failed || !values['failed-serial'] || !values['evidence-file'] || !DISPOSITIONS.includes(values.disposition ?? ''))) {
      return fail(`a replace-appliance plan needs --failed ID, --failed-serial SERIAL, --disposition ${DISPOSITIONS.join('|')} and --evidence-file NAME`)
    }
    const plan = membershipPlanFor(set, {
      kind, added: values.added, buildsOn, ...common, ...(values.source ? { source: values.source } : {}),
      ...(values.group ? { groupName: values.group } : {}), ...(values['no-prove-alone'] ? { proveAlone: false } : {}),
      ...((set.loadBalancer ?? recordedBalancer) ? { loadBalancer: set.loadBalancer ?? recordedBalancer! } : {}),
      ...(replace ? { failed: { id: values.failed!, serial: values['failed-serial']!, disposition: values.disposition as 'zeroised', evidenceFile: values['evidence-file']!, ...(values.rma ? { rmaNumber: values.rma } : {}) } } : {}),
    })
    process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`)
    return 0
  }
  const plan = clusterPlanFor(set, {
    kind: kind as 'link-cluster' | 'verify-cluster', buildsOn, ...common,
    ...(values.group ? { groupName: values.group } : {}), ...(values['no-failover-drill'] ? { failoverDrill: false } : {}),
  })
  process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`)
  return 0
}
