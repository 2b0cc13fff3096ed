/**
 * Mutual challenge-response between two agents (the seed's "handshake",
 * done properly). The initiator sends a fresh nonce; the responder signs it
 * together with a fresh nonce of its own; the initiator checks that answer
 * under the responder's current key (from its key event log), then signs the
 * responder's nonce; the responder checks that in turn. Only when both
 * signatures verify is a connection stored, on both nodes, with both signed
 * transcripts, one audit entry of kind 'handshake' and a
 * `connection:established` event; a repeat of one pair within the repeat
 * window answers with the connection stored (handshake-connections.ts). A
 * response that does not verify creates nothing. Agents on another node are
 * reached over `/meshsig/handshake/1.0.0`, where each peer has a budget of
 * challenges per window (docs/protocol.md §9, "Handshakes").
 */
import {
  canonicalize,
  codesWhere,
  currentKeyOf,
  fromB64,
  keyPairFromB64,
  MeshsigError,
  type ErrorCode,
  toB64,
  toMsigDid,
  utf8,
  verifySignature,
  type KeyPair,
} from '../core/index.js'
import type { AuditLog } from '../audit/audit-log.js'
import { ANONYMOUS, requireAgentAuthority, type Authority } from './authority.js'
import type { NodeEvents } from '../events.js'
import type { HandshakeLimits } from '../limits.js'
import { HANDSHAKE_PROTOCOL, type MeshP2P } from '../p2p/index.js'
import { ServeBudget } from '../p2p/serve-budget.js'
import type { Store } from '../store/index.js'
import type { ConnectionView } from './report-service.js'
import { keepConnection } from './handshake-connections.js'
import {
  challengeAnswerSchema,
  handshakeWireSchema,
  proofBytes,
  signProof,
  type HandshakeProof,
  type HandshakeTranscript,
} from './handshake-wire.js'

export type { HandshakeProof, HandshakeTranscript } from './handshake-wire.js'
export { connectionId, proofBytes, signProof } from './handshake-wire.js'

/** How long a responder waits for the initiator's confirmation (ms). */
export const HANDSHAKE_TTL_MS = 30_000
/** Most handshakes waiting for their confirmation. */
export const MAX_PENDING = 1024

/** What the handshake service needs from the node. */
export interface HandshakeComponents {
  readonly store: Store
  readonly audit: AuditLog
  readonly events: NodeEvents
  readonly clock: () => number
  readonly random: (n: number) => Uint8Array
  readonly maxSkewMs: number
  /** The challenge budget per peer and the repeat window (docs/protocol.md §9, "Handshakes"). */
  readonly limits: HandshakeLimits
  /** The key this node holds for a DID it custodies. */
  readonly custodiedKey: (did: string) => KeyPair | undefined
  readonly p2p: () => MeshP2P
  /** Pull a peer's registry (used when a handshake names a DID not yet known here). */
  readonly syncFrom: (peerId: string) => Promise<unknown>
}

/** A handshake the API asked for. */
export interface HandshakeInput {
  readonly fromDid: string
  readonly toDid: string
  /** b64 seed of `fromDid`'s current key when the node does not custody it (used once). */
  readonly privateKey?: string
  /** Who asks to hand-shake as `fromDid` with its custodied key (docs/protocol.md §8). */
  readonly authority?: Authority
}

interface Pending {
  readonly responder: HandshakeProof
  readonly expires: number
}

/** Codes a responding node may give for refusing a handshake; they keep their meaning at the API. */
const REFUSAL_CODES: ReadonlySet<string> = codesWhere((e) => e.handshakeRefusal === true)

/** A peer's refusal as the error it names (so the API answers 4xx, not 502); other failures unchanged. */
function refusal(err: unknown): unknown {
  const remote = (err as MeshsigError).details?.remoteCode
  if ((err as MeshsigError).code === 'PEER_ERROR' && typeof remote === 'string' && REFUSAL_CODES.has(remote)) {
    return new MeshsigError(remote as ErrorCode, `the responding node refused the handshake: ${(err as Error).message}`)
  }
  return err
}

/** Runs and answers handshakes. */
export class HandshakeService {
  private readonly pending = new Map<string, Pending>()
  /** Challenges answered per peer and window: past the budget `RATE_LIMITED`, nothing signed. */
  private readonly budget: ServeBudget

  constructor(private readonly c: HandshakeComponents) {
    const { perPeerChallenges, windowMs } = c.limits
    this.budget = new ServeBudget(perPeerChallenges, windowMs, c.clock, { budget: 'handshake', unit: 'challenges' })
  }

