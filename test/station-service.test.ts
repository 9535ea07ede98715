/**
 * Stations through the service behind the IPC channels (what the screens do): a two-site rehearsal
 * on one workstation, each station with its own state folder: choose the station, run its leg, hand
 * off (the words shown, the drive's files listed, safe to remove), switch to the other station,
 * receive (a wrong word refused and logged), and so on to the close; the board shows who holds it.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import Conf from 'conf'
import { CeremonyService } from '../main/ceremony/ceremony-service'
import type { JournalStore } from '../main/ceremony/journal'
import { startSimulator, type RunningSimulator } from '../main/simulator'
import type { CeremonySnapshot } from '../preload/contract'

function service(stateRoot: string, sims: RunningSimulator[]) {
  return new CeremonyService({
    stateRoot,
    dialogs: { openPlanFile: async () => null, savePlanFile: async () => null, saveRecordFile: async () => null },
    journalStore: (dir) => new Conf({ cwd: dir, configName: 'journal', projectName: 'dsm-key-ceremony' }) as unknown as JournalStore,
    startSimulator: async (appliances) => {
      const sim = await startSimulator({ appliances })
      sims.push(sim)
      return sim
    },
    onChange: () => undefined,
  })
}

/** Runs this station's steps the way the run screen does: confirmations from the screen, custodians from the rehearsal sign-ins. */
async function runLeg(svc: CeremonyService, snap: CeremonySnapshot): Promise<CeremonySnapshot> {
  for (let guard = 0; guard < 80 && snap.stations?.next === 'run'; guard++) {
    // The station's witness signs every step of this leg before the next one runs.
    const due = snap.steps.find((s) => s.signoff && !s.signoff.complete && (s.state === 'done' || s.seals) && (!s.seals || s.id === snap.currentStepId))
    const witness = snap.people.find((p) => p.role === 'witness' && p.present)?.name
    if (due && witness) {
      snap = await svc.signOff(due.id, witness, witness.split(' ').map((w) => w[0]).join(''), due.witnessItems)
      continue
    }
    const step = snap.steps.find((s) => s.id === snap.currentStepId)!
    // The register first: the record is not sealed while a line is open (the refused words at receipt are one).
    const open = snap.deviations.lines.find((d) => !d.resolution)
    if (step.seals && open) {
      await assert.rejects(svc.runStep(step.id), { code: 'DEVIATION_UNRESOLVED' })
      const initials = snap.deviations.witnessesPresent.map((w) => ({ witness: w, initials: w.split(' ').map((x) => x[0]).join('') }))
      snap = await svc.resolveDeviation({ deviation: open.id, resolution: 'The words were read again and matched; the bag number was re-read from the bag', allowedBy: snap.deviations.allowers[0]!, initials })
      continue
    }
    if (step.interaction === 'approval') {
      if (step.state !== 'waiting') snap = await svc.runStep(step.id)
      for (const c of snap.rehearsalCredentials.filter((x) => x.applianceId === snap.steps.find((s) => s.id === step.id)!.approval?.appliance)) {
        const view = snap.steps.find((s) => s.id === step.id)!.approval
        if (!view || snap.steps.find((s) => s.id === step.id)!.state !== 'waiting') break
        const confirm = snap.steps.find((s) => s.id === step.id)!.confirmation?.value?.hex.slice(-4).toUpperCase()
        snap = await svc.decideApproval({ stepId: step.id, user: c.user, password: c.password, decision: 'approve', requestId: view.requestId, viewDigest: view.viewDigest, ...(confirm ? { confirmation: confirm } : {}) })
      }
    } else {
      const value = step.confirmation?.value?.hex
      // A materials step: the form filled with what the simulated room shows (new bags typed twice).
      const input = step.input ? Object.fromEntries(step.input.fields.flatMap((f) => [[f.id, f.simulatedShows ?? ''], ...(f.twice ? [[`${f.id}:again`, f.simulatedShows ?? '']] : [])])) : undefined
      snap = await svc.runStep(step.id, value ? value.slice(-4).toUpperCase() : undefined, input)
    }
  }
  return snap
}

