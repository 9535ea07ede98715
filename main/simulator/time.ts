// DSM writes timestamps in the compact UTC form YYYYMMDDTHHMMSSZ (dsm-api.md §1).
export function dsmTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '')
}
