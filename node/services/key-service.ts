/**
 * Rotation and revocation of agent keys at the API (docs/protocol.md §8: proof needed).
 * Proof is one of: a pre-signed `rot` / `rev` envelope; the agent's current
 * private key (seed style, used once, never stored); or, for an agent whose
 * keys this node custodies, a rotation request signed by its current key
 * (`keyProof`, decision 0047), that agent's credential or the operator token
 * (docs/protocol.md §8), in which case the node signs with the custodied
 * current and next keys. Revoking by the controller's authority (the node
 * key) is an operator action.
 * Without proof nothing changes (`UNAUTHORIZED`). The node's own key rotates
 * only with a signed `rot` that its identity file already holds (written by
 * `meshsig rotate-key`); the running node then switches to the new key.
 */
import {
  DEFAULT_MAX_SKEW_MS,
  createRevocation,
  createRotation,
  envelopeId,
  fromB64,
  generateKeyPair,
  keyCommitment,
  keyPairFromB64,
  MeshsigError,
  parseEnvelope,
  peerIdFromPublicKey,
  toB64,
  toMsigDid,
  type Envelope,
  type KeyPair,
  type KeyState,
  type RegEnvelope,
  type RevEnvelope,
  type RotEnvelope,
  type Verdict,
  verifyRotationRequest,
} from '../core/index.js'
import type { AgentsRepo, CustodyRepo, CustodyRow, KeyEventsRepo, Store } from '../store/index.js'
import { authorityLabel, isOperator, requireAgentAuthority, type Authority, type AuthorityLabel } from './authority.js'
import { apiSource, type ApiClient } from './audit-records.js'
import type { Ingest, IngestSource } from './ingest.js'
import type { KeyPairCache } from './key-cache.js'
import type { RevokeInput, RotateInput, Rotation } from './key-change-input.js'
import { asRegistered, checkedRegistration, reSigned } from './rotation-registration.js'

export type { RevokeInput, RotateInput, Rotation } from './key-change-input.js'

/** The repositories the key service reads and writes (key events themselves are written by ingestion). */
export interface KeyServiceStore {
  readonly keyEvents: Pick<KeyEventsRepo, 'state'>
  readonly agents: Pick<AgentsRepo, 'get'>
  readonly custody: Pick<CustodyRepo, 'get' | 'put'>
  transaction: Store['transaction']
}

/** What the key service needs from the node. */
export interface KeyServiceComponents {
  readonly store: KeyServiceStore
  /** Every rot, rev and re-signed reg goes through the one acceptance path. */
  readonly ingest: Pick<Ingest, 'ingest'>
  readonly clock: () => number
  readonly random: (n: number) => Uint8Array
  readonly keys: Pick<KeyPairCache, 'get'>
  readonly nodeDid: () => string
  /** The node's current signing key (a controller may revoke the agents it hosts). */
  readonly nodeKey: () => KeyPair
  /**
   * For a rotation of the node's own DID with id `rotId`: when the identity
   * file in the node's home already holds it, a function that switches the
   * running node to the new key; otherwise undefined (the rotation is refused).
   */
  readonly ownRotation?: (rotId: string) => (() => void) | undefined
}

function unauthorized(what: string): MeshsigError {
  return new MeshsigError(
    'UNAUTHORIZED',
    `${what} needs proof: a signed envelope, the current private key, or (for an agent this node custodies) ` +
      'its agent credential or the operator token as Authorization: Bearer',
  )
}

function unauthorizedRevoke(did: string, how: string, authority?: Authority): MeshsigError {
  const code = authority?.kind === 'agent' ? 'FORBIDDEN' : 'UNAUTHORIZED'
  return new MeshsigError(code, `revoking ${did} needs proof: ${how}`, { did })
}

/** Refuse anything but a `type` envelope of `did` before it reaches ingest (`INVALID_INPUT`). */
function expectEnvelope(envelope: unknown, type: 'rot' | 'rev', did: string): void {
  const t = (envelope as { type?: unknown; did?: unknown } | null)?.type
  if (t !== type) throw new MeshsigError('INVALID_INPUT', `envelope must be a signed ${type} envelope`)
  if ((envelope as { did?: unknown }).did !== did)
    throw new MeshsigError('INVALID_INPUT', `envelope.did must be ${did}`)
}

