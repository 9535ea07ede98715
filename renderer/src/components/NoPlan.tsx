import { useStores } from '../stores'

/** Shown by the plan, setup and run screens when no plan is loaded. */
export function NoPlan(): React.JSX.Element {
  const stores = useStores()
  return (
    <div>
      <h2 tabIndex={-1} data-screen-heading>
        No plan loaded
      </h2>
      <button type="button" onClick={() => stores.ui.getState().go('home')}>
        Back to start
      </button>
    </div>
  )
}
