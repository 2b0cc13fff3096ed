/**
 * Vite build of the dashboard and the public verifier: root `ui/`, output
 * `ui/dist`, served by the node (api/routes/ui-routes.ts). Everything is
 * bundled (no CDN, no external font) and nothing is inlined, so the pages
 * run under a strict Content-Security-Policy (`script-src 'self'`,
 * `style-src 'self'`).
 */
import { fileURLToPath } from 'node:url'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vite'

const root = fileURLToPath(new URL('.', import.meta.url))

export default defineConfig({
  root,
  base: '/',
  publicDir: false,
  plugins: [vue()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    sourcemap: false,
    target: 'es2022',
    chunkSizeWarningLimit: 1024,
  },
})
