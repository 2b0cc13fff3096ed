/**
 * One entry of the audit log (docs/audit.md) and its leaf hash. Entries are the
 * leaves of an RFC 9162 Merkle tree, in `index` order: leaf hash =
 * SHA-256(0x00 || UTF-8(JCS(entry))). The tree gives the order, so an entry
 * carries no `prev` link; it carries its own `index`, which lets a verifier
 * tell a removed entry (a gap) from a reordered one.
 *
 * `data` is a small JSON object of public facts about the event. It never
 * holds key material: a field named like a secret (`privateKey`, `seed`,
 * `secret`, `password`, `token`, …) at any depth makes the entry malformed.
 */
import * as z from 'zod'
import { canonicalize } from './canonical.js'
import { utf8 } from './encoding.js'
import { MAX_TS } from './envelope-schema.js'
import { MalformedError } from './errors.js'
import { hashLeaf } from './merkle.js'

/**
 * Every kind of audit entry, with what it records and the conventional
 * fields of `subject`, `envelopeId`, `code` and `data` that writers use and
 * readers (trust, the dashboard) rely on.
 */
export const AUDIT_KIND_DOCS = {
  'envelope.accepted':
    'An envelope passed the acceptance rules and was stored. subject: the signer (msg `from`, key event `did`, ' +
    'chk `origin`); envelopeId: its id; code: null; data: {type, to? (msg recipient DID or null), ' +
    'via ("api"|"gossip"|"sync"|"deliver"), deliveredBy? (PeerId or "api:<client>", the API client\'s socket ' +
    'address), forwardedFor? (through the API: the address a trusted proxy named, a claim), authority?}.',
  'envelope.rejected':
    'An envelope was refused. subject: the DID it claims (not proven: it may be forged); envelopeId: its id ' +
    'when it parsed, else null; code: the error code; data: {type?, to?, via, deliveredBy?, forwardedFor?, ' +
    'attributableTo? (set only when a valid signature of that DID stands on it: REPLAY, CLOCK_SKEW, ' +
    'ROTATED_KEY)}. Gossip ' +
    'refusals past the budget of audited ones are summed up per window in one entry: subject and envelopeId ' +
    'null, code "RATE_LIMITED", data {via: "gossip", since, windowMs, unaudited: {<code>: <count>}}.',
  'agent.registered':
    'A registration (`reg`) was accepted. subject: the agent DID; envelopeId: the reg id; data: {name, ' +
    'controller, capabilities (list of type strings), via, deliveredBy? (null for a registration made at ' +
    "the API alone; the rotation's client for one that comes with a rotation), forwardedFor?, authority? (as " +
    'for envelope.accepted)}.',
  'key.rotated':
    'A rotation (`rot`) was accepted. subject: the DID; envelopeId: the rot id; data: {seq, key (new public key, ' +
    'b64), via, deliveredBy?, forwardedFor?, authority? (as for envelope.accepted)}.',
  'agent.revoked':
    'A revocation (`rev`) was accepted; the DID is final. subject: the DID; envelopeId: the rev id; data: ' +
    '{seq, reason, by ("self"|"controller"), via, deliveredBy?, forwardedFor?, authority? (as for ' +
    'envelope.accepted)}.',
  duplicity:
    'Two different key events of one DID at the same seq; the first is kept. subject: the DID; envelopeId: ' +
    'the refused event id; code: "DUPLICITY"; data: {seq, keptId, conflictingId}.',
  handshake:
    'A challenge-response handshake between two identities finished. subject: the initiator DID; code: null ' +
    'when it succeeded, else the error code; data: {peer (the responder DID), ok}.',
  'proxy.request':
    'The signing proxy signed and forwarded an HTTP request (two entries: one before forwarding, status null; ' +
    'then its outcome, with requestEntry: the index of the first). subject: the signer DID; data: {method, ' +
    'authority, path, status, requestEntry?, callerLeft?: the caller hung up first}. Never headers, bodies or tokens.',
  'api.refused':
    'An API action was refused for want of authority (docs/protocol.md §8). subject: the DID it tried to act ' +
    'on or for, when it named one; code: "UNAUTHORIZED" or "FORBIDDEN"; data: {action, client (the socket address), ' +
    'forwardedFor? (the address a trusted proxy named, a claim), authority ("anonymous", "agent", "invalid-bearer")}.',
  'peer.joined':
    'A libp2p peer connected. subject: the DID of its node key when known, else null; data: {peerId, addr?}.',
  'peer.left': 'A libp2p peer disconnected. subject and data as for peer.joined.',
  'checkpoint.inconsistent':
    'A node signed a checkpoint inconsistent with one it signed before: evidence only its keys could make, so ' +
    'it lowers its trust (docs/protocol.md §7, docs/audit.md). subject: the origin DID. Two `chk` envelopes at one size ' +
    "with two roots: envelopeId the later chk id, data {reason: 'split-view', earlierId, size}. Signed notes " +
    "(the witness, docs/audit.md): data {reason: 'split-view' | 'rewrite', earlier, later, reportedBy}. A chk " +
    'and a note the witness cosigned, one size, two roots (decision 0079): envelopeId the chk id, data ' +
    "{reason: 'split-view', size, note}. This " +
    "node's own log failing its continuity check: data {reason, earlierSize, earlierRoot, size}.",
  'receipt.issued':
    "As the node hosting a direct message's recipient, this node signed a delivery receipt (`rcp`, " +
    'docs/protocol.md §10). subject: the recipient DID; envelopeId: the message id; data: {receiptId, ' +
    "deliveredBy (PeerId of the sender's node)}.",
  'receipt.accepted':
    "A direct message this node sent was delivered: the hosting node's receipt verified (docs/protocol.md " +
    '§10). subject: the recipient DID; envelopeId: the message id; data: {receiptId, node (hosting node DID), ' +
    'peerId}.',
  'receipt.rejected':
    'A delivery answer did not hold a valid receipt (wrong key, wrong node, malformed); the message stays ' +
    'pending. subject: the recipient DID; envelopeId: the message id; code: the error code; data: {peerId, reason}.',
  'delivery.refused':
    'The hosting node refused a direct message for good (REVOKED, SIGNATURE_INVALID, ...): it is not retried. ' +
    'subject: the recipient DID; envelopeId: the message id; code: the refusal code; data: {peerId, reason}.',
  'delivery.expired':
    'A direct message reached no hosting node before its expiry (limits.delivery.expiryMs). subject: the ' +
    'recipient DID; envelopeId: the message id; data: {attempts}.',
  checkpoint:
    'The node signed a checkpoint (`chk`) of the log. subject: the node DID; envelopeId: the chk id; data: ' +
    '{size, root (b64)}: the checkpoint covers entries [0, size), so this entry itself comes after it.',
} as const

