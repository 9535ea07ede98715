// A password typed at the terminal, never echoed and never taken from a file or the environment:
// how a production `ceremony run` gets the cluster administrator's own DSM password. The bytes go
// into a Buffer the caller zeroes; no string copy is made. Without a terminal it refuses by name.
import { CeremonyError } from '../errors'

const MAX = 1024

export function promptPassword(prompt: string, io: { stdin: NodeJS.ReadStream; stderr: NodeJS.WriteStream } = process): Promise<Buffer> {
  const { stdin, stderr } = io
  if (!stdin.isTTY) {
    return Promise.reject(new CeremonyError('PASSWORD_MISSING', `${prompt}: no terminal to type it at. A production password is typed by its owner, never read from a file or a pipe.`))
  }
  return new Promise((resolve, reject) => {
    const typed = Buffer.alloc(MAX)
    let n = 0
    // Echo goes off before the prompt shows: a password typed (or pasted) the moment the prompt
    // appears is never echoed back to the screen.
    stdin.setRawMode(true)
    stdin.resume()
    stderr.write(`${prompt}: `)
    const finish = (err?: Error) => {
      stdin.off('data', onData)
      stdin.setRawMode(false)
      stdin.pause()
      stderr.write('\n')
      if (err) {
        typed.fill(0)
        reject(err)
        return
      }
      const out = Buffer.from(typed.subarray(0, n))
      typed.fill(0)
      resolve(out)
    }
    const onData = (chunk: Buffer) => {
      for (const byte of chunk) {
        if (byte === 0x03) return finish(new CeremonyError('PASSWORD_MISSING', 'Cancelled at the password prompt'))
        if (byte === 0x0d || byte === 0x0a) return finish()
        if (byte === 0x7f || byte === 0x08) n = Math.max(0, n - 1)
        else if (n < MAX) typed[n++] = byte
      }
      chunk.fill(0)
    }
    stdin.on('data', onData)
  })
}
