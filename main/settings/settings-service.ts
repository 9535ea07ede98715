/**
 * Workstation settings, persisted in the user-data folder. The store is injected: electron-store in
 * the app, conf in tests; both write the same `config.json`. No secret ever goes here.
 */
import { DEFAULT_SETTINGS, SettingsSchema, type Settings } from '../../preload/contract'

/** The slice of conf / electron-store we use. */
export interface SettingsStore {
  get store(): Record<string, unknown>
  set store(value: Record<string, unknown>)
}

export class SettingsService {
  private readonly listeners = new Set<(settings: Settings) => void>()

  constructor(private readonly store: SettingsStore) {}

  /**
   * The saved settings, or the defaults where the file holds something off-schema (a hand edit,
   * an older version). The file is not rewritten until the operator changes a setting.
   */
  get(): Settings {
    const parsed = SettingsSchema.partial().safeParse(this.store.store)
    return { ...DEFAULT_SETTINGS, ...(parsed.success ? parsed.data : {}) }
  }

  update(patch: Partial<Settings>): Settings {
    const next = SettingsSchema.parse({ ...this.get(), ...patch })
    this.store.store = next
    for (const listener of this.listeners) listener(next)
    return next
  }

  onChange(listener: (settings: Settings) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}