/** Rotates and revokes agent keys. */
export class KeyService {
  constructor(private readonly c: KeyServiceComponents) {}

  private state(did: string): KeyState {
    const state = this.c.store.keyEvents.state(did)
    if (state === undefined) throw new MeshsigError('NOT_FOUND', `no key event log known for ${did}`, { did })
    if (state.revoked) throw new MeshsigError('REVOKED', `DID is revoked: ${did}`, { did })
    return state
  }

  private submit(envelope: unknown, type: 'rot' | 'rev', did: string, from: ApiClient): Verdict & { ok: true } {
    expectEnvelope(envelope, type, did)
    return this.ingestOrThrow(envelope, apiSource(from, 'envelope'))
  }

  /**
   * A rotation the agent signed, and the registration its new key signed when the caller sends one
   * (`registration`, checked first: rotation-registration.ts), stored right after it in one transaction and
   * gossiped after it (decision 0070). Without one the registration held stays signed by the retired key:
   * a node that meets the agent after the rotation refuses it (`ROTATED_KEY`) and so cannot check a
   * revocation by the controller (docs/protocol.md §6).
   */
  private rotateByEnvelope(state: KeyState, input: RotateInput): Rotation {
    const did = state.did
    expectEnvelope(input.envelope, 'rot', did)
    const given = input.registration
    const rotation = given === undefined ? undefined : (parseEnvelope(input.envelope) as RotEnvelope)
    const reg = rotation && checkedRegistration(given, rotation, this.c.store.agents.get(did))
    const source = apiSource(input, 'envelope')
    // a refused rotation is audited (its verdict is returned, not thrown, so the entry commits); a refused
    // registration undoes the rotation with it
    const v = this.c.store.transaction(() => {
      const taken = this.c.ingest.ingest(input.envelope, source, { fresh: false })
      if (taken.ok && reg !== undefined) this.ingestOrThrow(reg, source)
      return taken
    })
    if (!v.ok) throw v.error
    const rot = v.envelope as RotEnvelope
    const base = { envelope: rot, did, publicKey: rot.key, previousPublicKey: state.key, keySeq: rot.seq }
    return reg === undefined ? { ...base, custodied: false } : { ...base, custodied: false, registration: reg }
  }

  private ingestOrThrow(envelope: unknown, source: IngestSource): Verdict & { ok: true } {
    const v = this.c.ingest.ingest(envelope, source, { fresh: false })
    if (!v.ok) throw v.error
    return v
  }

  private matchCurrent(state: KeyState, seed: string, field: string): KeyPair {
    const key = keyPairFromB64(seed)
    if (toB64(key.publicKey) !== state.key) {
      throw new MeshsigError('KEY_MISMATCH', `${field} is not the current key of ${state.did}`, { did: state.did })
    }
    return key
  }

  /** Rotate `input.did`'s key with the strongest proof given; throws without proof. */
  rotate(input: RotateInput): Rotation {
    const did = toMsigDid(input.did)
    if (did === this.c.nodeDid()) return this.rotateNode(did, input)
    const state = this.state(did)
    if (input.envelope !== undefined) return this.rotateByEnvelope(state, input)
    if (input.registration !== undefined) {
      throw new MeshsigError('INVALID_INPUT', 'registration goes with a signed rot envelope', { field: 'registration' })
    }
    const custody = this.c.store.custody.get(did)
    if (input.keyProof !== undefined) return this.rotateOnRequest(state, custody, input)
    if (input.currentPrivateKey !== undefined) {
      const current = this.matchCurrent(state, input.currentPrivateKey, 'currentPrivateKey')
      return this.rotateWith(
        state,
        current,
        { custodiedNext: custody?.nextSeed ?? undefined, givenNext: input.nextPrivateKey },
        custody !== undefined,
        apiSource(input, 'key'),
      )
    }
    if (custody === undefined) throw unauthorized('rotating a key')
    requireAgentAuthority(input.authority, did, 'rotating the key', 'send currentPrivateKey or a signed rot envelope')
    const source = apiSource(input, authorityLabel(input.authority))
    return this.rotateWith(
      state,
      this.custodiedCurrent(state, custody),
      { custodiedNext: custody.nextSeed ?? undefined },
      true,
      source,
    )
  }

