// Questions at the terminal for the headless run (a production witness signs here): the question
// goes to stderr (stdout carries only the JSON summary), the answer is the next line of stdin, and
// null when stdin has ended — the run then stops by name instead of waiting for ever.
import { createInterface } from 'node:readline'

export function terminalAsker(): { ask(question: string): Promise<string | null>; close(): void } {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
  const queue: string[] = []
  const waiting: Array<(line: string | null) => void> = []
  let ended = false
  lines.on('line', (line) => (waiting.length > 0 ? waiting.shift()!(line) : queue.push(line)))
  lines.on('close', () => {
    ended = true
    for (const w of waiting.splice(0)) w(null)
  })
  return {
    ask(question) {
      process.stderr.write(question)
      if (queue.length > 0) return Promise.resolve(queue.shift()!)
      if (ended) return Promise.resolve(null)
      return new Promise((resolve) => waiting.push(resolve))
    },
    close: () => lines.close(),
  }
}
