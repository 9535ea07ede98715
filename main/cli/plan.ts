// `ceremony plan --appliances DIR/appliances.json [--targets id,id] [--id ID] [--title T] [--mode M] [--materials]`:
// writes a ceremony plan for simulated appliances to stdout (no secret goes into it).
import { readCappedTextSync } from '../ceremony/plan-file'
import { parseArgs } from 'node:util'
import { parseCredentials } from '../ceremony/simulated-plan'
import { planWithStations } from '../ceremony/station-plan'

const USAGE = 'usage: ceremony plan --appliances FILE [--targets id,id] [--id ID] [--title TITLE] [--mode rehearsal|production] [--sites N] [--materials] > plan.json\n' +
  '  --materials  add a materials manifest (chassis serials, tamper labels, bags, safes) as the simulated room shows them: edit it to what yours shows\n'

export async function run(argv: string[]): Promise<number> {
  let values
  try {
    ;({ values } = parseArgs({ args: argv, options: { appliances: { type: 'string' }, targets: { type: 'string' }, id: { type: 'string' }, title: { type: 'string' }, mode: { type: 'string' }, sites: { type: 'string' }, materials: { type: 'boolean' } }, strict: true }))
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`)
    return 2
  }
  if (!values.appliances) {
    process.stderr.write(USAGE)
    return 2
  }
  if (values.mode !== undefined && values.mode !== 'rehearsal' && values.mode !== 'production') {
    process.stderr.write(`--mode must be rehearsal or production\n${USAGE}`)
    return 2
  }
  const sites = values.sites === undefined ? 1 : Number(values.sites)
  if (!Number.isInteger(sites) || sites < 1 || sites > 8) {
    process.stderr.write(`--sites must be a whole number from 1 to 8 (the source at site A, the targets spread over the others)\n${USAGE}`)
    return 2
  }
  if (values.materials && sites > 1) {
    process.stderr.write(`--materials is for a ceremony at one site: a plan with stations cannot carry a materials manifest yet\n${USAGE}`)
    return 2
  }
  const creds = parseCredentials(readCappedTextSync(values.appliances))
  const plan = planWithStations(creds, {
    sites,
    ...(values.targets ? { targets: values.targets.split(',').map((t) => t.trim()).filter(Boolean) } : {}),
    ...(values.id ? { id: values.id } : {}),
    ...(values.title ? { title: values.title } : {}),
    ...(values.mode ? { mode: values.mode as 'rehearsal' | 'production' } : {}),
    ...(values.materials ? { materials: true } : {}),
  })
  process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`)
  return 0
}
