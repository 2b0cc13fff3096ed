/**
 * A two-route history router: `/` (dashboard) and `/verify` (public
 * verifier). Both paths are served the same HTML by the node; links switch
 * pages without a reload and the back button works.
 */
import { readonly, ref, type Ref } from 'vue'

/** The pages of the app. */
export type RoutePath = '/' | '/verify'

const TITLES: Record<RoutePath, string> = {
  '/': 'meshsig — live dashboard',
  '/verify': 'meshsig — verify a signature',
}

/** The page a URL path shows (anything unknown is the dashboard). */
export function routeOf(pathname: string): RoutePath {
  return pathname.replace(/\/+$/, '') === '/verify' ? '/verify' : '/'
}

const current = ref<RoutePath>(routeOf(window.location.pathname))

function show(path: RoutePath): void {
  current.value = path
  document.title = TITLES[path]
}

/** The route being shown. */
export const route: Readonly<Ref<RoutePath>> = readonly(current)

/** Go to `path`, adding a history entry. */
export function navigate(path: RoutePath): void {
  if (path === current.value) return
  window.history.pushState({}, '', path)
  show(path)
  window.scrollTo(0, 0)
}

/** Follow the browser's back and forward buttons; set the first title. */
export function startRouter(): void {
  window.addEventListener('popstate', () => show(routeOf(window.location.pathname)))
  show(current.value)
}