test('a two-site rehearsal through the service: choose the station, hand off, receive with the words, close', async () => {
  const sims: RunningSimulator[] = []
  const dir = mkdtempSync(join(tmpdir(), 'dsm-stations-service-'))
  const svc = service(dir, sims)
  try {
    let snap = await svc.startRehearsal(1, { sites: 2 })
    assert.equal(snap.stations?.next, 'choose-station')
    assert.deepEqual(snap.plan?.trips?.map((t) => t.station), ['site-b', 'site-a', 'site-b'], 'the review shows the trips')
    assert.ok(snap.plan?.trips?.[1]?.steps.some((s) => /Import the transfer public key/.test(s)))
    await assert.rejects(svc.runStep('station-preflight:site-b'), { code: 'PARTICIPANTS_NOT_CONFIRMED' })

    snap = await svc.stations.choose('site-b')
    await assert.rejects(svc.confirmParticipants(['Rehearsal operator', 'Witness at Site B']), { code: 'OPERATOR_NOT_PRESENT' }, "a station's own operator confirms")
    snap = await svc.confirmParticipants(['Operator at Site B', 'Witness at Site B'])
    assert.equal(snap.stations?.next, 'run')
    assert.equal(snap.stations?.media?.label, 'Rehearsal media folder')
    snap = await svc.runStep('station-preflight:site-b')
    assert.equal(snap.stations?.holder?.station, 'site-b', 'the board: site B holds the ceremony')
    snap = await runLeg(svc, snap)
    assert.equal(snap.stations?.next, 'hand-off')
    assert.equal(snap.stations?.handoff?.toLabel, 'Site A')
    assert.ok(snap.stations?.handoff?.files.some((f) => f.what === 'transfer public key (PEM)'), 'what to carry')
    await assert.rejects(svc.runStep(snap.currentStepId!), { code: 'STEP_AT_OTHER_STATION' })
    // The leg's last step is not signed yet: the drive does not leave with it unsigned.
    const lastOfLeg = snap.steps.filter((s) => s.state === 'done').at(-1)!
    assert.equal(lastOfLeg.signoff?.complete, false)
    await assert.rejects(svc.stations.handOff({ label: 'USB-0042', bag: 'TEB-1001' }), { code: 'STEP_NOT_SIGNED' })
    assert.equal(svc.snapshot().stations?.next, 'hand-off', 'nothing was handed off')
    snap = await svc.signOff(lastOfLeg.id, 'Witness at Site B', 'WASB', lastOfLeg.witnessItems)

    snap = await svc.stations.handOff({ label: 'USB-0042', bag: 'TEB-1001' })
    assert.equal(snap.stations?.next, 'handed-off')
    assert.equal(snap.stations?.holder?.station, 'site-a', 'the board: site A holds it now')
    const words = snap.stations!.handoff!.digest!.words
    assert.equal(words.length, 32)
    assert.match(snap.stations!.handoff!.safeToRemove!, /safe to remove/)
    assert.ok(snap.stations!.handoff!.files.some((f) => f.name.endsWith('.audit-log-segment.jsonl')))

    // The operator carries the media to site A (in a rehearsal, the same app plays it with another state folder).
    snap = await svc.stations.choose('site-a')
    assert.equal(snap.participantsConfirmed, false, "another station's people are confirmed again")
    await assert.rejects(svc.stations.receive({ words: words.join(' '), mediaLabel: 'USB-0042', bag: 'TEB-1001' }), { code: 'PARTICIPANTS_NOT_CONFIRMED' })
    snap = await svc.confirmParticipants(['Operator at Site A', 'Witness at Site A'])
    assert.equal(snap.stations?.next, 'receive')
    assert.equal(snap.stations?.receive?.fromLabel, 'Site B')
    await assert.rejects(svc.runStep('station-preflight:site-a'), { code: 'HANDOFF_NOT_RECEIVED' })
    const misheard = [...words]
    misheard[3] = words[5]!
    await assert.rejects(svc.stations.receive({ words: misheard.join(' '), mediaLabel: 'USB-0042', bag: 'TEB-1001' }), { code: 'HANDOFF_WORDS_MISMATCH' })
    await assert.rejects(svc.stations.receive({ words: words.join(' '), mediaLabel: 'USB-0042', bag: 'TEB-9999' }), { code: 'BAG_NUMBER_MISMATCH' })
    snap = await svc.stations.receive({ words: words.join(' '), mediaLabel: 'USB-0042', bag: 'TEB-1001' })
    assert.equal(snap.stations?.next, 'run')
    assert.equal(snap.stations?.received?.fromLabel, 'Site B')
    assert.equal(snap.steps.find((s) => s.id === 'export-pubkey:fips-2')?.state, 'done', "B's results arrived with the media")
    snap = await runLeg(svc, snap)
    assert.equal(snap.stations?.next, 'hand-off')
    const lastAtA = snap.steps.filter((s) => s.state === 'done').at(-1)!
    snap = await svc.signOff(lastAtA.id, 'Witness at Site A', 'WASA', lastAtA.witnessItems)
    snap = await svc.stations.handOff({ label: 'USB-0042', bag: 'TEB-1002' })
    const words2 = snap.stations!.handoff!.digest!.words

    snap = await svc.stations.choose('site-b')
    snap = await svc.confirmParticipants(['Operator at Site B', 'Witness at Site B'])
    assert.equal(snap.stations?.next, 'receive')
    snap = await svc.stations.receive({ words: words2.join(' '), mediaLabel: 'USB-0042', bag: 'TEB-1002' })
    snap = await runLeg(svc, snap)
    assert.equal(snap.phase, 'complete')
    assert.equal(snap.stations?.next, 'done')
    const { record } = svc.getRecord()
    assert.equal(record.segments?.length, 3)
    const receipts = record.entries.filter((e) => e.kind === 'handoff-received')
    assert.deepEqual((receipts[0]!.facts['refusedBefore'] as { code: string }[]).map((r) => r.code), ['HANDOFF_WORDS_MISMATCH', 'BAG_NUMBER_MISMATCH'])
    const refusal = record.deviations.find((d) => d.source === 'refusal')
    assert.match(refusal?.what ?? '', /HANDOFF_WORDS_MISMATCH.*BAG_NUMBER_MISMATCH/)
    assert.equal(refusal?.resolution?.allowedBy, 'Operator at Site B')
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('REHEARSAL-')).sort().map((n) => n.replace(/rehearsal-\d+/, 'ID')), ['REHEARSAL-ID-media', 'REHEARSAL-ID-site-a', 'REHEARSAL-ID-site-b'])
  } finally {
    await svc.shutdown()
    for (const s of sims) await s.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a two-site rehearsal with the materials, through the service: each station types its own chassis, bags and storage; a manifest bag for the media is refused', async () => {
  const sims: RunningSimulator[] = []
  const dir = mkdtempSync(join(tmpdir(), 'dsm-stations-service-materials-'))
  const svc = service(dir, sims)
  try {
    let snap = await svc.startRehearsal(1, { sites: 2, materials: true })
    assert.deepEqual(snap.plan?.trips?.map((t) => t.station), ['site-b', 'site-a', 'site-b'], 'the same trips with the manifest')
    const legAt = async (station: string, people: string[], words?: { words: string[]; bag: string }) => {
      await svc.stations.choose(station)
      let s = await svc.confirmParticipants(people)
      if (words) s = await svc.stations.receive({ words: words.words.join(' '), mediaLabel: 'USB-0042', bag: words.bag })
      // The ceremony begins with the first station's first step, as BeginCeremony does.
      else s = await svc.runStep(`station-preflight:${station}`)
      return runLeg(svc, s)
    }
    const handOff = async (witness: string, initials: string, bag: string) => {
      const last = svc.snapshot().steps.filter((s) => s.state === 'done').at(-1)!
      await svc.signOff(last.id, witness, initials, last.witnessItems)
      return (await svc.stations.handOff({ label: 'USB-0042', bag })).stations!.handoff!.digest!.words
    }
    snap = await legAt('site-b', ['Operator at Site B', 'Witness at Site B'])
    assert.deepEqual(snap.steps.filter((s) => s.id.startsWith('materials-')).map((s) => s.scriptId).sort(), ['M.1a', 'M.1b', 'M.2a', 'M.2b', 'M.3a', 'M.3b'])
    assert.deepEqual(snap.steps.filter((s) => s.id.startsWith('materials-') && s.state === 'done').map((s) => s.scriptId), ['M.1b', 'M.2b'], 'B typed its own in leg 1')
    const last = snap.steps.filter((s) => s.state === 'done').at(-1)!
    await svc.signOff(last.id, 'Witness at Site B', 'WASB', last.witnessItems)
    // TEB-200001 is the bag site B's laptop came out of (planWithStations' manifest).
    await assert.rejects(svc.stations.handOff({ label: 'USB-0042', bag: 'TEB-200001' }), { code: 'BAG_REUSED' })
    const words1 = (await svc.stations.handOff({ label: 'USB-0042', bag: 'TEB-1001' })).stations!.handoff!.digest!.words
    await legAt('site-a', ['Operator at Site A', 'Witness at Site A'], { words: words1, bag: 'TEB-1001' })
    const words2 = await handOff('Witness at Site A', 'WASA', 'TEB-1002')
    snap = await legAt('site-b', ['Operator at Site B', 'Witness at Site B'], { words: words2, bag: 'TEB-1002' })
    assert.equal(snap.phase, 'complete')
    const { record } = svc.getRecord()
    const stored = (station: string) => (record.entries.filter((e) => e.kind === 'step-done' && e.step === `materials-storage:${station}`).at(-1)!.facts['result'] as { allocation: { item: string; to: string }[] }).allocation.map((a) => [a.item, a.to])
    assert.deepEqual(stored('site-a'), [['laptop-a', 'safe-a']])
    assert.deepEqual(stored('site-b'), [['laptop-b', 'safe-b'], ['archive-media', 'safe-b']])
  } finally {
    await svc.shutdown()
    for (const s of sims) await s.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
