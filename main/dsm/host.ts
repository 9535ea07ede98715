// Appliance addresses, as the vendor guide asks for them: a host name or IP without "https://"
// ("Do not add https before the DNS name"), plus an optional port. People paste URLs anyway, so a
// leading "https://" and one trailing "/" are stripped with a visible note; everything else that
// is not a bare host[:port] is refused with a message that says what was wrong (security.md §6,
// cases 32-38). Parsing goes through the WHATWG URL parser after we add the scheme ourselves.
import { isIP } from 'node:net'
import { InvalidHostError } from './errors'

export interface NormalisedHost {
  /** Host name (lower case, IDN in punycode) or IP address; IPv6 without brackets. Used for TLS. */
  host: string
  /** Explicit port, if one was given. */
  port: number | undefined
  /** `host[:port]` with IPv6 bracketed: the canonical form to show and to store in a plan. */
  authority: string
  /** Human-readable notes about what was changed (e.g. "removed the https:// prefix"). */
  notes: string[]
}

const MAX_INPUT_LENGTH = 300

export function normaliseHost(input: unknown): NormalisedHost {
  if (typeof input !== 'string') throw new InvalidHostError('appliance address must be text')
  if (input.length === 0) throw new InvalidHostError('appliance address is empty')
  if (input.length > MAX_INPUT_LENGTH) throw new InvalidHostError(`appliance address is longer than ${MAX_INPUT_LENGTH} characters`)
  // Whitespace, control and invisible format characters (zero-width space, BOM, bidi marks):
  // refused rather than trimmed, so what is stored is exactly what was typed.
  if (/[\s\p{C}\p{Z}]/u.test(input)) {
    throw new InvalidHostError('appliance address contains spaces, line breaks or invisible characters')
  }

  const notes: string[] = []
  let rest = input
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(rest)
  if (scheme) {
    const name = scheme[1]!.toLowerCase()
    if (name === 'http') throw new InvalidHostError('http:// is never used: DSM appliances are reached over HTTPS only; enter the host name without a scheme')
    if (name !== 'https') throw new InvalidHostError(`unsupported scheme "${name}://": enter the host name without a scheme`)
    rest = rest.slice(scheme[0].length)
    notes.push('removed the https:// prefix (enter the host without a scheme)')
  } else if (/^http:/i.test(rest)) {
    throw new InvalidHostError('http: is never used: DSM appliances are reached over HTTPS only; enter the host name without a scheme')
  } else if (/^(https?|ftp|file|mailto|ssh|wss?|sftp):/i.test(rest) || /^[a-z][a-z0-9+.-]*:\//i.test(rest)) {
    // "https:host", "mailto:x" and friends: a scheme without "//".
    throw new InvalidHostError('appliance address looks like a URL with a scheme; enter the host name only')
  }
  if (rest.endsWith('/') && rest.indexOf('/') === rest.length - 1) {
    rest = rest.slice(0, -1)
    notes.push('removed the trailing "/"')
  }
  if (rest.length === 0) throw new InvalidHostError('appliance address has no host name')
  if (rest.includes('@')) throw new InvalidHostError('appliance address must not contain a user name or password (user@host)')
  if (rest.includes('/') || rest.includes('\\')) throw new InvalidHostError('appliance address must not contain a path: enter only host[:port]')
  if (rest.includes('?')) throw new InvalidHostError('appliance address must not contain a query string')
  if (rest.includes('#')) throw new InvalidHostError('appliance address must not contain a fragment (#)')
  if (rest.includes('%')) throw new InvalidHostError('appliance address must not contain percent-encoding')

  // Split host and port ourselves: the URL parser drops an explicit ":443" and accepts port 0.
  let hostPart: string
  let portText: string | undefined
  if (rest.startsWith('[')) {
    const m = /^\[([^\]]+)\](?::(\d*))?$/.exec(rest)
    if (!m) throw new InvalidHostError('malformed bracketed IPv6 address; use [address] or [address]:port')
    hostPart = m[1]!
    portText = m[2]
    if (isIP(hostPart) !== 6) throw new InvalidHostError(`"${hostPart}" is not a valid IPv6 address`)
  } else {
    const colons = rest.split(':').length - 1
    if (colons > 1) throw new InvalidHostError('IPv6 addresses must be written in brackets, e.g. [fd00::1]:443')
    const idx = rest.indexOf(':')
    hostPart = idx === -1 ? rest : rest.slice(0, idx)
    portText = idx === -1 ? undefined : rest.slice(idx + 1)
  }
  let port: number | undefined
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) throw new InvalidHostError('port must be a number from 1 to 65535')
    port = Number(portText)
    if (port < 1 || port > 65535) throw new InvalidHostError(`port ${portText} is out of range (1-65535)`)
  }
  if (hostPart.length === 0) throw new InvalidHostError('appliance address has no host name')

  let parsed: URL
  try {
    parsed = new URL(`https://${isIP(hostPart) === 6 ? `[${hostPart}]` : hostPart}/`)
  } catch {
    throw new InvalidHostError(`"${hostPart}" is not a valid host name`)
  }
  if (parsed.pathname !== '/' || parsed.search || parsed.hash || parsed.username || parsed.password) {
    throw new InvalidHostError(`"${hostPart}" is not a bare host name`)
  }
  let host = parsed.hostname
  if (host.startsWith('[')) host = host.slice(1, -1)

  // The URL parser rewrites some inputs silently ("127.1" -> "127.0.0.1", "0x7f.0.0.1", IDN ->
  // punycode). Accept IDN (with a note) but refuse other rewrites: the stored address must be
  // the one the operator read out, and the certificate must name exactly that.
  const asciiInput = /^[\x21-\x7e]+$/.test(hostPart)
  if (asciiInput && host !== hostPart.toLowerCase()) {
    throw new InvalidHostError(`"${hostPart}" is ambiguous (it would be read as "${host}"); enter the address in full`)
  }
  if (!asciiInput) notes.push(`international host name converted to "${host}"`)
  if (isIP(host) === 0 && !/^[a-z0-9.-]+$/.test(host)) {
    throw new InvalidHostError(`"${hostPart}" contains characters that are not allowed in a host name`)
  }
  if (isIP(host) === 0 && (host.startsWith('.') || host.includes('..') || host.startsWith('-'))) {
    throw new InvalidHostError(`"${hostPart}" is not a valid host name`)
  }

  const bracketed = isIP(host) === 6 ? `[${host}]` : host
  return { host, port, authority: port === undefined ? bracketed : `${bracketed}:${port}`, notes }
}