  /** Serve `/meshsig/handshake/1.0.0` for the agents this node custodies (Startable: before the mesh starts). */
  async start(): Promise<void> {
    await this.c.p2p().registerProtocol(HANDSHAKE_PROTOCOL, (req, from) => this.serve(req, from))
  }

  /** Forget the challenges still open (the protocol closes with the mesh). */
  stop(): void {
    this.pending.clear()
  }

  private async serve(request: Uint8Array, fromPeer: string): Promise<Uint8Array> {
    let json: unknown
    try {
      json = JSON.parse(Buffer.from(request).toString('utf8'))
    } catch {
      throw new MeshsigError('MALFORMED', 'handshake request is not JSON')
    }
    const parsed = handshakeWireSchema.safeParse(json)
    if (!parsed.success) throw new MeshsigError('MALFORMED', 'malformed handshake request')
    const msg = parsed.data
    if (msg.step === 'challenge') {
      // charged before anything is looked up, synced or signed (docs/protocol.md §9, "Handshakes")
      this.budget.take(fromPeer)
      if (this.c.store.keyEvents.state(msg.from) === undefined) await this.c.syncFrom(fromPeer)
      const proof = this.respond(msg.from, msg.to, msg.nonce, msg.ts)
      return utf8(JSON.stringify({ proof }))
    }
    const view = this.confirm(msg.transcript, fromPeer)
    return utf8(JSON.stringify({ id: view.id, establishedAt: view.establishedAt }))
  }

  /** Responder, step 1: sign the initiator's nonce with a fresh nonce of our own. */
  private respond(from: string, to: string, challenge: string, ts: number): HandshakeProof {
    this.checkFresh(ts)
    this.liveKeyOf(from)
    const key = this.c.custodiedKey(to)
    if (key === undefined) throw new MeshsigError('FORBIDDEN', `this node holds no key for ${to}`, { did: to })
    this.checkOwnKey(to, key)
    const proof = signProof(
      { v: 1, type: 'hs', role: 'responder', did: to, peer: from, challenge, nonce: this.nonce(), ts: this.c.clock() },
      key,
    )
    this.remember(proof)
    return proof
  }

  /** Responder, step 2: check the initiator's signature over our nonce; store the connection. */
  private confirm(t: HandshakeTranscript, peer: string | null): ConnectionView {
    const pending = this.pending.get(t.responder.nonce)
    this.pending.delete(t.responder.nonce)
    if (!pending || pending.expires < this.c.clock() || canonicalize(pending.responder) !== canonicalize(t.responder)) {
      throw new MeshsigError('FORBIDDEN', 'unknown or expired handshake')
    }
    this.checkProof(t.initiator, {
      role: 'initiator',
      did: t.responder.peer,
      peer: t.responder.did,
      challenge: t.responder.nonce,
    })
    if (t.initiator.nonce !== t.responder.challenge)
      throw new MeshsigError('SIGNATURE_INVALID', 'initiator nonce does not match the challenge')
    return this.store(t, 'responder', peer)
  }

  /** Run a handshake from `fromDid` (whose key this node holds or is given) to `toDid`. */
  async initiate(input: HandshakeInput): Promise<ConnectionView> {
    const from = toMsigDid(input.fromDid)
    const to = toMsigDid(input.toDid)
    if (from === to) throw new MeshsigError('INVALID_INPUT', 'an agent cannot handshake with itself')
    const key = this.initiatorKey(from, input.privateKey, input.authority ?? ANONYMOUS)
    const target = this.c.store.agents.get(to)
    if (target === undefined) throw new MeshsigError('NOT_FOUND', `unknown agent ${to}`, { did: to })
    this.liveKeyOf(to)
    const nonce = this.nonce()
    const local = this.c.custodiedKey(to) !== undefined
    if (!local && target.peerId === this.c.p2p().peerId) {
      throw new MeshsigError('FORBIDDEN', `${to} keeps its own key: this node cannot answer for it`, { did: to })
    }
    const responder = local
      ? this.respond(from, to, nonce, this.c.clock())
      : await this.remoteChallenge(target.peerId, { step: 'challenge', from, to, nonce, ts: this.c.clock() })
    this.checkProof(responder, { role: 'responder', did: to, peer: from, challenge: nonce })
    const initiator = signProof(
      {
        v: 1,
        type: 'hs',
        role: 'initiator',
        did: from,
        peer: to,
        challenge: responder.nonce,
        nonce,
        ts: this.c.clock(),
      },
      key,
    )
    this.checkProof(initiator, { role: 'initiator', did: from, peer: to, challenge: responder.nonce })
    const transcript: HandshakeTranscript = { v: 1, initiator, responder }
    if (local) return this.confirm(transcript, null)
    await this.request(target.peerId, { step: 'confirm', transcript })
    return this.store(transcript, 'initiator', target.peerId)
  }

