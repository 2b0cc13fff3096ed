/** Envelopes a node refuses as malformed or forged, for tests of what a refusal leaves behind. */
import type { MeshNode } from '../../node/mesh-node.js'

/** A message envelope naming `node`'s DID as sender, with a made-up nonce and signature, and `extra` members. */
export function junkEnvelope(
  node: Pick<MeshNode, 'did'>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    v: 1,
    type: 'msg',
    from: node.did,
    to: null,
    body: 'x',
    ts: 1,
    nonce: 'A'.repeat(22) + '==',
    sig: 'A'.repeat(86) + '==',
    ...extra,
  }
}