/** The kind of an audit entry; see `AUDIT_KIND_DOCS`. */
export type AuditKind = keyof typeof AUDIT_KIND_DOCS

/** All audit entry kinds. */
export const AUDIT_KINDS = Object.keys(AUDIT_KIND_DOCS) as [AuditKind, ...AuditKind[]]

/** Largest `data` object, as characters of its JSON text. */
export const MAX_AUDIT_DATA_LENGTH = 8192

/**
 * Levels of objects and arrays an entry's `data` may hold below itself
 * (`data` is level 0). The node writes flat `data`; `createAuditEntry` and
 * `checkAuditEntry` both refuse deeper, the latter before its schema check,
 * whose recursion a few thousand levels would overflow (docs/audit.md).
 */
export const MAX_AUDIT_DATA_DEPTH = 64

/**
 * True when `value` holds an object or array more than `max` levels below
 * itself. Iterative, so any depth `JSON.parse` gave is measured.
 */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[object, number]> = typeof value === 'object' && value !== null ? [[value, 0]] : []
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [v, depth] = next
    if (depth > max) return true
    for (const child of Array.isArray(v) ? (v as unknown[]) : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1])
    }
  }
  return false
}

/** Names of `data` fields that would hold secrets, refused at any depth. */
export const FORBIDDEN_DATA_KEY = /^(private_?key|seed|secret(_?key)?|password|passphrase|token|mnemonic|sk)$/i

