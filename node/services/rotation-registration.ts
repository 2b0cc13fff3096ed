/**
 * The registration a rotation leaves behind (docs/protocol.md §6, decision
 * 0070): signed by the new key, so that a node that meets the agent only
 * after the rotation can take it and knows the controller whose revocations
 * count. A registration signed by a key the DID has retired is `ROTATED_KEY`
 * there; with none, that node cannot check a revocation by the controller.
 * It is dated now (`followingTs`).
 */
import {
  createRegistration,
  fromB64,
  MeshsigError,
  parseEnvelope,
  verifyEnvelopeSignature,
  type KeyPair,
  type RegEnvelope,
  type RegistrationInit,
  type RotEnvelope,
} from '../core/index.js'
import { followingTs } from '../core/registration-order.js'
import type { AgentRow } from '../store/index.js'

/**
 * The registration of a custodied agent signed again with its new key: the
 * name and capabilities this node registered it with (`profile`), this node
 * as controller, its PeerId now (decision 0057). Not the held registration's
 * fields: whoever held the old key (a thief) may have signed that one, and
 * the new key would make it the agent's for good.
 */
export function asRegistered(
  held: AgentRow,
  profile: Pick<RegistrationInit, 'name' | 'capabilities'>,
  node: { readonly did: string; readonly peerId: string },
  key: KeyPair,
  now: number,
): RegEnvelope {
  const { name, capabilities } = profile
  const init = { did: held.did, name, capabilities, controller: node.did, peerId: node.peerId }
  return createRegistration({ ...init, ts: followingTs(held.regTs, now) }, key)
}

/**
 * The held registration of an agent whose new key passed through this node
 * (a seed-style rotation of an agent it does not custody), signed again with
 * that key: the same name, capabilities, controller and PeerId as held.
 */
export function reSigned(held: AgentRow, key: KeyPair, now: number): RegEnvelope {
  const reg = JSON.parse(held.regEnvelope) as RegEnvelope
  const init: RegistrationInit = {
    did: held.did,
    name: reg.name,
    capabilities: reg.capabilities,
    controller: reg.controller,
    peerId: reg.peerId,
    ts: followingTs(held.regTs, now),
  }
  return createRegistration(init, key)
}

/**
 * The `registration` a caller sent with its signed rotation `rot`, checked
 * before anything is stored: a registration of the rotated DID, signed by the
 * key the rotation rotates to, replacing one this node holds (a first
 * registration goes through `POST /agents/register`, under the registry's
 * bounds). Throws `MALFORMED`, `INVALID_INPUT` or `SIGNATURE_INVALID`.
 */
export function checkedRegistration(input: unknown, rot: RotEnvelope, held: AgentRow | undefined): RegEnvelope {
  const field = { field: 'registration' }
  const reg = parseEnvelope(input)
  if (reg.type !== 'reg' || reg.did !== rot.did) {
    throw new MeshsigError('INVALID_INPUT', `registration must be a reg envelope of ${rot.did}`, field)
  }
  if (held === undefined) {
    const why = `this node holds no registration of ${rot.did} to replace: rotate alone, then register under the new key`
    throw new MeshsigError('INVALID_INPUT', why, field)
  }
  try {
    verifyEnvelopeSignature(reg, fromB64(rot.key, 'key', 32))
  } catch {
    throw new MeshsigError('SIGNATURE_INVALID', 'registration must be signed by the key the rotation rotates to', field)
  }
  return reg
}