  private initiatorKey(from: string, privateKey: string | undefined, authority: Authority): KeyPair {
    if (privateKey === undefined) requireAgentAuthority(authority, from, 'a handshake', 'send privateKey')
    const current = this.liveKeyOf(from)
    const key = privateKey !== undefined ? keyPairFromB64(privateKey) : this.c.custodiedKey(from)
    if (key === undefined) {
      throw new MeshsigError('FORBIDDEN', `this node holds no key for ${from}: pass privateKey`, { did: from })
    }
    if (toB64(key.publicKey) !== toB64(current)) {
      throw new MeshsigError('KEY_MISMATCH', `the key given for ${from} is not its current key`, { did: from })
    }
    return key
  }

  private async remoteChallenge(peerId: string, body: unknown): Promise<HandshakeProof> {
    // the answer is untrusted JSON: null, a number, an array or an object without a proof is malformed
    const parsed = challengeAnswerSchema.safeParse(await this.request(peerId, body))
    if (!parsed.success) throw new MeshsigError('PEER_ERROR', 'the peer answered the handshake with a malformed proof')
    return parsed.data.proof
  }

  private async request(peerId: string, body: unknown): Promise<unknown> {
    let res: Uint8Array
    try {
      res = await this.c.p2p().request(peerId, HANDSHAKE_PROTOCOL, utf8(JSON.stringify(body)))
    } catch (err) {
      throw refusal(err)
    }
    try {
      return JSON.parse(Buffer.from(res).toString('utf8')) as unknown
    } catch {
      throw new MeshsigError('PEER_ERROR', 'the peer answered the handshake with something that is not JSON')
    }
  }

  /** Current key of a DID from this node's key event log; throws for unknown or revoked DIDs. */
  private liveKeyOf(did: string): Uint8Array {
    const state = this.c.store.keyEvents.state(did)
    if (state === undefined) throw new MeshsigError('UNKNOWN_SIGNER', `no key event log known for ${did}`, { did })
    return currentKeyOf(did, state)
  }

  private checkOwnKey(did: string, key: KeyPair): void {
    if (toB64(key.publicKey) !== toB64(this.liveKeyOf(did))) {
      throw new MeshsigError('KEY_MISMATCH', `the key this node holds for ${did} is not its current key`, { did })
    }
  }

  private checkProof(p: HandshakeProof, want: { role: string; did: string; peer: string; challenge: string }): void {
    if (p.role !== want.role || p.did !== want.did || p.peer !== want.peer || p.challenge !== want.challenge) {
      throw new MeshsigError('SIGNATURE_INVALID', `the ${want.role}'s handshake proof answers another challenge`)
    }
    this.checkFresh(p.ts)
    const signature = fromB64(p.sig, 'sig', 64)
    if (!verifySignature(proofBytes(p), signature, this.liveKeyOf(p.did))) {
      throw new MeshsigError(
        'SIGNATURE_INVALID',
        `the ${want.role}'s handshake signature does not verify under ${p.did}'s current key`,
        { did: p.did },
      )
    }
  }

  private checkFresh(ts: number): void {
    if (Math.abs(ts - this.c.clock()) > this.c.maxSkewMs)
      throw new MeshsigError('CLOCK_SKEW', 'handshake time is outside the freshness window')
  }

  private nonce(): string {
    return toB64(this.c.random(16))
  }

  private remember(proof: HandshakeProof): void {
    const now = this.c.clock()
    for (const [k, p] of this.pending) if (p.expires < now || this.pending.size >= MAX_PENDING) this.pending.delete(k)
    this.pending.set(proof.nonce, { responder: proof, expires: now + HANDSHAKE_TTL_MS })
  }

  /** Keep the connection, or answer a repeat of the pair with the one stored (handshake-connections.ts). */
  private store(t: HandshakeTranscript, role: 'initiator' | 'responder', peer: string | null): ConnectionView {
    const { store, audit, events, clock } = this.c
    const parts = { store, audit, events, clock, repeatWindowMs: this.c.limits.repeatWindowMs }
    return keepConnection({ ...parts, keyOf: (did) => this.liveKeyOf(did) }, t, peer === null ? 'local' : role, peer)
  }
}