const DID_TEXT = /^did:(msig|key):z?[1-9A-HJ-NP-Za-km-z]+$/
const HEX_ID = /^[0-9a-f]{64}$/
const CODE = /^[A-Z][A-Z0-9_]{0,63}$/

const did = z.string().max(128).regex(DID_TEXT, 'must be a did:msig or did:key DID')

/** Name of the first forbidden key inside `value`, depth first, or undefined. */
function forbiddenKeyIn(value: unknown, depth = 0): string | undefined {
  if (typeof value !== 'object' || value === null || depth > 16) return undefined
  if (Array.isArray(value)) {
    for (const v of value) {
      const found = forbiddenKeyIn(v, depth + 1)
      if (found !== undefined) return found
    }
    return undefined
  }
  for (const [k, v] of Object.entries(value)) {
    if (FORBIDDEN_DATA_KEY.test(k)) return k
    const found = forbiddenKeyIn(v, depth + 1)
    if (found !== undefined) return found
  }
  return undefined
}

const data = z.record(z.string(), z.json()).superRefine((value, ctx) => {
  const key = forbiddenKeyIn(value)
  if (key !== undefined) ctx.addIssue({ code: 'custom', message: `must not hold key material (field "${key}")` })
  if (JSON.stringify(value).length > MAX_AUDIT_DATA_LENGTH) {
    ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_AUDIT_DATA_LENGTH} characters of JSON` })
  }
})

/** Shape of one audit entry. Strict: an unknown field is malformed, so what is hashed is what is checked. */
export const auditEntrySchema = z.strictObject({
  /** Position of the entry in the log (its leaf index), from 0. */
  index: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  /** When the node recorded the event, ms since the epoch. */
  ts: z.number().int().nonnegative().max(MAX_TS),
  /** What happened; see `AUDIT_KIND_DOCS`. */
  kind: z.enum(AUDIT_KINDS),
  /** The DID the event is about, or null. */
  subject: did.nullable(),
  /** Id (hex SHA-256) of the envelope involved, or null. */
  envelopeId: z.string().regex(HEX_ID, 'must be a lowercase hex SHA-256').nullable(),
  /** MeshsigError code of a refusal or failure, or null. */
  code: z.string().regex(CODE, 'must be an error code').nullable(),
  /** Small JSON object of public facts (never key material). */
  data,
})

/** One audit log entry. */
export type AuditEntry = z.infer<typeof auditEntrySchema>

/** An audit entry before the log gives it its index. */
export type AuditEntryInit = Omit<AuditEntry, 'index'>

/** The outcome of `checkAuditEntry`: the typed entry, or why it is malformed. */
export type AuditEntryCheck = { ok: true; entry: AuditEntry } | { ok: false; field: string; message: string }

/** Check the shape of untrusted input without throwing. */
export function checkAuditEntry(input: unknown): AuditEntryCheck {
  const data = typeof input === 'object' && input !== null ? (input as { data?: unknown }).data : undefined
  if (nestsDeeperThan(data, MAX_AUDIT_DATA_DEPTH)) {
    return { ok: false, field: 'data', message: `data: nests deeper than ${MAX_AUDIT_DATA_DEPTH} levels` }
  }
  let result: ReturnType<typeof auditEntrySchema.safeParse>
  try {
    result = auditEntrySchema.safeParse(input)
  } catch (err) {
    // not expected once the depth is bounded; an entry the check cannot read is still only a malformed entry
    return {
      ok: false,
      field: 'entry',
      message: `entry: cannot be checked (${err instanceof Error ? err.name : 'error'})`,
    }
  }
  if (result.success) return { ok: true, entry: result.data }
  const issue = result.error.issues[0]
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : 'entry'
  return { ok: false, field, message: `${field}: ${issue?.message ?? 'invalid'}` }
}

/** Check the shape of untrusted input and return it typed. Throws `MalformedError` naming the field. */
export function parseAuditEntry(input: unknown): AuditEntry {
  const checked = checkAuditEntry(input)
  if (!checked.ok) throw new MalformedError(`malformed audit entry: ${checked.message}`, { field: checked.field })
  return checked.entry
}

/** True for a JSON value (what `z.json()` accepts): no undefined, functions, symbols, bigints or non-finite numbers. */
function isJson(value: unknown, depth = 0): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true
  if (typeof value === 'number') return Number.isFinite(value)
  if (typeof value !== 'object' || depth > MAX_AUDIT_DATA_DEPTH) return false
  if (Array.isArray(value)) return value.every((v) => isJson(v, depth + 1))
  return Object.values(value).every((v) => isJson(v, depth + 1))
}

/** Why the node-built fields of an entry break `auditEntrySchema`, or undefined when they keep to it. */
function fieldProblem(entry: AuditEntry): [string, string] | undefined {
  const count = (n: number): boolean => Number.isSafeInteger(n) && n >= 0
  if (!count(entry.index)) return ['index', 'must be a non-negative safe integer']
  if (!count(entry.ts) || entry.ts > MAX_TS) return ['ts', `must be an integer from 0 to ${MAX_TS}`]
  if (!Object.hasOwn(AUDIT_KIND_DOCS, entry.kind)) return ['kind', 'must be an audit entry kind']
  const s = entry.subject
  if (s !== null && (typeof s !== 'string' || s.length > 128 || !DID_TEXT.test(s))) return ['subject', 'must be a DID']
  const id = entry.envelopeId
  if (id !== null && (typeof id !== 'string' || !HEX_ID.test(id)))
    return ['envelopeId', 'must be a lowercase hex SHA-256']
  if (entry.code !== null && (typeof entry.code !== 'string' || !CODE.test(entry.code)))
    return ['code', 'must be an error code']
  const data: unknown = entry.data
  if (typeof data !== 'object' || data === null || Array.isArray(data) || !isJson(data))
    return ['data', 'must be a JSON object']
  const key = forbiddenKeyIn(data)
  if (key !== undefined) return ['data', `must not hold key material (field "${key}")`]
  if (JSON.stringify(data).length > MAX_AUDIT_DATA_LENGTH)
    return ['data', `must be at most ${MAX_AUDIT_DATA_LENGTH} characters of JSON`]
  return undefined
}

/**
 * Build the entry at `index` from its fields, checking them against
 * `auditEntrySchema` by hand: the node appends one entry per event, and the
 * schema's parse cost more than the rest of the entry (a property test holds
 * the two checks to the same verdicts). Throws `MalformedError`.
 */
export function createAuditEntry(index: number, init: AuditEntryInit): AuditEntry {
  const entry: AuditEntry = {
    index,
    ts: init.ts,
    kind: init.kind,
    subject: init.subject,
    envelopeId: init.envelopeId,
    code: init.code,
    data: init.data,
  }
  const problem = fieldProblem(entry)
  if (problem !== undefined) {
    const [field, message] = problem
    throw new MalformedError(`malformed audit entry: ${field}: ${message}`, { field })
  }
  return entry
}

/** The bytes an entry's leaf hash covers: UTF-8 of its JCS text. */
export function auditEntryBytes(entry: AuditEntry): Uint8Array {
  return utf8(canonicalize(entry))
}

/** The entry's Merkle leaf hash: SHA-256(0x00 || UTF-8(JCS(entry))) (docs/audit.md). */
export function leafHashOfEntry(entry: AuditEntry): Uint8Array {
  return hashLeaf(auditEntryBytes(entry))
}
