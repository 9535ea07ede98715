import { afterEach, describe, expect, test } from 'vitest'
import { cleanup, render, screen, within } from '@testing-library/react'
import { MaterialsSection } from '../../renderer/src/screens/record/MaterialsSection'
import { eventsByStep } from '../../renderer/src/screens/record/record-model'
import { makeRecord } from '../fakes/ceremony-fixtures'

afterEach(cleanup)

const entry = (seq: number, step: string, kind: string, facts: Record<string, unknown>) => ({ seq, ts: '2026-12-02T10:00:00.000Z', prev: '00'.repeat(32), planDigest: 'ab'.repeat(32), actor: 'engine', step, kind, facts, hash: '99'.repeat(32) })
const mismatch = { code: 'BAG_NUMBER_MISMATCH', item: 'laptop', description: 'Ceremony laptop', field: 'item:laptop:bag', expected: 'TEB-100001', typed: 'TEB-999999', source: 'operator', against: 'the record of first-ceremony (4cae1b42…), which sealed it', reference: 'BAG-3fa94c1b', scriptId: 'M.2' }

const record = makeRecord({
  entries: [
    entry(1, 'ceremony', 'ceremony-open', {}),
    entry(2, 'materials-appliances', 'step-done', { result: { appliances: [{ id: 'fips-1', label: 'FIPS 1', serial: 'FX2200-0001', tamperLabels: ['TL-101', 'TL-102'], reported: { version: '4.34.2201', apiVersion: '1.0', serverMode: 'Sgx', fipsLevel: 3, pluginsDigest: 'q1w2e3r4t5y6u7i8o9p0' }, tlsSpkiSha256: null }], mismatches: [], acknowledged: {} } }),
    entry(3, 'materials-unseal', 'materials-mismatch', mismatch),
    entry(4, 'materials-unseal', 'exception', { by: 'Witness One', note: 'BAG-3fa94c1b: rebagged by site security; see their log' }),
    entry(5, 'materials-unseal', 'step-done', { result: { items: [{ id: 'laptop', description: 'Ceremony laptop', bag: 'TEB-999999', serial: 'LT-1', sealedBy: { ceremonyId: 'first-ceremony', finalDigest: 'cd'.repeat(32), bag: 'TEB-100001', to: 'Safe A (safe)' } }], records: [], mismatches: [mismatch], acknowledged: { 'BAG-3fa94c1b': 4 } } }),
    entry(6, 'materials-storage', 'step-done', { result: { allocation: [{ item: 'laptop', description: 'Ceremony laptop', serial: 'LT-1', to: 'safe-a', toLabel: 'Safe A (safe)', kind: 'safe', bag: 'TEB-200001' }], mismatches: [], acknowledged: {} } }),
  ],
})

describe('the record page: materials', () => {
  test('shows the chassis as typed beside what the API reported, the bags opened, the storage allocation and each mismatch with who let it stand', () => {
    render(<MaterialsSection record={record} scriptIds={new Map([['materials-unseal', 'M.2']])} />)
    const section = screen.getByTestId('record-materials')
    const appliances = within(section).getByRole('table', { name: /Appliances: typed from the chassis/ })
    expect(appliances.textContent).toContain('FX2200-0001')
    expect(appliances.textContent).toContain('TL-101 TL-102')
    expect(appliances.textContent).toContain('4.34.2201, Sgx')
    const opened = within(section).getByRole('table', { name: 'Taken out of their bags' })
    expect(opened.textContent).toContain('first-ceremony: bag TEB-100001, given to Safe A (safe)')
    const stored = screen.getByTestId('record-storage')
    expect(within(stored).getByText('TEB-200001')).toBeTruthy()
    expect(stored.textContent).toContain('Safe A (safe)')
    const item = section.querySelector('.record-materials-mismatches li')!
    expect(item.textContent).toContain('typed "TEB-999999", the record of first-ceremony')
    expect(item.textContent).toContain('Let stand by Witness One (entry 4): BAG-3fa94c1b: rebagged by site security')
  })

  test('across sites every station\'s materials steps are listed, each with its last result', () => {
    const chassis = (id: string, serial: string) => ({ id, label: id, serial, tamperLabels: ['TL-1'], reported: { version: '4.34.2201', apiVersion: '1.0', serverMode: 'Sgx', fipsLevel: 3, pluginsDigest: null }, tlsSpkiSha256: null })
    const stored = (item: string, to: string, bag: string) => ({ item, description: item, serial: null, to, toLabel: to, kind: 'safe', bag })
    const sites = makeRecord({
      entries: [
        entry(1, 'materials-appliances:site-b', 'step-done', { result: { appliances: [chassis('fips-2', 'FX-B')], mismatches: [], acknowledged: {} } }),
        entry(2, 'materials-appliances:site-a', 'step-done', { result: { appliances: [chassis('fips-1', 'FX-A')], mismatches: [], acknowledged: {} } }),
        entry(3, 'materials-storage:site-a', 'step-done', { result: { allocation: [stored('laptop-a', 'safe-a', 'TEB-300001')], mismatches: [], acknowledged: {} } }),
        entry(4, 'materials-storage:site-b', 'step-done', { result: { allocation: [stored('laptop-b', 'safe-b', 'TEB-300002')], mismatches: [], acknowledged: {} } }),
        entry(5, 'materials-storage:site-b', 'step-done', { result: { allocation: [stored('laptop-b', 'safe-b', 'TEB-300003')], mismatches: [], acknowledged: {} } }),
      ],
    })
    render(<MaterialsSection record={sites} scriptIds={new Map()} />)
    const appliances = within(screen.getByTestId('record-materials')).getByRole('table', { name: /Appliances: typed from the chassis/ })
    expect(appliances.textContent).toContain('FX-B')
    expect(appliances.textContent).toContain('FX-A')
    const storage = screen.getByTestId('record-storage').textContent!
    expect(storage).toContain('TEB-300001')
    expect(storage).toContain('TEB-300003')
    expect(storage).not.toContain('TEB-300002')
  })

  test('a record without a materials manifest has no materials section', () => {
    render(<MaterialsSection record={makeRecord()} scriptIds={new Map()} />)
    expect(screen.queryByTestId('record-materials')).toBeNull()
  })

  test('a mismatch is also listed under its step', () => {
    expect(eventsByStep(record).get('materials-unseal')!.map((e) => e.text)[0]).toMatch(/^mismatch BAG-3fa94c1b: Ceremony laptop: typed "TEB-999999"/)
  })
})
