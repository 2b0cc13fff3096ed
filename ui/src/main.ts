/** Entry point of the dashboard and verifier app. */
import { createApp } from 'vue'
import './styles.css'
import App from './App.vue'
import { redeemDashboardPass } from './api.js'
import { startRouter } from './router.js'

// a pass in the URL first: the page's requests then count against its own lane (docs/dashboard.md)
void redeemDashboardPass().finally(() => {
  startRouter()
  createApp(App).mount('#app')
})
