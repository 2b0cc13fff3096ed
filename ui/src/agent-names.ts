/**
 * Names that cannot pass for another agent's (docs/dashboard.md, "Text from
 * the network"). A name is any text its agent chose: two agents may share one,
 * an agent may take this node's name, or a name shaped like a DID. Such a name
 * is shown with its agent's short DID. Names are compared as a reader sees
 * them: NFKC, without invisible and format characters, spaces collapsed, in
 * lower case (`planner`, `Planner` and `plan\u200bner` are one name), on their
 * first `KEY_CHARS` characters. Letters of other scripts that look alike are
 * not folded, but a name that mixes scripts whose letters look alike (Latin
 * with any script but the East Asian ones, or two of Greek, Cyrillic,
 * Armenian and Cherokee: `plаnner` with a Cyrillic `а`) is always told
 * apart, and `did:` is looked for with the lookalikes of its letters and
 * colon read as them (`dіd∶`, `ᑯid:`).
 *
 * The index of names is kept per agent and updated one agent at a time
 * (`noteAgent`): a peer's registration or a snapshot refresh normalises the
 * names it changes, not every name the page holds (up to 20,000).
 */
import { nameLines, plainText, shortDid, type ShownName } from './format.js'
import type { DashboardState } from './state.js'

const INVISIBLE = /[\p{Cf}\p{Cc}\u034f\u115f\u1160\u3164\uffa0\ufe00-\ufe0f]/gu

/** The longest name the node accepts (`regSchema`, the node's `name`): no more of a name is normalised. */
export const NAME_CHARS = 128
/** Names are compared on this many characters of how they read. */
export const KEY_CHARS = 256
/** The part of a name's NFKC form read first: enough for `KEY_CHARS` unless most of it is invisible or space. */
const FIRST_READ = 2 * KEY_CHARS

/** Scripts whose letters pass for each other's (Unicode TR 39's confusables): a name may use one of them. */
const LOOKALIKE_SCRIPTS = [
  /\p{Script=Latin}/u,
  /\p{Script=Greek}/u,
  /\p{Script=Cyrillic}/u,
  /\p{Script=Armenian}/u,
  /\p{Script=Cherokee}/u,
]
/** A letter of a script that East Asian names write beside Latin ones (TR 39's "highly restrictive" sets). */
const LATIN = /\p{Script=Latin}/u
const OTHER_THAN_LATIN_OR_EAST_ASIAN =
  /[^\P{L}\p{Script=Latin}\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Bopomofo}]/u
/** Characters read as `:` (NFKC leaves them apart from it): TR 39's confusables of the colon. */
const COLON_LIKE =
  /[\u02d0\u02f8\u0589\u05c3\u0703\u0704\u0903\u0a83\u1361\u16ec\u1803\u1809\u205a\u2236\u2982\ua4fd\ua789]/g
/** Letters of other scripts read as the `d` and `i` of `did:` (TR 39's confusables, NFKC aside). */
const D_LIKE = /[\u0501\u13e7\u146f\ua4d2]/g
const I_LIKE = /[\u0131\u0269\u026a\u02db\u037a\u03b9\u0456\u04cf\u13a5\u2373\ua647\uab75\u{118c3}]/gu

/**
 * True when the name's letters mix scripts that look alike: Latin with any
 * script but those East Asian names write beside it, or two of Greek,
 * Cyrillic, Armenian and Cherokee.
 */
function mixesLookalikeScripts(read: string): boolean {
  if (LATIN.test(read) && OTHER_THAN_LATIN_OR_EAST_ASIAN.test(read)) return true
  let found = 0
  for (const script of LOOKALIKE_SCRIPTS) if (script.test(read)) found += 1
  return found > 1
}

/** True when the name holds `did:` as a reader takes it, lookalikes of its letters and colon read as them. */
function holdsDid(read: string): boolean {
  return read.replace(COLON_LIKE, ':').replace(D_LIKE, 'd').replace(I_LIKE, 'i').includes('did:')
}

function readerForm(normalised: string): string {
  return normalised.replace(INVISIBLE, '').replace(/\s+/g, ' ').trimStart()
}

/**
 * How a name reads, for comparing names: the first `KEY_CHARS` characters of
 * its NFKC form without invisible characters, spaces collapsed, in lower case
 * (a final `ς` as `σ`, as case folding has it). Only its first `NAME_CHARS`
 * characters are normalised (NFKC writes one character as up to 18: U+FDFA),
 * and the rest runs on the first `FIRST_READ` characters of that when they
 * read as more than `KEY_CHARS`, else on all of it: each step maps one
 * character at a time (the final sigma folded), so this is the key of the whole.
 */
