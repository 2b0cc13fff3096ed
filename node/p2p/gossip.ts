/**
 * Gossip wiring: subscribes to meshsig's topics, installs one topic validator
 * per topic that calls the node's `validate` callback (acceptance rules) and
 * maps its verdict onto gossipsub's Accept / Reject / Ignore, and hands every
 * accepted message to `onMessage`.
 */
import { TopicValidatorResult, type GossipSub, type GossipsubMessage, type Message } from '@libp2p/gossipsub'
import { MeshsigError } from '../core/errors.js'
import { MAX_GOSSIP_DATA_BYTES, TOPICS, isTopic, type Topic } from './constants.js'
import { asError, invalidInput, toMeshError } from './p2p-errors.js'
import type { MeshP2PInit, ValidationResult } from './types.js'

/** Gossipsub methods the router has but its public interface does not declare. */
interface GossipSubInternals {
  getMeshPeers(topic: string): string[]
  getScore(peerId: string): number
}

const VERDICTS: Readonly<Record<ValidationResult, TopicValidatorResult>> = {
  accept: TopicValidatorResult.Accept,
  reject: TopicValidatorResult.Reject,
  ignore: TopicValidatorResult.Ignore,
}

type Callbacks = Pick<MeshP2PInit, 'validate' | 'onMessage' | 'onError'>

function signer(message: Message): string | undefined {
  return message.type === 'signed' ? message.from.toString() : undefined
}

async function runValidator(callbacks: Callbacks, topic: Topic, via: string, message: Message) {
  const from = signer(message)
  // StrictSign already refuses unsigned messages; this keeps the type honest.
  if (from === undefined) return TopicValidatorResult.Reject
  try {
    const verdict = await callbacks.validate(topic, message.data, from, via)
    return VERDICTS[verdict] ?? TopicValidatorResult.Ignore
  } catch (err) {
    callbacks.onError?.(asError(err))
    return TopicValidatorResult.Ignore
  }
}

/** Install one validator per meshsig topic and the accepted-message listener. */
export function attachGossip(pubsub: GossipSub, callbacks: Callbacks): void {
  for (const topic of TOPICS) {
    pubsub.topicValidators.set(topic, (peer, message) => runValidator(callbacks, topic, peer.toString(), message))
  }
  pubsub.addEventListener('gossipsub:message', (event: CustomEvent<GossipsubMessage>) => {
    const { msg, propagationSource } = event.detail
    const from = signer(msg)
    if (!isTopic(msg.topic) || from === undefined) return
    try {
      callbacks.onMessage(msg.topic, msg.data, from, propagationSource.toString())
    } catch (err) {
      callbacks.onError?.(asError(err))
    }
  })
}

/** Subscribe to every meshsig topic (gossipsub must be started). */
export function subscribeAll(pubsub: GossipSub): void {
  for (const topic of TOPICS) pubsub.subscribe(topic)
}

/** Publish `data` on a meshsig topic; zero subscribed peers is not an error. */
export async function publishTo(pubsub: GossipSub, topic: Topic, data: Uint8Array): Promise<{ recipients: number }> {
  if (!isTopic(topic)) throw invalidInput(`not a meshsig topic: ${String(topic).slice(0, 80)}`)
  if (!(data instanceof Uint8Array) || data.length === 0 || data.length > MAX_GOSSIP_DATA_BYTES) {
    throw invalidInput(`gossip data is 1 to ${MAX_GOSSIP_DATA_BYTES} bytes`)
  }
  try {
    const result = await pubsub.publish(topic, data)
    return { recipients: result.recipients.length }
  } catch (err) {
    throw toMeshError(err, `publish on ${topic} failed`, 'INTERNAL')
  }
}

function internals(pubsub: GossipSub): GossipSubInternals {
  const candidate = pubsub as unknown as Partial<GossipSubInternals>
  if (typeof candidate.getMeshPeers !== 'function' || typeof candidate.getScore !== 'function') {
    throw new MeshsigError('INTERNAL', 'gossipsub lacks getMeshPeers/getScore')
  }
  return candidate as GossipSubInternals
}

/** PeerIds in this node's mesh for `topic`. */
export function meshPeersOf(pubsub: GossipSub, topic: Topic): string[] {
  return internals(pubsub).getMeshPeers(topic)
}

/** Add a behaviour penalty (gossipsub P7, weight -10, squared) to `peerId`'s score. */
export function penaliseIn(pubsub: GossipSub, peerId: string, penalty: number): void {
  const score = (
    pubsub as unknown as {
      score?: { addPenalty?(id: string, n: number, label: string): void; scoreCache?: Map<string, unknown> }
    }
  ).score
  if (typeof score?.addPenalty !== 'function') throw new MeshsigError('INTERNAL', 'gossipsub lacks score.addPenalty')
  score.addPenalty(peerId, penalty, 'meshsig-sync')
  // a cached positive score would outlive the penalty, and gossipsub forgets a peer with a positive score when it leaves
  score.scoreCache?.delete(peerId)
}

/** This node's gossipsub score of `peerId`. */
export function scoreOf(pubsub: GossipSub, peerId: string): number {
  return internals(pubsub).getScore(peerId)
}
