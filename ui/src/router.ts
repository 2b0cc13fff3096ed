/**
 * A two-route history router: `/` (dashboard) and `/verify` (public
 * verifier). Both paths are served the same HTML by the node; links switch
 * pages without a reload and the back button works. On the dashboard the
 * hash names the open agent drawer (`/#/agents/<did>`), so it can be linked
 * and survives a reload; the verifier reads its fields from the query
 * string (`/verify?id=…`).
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

/** Go to `path` (with an optional query string), adding a history entry. */
export function navigate(path: RoutePath, query = ''): void {
  if (path === current.value && query === '') return
  window.history.pushState({}, '', path + query)
  show(path)
  query_.value = window.location.search
  window.scrollTo(0, 0)
}

const query_ = ref(window.location.search)

/** The query string of the current URL (`?id=…`), for the verifier's permalinks. */
export const query: Readonly<Ref<string>> = readonly(query_)

/** Replace the query string without a new history entry (the verifier's permalink of what it shows). */
export function replaceQuery(search: string): void {
  window.history.replaceState({}, '', window.location.pathname + search)
  query_.value = search
}

/** The dashboard link that opens an agent's drawer. */
export function agentHref(did: string): string {
  return `/#/agents/${encodeURIComponent(did)}`
}

function agentOfHash(hash: string): string | undefined {
  const m = /^#\/agents\/(.+)$/.exec(hash)
  if (!m?.[1]) return undefined
  try {
    return decodeURIComponent(m[1])
  } catch {
    return undefined
  }
}

const agentHash = ref(agentOfHash(window.location.hash))

/** The DID whose drawer is open (from the URL's hash), if any. */
export const openAgent: Readonly<Ref<string | undefined>> = readonly(agentHash)

/** Open an agent's drawer (a history entry, so back closes it), or close it with undefined. */
export function showAgent(did: string | undefined): void {
  const hash = did === undefined ? '' : `#/agents/${encodeURIComponent(did)}`
  if (window.location.hash === hash) return
  window.history.pushState({}, '', window.location.pathname + window.location.search + hash)
  agentHash.value = did
}

/** Follow the browser's back and forward buttons; set the first title. */
export function startRouter(): void {
  window.addEventListener('popstate', () => {
    show(routeOf(window.location.pathname))
    query_.value = window.location.search
    agentHash.value = agentOfHash(window.location.hash)
  })
  window.addEventListener('hashchange', () => (agentHash.value = agentOfHash(window.location.hash)))
  show(current.value)
}
