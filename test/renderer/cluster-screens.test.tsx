/**
 * The screens stay kind-agnostic for the cluster kinds: the home screen offers the kinds main says
 * it can rehearse, and the setup screen asks for what main says the plan needs (a named user's
 * password, earlier records opened in main's dialog) before the ceremony can start.
 */
import { afterEach, describe, expect, test } from 'vitest'
import { act, cleanup, fireEvent, screen, within } from '@testing-library/react'
import { digest, makeSnapshot, ok } from '../fakes/ceremony-fixtures'
import { bridgeWith, renderApp } from '../fakes/render-app'

afterEach(cleanup)

const noPlan = makeSnapshot({ plan: null, phase: 'no-plan', steps: [], groups: [], connections: [], rehearsalCredentials: [], currentStepId: null })

describe('cluster kinds in the app', () => {
  test('the home screen rehearses the kind chosen from main\'s list', async () => {
    const bridge = bridgeWith(noPlan)
    bridge.startRehearsal.mockResolvedValue(ok(makeSnapshot({ phase: 'setup', participantsConfirmed: false })))
    await renderApp(bridge)
    const select = screen.getByLabelText('Ceremony to rehearse') as HTMLSelectElement
    expect([...select.options].map((o) => o.textContent)).toEqual(['CMK replication', 'Link the FIPS appliances to the cluster'])
    fireEvent.change(select, { target: { value: 'link-cluster' } })
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Start a rehearsal' })))
    expect(bridge.startRehearsal).toHaveBeenCalledWith({ targets: 2, kind: 'link-cluster' })
  })

  test('setup needs the administrator\'s password (sent to main, field cleared, no copy kept) and the earlier record (main\'s dialog)', async () => {
    const need = makeSnapshot({
      phase: 'setup', participantsConfirmed: true,
      signIns: [{ id: 'cluster', label: 'Non-FIPS DSM cluster', user: 'admin@example.test', host: 'dsm.example:443', hasPassword: false }],
      buildsOn: [{ digest: digest('5a'.repeat(32)), provided: false }],
    })
    const withPassword = { ...need, signIns: need.signIns.map((s) => ({ ...s, hasPassword: true })) }
    const ready = { ...withPassword, buildsOn: withPassword.buildsOn.map((r) => ({ ...r, provided: true })) }
    const bridge = bridgeWith(need)
    bridge.setPassword.mockResolvedValue(ok(withPassword))
    bridge.openRecord.mockResolvedValue(ok({ cancelled: false, snapshot: ready }))
    const stores = await renderApp(bridge, 'setup')
    const go = () => screen.getByRole('button', { name: 'Go to the ceremony steps' })
    expect(go().hasAttribute('disabled')).toBe(true)
    const input = screen.getByLabelText(/Password of admin@example\.test/) as HTMLInputElement
    expect(input.type).toBe('password')
    fireEvent.change(input, { target: { value: 'cluster-admin-secret' } })
    await act(async () => fireEvent.click(within(input.closest('form')!).getByRole('button', { name: 'Set password' })))
    expect(bridge.setPassword).toHaveBeenCalledWith({ signInId: 'cluster', password: 'cluster-admin-secret' })
    expect(input.value).toBe('')
    for (const store of Object.values(stores)) expect(JSON.stringify(store.getState())).not.toContain('cluster-admin-secret')
    expect(go().hasAttribute('disabled')).toBe(true)
    expect(screen.getByRole('group', { name: 'Final digest of the earlier record' }).textContent).toContain(digest('5a'.repeat(32)).hexGroups)
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Open record…' })))
    expect(bridge.openRecord).toHaveBeenCalledWith()
    expect(screen.getByText(/Opened and verified/)).toBeTruthy()
    expect(go().hasAttribute('disabled')).toBe(false)
  })
})
