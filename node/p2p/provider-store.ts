/**
 * The libp2p datastore of a meshsig node (docs/protocol.md §9, "Capability discovery"): in memory, like
 * libp2p's default, but the DHT provider records other peers make this node keep are bounded. kad-dht stores one
 * record per (key, provider) for any key a peer's `ADD_PROVIDER` names, kept 48 h; here each provider PeerId
 * keeps at most `PROVIDER_RECORDS_PER_PEER` and all providers together `PROVIDER_RECORDS_TOTAL`; when full, the
 * oldest record of the provider holding the most is evicted, so a flood from many PeerIds evicts the flooders'
 * records before an honest provider's one (decision 0080, review 117). Only records of a sha2-256 key, the kind
 * `capabilityCid` makes, are kept, so each record's size is bounded. The node's own records are bounded by `limits.discovery.providedTypes` and
 * are never evicted by others'.
 */
import { MemoryDatastore } from 'datastore-core/memory'
import { base32 } from 'multiformats/bases/base32'

/** Datastore prefix of kad-dht's provider records (kad-dht's default `datastorePrefix` + `/provider`). */
export const PROVIDER_KEY_PREFIX = '/dht/provider/'
/** Most provider records one provider PeerId may leave in this node's DHT store (as `providedTypes`). */
export const PROVIDER_RECORDS_PER_PEER = 256
/** Most provider records of other peers this node's DHT store keeps, all providers together. */
export const PROVIDER_RECORDS_TOTAL = 16_384
/**
 * Length of the one DHT key kept for other peers: base32 of a sha2-256 multihash (0x12 0x20 + 32 bytes), the
 * key `capabilityCid` makes. Records of any other key (e.g. an identity multihash of up to 4 MiB) are refused
 * (review 117, F1), so a record's size is bounded and counting records bounds bytes.
 */
export const PROVIDER_KEY_CHARS = 55

/** The key prefix of the provider records of a DHT key's multihash (kad-dht's `toProviderKey`, base32, no multibase prefix). */
export function providerKeyPrefix(multihash: Uint8Array): string {
  return `${PROVIDER_KEY_PREFIX}${base32.baseEncode(multihash)}/`
}

type Key = Parameters<MemoryDatastore['put']>[0]
type PutOptions = Parameters<MemoryDatastore['put']>[2]
type DeleteOptions = Parameters<MemoryDatastore['delete']>[1]

/** The provider PeerId of a provider record's key (`/dht/provider/<key>/<peerId>`); `undefined` for other keys. */
function providerOf(key: string): string | undefined {
  if (!key.startsWith(PROVIDER_KEY_PREFIX)) return undefined
  const rest = key.slice(PROVIDER_KEY_PREFIX.length)
  const slash = rest.lastIndexOf('/')
  return slash > 0 && slash < rest.length - 1 ? rest.slice(slash + 1) : undefined
}

/** Whether a provider-key segment is base32 of a 34-byte sha2-256 multihash (the only key meshsig provides). */
function isCapabilityKey(segment: string): boolean {
  if (segment.length !== PROVIDER_KEY_CHARS) return false
  try {
    const bytes = base32.baseDecode(segment)
    return bytes.length === 34 && bytes[0] === 0x12 && bytes[1] === 0x20
  } catch {
    return false
  }
}

/** An in-memory datastore whose provider records of other peers are bounded per provider and in total. */
export class ProviderBoundedDatastore extends MemoryDatastore {
  /** Other peers' provider records by key, oldest first: the key and its provider. */
  private readonly records = new Map<string, { readonly key: Key; readonly provider: string }>()
  /** Each provider's record keys, oldest first. */
  private readonly byProvider = new Map<string, Set<string>>()

  /**
   * @param self this node's PeerId: its own records are not counted
   * @param perPeer most records per provider PeerId
   * @param total most records of all other providers
   */
  constructor(
    private readonly self: string,
    private readonly perPeer = PROVIDER_RECORDS_PER_PEER,
    private readonly total = PROVIDER_RECORDS_TOTAL,
  ) {
    super()
  }

  /** Provider records of other peers held now. */
  get providerRecords(): number {
    return this.records.size
  }

  /** PeerIds of the providers stored under a provider-key prefix (`/dht/provider/<key>/`), oldest first. */
  providersUnder(prefix: string): string[] {
    const found: string[] = []
    for (const [key, { provider }] of this.records) if (key.startsWith(prefix)) found.push(provider)
    return found
  }

  override put(key: Key, val: Uint8Array, options?: PutOptions): Key | Promise<Key> {
    const k = key.toString()
    const provider = providerOf(k)
    if (provider === undefined || provider === this.self) return super.put(key, val, options)
    // Fail closed: a record of a key meshsig never provides is not stored (kad-dht's handler does not await a result).
    if (!isCapabilityKey(k.slice(PROVIDER_KEY_PREFIX.length, k.length - provider.length - 1))) return key
    const stored = super.put(key, val, options)
    this.forget(k)
    this.records.set(k, { key, provider })
    const own = this.byProvider.get(provider) ?? new Set<string>()
    own.add(k)
    this.byProvider.set(provider, own)
    if (own.size > this.perPeer) this.evict(own.values().next().value)
    if (this.records.size > this.total) this.evict(this.biggestHolder()?.values().next().value)
    return stored
  }

  /** The record keys of the provider holding the most records (the first such one): evicted from first when full. */
  private biggestHolder(): Set<string> | undefined {
    let biggest: Set<string> | undefined
    for (const own of this.byProvider.values()) if (own.size > (biggest?.size ?? 0)) biggest = own
    return biggest
  }

  override delete(key: Key, options?: DeleteOptions): void | Promise<void> {
    this.forget(key.toString())
    return super.delete(key, options)
  }

  /** Drop the record under `key` (the oldest of its provider, or of the biggest holder). */
  private evict(key: string | undefined): void {
    const entry = key === undefined ? undefined : this.records.get(key)
    if (entry === undefined) return
    this.forget(entry.key.toString())
    void super.delete(entry.key)
  }

  private forget(key: string): void {
    const entry = this.records.get(key)
    if (entry === undefined) return
    this.records.delete(key)
    const own = this.byProvider.get(entry.provider)
    own?.delete(key)
    if (own?.size === 0) this.byProvider.delete(entry.provider)
  }
}
