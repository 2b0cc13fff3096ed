/**
 * Split views of logs this node does not know stay within the node-wide
 * budget (`limits.witness.unknownEvidencePerWindow`, 16 an hour; decision
 * 0066, addendum) whatever agents name them as controller (attack review 113,
 * L1; decision 0079). A registration's `controller` is signed by the agent's
 * key (docs/protocol.md §4), so anyone names any DID as the controller of a
 * fresh agent: that made the DID "known" here, and its self-made split view
 * was recorded and relayed outside the budget. A log is known by what it
 * signed itself: the node's own, or one it holds as its witness.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createRegistration,
  didFromPublicKey,
  generateKeyPair,
  peerIdFromPublicKey,
  sha256,
} from '../../node/core/index.js'
import { createLogKeyBinding } from '../../node/core/log-key-binding.js'
import { checkpointText, signNoteText } from '../../node/core/note.js'
import type { MeshNode } from '../../node/mesh-node.js'
import type { Ingest } from '../../node/services/ingest.js'
import { startNode, stopAll } from '../helpers/mesh.js'

const root = (n: number): Uint8Array => sha256(new Uint8Array([n & 255, (n >> 8) & 255, 13]))

describe('evidence of logs a fresh agent names as controller', () => {
  let w: MeshNode
  beforeAll(async () => {
    w = await startNode({ init: { checkpointIntervalMs: 3_600_000 } })
  }, 60_000)
  afterAll(async () => {
    await stopAll([w])
  })

  it('40 throwaway logs, each named controller by one fresh agent, stay within the unknown-evidence budget', () => {
    const ingest = (w as unknown as { parts: { ingest: Ingest } }).parts.ingest
    const inconsistent = (): number =>
      w.store.auditEntries
        .entries(0, w.store.auditEntries.count())
        .filter((r) => (JSON.parse(r.entry) as { kind: string }).kind === 'checkpoint.inconsistent').length
    const before = inconsistent()
    const rogue = peerIdFromPublicKey(generateKeyPair().publicKey)
    const statuses: number[] = []
    for (let i = 0; i < 40; i++) {
      const key = generateKeyPair()
      const log = generateKeyPair()
      const did = didFromPublicKey(key.publicKey)
      const binding = createLogKeyBinding(did, log.publicKey, generateKeyPair().publicKey, Date.now(), key)
      // a fresh agent whose own key names the throwaway DID as its controller: nothing of that DID signs it
      const agentKey = generateKeyPair()
      const agent = { did: didFromPublicKey(agentKey.publicKey), name: `front-${i}`, capabilities: [] }
      const reg = createRegistration({ ...agent, controller: did, peerId: rogue, ts: Date.now() }, agentKey)
      expect(ingest.ingest(reg, { kind: 'sync', peer: rogue }, { fresh: false }).ok).toBe(true)
      const note = (n: number): string => {
        const text = checkpointText(did, 1, root(n))
        return `${text}\n${signNoteText(text, did, log)}`
      }
      const frame = { binding, op: 'evidence', origin: did, earlier: note(2 * i), later: note(2 * i + 1) }
      const bytes = new TextEncoder().encode(JSON.stringify(frame))
      statuses.push((w.witness.serve(bytes, peerIdFromPublicKey(key.publicKey)) as { status: number }).status)
    }
    expect(statuses.every((s) => s === 200)).toBe(true) // each checks out: answered 200, recorded or counted
    expect(inconsistent() - before).toBe(16) // the budget, not 40
    expect(w.witness.unrecordedEvidence()).toBe(24)
  })
})
