// The gate of gossiped checkpoints (services/checkpoint-gate.ts, docs/audit.md): a checkpoint is taken only
// from the peer whose key is its origin's current key, only of a known node (one that hosts an agent stored
// here, or the connected peer itself), and at most CHECKPOINTS_PER_MINUTE a minute per origin, counted when
// one is taken. Found by the two attack reviews of stop 32: any peer could make every node store and audit
// checkpoints of throwaway keys at gossip speed, and replays of old ones could spend an origin's budget.
import { describe, expect, it } from 'vitest'
import {
  createCheckpoint,
  didFromPublicKey,
  generateKeyPair,
  peerIdFromPublicKey,
  toB64,
} from '../../../node/core/index.js'
import { CHECKPOINTS_PER_MINUTE, CheckpointGate } from '../../../node/services/checkpoint-gate.js'
import { FixedClock } from '../../helpers/service-kit.js'

const node = generateKeyPair()
const did = didFromPublicKey(node.publicKey)
const peer = peerIdFromPublicKey(node.publicKey)
const relay = peerIdFromPublicKey(generateKeyPair().publicKey)
const chk = (size: number) => createCheckpoint(did, size, new Uint8Array(32), 0, node)

describe('the checkpoint gate', () => {
  it('takes a checkpoint from its origin only, by the key its key event log names', () => {
    const rotated = generateKeyPair()
    const keys = new Map<string, string>()
    const gate = new CheckpointGate({ currentKey: (d) => keys.get(d), hostsAgents: () => true, clock: Date.now })
    expect(gate.admit(chk(1), peer, relay)).toBe('take')
    expect(gate.admit(chk(2), relay, relay)).toBe('foreign')
    expect(gate.admit(chk(3), 'not a peer id', relay)).toBe('foreign')
    keys.set(did, toB64(rotated.publicKey)) // after a rotation the node publishes under its new key
    expect(gate.admit(chk(4), peer, relay)).toBe('foreign')
    expect(gate.admit(chk(5), peerIdFromPublicKey(rotated.publicKey), relay)).toBe('take')
  })

  it('takes the checkpoints of a node that hosts no agent here only from that node itself', () => {
    const gate = new CheckpointGate({ currentKey: () => undefined, hostsAgents: () => false, clock: Date.now })
    expect(gate.admit(chk(1), peer, peer)).toBe('take') // the connected peer's own
    expect(gate.admit(chk(2), peer, relay)).toBe('unknown') // relayed from afar: a key costs nothing
  })

  it(`takes at most ${CHECKPOINTS_PER_MINUTE} a minute from one origin, counting only those taken`, () => {
    const clock = new FixedClock()
    const gate = new CheckpointGate({ currentKey: () => undefined, hostsAgents: () => true, clock: clock.now })
    for (let i = 0; i < 100; i++) expect(gate.admit(chk(i), peer, relay)).toBe('take') // replays taken by no one
    for (let i = 0; i < CHECKPOINTS_PER_MINUTE; i++) gate.taken(did)
    expect(gate.admit(chk(200), peer, relay)).toBe('over-rate')
    clock.advance(60_000)
    expect(gate.admit(chk(201), peer, relay)).toBe('take')
  })
})