  /**
   * A custodied agent rotated on its key holder's signed request (`keyProof`,
   * core/rotation-request.ts, decision 0047): the holder proves the current
   * key without sending it, and the node signs with the keys it keeps. The
   * answer carries no key, so it is harmless in the hands of whoever relayed
   * the request.
   */
  private rotateOnRequest(state: KeyState, custody: CustodyRow | undefined, input: RotateInput): Rotation {
    const check = { state, node: this.c.nodeDid(), now: this.c.clock(), maxSkewMs: DEFAULT_MAX_SKEW_MS }
    verifyRotationRequest(input.keyProof, check)
    if (custody === undefined) {
      const why = `this node keeps no keys of ${state.did}: sign the rotation with its next key (a rot envelope)`
      throw new MeshsigError('PRE_ROTATION_MISMATCH', why, { did: state.did })
    }
    const current = this.custodiedCurrent(state, custody)
    const next = { custodiedNext: custody.nextSeed ?? undefined }
    return this.rotateWith(state, current, next, true, apiSource(input, 'key'))
  }

  /** The custodied current key of a DID; `KEY_MISMATCH` when it is not the DID's current key. */
  private custodiedCurrent(state: KeyState, custody: CustodyRow): KeyPair {
    const current = this.c.keys.get(fromB64(custody.seed, 'seed', 32))
    if (toB64(current.publicKey) !== state.key) {
      const why = `the custodied key of ${state.did} is not its current key`
      throw new MeshsigError('KEY_MISMATCH', why, { did: state.did })
    }
    return current
  }

  /** Accept a signed rotation of the node's own DID that its identity file holds, then switch keys. */
  private rotateNode(did: string, input: RotateInput): Rotation {
    if (input.envelope === undefined) {
      throw new MeshsigError(
        'FORBIDDEN',
        'the node key rotates with meshsig rotate-key, which signs the rotation and updates its identity file first',
      )
    }
    const state = this.state(did)
    const rot = parseEnvelope(input.envelope)
    if (rot.type !== 'rot' || rot.did !== did) {
      throw new MeshsigError('INVALID_INPUT', `envelope must be a signed rot envelope of ${did}`)
    }
    const adopt = this.c.ownRotation?.(envelopeId(rot))
    if (adopt === undefined) {
      throw new MeshsigError(
        'FORBIDDEN',
        "the node's identity file does not hold this rotation: run meshsig rotate-key with the node's MESHSIG_HOME",
      )
    }
    if (state.lastId !== envelopeId(rot)) this.submit(rot, 'rot', did, input)
    adopt()
    const previous = state.lastId === envelopeId(rot) ? (state.priorKeys.at(-1) ?? state.key) : state.key
    return { envelope: rot, did, publicKey: rot.key, previousPublicKey: previous, keySeq: rot.seq, custodied: false }
  }

  private nextKeyFor(state: KeyState, custodiedNext: string | undefined, given: string | undefined): KeyPair {
    const seed = custodiedNext ?? given
    if (seed === undefined) {
      if (state.next !== null) {
        throw new MeshsigError(
          'PRE_ROTATION_MISMATCH',
          `${state.did} committed to a next key: send nextPrivateKey or a signed rot envelope`,
        )
      }
      return generateKeyPair(this.c.random)
    }
    const key = keyPairFromB64(seed)
    if (state.next !== null && keyCommitment(key.publicKey) !== state.next) {
      throw new MeshsigError('PRE_ROTATION_MISMATCH', `the new key is not the key ${state.did} committed to`)
    }
    return key
  }

