// `ceremony archive RECORD --media DIR --to DIR --label SERIAL --to DIR --label SERIAL --by NAME …`:
// the ceremony bundle (record, audit log, addenda, every artifact the record lists, the appliances'
// own logs among them) written to two media (issue 14 part 8, main/ceremony/archive.ts). Every file
// is checked against the record before anything is written and re-read on each medium after; the
// receipt, an addendum naming both media by their labels or serials, is kept beside the record too.
// Prints one JSON line. Exit 0: both media written and checked. Exit 1: refused (a named error;
// neither medium holds a partial archive). Exit 2: usage.
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { writeArchive } from '../ceremony/archive'
import { AUDIT_LOG_FILE } from '../ceremony/state-files'
import { safeToRemoveText } from '../media'
import { addendaBeside, printOutcome, printRefusal, readVerifiedRecord } from './addenda-files'

const USAGE = `usage: ceremony archive RECORD --media DIR --to DIR --label SERIAL --to DIR --label SERIAL --by NAME
    [--witness "NAME,INITIALS" …] [--log FILE] [--media-exception WHY]
  --media is the folder holding the ceremony's files (the record lists each); each --to is a folder
  on one medium, followed by the label or serial written on that medium (and its bag). --log defaults
  to the audit log beside the record; the addenda beside the record are archived with it.
`

export async function run(argv: string[]): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: {
        media: { type: 'string' }, to: { type: 'string', multiple: true }, label: { type: 'string', multiple: true }, by: { type: 'string' },
        witness: { type: 'string', multiple: true }, log: { type: 'string' }, 'media-exception': { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    })
  } catch (err) {
    return usage(err instanceof Error ? err.message : String(err))
  }
  const { values, positionals } = parsed
  if (values.help) {
    process.stdout.write(USAGE)
    return 0
  }
  if (positionals.length !== 1) return usage('give exactly one RECORD')
  if (!values.media) return usage('--media DIR is required (the folder holding the files the record lists)')
  if (!values.by) return usage('--by NAME is required (who made the archive)')
  const to = values.to ?? []
  const labels = values.label ?? []
  // Each medium is named by the label written on it: one --label per --to, in the same order.
  if (to.length !== labels.length) return usage(`give one --label for each --to (${to.length} --to, ${labels.length} --label)`)
  const witnesses = []
  for (const w of values.witness ?? []) {
    const i = w.indexOf(',')
    if (i < 0) return usage(`--witness "${w}" is not NAME,INITIALS`)
    witnesses.push({ name: w.slice(0, i).trim(), initials: w.slice(i + 1).trim() })
  }

  const recordPath = positionals[0]!
  try {
    const record = readVerifiedRecord(recordPath)
    const out = await writeArchive({
      record: recordPath, log: values.log ?? join(dirname(recordPath), AUDIT_LOG_FILE), mediaDir: values.media,
      addenda: addendaBeside(recordPath, record).map((a) => a.path),
      destinations: to.map((dir, i) => ({ dir, label: labels[i]! })),
      preparedBy: values.by, attestedBy: witnesses, receiptDir: dirname(recordPath),
      ...(values['media-exception'] ? { exception: values['media-exception'] } : {}),
    })
    printOutcome({
      archive: {
        folder: out.folder,
        receipt: { n: out.receipt.n, file: join(dirname(recordPath), out.receiptName), digest: out.receipt.digest, words: out.receipt.digestWords },
        media: out.media.map((m) => ({ label: m.label, dir: m.dir, files: m.files, bytes: m.bytes, removable: m.removable, exception: m.exception })),
        safeToRemove: safeToRemoveText(out.media.every((m) => m.flushed === 'volume') ? 'volume' : 'files'),
      },
    })
    return 0
  } catch (err) {
    return printRefusal(err)
  }
}

function usage(why: string): number {
  process.stderr.write(`ceremony archive: ${why}\n${USAGE}`)
  return 2
}
