/**
 * The one rule for free text that crosses the IPC boundary (names, labels, initials, notes,
 * resolutions, reasons, typed values …): no control characters. What the renderer sends is written
 * to the audit log, printed in the record and echoed by `ceremony verify` in a terminal, so an ANSI
 * escape ("\u001b[31m", or the 8-bit CSI "\u009b") could recolour, hide or rewrite lines a witness
 * reads, a BEL rings the terminal, and a carriage return overwrites the line it is on. Refused:
 *  - C0 controls (U+0000–U+001F) and DEL (U+007F); multi-line fields allow the newline and the tab;
 *  - C1 controls (U+0080–U+009F), the 8-bit CSI among them;
 *  - the bidirectional embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069),
 *    which make text display in another order than it is stored ("Trojan Source").
 * Ordinary Unicode text (accents, CJK, Arabic, emoji) is accepted. Secrets (API keys, passwords)
 * are not free text: they are never shown, logged or recorded, and go to the appliance verbatim.
 */
import { z } from 'zod'

/** What the refusal says, after the field's path (main/ipc/register.ts describeIssues). */
export const FREE_TEXT_REFUSAL = 'must not contain control characters, terminal (ANSI) escapes or text-direction overrides'

// eslint-disable-next-line no-control-regex
const ONE_LINE = /^[^\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]*$/
// eslint-disable-next-line no-control-regex
const MULTI_LINE = /^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]*$/

/** One line of free text: `field` with control characters refused. */
export const oneLine = <S extends z.ZodString>(field: S): S => field.regex(ONE_LINE, FREE_TEXT_REFUSAL) as S

/** Free text typed in a text area (a note, a resolution, a reason): newlines and tabs allowed, other controls refused. */
export const multiLine = <S extends z.ZodString>(field: S): S => field.regex(MULTI_LINE, FREE_TEXT_REFUSAL) as S

/** The patterns, for the tests that find every free-text field of the contract by its JSON Schema. */
export const FREE_TEXT_PATTERNS = { oneLine: ONE_LINE.source, multiLine: MULTI_LINE.source } as const
