/**
 * Launch guard: the app refuses to start with a switch that would let another local process
 * inspect main (which holds the API keys) or drive the renderer (which can call the bridge). No
 * fuse covers Chromium's `--remote-debugging-port` (security.md §1b), so this check is the control.
 *
 * Two independent checks, both must pass:
 *  - `app.commandLine.hasSwitch(name)`: what Chromium itself parsed, whatever the spelling;
 *  - argv read here with every spelling Chromium or Node accept, on any platform: one or two dashes,
 *    a `/` prefix (Windows), any letter case, `=value` or the value as the next argument. Being
 *    stricter than any one platform's parser costs nothing: the app takes no arguments.
 */

/** Switch names, lower case, without prefix. */
export const DEBUG_SWITCHES: readonly string[] = [
  // Node's inspector (the EnableNodeCliInspectArguments fuse also blocks these in a packaged build).
  'inspect', 'inspect-brk', 'inspect-brk-node', 'inspect-wait', 'inspect-port', 'debug-port',
  // Chromium's DevTools protocol: no fuse covers it.
  'remote-debugging-port', 'remote-debugging-pipe',
  // V8 flags can switch on natives syntax, tracing or an inspector-like backdoor.
  'js-flags',
]

export interface CommandLineLike {
  hasSwitch(name: string): boolean
}

// A prefix (`--`, `-` or `/`), a name of letters, digits, `-` and `_`, then the end or `=value`.
const SWITCH = /^(?:--|-|\/)([A-Za-z0-9][A-Za-z0-9_-]*)(?:=[\s\S]*)?$/

/** The switch name an argument spells, lower-cased, or undefined when it is not a switch. */
export function switchNameOf(arg: string): string | undefined {
  const m = SWITCH.exec(arg.trim())
  return m ? m[1]!.toLowerCase() : undefined
}

/**
 * The first debugging switch found, as written (argv) or as `--name` (hasSwitch), or undefined.
 * argv is read whole, including anything after a `--` separator.
 */
export function findDebugSwitch(argv: readonly string[], commandLine?: CommandLineLike): string | undefined {
  for (const arg of argv) {
    const name = switchNameOf(arg)
    if (name !== undefined && DEBUG_SWITCHES.includes(name)) return arg
  }
  if (commandLine) {
    for (const name of DEBUG_SWITCHES) if (commandLine.hasSwitch(name)) return `--${name}`
  }
  return undefined
}