export function nameKey(name: string): string {
  const normalised = name.slice(0, NAME_CHARS).normalize('NFKC')
  let read = readerForm(normalised.slice(0, FIRST_READ))
  if (read.length <= KEY_CHARS) read = readerForm(normalised)
  return read.toLowerCase().replace(/ς/g, 'σ').slice(0, KEY_CHARS).trimEnd()
}

interface Entry {
  readonly name: string
  readonly key: string
  /** The name reads as nothing, holds `did:` (as a short DID would) or mixes lookalike scripts: always told apart. */
  readonly didLike: boolean
  /** The name as plain text, made when first shown. */
  shown?: string
}

interface Index {
  /** Each agent's name as the index counted it. */
  readonly byDid: Map<string, Entry>
  /** How many agents have a name of each key. */
  readonly counts: Map<string, number>
  node?: Entry
}

const indexes = new WeakMap<DashboardState, Index>()

function count(index: Index, key: string, by: number): void {
  const n = (index.counts.get(key) ?? 0) + by
  if (n > 0) index.counts.set(key, n)
  else index.counts.delete(key)
}

/** Count agent `did` under `name` (undefined: the agent is gone); nothing to do when the name is the one counted. */
function recount(index: Index, did: string, name: string | undefined): void {
  const old = index.byDid.get(did)
  if (old?.name === name) return
  if (old !== undefined) {
    count(index, old.key, -1)
    index.byDid.delete(did)
  }
  if (name === undefined) return
  const entry = entryFor(name)
  index.byDid.set(did, entry)
  count(index, entry.key, 1)
}

/**
 * Agent `did` of `state` was added, renamed or removed: its name is counted
 * again (every change to `state.agents` tells this, state.ts and agent-sync.ts).
 * Before the first name is shown there is no index: it is made then.
 */
export function noteAgent(state: DashboardState, did: string): void {
  const index = indexes.get(state)
  if (index !== undefined) recount(index, did, state.agents[did]?.name)
}

/**
 * A name's entry. `didLike` is read on the key, or on the whole of the name's
 * reader form when the key is cut (a name spelling `planner (did:msig:…)`,
 * the way a name told apart was once shown, gets the tag of its own DID).
 */
function entryFor(name: string): Entry {
  const key = nameKey(name)
  // the key is the whole reader form unless it was cut (then trimmed by at most one space)
  const read = key.length < KEY_CHARS - 1 ? key : readerForm(name.slice(0, NAME_CHARS).normalize('NFKC')).toLowerCase()
  return { name, key, didLike: key === '' || holdsDid(read) || mixesLookalikeScripts(read) }
}

function indexOf(state: DashboardState): Index {
  let index = indexes.get(state)
  if (index === undefined) {
    index = { byDid: new Map(), counts: new Map() }
    for (const a of Object.values(state.agents)) recount(index, a.did, a.name)
    indexes.set(state, index)
  }
  return index
}

function nodeKey(state: DashboardState, index: Index): string | undefined {
  const node = state.node
  if (node === null) return undefined
  if (index.node?.name !== node.name) index.node = entryFor(node.name)
  return index.node.key
}

function entryOf(index: Index, did: string, name: string): Entry {
  const counted = index.byDid.get(did)
  return counted?.name === name ? counted : entryFor(name)
}

function passes(state: DashboardState, index: Index, did: string, entry: Entry): boolean {
  const { key } = entry
  if (entry.didLike) return true
  if (state.node !== null && did !== state.node.did && key === nodeKey(state, index)) return true
  const self = index.byDid.get(did)?.key === key ? 1 : 0
  return (index.counts.get(key) ?? 0) - self > 0
}

/** True when `name`, the name of agent `did`, could be taken for another agent's, this node's, or a DID. */
export function passesForAnother(state: DashboardState, did: string, name: string): boolean {
  const index = indexOf(state)
  return passes(state, index, did, entryOf(index, did, name))
}

/** An agent's name as plain text, with its short DID as a tag of its own when the name could pass for another's. */
export function agentNameParts(state: DashboardState, did: string, name: string): ShownName {
  const index = indexOf(state)
  const entry = entryOf(index, did, name)
  entry.shown ??= plainText(name)
  return passes(state, index, did, entry) ? { name: entry.shown, tag: shortDid(did) } : { name: entry.shown }
}

/** `agentNameParts` as one text, the short DID on a line of its own (`nameLines`). */
export function agentName(state: DashboardState, did: string, name: string): string {
  return nameLines(agentNameParts(state, did, name))
}
