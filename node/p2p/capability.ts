/**
 * Capability discovery keys (docs/protocol.md §9): a node provides, on the DHT, the CID
 * v1 (raw codec) of SHA-256(UTF-8("meshsig/capability/v1:" + type)) for each
 * capability type of its agents.
 */
import type { ContentRouting } from '@libp2p/interface'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import * as Digest from 'multiformats/hashes/digest'
import { sha256 as sha256Hasher } from 'multiformats/hashes/sha2'
import { sha256 } from '../core/keys.js'
import { CAPABILITY_KEY_PREFIX } from './constants.js'
import { invalidInput, toMeshError } from './p2p-errors.js'

/** Longest capability type accepted (UTF-8 characters). */
export const MAX_CAPABILITY_TYPE_LENGTH = 200

/** Check a capability type: a non-empty string of at most 200 characters. Throws `INVALID_INPUT`. */
export function checkCapabilityType(type: unknown): string {
  if (typeof type !== 'string' || type.length === 0 || type.length > MAX_CAPABILITY_TYPE_LENGTH) {
    throw invalidInput(`a capability type is a string of 1 to ${MAX_CAPABILITY_TYPE_LENGTH} characters`)
  }
  return type
}

/** The DHT key (CID v1, raw codec, sha2-256) of a capability type. */
export function capabilityCid(type: string): CID {
  const digest = sha256(new TextEncoder().encode(CAPABILITY_KEY_PREFIX + checkCapabilityType(type)))
  return CID.createV1(raw.code, Digest.create(sha256Hasher.code, digest))
}

/** Announce on the DHT that this node provides `type`. Throws `UNREACHABLE` on timeout. */
export async function provideCapabilityOn(routing: ContentRouting, type: string, signal: AbortSignal): Promise<void> {
  const cid = capabilityCid(type)
  try {
    await routing.provide(cid, { signal })
  } catch (err) {
    throw toMeshError(err, `cannot provide capability '${type}'`, 'UNREACHABLE')
  }
}

/**
 * Stop providing `type` (docs/protocol.md §9, "Capability discovery"): this
 * node's provider record of it leaves the local DHT store, so the DHT's own
 * re-provide schedule announces it no more (records already on peers expire
 * with their validity). Throws `PEER_ERROR` when the store refuses.
 */
export async function withdrawCapabilityOn(routing: ContentRouting, type: string): Promise<void> {
  const cid = capabilityCid(type)
  try {
    await routing.cancelReprovide(cid)
  } catch (err) {
    throw toMeshError(err, `cannot withdraw capability '${type}'`, 'PEER_ERROR')
  }
}

/** Options of a provider lookup. */
export interface FindProvidersOptions {
  /** Most providers answered. */
  readonly limit: number
  /** The providers of the type in this node's DHT store: all are candidates, not only kad-dht's first k. */
  readonly stored: readonly string[]
  /** Providers put first when found, in this order, at most half of `limit` (docs/protocol.md §9: hosts named by stored registrations of the type, connected ones first). */
  readonly prefer: ReadonlySet<string>
  /** PeerId left out of the answer (this node). */
  readonly self: string
  /** The caller's signal: its abort is an error. */
  readonly outer?: AbortSignal
  /** The deadline: when it fires, the providers found so far are the answer. */
  readonly deadline: AbortSignal
}

/**
 * PeerIds providing `type`, without `self`, at most `limit`: the stored ones and up to `limit` more from a DHT
 * lookup, then those in `prefer` first (at most half of `limit`) and the rest shuffled before the cut. kad-dht answers from its store
 * alone, in insertion order, once it holds k providers: taken as is, k records pushed first by free PeerIds
 * would hide every later provider (docs/protocol.md §9, "Capability discovery"; decision 0080).
 */
export async function findCapabilityProvidersOn(
  routing: ContentRouting,
  type: string,
  options: FindProvidersOptions,
): Promise<string[]> {
  const cid = capabilityCid(type)
  const found = new Set<string>(options.stored)
  const fromDht = new Set<string>()
  try {
    for await (const provider of routing.findProviders(cid, { signal: options.deadline })) {
      const id = provider.id.toString()
      found.add(id)
      fromDht.add(id)
      if (fromDht.size >= options.limit) break
    }
  } catch (err) {
    if (options.outer?.aborted === true) throw toMeshError(err, 'capability lookup aborted', 'UNREACHABLE')
    if (!options.deadline.aborted) throw toMeshError(err, `capability lookup of '${type}' failed`, 'PEER_ERROR')
  }
  found.delete(options.self)
  return pickProviders([...found], options.prefer, options.limit)
}

/**
 * At most `limit` of `providers`: those in `prefer` first, in `prefer`'s order, but at most half of `limit`
 * (rounded up), then the others shuffled (review 117, F3: a registration can name any PeerId, so preferred
 * hosts named by Sybil registrations must not fill every slot).
 */
export function pickProviders(
  providers: readonly string[],
  prefer: ReadonlySet<string>,
  limit: number,
  random: () => number = Math.random,
): string[] {
  const found = new Set(providers)
  const first = [...prefer].filter((p) => found.has(p)).slice(0, Math.ceil(limit / 2))
  const taken = new Set(first)
  const rest = providers.filter((p) => !taken.has(p))
  for (let i = rest.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const a = rest[i]!
    rest[i] = rest[j]!
    rest[j] = a
  }
  return [...first, ...rest].slice(0, limit)
}

/**
 * `prefer` with the peers this node is connected to now first, each part in its order: a connection proves
 * its PeerId (Noise), while a registration may name any PeerId (review 117, F3).
 */
export function connectedFirst(prefer: ReadonlySet<string>, connected: ReadonlySet<string>): Set<string> {
  const all = [...prefer]
  return new Set([...all.filter((p) => connected.has(p)), ...all.filter((p) => !connected.has(p))])
}
