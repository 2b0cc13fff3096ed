/**
 * What sync remembers of the registry items it refused (docs/protocol.md §9,
 * "Faults and backoff"), so that it neither fetches, checks nor audits them
 * again: a verdict any copy of an item would get, by short id, for every
 * peer; a forgery, or a verdict that rests on this node's own state, only for
 * the peer that served it.
 */
import type { Envelope } from '../core/index.js'
import { SHORT_ID_HEX } from '../core/registry-reconcile.js'

/**
 * Refused registry items a node remembers, over all peers and both kinds of
 * memory, so that it neither fetches nor audits them again (docs/protocol.md
 * §9); past it the memory starts afresh (node/cache-bounds.ts).
 */
export const REFUSED_IDS_MEMORY = 100_000

/** The refused item as sync saw it: its type and the DID it names, when it parsed. */
export type RefusedItem = Pick<Envelope, 'type'> & { readonly did?: string }

/**
 * True when refusing `item` with `code` says something about this node's
 * state, not about the item (docs/protocol.md §9): a key event that does not
 * follow the DID's log as this node holds it (`KEL_INVALID`: it may skip an
 * event that has not arrived yet, decision 0005), and a registration whose
 * signature fails under the key this node holds current for its DID
 * (`SIGNATURE_INVALID` of a `reg`: it may be signed by a key of a rotation not
 * taken yet), and a revocation no key known here can check (`UNKNOWN_SIGNER`
 * of a `rev`: its DID's log, or the registration that names its controller,
 * has not arrived; decision 0069). An inception's signature is checked under
 * the key it names, a rotation's under the key its `prev` names: those
 * verdicts are the item's.
 */
export function restsOnState(code: string, item: RefusedItem | undefined): boolean {
  if (code === 'KEL_INVALID') return true
  return (code === 'SIGNATURE_INVALID' && item?.type === 'reg') || (code === 'UNKNOWN_SIGNER' && item?.type === 'rev')
}

/**
 * Verdicts any copy of an item gets, whatever its signature: it names a DID
 * that is revoked or whose key log is full, or the registry is full (decision
 * 0036). Any other verdict may rest on the signature, which the short id does
 * not cover: `ROTATED_KEY` (a copy signed with a retired key, review 77), and
 * `DUPLICATE` or `DUPLICITY` too, which a copy signed with a retired key can
 * get where the genuine one would be taken (a registration "superseded" by one
 * a thief made under the retired key, a conflict under rotated-out keys;
 * review 79).
 */
const ANY_COPY_CODES: ReadonlySet<string> = new Set(['REVOKED', 'KEY_LOG_FULL', 'REGISTRY_FULL'])

/**
 * The registry items a node refused and will not fetch again (docs/protocol.md
 * §9), at most `REFUSED_IDS_MEMORY` in all. A verdict any copy would get
 * (`ANY_COPY_CODES`) is remembered by short id, so no peer's copy is fetched
 * again; any other by the serving peer and short id, since the id does not
 * cover the signature (a rogue peer's copy signed with a junk or retired key
 * must not keep another peer's real one away, nor be fetched from the rogue
 * again). A verdict that rests on this
 * node's state of the item's DID (`restsOnState`) is remembered for the
 * serving peer too, and forgotten once that DID's key log moves on (`advanced`):
 * a rogue peer serving a DID's rotation n+1 before n must not keep the node
 * from taking it from honest peers (decision 0052), nor have it fetched from
 * the rogue again while the log stands still; nor, once a registration of
 * the DID is taken, a revocation its controller may have signed (decision
 * 0069). Not remembered: any other signer whose key log has not arrived yet
 * (`UNKNOWN_SIGNER`), and a renewal past its DID's budget (`RATE_LIMITED`),
 * taken in a later window.
 */
export class RefusedIds {
  /** Short ids of verdicts any copy gets, and `peer|short` of the others. */
  private readonly ids = new Set<string>()
  /** `peer|short` of verdicts resting on the node's state. */
  private readonly pending = new Set<string>()
  /** The same keys, by DID, to forget them when the DID's log moves on. */
  private readonly byDid = new Map<string, Set<string>>()

  /** How many are remembered. */
  get size(): number {
    return this.ids.size + this.pending.size
  }

  /** Remember the item `id` (`item`, when it parsed) that `peer` served and this node refused with `code`. */
  remember(id: string, code: string, peer: string, item?: RefusedItem): void {
    const onState = restsOnState(code, item)
    if ((code === 'UNKNOWN_SIGNER' && !onState) || code === 'RATE_LIMITED') return
    if (this.size >= REFUSED_IDS_MEMORY) this.clear()
    const short = id.slice(0, SHORT_ID_HEX)
    if (onState) {
      if (item?.did !== undefined) this.rememberFor(item.did, `${peer}|${short}`)
      return // no DID to forget it by: not remembered, as UNKNOWN_SIGNER
    }
    this.ids.add(ANY_COPY_CODES.has(code) ? short : `${peer}|${short}`)
  }

  /** True when the item of `short` was refused as any copy, or as `peer`'s. */
  has(peer: string, short: string): boolean {
    const key = `${peer}|${short}`
    return this.ids.has(short) || this.ids.has(key) || this.pending.has(key)
  }

  /**
   * `did`'s key log moved on here, or a registration of it was taken (accepted from anywhere): what was refused
   * on its old state may pass now.
   */
  advanced(did: string): void {
    const keys = this.byDid.get(did)
    if (keys === undefined) return
    for (const key of keys) this.pending.delete(key)
    this.byDid.delete(did)
  }

  private rememberFor(did: string, key: string): void {
    if (this.pending.has(key)) return
    let keys = this.byDid.get(did)
    if (keys === undefined) this.byDid.set(did, (keys = new Set()))
    keys.add(key)
    this.pending.add(key)
  }

  private clear(): void {
    this.ids.clear()
    this.pending.clear()
    this.byDid.clear()
  }
}
