/**
 * Review 107 L1 (decision 0078): `dialableAddresses` kept every multiaddr a
 * seed's `/health` listed, duplicates included, so one answer of ~2,000
 * addresses cost ~2,000 dials (here, and in the bootstrap keeper and
 * `POST /peers/connect`, which resolve seeds the same way). Now it keeps
 * each at most once, and at most `MAX_SEED_ADDRS`.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import { MAX_SEED_ADDRS } from '../../node/p2p/constants.js'
import { dialableAddresses } from '../../node/p2p/seed-address.js'

const PEER_ID = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'
const OTHER_ID = '12D3KooWMGrF9vqz2UCUpPbSLQhkvqQS5CXE3GGWKgwK6nU7kQMC'

describe('dialableAddresses', () => {
  it('keeps at most MAX_SEED_ADDRS distinct addresses of ~2,000', () => {
    const many = Array.from({ length: 2000 }, (_, i) => `/ip4/10.0.${i % 250}.1/tcp/${1000 + i}`)
    const out = dialableAddresses(PEER_ID, many)
    expect(out).toHaveLength(MAX_SEED_ADDRS) // was 2,000
    expect(out[0]).toBe(`/ip4/10.0.0.1/tcp/1000/p2p/${PEER_ID}`)
  })

  it('keeps a repeated address once, with or without its /p2p/ part', () => {
    const addr = '/ip4/127.0.0.1/tcp/4889'
    const out = dialableAddresses(PEER_ID, [addr, addr, `${addr}/p2p/${PEER_ID}`, ...Array(2000).fill(addr)])
    expect(out).toEqual([`${addr}/p2p/${PEER_ID}`])
  })

  it('skips what is no multiaddr or names another PeerId, before the cap', () => {
    const junk = [42, 'garbage', `/ip4/127.0.0.1/tcp/1/p2p/${OTHER_ID}`]
    const out = dialableAddresses(PEER_ID, [...Array(20).fill(junk).flat(), '/ip4/127.0.0.1/tcp/2'])
    expect(out).toEqual([`/ip4/127.0.0.1/tcp/2/p2p/${PEER_ID}`])
  })
})

describe('the PeerId a seed names', () => {
  it('is written in base58 whatever spelling the seed used (a CID slipped past the own-PeerId check, review 110)', () => {
    const base58 = '12D3KooWMGrF9vqz2UCUpPbSLQhkvqQS5CXE3GGWKgwK6nU7kQMC'
    const cid = peerIdFromString(base58).toCID().toString()
    expect(cid).not.toBe(base58)
    expect(dialableAddresses(cid, ['/ip4/127.0.0.1/tcp/1/ws'])).toEqual([`/ip4/127.0.0.1/tcp/1/ws/p2p/${base58}`])
  })
})
