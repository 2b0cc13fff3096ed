/**
 * Names that cannot pass for another agent's (docs/dashboard.md, "Text from
 * the network"). A name is any text its agent chose: two agents may share one,
 * an agent may take this node's name, or a name shaped like a DID. Such a name
 * is shown with its agent's short DID. Names are compared as a reader sees
 * them: NFKC, without invisible and format characters, spaces collapsed, in
 * lower case (`planner`, `Planner` and `plan\u200bner` are one name).
 * Letters of other scripts that look alike are not folded.
 */
import { plainText, shortDid } from './format.js'
import type { DashboardState } from './state.js'

const INVISIBLE = /[\p{Cf}\p{Cc}\u034f\u115f\u1160\u3164\uffa0\ufe00-\ufe0f]/gu

/** How a name reads, for comparing names. */
export function nameKey(name: string): string {
  return name.normalize('NFKC').replace(INVISIBLE, '').replace(/\s+/g, ' ').trim().toLowerCase()
}

interface Index {
  readonly counts: Map<string, number>
}

const indexes = new WeakMap<DashboardState, Index>()

/** The agents of `state` changed (a snapshot, a registration, a renamed or dropped agent): count names again when asked. */
export function forgetNames(state: DashboardState): void {
  indexes.delete(state)
}

function indexOf(state: DashboardState): Index {
  let index = indexes.get(state)
  if (index === undefined) {
    const counts = new Map<string, number>()
    for (const a of Object.values(state.agents)) {
      const key = nameKey(a.name)
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
    index = { counts }
    indexes.set(state, index)
  }
  return index
}

/** True when `name`, the name of agent `did`, could be taken for another agent's or for a DID. */
export function passesForAnother(state: DashboardState, did: string, name: string): boolean {
  const key = nameKey(name)
  if (key === '' || key.startsWith('did:')) return true
  if (state.node !== null && did !== state.node.did && key === nameKey(state.node.name)) return true
  return (indexOf(state).counts.get(key) ?? 0) > 1
}

/** An agent's name as plain text, with its short DID when the name could pass for another's. */
export function agentName(state: DashboardState, did: string, name: string): string {
  const shown = plainText(name)
  return passesForAnother(state, did, name) ? `${shown} (${shortDid(did)})` : shown
}
