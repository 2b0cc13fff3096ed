/**
 * One request of a reconciliation pass (docs/protocol.md §9) and what its
 * failures mean: a broken answer is the peer's fault (`PeerFault`), an
 * answer past the round's byte budget or the end of the round's slice of
 * the node-wide turn ends the pass without charging anyone, and a transport
 * failure or the peer's own refusal is no offence.
 */
import { decodeFingerprint } from './sync.js'
import { PeerFault, type Round, type SyncBudget } from './sync-round.js'
import type { Fingerprint } from '../core/registry-reconcile.js'
import type { MeshP2P, SyncRequest } from '../p2p/index.js'

/**
 * An answer passed what is left of the round's byte budget: the peer could
 * not know that bound, so this ends the round without charging it.
 */
export class BudgetSpent extends Error {}
/** The round's slice of the node-wide turn is over and another round waits: the pass ends at this exchange. */
export class TurnOver extends Error {}

/** The sync exchange a pass asks through. */
export type SyncExchange = () => Pick<MeshP2P, 'sync'>

/**
 * Ask `r`'s peer for at most `maxItems` frames and `maxBytes` bytes, counting
 * both ways into `r.bytes`. `budgeted`: an answer over `maxBytes` is the
 * round's budget running out (`BudgetSpent`), not a fault.
 */
export async function ask(
  p2p: SyncExchange,
  r: Round,
  request: SyncRequest,
  limits: { readonly maxItems: number; readonly maxBytes: number },
  budgeted = false,
): Promise<Uint8Array[]> {
  if (r.due?.() === true) {
    r.cut = true
    throw new TurnOver("the round's slice of the turn is over")
  }
  r.bytes += JSON.stringify(request).length
  try {
    const frames = await p2p().sync(r.peer, request, { signal: r.signal, limits })
    for (const f of frames) r.bytes += f.length + 2
    return frames
  } catch (err) {
    // only a broken answer is the peer's fault (an unknown frame, over the limits); a transport failure
    // (the peer went offline mid-round) or a refusal from its side is no offence, or honest peers get banned
    const e = err as { code?: string; details?: Record<string, unknown> }
    const broken = e.code === 'PEER_ERROR' && e.details?.cause === undefined && e.details?.remoteCode === undefined
    if (broken && budgeted && e.details?.over === 'bytes') throw new BudgetSpent(String(err))
    if (broken) throw new PeerFault(String(err))
    throw err
  }
}

/** Ask for items with the bytes left in the round's budget as the byte limit. */
export function askWithin(
  p2p: SyncExchange,
  r: Round,
  request: SyncRequest,
  maxItems: number,
  budget: SyncBudget,
): Promise<Uint8Array[]> {
  return ask(p2p, r, request, { maxItems, maxBytes: budget.bytes - r.bytes }, true)
}

/** The peer's fingerprints of `prefixes` (or of their 16 children each); a short or broken answer is a fault. */
export async function fingerprints(
  p2p: SyncExchange,
  r: Round,
  prefixes: string[],
  children: boolean,
): Promise<Fingerprint[]> {
  const want = prefixes.length * (children ? 16 : 1)
  const request: SyncRequest = children ? { kind: 'fp', prefixes, children } : { kind: 'fp', prefixes }
  const frames = await ask(p2p, r, request, { maxItems: want, maxBytes: want * 24 })
  const out = frames.map(decodeFingerprint)
  if (out.length !== want || out.some((f) => f === undefined)) throw new PeerFault('bad fingerprint answer')
  return out as Fingerprint[]
}

/** No frames when the peer refused a request it does not know (an older node); any other failure is thrown on. */
export function refusedBy(err: unknown): Uint8Array[] {
  if ((err as { details?: { remoteCode?: unknown } }).details?.remoteCode === 'INVALID_INPUT') return []
  throw err
}

/** Undefined for a spent budget or the end of the round's slice; any other failure is thrown on. */
export function spent(err: unknown): undefined {
  if (err instanceof BudgetSpent || err instanceof TurnOver) return undefined
  throw err
}