  private rotateWith(
    state: KeyState,
    current: KeyPair,
    next: { custodiedNext?: string | undefined; givenNext?: string | undefined },
    custodied: boolean,
    source: IngestSource,
  ): Rotation {
    const { custodiedNext, givenNext } = next
    const generated = custodiedNext === undefined && givenNext === undefined
    const newKey = this.nextKeyFor(state, custodiedNext, givenNext)
    const following = generateKeyPair(this.c.random)
    const now = this.c.clock()
    const rot = createRotation(state, current, newKey, now, following)
    let registration: RegEnvelope | undefined
    this.c.store.transaction(() => {
      this.ingestOrThrow(rot, source)
      if (custodied) {
        const createdAt = this.c.store.custody.get(state.did)?.createdAt ?? now
        this.c.store.custody.put({
          did: state.did,
          seed: toB64(newKey.seed),
          nextSeed: toB64(following.seed),
          createdAt,
        })
        registration = this.resignRegistration(state.did, newKey, now, source)
      } else {
        // the new key is at hand here: it signs the registration held, or nodes meeting the agent after this
        // rotation refuse the old one and cannot check its controller's revocations (decision 0070)
        const held = this.c.store.agents.get(state.did)
        if (held !== undefined) registration = this.ingested(reSigned(held, newKey, now), source)
      }
    })
    const base = {
      envelope: rot,
      did: state.did,
      publicKey: rot.key,
      previousPublicKey: state.key,
      keySeq: rot.seq,
      custodied,
    }
    const signed = registration === undefined ? base : { ...base, registration }
    if (custodied) return signed
    return {
      ...signed,
      ...(generated ? { privateKey: toB64(newKey.seed) } : {}),
      nextPrivateKey: toB64(following.seed),
    }
  }

  private ingested(reg: RegEnvelope, source: IngestSource): RegEnvelope {
    this.ingestOrThrow(reg, source)
    return reg
  }

  /**
   * The registration of custodied `did` signed again with its new key (`asRegistered`, decision 0057),
   * ingested inside the caller's transaction; undefined when the node holds no registration.
   */
  private resignRegistration(did: string, key: KeyPair, now: number, source: IngestSource): RegEnvelope | undefined {
    const row = this.c.store.agents.get(did)
    if (row === undefined) return undefined
    const profile = this.c.store.custody.get(did)?.profile ?? (JSON.parse(row.regEnvelope) as RegEnvelope)
    const node = { did: this.c.nodeDid(), peerId: peerIdFromPublicKey(this.c.nodeKey().publicKey) }
    return this.ingested(asRegistered(row, profile, node, key, now), source)
  }

  /** Revoke `input.did` with the strongest proof given; throws without proof. Final. */
  revoke(input: RevokeInput): RevEnvelope {
    const did = toMsigDid(input.did)
    const state = this.state(did)
    if (input.envelope !== undefined) return this.submit(input.envelope, 'rev', did, input).envelope as RevEnvelope
    const signer = this.revocationSigner(state, input)
    const rev = createRevocation(state, signer.key, input.reason, this.c.clock())
    this.ingestOrThrow(rev, apiSource(input, signer.label))
    return rev
  }

  /**
   * The key that signs a revocation made here: the given private key; the
   * custodied key, for that agent or the operator; the node key (as
   * controller), for the operator only.
   */
  private revocationSigner(state: KeyState, input: RevokeInput): { key: KeyPair; label: AuthorityLabel } {
    if (input.privateKey !== undefined)
      return { key: this.matchCurrent(state, input.privateKey, 'privateKey'), label: 'key' }
    const how = "send privateKey (its current key) or a signed rev envelope (by its key or its controller's)"
    const custody = this.c.store.custody.get(state.did)
    if (custody !== undefined) {
      requireAgentAuthority(input.authority, state.did, 'revoking', how)
      const key = this.c.keys.get(fromB64(custody.seed, 'seed', 32))
      if (toB64(key.publicKey) === state.key) return { key, label: authorityLabel(input.authority) }
    }
    const controller = this.c.store.agents.get(state.did)?.controller
    if (controller === this.c.nodeDid() && state.did !== this.c.nodeDid()) {
      if (!isOperator(input.authority)) {
        throw unauthorizedRevoke(state.did, how + ', or the operator token', input.authority)
      }
      return { key: this.c.nodeKey(), label: authorityLabel(input.authority) }
    }
    throw unauthorizedRevoke(state.did, how)
  }
}

/** The envelopes a key service call produced, for gossip. */
export type KeyEventEnvelope = Extract<Envelope, { type: 'rot' | 'rev' }>

export { signerKey, type SignerKey, type SignerKeySource } from './key-view.js'
