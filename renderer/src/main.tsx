import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App'
import { getBridge } from './bridge'
import { createStores } from './stores'
import { rememberUi, restoredUi } from './ui-memory'
import './styles.css'

const root = document.getElementById('root')
if (!root) throw new Error('index.html has no #root')
// After a renderer crash main loads the page again: the operator is put back on the same screen and step.
const restored = restoredUi()
const stores = createStores(getBridge(), restored.screen ? { screen: restored.screen } : {})
if (restored.selectedStepId) stores.ui.getState().selectStep(restored.selectedStepId)
rememberUi(stores.ui)
createRoot(root).render(
  <StrictMode>
    <App stores={stores} />
  </StrictMode>,
)
