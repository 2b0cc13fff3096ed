/** Entry point of the dashboard and verifier app. */
import { createApp } from 'vue'
import './styles.css'
import App from './App.vue'
import { startRouter } from './router.js'

startRouter()
createApp(App).mount('#app')
