/** Thin IPC handlers: the payload is already validated; each one calls a service and returns its result. */
import type { Mode } from '../../preload/contract'
import type { CeremonyService } from '../ceremony/ceremony-service'
import type { SettingsService } from '../settings/settings-service'
import type { Handlers } from './register'

export interface AppIdentity {
  name: string
  version: string
  platform: string
  arch: string
}

export interface Services {
  identity: AppIdentity
  /** Production unless the loaded plan is a rehearsal; every screen shows it. */
  mode(): Mode
  settings: SettingsService
  ceremony: CeremonyService
}

export function createHandlers(services: Services): Handlers {
  const { ceremony } = services
  return {
    appInfo: () => ({ ...services.identity, mode: services.mode() }),
    getSettings: () => services.settings.get(),
    updateSettings: (patch) => services.settings.update(patch),
    openPlan: () => ceremony.openPlan(),
    validatePlan: ({ text }) => ceremony.validatePlan(text),
    savePlan: ({ text }) => ceremony.savePlan(text),
    startRehearsal: ({ targets, kind, sites, materials }) => ceremony.startRehearsal(targets, { ...(kind ? { kind } : {}), ...(sites ? { sites } : {}), ...(materials ? { materials } : {}) }),
    setApiKey: ({ applianceId, apiKey }) => ceremony.setApiKey(applianceId, apiKey),
    checkConnections: () => ceremony.checkConnections(),
    confirmParticipants: ({ present }) => ceremony.confirmParticipants(present),
    attendance: ({ person, event }) => ceremony.attendance(person, event),
    status: () => ceremony.snapshot(),
    runStep: ({ stepId, confirmation, input }) => ceremony.runStep(stepId, confirmation, input),
    decideApproval: (req) => ceremony.decideApproval(req),
    restartApproval: ({ stepId }) => ceremony.restartApproval(stepId),
    signOff: ({ stepId, witness, initials, items }) => ceremony.signOff(stepId, witness, initials, items),
    recordException: ({ stepId, by, note, waivesSignoff }) => ceremony.recordException(stepId, by, note, waivesSignoff === true),
    abort: ({ reason }) => ceremony.abort(reason),
    approveScript: ({ approver, initials }) => ceremony.approveScript(approver, initials),
    resolveDeviation: (req) => ceremony.resolveDeviation(req),
    takeBreak: ({ event, stays }) => ceremony.takeBreak(event, stays ?? []),
    getScript: () => ceremony.script(),
    exportRecord: ({ format }) => ceremony.exportRecord(format),
    getRecord: () => ceremony.getRecord(),
    setPassword: ({ signInId, password }) => ceremony.setPassword(signInId, password),
    revealApiKey: ({ applianceId }) => ceremony.revealApiKey(applianceId),
    openRecord: () => ceremony.openRecord(),
    chooseStation: ({ stationId }) => ceremony.stations.choose(stationId),
    listVolumes: () => ceremony.stations.listVolumes(),
    chooseMedia: (req) => ceremony.stations.chooseMedia(req),
    handOff: ({ mediaLabel, bag }) => ceremony.stations.handOff({ label: mediaLabel, bag }),
    receiveHandoff: ({ words, mediaLabel, bag }) => ceremony.stations.receive({ words, mediaLabel, bag }),
  }
}
