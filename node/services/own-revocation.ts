/**
 * A node whose own DID is revoked (decision 0077). The revocation is final
 * (docs/protocol.md §6), and the node's key is then a key nobody should take
 * for the node any more: most often it was stolen. So the node fails closed:
 * it registers no agent (it would name the revoked DID as their controller,
 * and peers would list them as hosted by it) and rotates none (a rotation
 * here signs a registration naming it again), and `/health` says
 * `status: "revoked"`. Reads, the audit export and its checkpoints go on, and
 * so do revocations of the agents it hosts: a revocation only takes
 * authority away, and peers take one by a revoked controller's last key
 * (docs/protocol.md §6).
 */
import { isoTime, MeshsigError } from '../core/index.js'
import type { Store } from '../store/index.js'

/** The revocation of the node's own DID, as `/health` shows it. */
export interface OwnRevocation {
  readonly reason: string
  readonly revokedAt: string
  readonly by: 'self' | 'controller'
}

/** The revocation of `did` (the node's own) held in `store`, or undefined while it is not revoked. */
export function ownRevocation(store: Pick<Store, 'keyEvents'>, did: string): OwnRevocation | undefined {
  const revoked = store.keyEvents.state(did)?.revoked
  if (revoked === null || revoked === undefined) return undefined
  return { reason: revoked.reason, revokedAt: isoTime(revoked.ts), by: revoked.by }
}

/** Throws `REVOKED` when the node's own DID `did` is revoked: it does not `act` under it (decision 0077). */
export function refuseUnderRevokedDid(store: Pick<Store, 'keyEvents'>, did: string, act: string): void {
  if (ownRevocation(store, did) === undefined) return
  const why =
    `this node's DID ${did} is revoked: it ${act} no more. Register agents at another node, ` +
    'or start a new node from a new MESHSIG_HOME (docs/SECURITY.md)'
  throw new MeshsigError('REVOKED', why, { did })
}
