/**
 * Sending signed messages, in the three ways of docs/protocol.md §8, best first: a
 * pre-signed envelope (the key never leaves the agent), an agent whose key
 * this node custodies, or a private key used once and never kept.
 */
import {
  createMessage,
  currentKeyOf,
  keyPairFromB64,
  keyPairFromSeed,
  MeshsigError,
  toB64,
  toMsigDid,
  type KeyPair,
  type MsgEnvelope,
} from '../core/index.js'
import type { Store } from '../store/index.js'
import { ANONYMOUS, authorityLabel, requireAgentAuthority, type Authority, type AuthorityLabel } from './authority.js'
import { apiSource } from './audit-records.js'
import type { Ingest } from './ingest.js'

/** A message to send: pre-signed, or signed here for `fromDid`. */
export type SendInput =
  | {
      readonly envelope: unknown
      /** The client's socket address, for the audit log (never a forwarded one: decision 0090). */
      readonly client?: string
      /** The address a trusted proxy's `X-Forwarded-For` named, when another: a claim, recorded apart. */
      readonly forwardedFor?: string
      /** How the envelope came to be signed, for the audit log: pre-signed by the caller unless said otherwise. */
      readonly authorizedBy?: AuthorityLabel
    }
  | {
      readonly fromDid: string
      readonly toDid: string | null
      readonly message: string
      /** b64 seed; only when the node does not custody `fromDid`'s key. Used once, never stored. */
      readonly privateKey?: string
      readonly client?: string
      readonly forwardedFor?: string
      /** Who asks the node to sign as `fromDid` with its custodied key (docs/protocol.md §8). */
      readonly authority?: Authority
    }

/** An accepted, stored message. */
export interface SentMessage {
  readonly id: string
  readonly envelope: MsgEnvelope
}

/** What the message service needs from the node. */
export interface MessageServiceComponents {
  readonly store: Store
  readonly ingest: Ingest
  readonly clock: () => number
  readonly random: (n: number) => Uint8Array
  readonly custodiedSeed: (did: string) => Uint8Array | undefined
  /** Builds the key pair of a custodied seed (a cache avoids rebuilding KeyObjects). */
  readonly keyPair?: (seed: Uint8Array) => KeyPair
}

/**
 * Throw unless the caller may have this message signed: a pre-signed
 * envelope or a private key proves itself; signing with a custodied key
 * needs that agent's credential or the operator (docs/protocol.md §8).
 * Runs before any signing, on every path.
 */
export function authorizeSend(input: SendInput): void {
  if ('envelope' in input || input.privateKey !== undefined) return
  requireAgentAuthority(
    input.authority ?? ANONYMOUS,
    toMsigDid(input.fromDid),
    'sending',
    'send privateKey or a pre-signed envelope',
  )
}

/** How a send was authorised (docs/protocol.md §8): the envelope's signer, a private key, or a credential. */
export function authorizedBy(input: SendInput): AuthorityLabel {
  if ('envelope' in input) return input.authorizedBy ?? 'envelope'
  if (input.privateKey !== undefined) return 'key'
  return authorityLabel(input.authority ?? ANONYMOUS)
}

/**
 * Throws `INVALID_INPUT` for an envelope given to send that is of another type:
 * key events, registrations and checkpoints have routes of their own, with
 * their own checks (review 81: a registration naming another controller was
 * stored through send, past `POST /agents/register`'s rules, and never
 * gossiped). Nothing is stored or audited for it.
 */
function notAMessage(envelope: unknown): void {
  const type = typeof envelope === 'object' && envelope !== null ? (envelope as { type?: unknown }).type : undefined
  if (typeof type !== 'string' || type === 'msg') return // no type at all: acceptance names what is wrong
  throw new MeshsigError(
    'INVALID_INPUT',
    'POST /messages/send takes a msg envelope; send key events to /agents/rotate-key or /agents/revoke and ' +
      'registrations to /agents/register',
    { type: type.slice(0, 16) },
  )
}

/** Builds (when asked), checks and stores outgoing messages. */
export class MessageService {
  constructor(private readonly c: MessageServiceComponents) {}

  /** Check and store one message; throws the `MeshsigError` of the first broken rule. */
  send(input: SendInput): SentMessage {
    const source = apiSource(input, authorizedBy(input))
    let envelope: unknown
    try {
      envelope = 'envelope' in input ? input.envelope : this.sign(input)
    } catch (err) {
      // refused before signing (a revoked sender, a wrong key): still a refusal the operator sees live
      if (err instanceof MeshsigError && 'fromDid' in input) this.c.ingest.refused(err, source, input.fromDid)
      throw err
    }
    notAMessage(envelope)
    const v = this.c.ingest.ingest(envelope, source, { fresh: true })
    if (!v.ok) throw v.error
    return { id: v.id, envelope: v.envelope as MsgEnvelope }
  }

  private sign(input: Exclude<SendInput, { envelope: unknown }>): MsgEnvelope {
    const from = toMsigDid(input.fromDid)
    const to = input.toDid === null ? null : toMsigDid(input.toDid)
    const key = this.signingKey(from, input.privateKey)
    return createMessage({ from, to, body: input.message, ts: this.c.clock(), nonce: this.c.random(16) }, key)
  }

  private signingKey(from: string, privateKey: string | undefined): KeyPair {
    const current = toB64(currentKeyOf(from, this.c.store.keyEvents.state(from)))
    if (privateKey !== undefined) {
      const key = keyPairFromB64(privateKey)
      if (toB64(key.publicKey) !== current) {
        throw new MeshsigError('KEY_MISMATCH', `privateKey is not the current key of ${from}`, { did: from })
      }
      return key
    }
    const seed = this.c.custodiedSeed(from)
    if (seed === undefined) {
      throw new MeshsigError('FORBIDDEN', `this node holds no key for ${from}: send a signed envelope or privateKey`, {
        did: from,
      })
    }
    return (this.c.keyPair ?? keyPairFromSeed)(seed)
  }
}
