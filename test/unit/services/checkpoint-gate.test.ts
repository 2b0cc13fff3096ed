// The gate of gossiped checkpoints (services/checkpoint-gate.ts, docs/audit.md): a checkpoint is taken only
// from the peer whose key is its origin's current key, at most CHECKPOINTS_PER_MINUTE a minute per origin.
// Found by the attack review of stop 32: any peer could make every node store and audit checkpoints of
// throwaway keys, or of its own, at gossip speed.
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
const chk = (size: number) => createCheckpoint(did, size, new Uint8Array(32), 0, node)

describe('the checkpoint gate', () => {
  it('takes a checkpoint from its origin only, by the key its key event log names', () => {
    const clock = new FixedClock()
    const rotated = generateKeyPair()
    const keys = new Map<string, string>()
    const gate = new CheckpointGate({ currentKey: (d) => keys.get(d), clock: clock.now })
    expect(gate.admit(chk(1), peerIdFromPublicKey(node.publicKey))).toBe('take')
    expect(gate.admit(chk(2), peerIdFromPublicKey(generateKeyPair().publicKey))).toBe('foreign')
    expect(gate.admit(chk(3), 'not a peer id')).toBe('foreign')
    keys.set(did, toB64(rotated.publicKey)) // after a rotation the node publishes under its new key
    expect(gate.admit(chk(4), peerIdFromPublicKey(node.publicKey))).toBe('foreign')
    expect(gate.admit(chk(5), peerIdFromPublicKey(rotated.publicKey))).toBe('take')
  })

  it(`takes at most ${CHECKPOINTS_PER_MINUTE} a minute from one origin`, () => {
    const clock = new FixedClock()
    const gate = new CheckpointGate({ currentKey: () => undefined, clock: clock.now })
    const peer = peerIdFromPublicKey(node.publicKey)
    const answers = Array.from({ length: CHECKPOINTS_PER_MINUTE + 2 }, (_, i) => gate.admit(chk(i), peer))
    expect(answers.filter((a) => a === 'take')).toHaveLength(CHECKPOINTS_PER_MINUTE)
    expect(answers.slice(-2)).toEqual(['over-rate', 'over-rate'])
    clock.advance(60_000)
    expect(gate.admit(chk(100), peer)).toBe('take')
  })
})
