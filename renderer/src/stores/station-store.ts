/**
 * Stations on the renderer side (design §3b): the mounted drives main lists (ids and labels, never
 * paths) and the station actions. Each action answers a snapshot, which goes into the ceremony store
 * exactly as that store's own actions do; a failed call leaves its error there too.
 */
import { createStore } from 'zustand/vanilla'
import type { CeremonyBridge, CeremonySnapshot, Result, VolumeView } from '../../../preload/contract'
import type { CeremonyStore } from './ceremony-store'

export type StationBridge = Pick<CeremonyBridge, 'chooseStation' | 'listVolumes' | 'chooseMedia' | 'handOff' | 'receiveHandoff' | 'startRehearsal' | 'status'>

export interface StationState {
  /** The drives mounted when last listed; null until listed. */
  volumes: VolumeView[] | null
  listVolumes(): Promise<boolean>
  chooseStation(stationId: string): Promise<boolean>
  chooseVolume(volumeId: string): Promise<boolean>
  /** Main's own folder dialog; production takes a folder only with an exception saying why. */
  chooseFolder(exception?: string): Promise<boolean>
  handOff(mediaLabel: string, bag: string): Promise<boolean>
  receive(words: string, mediaLabel: string, bag: string): Promise<boolean>
  /** `materials`: the simulated sites have a materials manifest to type, each station its own. */
  startRehearsal(targets: number, sites: number, materials?: boolean): Promise<boolean>
}

export function createStationStore(bridge: StationBridge, ceremony: CeremonyStore) {
  async function call(key: string, run: () => Promise<Result<CeremonySnapshot>>): Promise<boolean> {
    ceremony.setState((s) => ({ busy: [...s.busy, key] }))
    let result: Result<CeremonySnapshot>
    try {
      result = await run()
    } catch (err) {
      result = { ok: false, error: { code: 'BRIDGE_FAILED', message: err instanceof Error ? err.message : String(err) } }
    } finally {
      ceremony.setState((s) => ({ busy: s.busy.filter((b) => b !== key) }))
    }
    if (!result.ok) {
      ceremony.setState({ error: result.error })
      return false
    }
    ceremony.setState({ snapshot: result.data, error: null, loaded: true })
    return true
  }

  return createStore<StationState>()((set) => ({
    volumes: null,
    async listVolumes() {
      const result = await bridge.listVolumes().catch((err: unknown) => ({ ok: false as const, error: { code: 'BRIDGE_FAILED', message: String(err) } }))
      if (!result.ok) {
        ceremony.setState({ error: result.error })
        return false
      }
      set({ volumes: result.data.volumes })
      return true
    },
    chooseStation: (stationId) => call('station', () => bridge.chooseStation({ stationId })),
    chooseVolume: (volumeId) => call('media', () => bridge.chooseMedia({ volumeId })),
    chooseFolder: (exception) => call('media', () => bridge.chooseMedia({ viaDialog: true, ...(exception ? { exception } : {}) })),
    handOff: (mediaLabel, bag) => call('handoff', () => bridge.handOff({ mediaLabel, bag })),
    // The words are an argument only: they go to main and are not kept here.
    receive: (words, mediaLabel, bag) => call('receive', () => bridge.receiveHandoff({ words, mediaLabel, bag })),
    startRehearsal: async (targets, sites, materials = false) => {
      const ok = await call('rehearsal', () => bridge.startRehearsal({ targets, sites, ...(materials ? { materials } : {}) }))
      if (ok) ceremony.setState({ record: null })
      return ok
    },
  }))
}

export type StationStore = ReturnType<typeof createStationStore>
