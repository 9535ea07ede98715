// `ceremony <command>`: one entry point; each command lives in its own module, loaded only when
// asked for (lazy require keeps `ceremony verify` from loading the simulator), and returns an exit code.
type Command = { run(argv: string[]): Promise<number> }

const commands: Record<string, () => Command> = {
  simulate: () => require('./simulate') as Command,
  verify: () => require('./verify') as Command,
  plan: () => require('./plan') as Command,
  run: () => require('./run') as Command,
  rehearse: () => require('./rehearse') as Command,
  'repair-log': () => require('./repair-log') as Command,
  addendum: () => require('./addendum') as Command,
  archive: () => require('./archive') as Command,
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  const load = name ? commands[name] : undefined
  if (!load) {
    process.stderr.write(`usage: ceremony <${Object.keys(commands).join('|')}> [options]\n`)
    return 2
  }
  return load().run(rest)
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code },
  (err: unknown) => {
    process.stderr.write(`ceremony: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = 1
  },
)
