// Review (security, attacker's mindset): the SDK facing a server that is not the node — another local user
// listening on the node's port while it is down (decision 0034), or a hostile URL. SECURITY.md: "A server that
// is not the node decides nothing." These tests use the SDK exactly as docs/proxy.md tells a gateway to.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import {
  MeshsigClient,
  NonceCache,
  didFromPublicKey,
  fromB64,
  generateKeyPair,
  signRequest,
  toB64,
  verifyRequestSignature,
} from '../../node/index.js'

const servers: Server[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections()
    await new Promise((r) => s.close(r))
  }
})

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler)
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

describe('the SDK against a node that lies', () => {
  it("docs/proxy.md's gateway verifier must not accept a forgery in an agent's name because a fake node names the forger's key", async () => {
    const alice = generateKeyPair() // the real agent: never rotated
    const aliceDid = didFromPublicKey(alice.publicKey)
    const mallory = generateKeyPair() // another local user, squatting the node's API port
    // The fake node: "alice's current key is mallory's", with no key events to back it.
    const fakeNode = await listen((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({
          did: decodeURIComponent(req.url!.split('/').pop()!),
          known: true,
          source: 'key-event-log',
          publicKey: toB64(mallory.publicKey),
          keySeq: 1,
          lastId: null,
          next: null,
          priorKeys: [],
          revoked: false,
          revocation: null,
          keyEvents: [],
        }),
      )
    })
    // Mallory signs a request (straight to the gateway) with her own key and alice's DID as keyid.
    const authority = '127.0.0.1:3001'
    const request = {
      method: 'POST',
      authority,
      path: '/v1/pay',
      headers: {} as Record<string, string>,
      body: new TextEncoder().encode('{"to":"mallory"}'),
    }
    const headers = signRequest(request, {
      signer: mallory,
      keyid: aliceDid,
      now: Date.now(),
      nonce: toB64(new Uint8Array(16).fill(7)),
    })
    // The gateway, verbatim from docs/proxy.md "Verifying at the gateway".
    const node = new MeshsigClient({ server: fakeNode })
    const nonces = new NonceCache()
    const verdict = await verifyRequestSignature(
      { ...request, headers: { ...headers } },
      {
        now: Date.now(),
        resolveKey: async (did) => {
          const k = await node.keyState(did).catch(() => undefined)
          return k && !k.revoked ? fromB64(k.publicKey) : undefined
        },
        seenNonce: nonces.seen,
      },
    )
    // Secure: a key the DID's own signed events do not lead to (here: none at all) is not alice's key.
    expect(verdict.ok ? { accepted: verdict.signature.keyid } : { refused: verdict.error.code }).not.toEqual({
      accepted: aliceDid,
    })
  })

  it("MeshsigClient.keyState refuses a current key that the answer's own key events do not prove (as `meshsig verify` does)", async () => {
    const alice = generateKeyPair()
    const mallory = generateKeyPair()
    const fakeNode = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({
          did: didFromPublicKey(alice.publicKey),
          known: true,
          publicKey: toB64(mallory.publicKey),
          revoked: false,
          keyEvents: [],
        }),
      )
    })
    await expect(
      new MeshsigClient({ server: fakeNode }).keyState(didFromPublicKey(alice.publicKey)),
    ).rejects.toMatchObject({
      code: 'KEL_INVALID',
    })
  })

  it('a fixed-shape answer (verifyMessage) is read within a bound, like /health and /verify: a fake node cannot make the app buffer without end', async () => {
    const TOTAL = 96 * 1024 * 1024
    let written = 0
    const fakeNode = await listen((req, res) => {
      req.resume()
      res.writeHead(200, { 'content-type': 'application/json' })
      const chunk = Buffer.alloc(1024 * 1024, 0x61)
      res.write('{"valid":true,"pad":"')
      const pump = (): void => {
        while (written < TOTAL) {
          written += chunk.length
          if (!res.write(chunk)) return void res.once('drain', pump)
        }
        res.end('"}')
      }
      res.on('close', () => undefined)
      pump()
    })
    const client = new MeshsigClient({ server: fakeNode })
    const outcome = await client
      .verifyMessage({ did: 'did:msig:x', message: 'm', signature: 's' })
      .then((r) => ({ resolvedWithBytes: JSON.stringify(r).length }))
      .catch((e: { code?: string }) => ({ code: e.code }))
    // Secure: given up past a small bound (SMALL_ANSWER_BYTES is 4 MiB), PEER_ERROR, and the fake node stopped early.
    expect({ outcome, serverWroteMiB: Math.round(written / 2 ** 20) }).toEqual({
      outcome: { code: 'PEER_ERROR' },
      serverWroteMiB: expect.any(Number) as unknown,
    })
    expect(written).toBeLessThan(16 * 1024 * 1024)
  }, 60_000)

  it('POST /verify through the SDK: a fake node answering valid:true for a garbage signature under a raw public key is believed', async () => {
    const key = generateKeyPair()
    const fakeNode = await listen((req, res) => {
      req.resume()
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ valid: true, verifiedAt: new Date().toISOString() }))
    })
    const answer = await new MeshsigClient({ server: fakeNode })
      .verify({ message: 'pay mallory', signature: toB64(new Uint8Array(64)), publicKey: toB64(key.publicKey) })
      .catch((e: { code?: string }) => ({ code: e.code }))
    // Secure: a verdict the SDK can check itself (a raw key was given) is not taken on the server's word.
    expect(answer).not.toMatchObject({ valid: true })
  })
})
