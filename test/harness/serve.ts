/** `npm run harness`: serves the app's UI for a real browser on 127.0.0.1 and prints the URL. */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startHarness } from './server'

const portArg = process.argv.indexOf('--port')
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 0
const userData = process.env.HARNESS_USERDATA ?? mkdtempSync(join(tmpdir(), 'dsm-ceremony-harness-'))

void startHarness({ userData, port }).then((harness) => {
  process.stdout.write(`DSM Key Ceremony harness: ${harness.url}\n(user data: ${userData}; Ctrl-C to stop)\n`)
  const stop = () => void harness.close().then(() => process.exit(0))
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
})
