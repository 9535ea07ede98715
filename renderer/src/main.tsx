import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App'
import { getBridge } from './bridge'
import { createAppStore } from './stores/app-store'
import './styles.css'

const root = document.getElementById('root')
if (!root) throw new Error('index.html has no #root')
createRoot(root).render(
  <StrictMode>
    <App appStore={createAppStore(getBridge())} />
  </StrictMode>,
)
