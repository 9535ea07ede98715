/**
 * The cameras a plan names (issue 14 part 5): each with an id (a slug, as the video addendum and the
 * CLI refer to it), a label read aloud in the room, and what it films ("the operator's screen",
 * "the appliance front panel"). Footage is matched to steps by the UTC clock and step id the app
 * always shows; after the ceremony the video addendum lists each camera's files by this id.
 */
import type { z } from 'zod'
import { lookAlikes } from './plan-names'

/** One camera as the plan names it (CameraSchema in plan-envelope.ts validates it). */
export interface Camera {
  id: string
  label: string
  /** What it films, in plain words, so an auditor knows which footage shows what. */
  films: string
}

/** Ids once each; labels that cannot be mistaken for each other when read aloud. */
export function checkCameras(cameras: readonly Camera[], ctx: z.RefinementCtx): void {
  const ids = new Set<string>()
  cameras.forEach((c, i) => {
    if (ids.has(c.id)) ctx.addIssue({ code: 'custom', path: ['cameras', i, 'id'], message: `camera id "${c.id}" is used twice` })
    ids.add(c.id)
  })
  const labels = cameras.map((c) => c.label)
  for (const { index, same } of lookAlikes(labels)) {
    const name = labels[index]!
    ctx.addIssue({ code: 'custom', path: ['cameras', index, 'label'], message: name === same ? `camera label "${name}" is listed twice` : `camera label "${name}" looks the same as "${same}"` })
  }
}
