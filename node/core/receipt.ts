/**
 * Delivery receipts (docs/protocol.md §10, "Receipts"): the statement a
 * recipient's hosting node signs with its node key when a direct message was
 * delivered to it. `sig` is Ed25519 over
 * `0xFF || UTF-8("meshsig/v1/rcp\n") || JCS(receipt without sig)`, like every
 * envelope (docs/protocol.md §4); a receipt is not an envelope of the mesh
 * (never gossiped, never ingested). Pure: the clock and keys come in.
 */
import { canonicalize } from './canonical.js'
import { domainSigningInput } from './envelope.js'
import { fromB64, toB64 } from './encoding.js'
import { MalformedError, MeshsigError, SignatureInvalidError } from './errors.js'
import { verifySignature, type KeyPair } from './keys.js'
import { idOfSigningBytes } from './envelope.js'
import { RECEIPT_TYPE, receiptSchema, type Receipt } from './envelope-schema.js'

export { RECEIPT_TYPE, receiptSchema } from './envelope-schema.js'
export type { Receipt } from './envelope-schema.js'

/** What a receipt states, before signing. */
export type ReceiptStatement = Omit<Receipt, 'sig' | 'v' | 'type'>

/** What the sender's node expects of a receipt (docs/protocol.md §10). */
export interface ReceiptExpectation {
  /** The id of the message it delivered. */
  readonly msg: string
  /** The message's recipient DID. */
  readonly to: string
  /** The DID of the node hosting `to` in the registry (its `reg.controller`). */
  readonly node: string
  /** The current key of that node, which is also the key of the peer that answered. */
  readonly nodeKey: Uint8Array
}

/** The exact bytes a receipt's signature covers. */
export function receiptSigningBytes(receipt: Omit<Receipt, 'sig'> | Receipt): Uint8Array {
  const { sig: _sig, ...body } = receipt as Receipt
  return domainSigningInput(RECEIPT_TYPE, canonicalize(body))
}

/** A receipt's id: lowercase hex SHA-256 of its signing bytes. */
export function receiptId(receipt: Receipt): string {
  return idOfSigningBytes(receiptSigningBytes(receipt))
}

/** Sign a receipt with the hosting node's key. */
export function signReceipt(statement: ReceiptStatement, nodeKey: KeyPair): Receipt {
  const unsigned = { v: 1 as const, type: RECEIPT_TYPE as typeof RECEIPT_TYPE, ...statement }
  return parseReceipt({ ...unsigned, sig: toB64(nodeKey.sign(receiptSigningBytes(unsigned))) })
}

/** Check the shape of untrusted input; throws `MalformedError` naming the first offending field. */
export function parseReceipt(input: unknown): Receipt {
  const result = receiptSchema.safeParse(input)
  if (!result.success) {
    const issue = result.error.issues[0]
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'receipt'
    throw new MalformedError(`malformed receipt: ${where}: ${issue?.message ?? 'invalid'}`, { field: where })
  }
  return result.data
}

/**
 * Check a receipt against what its sender's node expects: the right message,
 * recipient and hosting node (`KEY_MISMATCH` otherwise), signed by that
 * node's key (`SIGNATURE_INVALID` otherwise). Returns the parsed receipt.
 */
export function verifyReceipt(input: unknown, expected: ReceiptExpectation): Receipt {
  const receipt = parseReceipt(input)
  for (const field of ['msg', 'to', 'node'] as const) {
    if (receipt[field] !== expected[field]) {
      throw new MeshsigError('KEY_MISMATCH', `receipt names ${field} ${receipt[field]}, expected ${expected[field]}`, {
        field,
      })
    }
  }
  const signature = fromB64(receipt.sig, 'sig', 64)
  if (!verifySignature(receiptSigningBytes(receipt), signature, expected.nodeKey)) {
    throw new SignatureInvalidError(`receipt for ${receipt.msg} is not signed by ${expected.node}`, {
      type: RECEIPT_TYPE,
    })
  }
  return receipt
}
