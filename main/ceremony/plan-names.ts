/**
 * Names in a plan that become file names or are read aloud in the room (security.md §6 29, 30).
 *
 * Ids become file and folder names (`<plan id>/`, `<plan id>-<target>-wrapped_master_key.out`):
 * besides the slug's own rules (lowercase ASCII, no dot, space or colon at the end) they must not be
 * a Windows device name (CON, PRN, AUX, NUL, COM0–9, LPT0–9), which Windows opens as the device
 * whatever the folder.
 *
 * Text that is printed and read aloud (title, labels, people, custodian users, key and group names)
 * must look like what it is: no control or invisible characters (zero-width, bidirectional
 * overrides, BOM, odd spaces), composed Unicode (NFC) so one name has one spelling, and no word that
 * mixes Latin, Cyrillic or Greek letters (a look-alike such as "Аlice" with a Cyrillic А). Names that
 * must be told apart (witnesses, custodians of one appliance, appliance labels) must not look the
 * same once look-alike letters are folded together.
 */

/** Windows device names, refused as ids whatever the case (they become file and folder names). */
const WINDOWS_DEVICES = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])$/i

export function isWindowsDeviceName(name: string): boolean {
  return WINDOWS_DEVICES.test(name)
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
/** Format characters (zero-width, bidi controls, BOM, soft hyphen …), line/paragraph separators, invisible fillers. */
const INVISIBLE = /[\p{Cf}\p{Zl}\p{Zp}\u115f\u1160\u3164\uffa0\u2800\u034f]/u
/** Spaces other than the ordinary one (no-break, en/em, ideographic …). */
const ODD_SPACE = /[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/

const SCRIPTS: Array<[string, RegExp]> = [['Latin', /\p{Script=Latin}/u], ['Cyrillic', /\p{Script=Cyrillic}/u], ['Greek', /\p{Script=Greek}/u]]

/** The Latin/Cyrillic/Greek scripts one word mixes (letters only; digits and marks do not count). */
function mixedScripts(word: string): string[] {
  const found = new Set<string>()
  for (const ch of word) for (const [name, re] of SCRIPTS) if (re.test(ch)) found.add(name)
  return found.size > 1 ? [...found] : []
}

/** Why `text` cannot be read aloud as written, or null when it can. */
export function spokenTextProblem(text: string): string | null {
  if (CONTROL.test(text)) return 'must not contain control characters'
  if (INVISIBLE.test(text)) return 'must not contain invisible characters (zero-width, direction overrides, BOM)'
  if (ODD_SPACE.test(text)) return 'use ordinary spaces only'
  if (text !== text.normalize('NFC')) return 'must be in composed Unicode form (NFC): the same name typed another way would look identical'
  for (const word of text.split(/[^\p{L}\p{M}]+/u)) {
    const mixed = mixedScripts(word)
    if (mixed.length > 0) return `"${word}" mixes ${mixed.join(' and ')} letters (a look-alike name)`
  }
  return null
}

/** Letters that look like Latin ones (Cyrillic and Greek, upper and lower case), folded to them. */
const LOOKALIKES: Record<string, string> = Object.fromEntries([
  ...'АAВBЕEЅSІIЈJКKМMНHОOРPСCТTХXҮYУYԁdаaеeоoрpсcуyхxѕsіiјjһhԛqԝwӏlɡg',
  ...'ΑAΒBΕEΖZΗHΙIΚKΜMΝNΟOΡPΤTΥYΧXαaοoρpνvιiκkυuχxϲcϳj',
].join('').match(/../gu)!.map((pair) => [...pair] as [string, string]))

/** One form for names that look the same: compatibility-folded, marks dropped, look-alikes folded, case-folded. */
export function skeleton(text: string): string {
  const folded = [...text.normalize('NFKD').replace(/\p{M}/gu, '')].map((ch) => LOOKALIKES[ch] ?? ch).join('').toLowerCase()
  return folded.replace(/0/g, 'o').replace(/1/g, 'l').replace(/rn/g, 'm').replace(/vv/g, 'w').replace(/\s+/g, ' ').trim()
}

/** Indexes in `names` of a name that looks the same as an earlier one, with that earlier one. */
export function lookAlikes(names: readonly string[]): Array<{ index: number; same: string }> {
  const seen = new Map<string, string>()
  const out: Array<{ index: number; same: string }> = []
  names.forEach((name, index) => {
    const key = skeleton(name)
    const earlier = seen.get(key)
    if (earlier !== undefined) out.push({ index, same: earlier })
    else seen.set(key, name)
  })
  return out
}
