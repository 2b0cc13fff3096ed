/**
 * The node's checkpoints as C2SP signed notes (docs/audit.md, docs/audit.md): the
 * note text is origin (the node DID), size and b64 root; the log key signs
 * it (Ed25519, deterministic, so the log's line is recomputed on demand);
 * the cosignatures peers return as witnesses are kept per size. And the
 * checkpoint anchor check (issue 9): a new checkpoint must be consistent with
 * the last one the node signed, which is kept outside the database.
 */
import { fromB64, toB64, type ChkEnvelope, type KeyPair } from '../core/index.js'
import { bindingVerifiers, storedBinding, type LogKeyBinding } from '../core/log-key-binding.js'
import { checkpointText, encodeVkey, parseNote, signNoteText, verifyNote, type NoteVerifier } from '../core/note.js'
import type { Store } from '../store/index.js'

/** Most cosignature lines kept per checkpoint. */
export const MAX_COSIGNATURES = 16

/** What the notes need from the node. */
export interface CheckpointNoteComponents {
  readonly store: Store
  /** The log key of the node's current identity key (made anew after a rotation, decision 0084). */
  readonly logKey: () => KeyPair
  readonly binding: () => LogKeyBinding
}

/** The note of a checkpoint and the keys to check it with, as exports carry them. */
export interface AuditorNoteView {
  /** The C2SP checkpoint note with the log's signature and the cosignatures gathered. */
  readonly note: string
  /** The node's log and witness vkeys, and the binding its identity key signed. */
  readonly logKeys: { readonly log: string; readonly witness: string; readonly binding: LogKeyBinding }
  /** The witnesses that cosigned: DID, witness vkey, and their own binding. */
  readonly witnesses: ReadonlyArray<{ readonly did: string; readonly vkey: string; readonly binding: LogKeyBinding }>
}

/** The last checkpoint signed, kept outside the database. */
export interface AnchorFile {
  read(): { size: number; root: string } | undefined
  write(anchor: { size: number; root: string }): void
}

/** Makes and keeps the signed notes of the node's checkpoints. */
export class CheckpointNotes {
  constructor(private readonly c: CheckpointNoteComponents) {}

  /** The note text of `chk` (origin = the chk's origin DID). */
  text(chk: Pick<ChkEnvelope, 'origin' | 'size' | 'root'>): string {
    return checkpointText(chk.origin, chk.size, fromB64(chk.root, 'root', 32))
  }

  /** The log-signed note of `chk`, with every cosignature gathered for it. */
  note(chk: Pick<ChkEnvelope, 'origin' | 'size' | 'root'>): string {
    const text = this.text(chk)
    const { log } = bindingVerifiers(this.c.binding())
    const logLine = signNoteText(text, log.name, this.c.logKey())
    return `${text}\n${logLine}${this.cosignatures(chk.size, chk.root).join('')}`
  }

  /** The verifier keys: the log's (0x01) and the witness's (0x04), as vkeys. */
  vkeys(): { log: string; witness: string } {
    const v = bindingVerifiers(this.c.binding())
    return { log: encodeVkey(v.log), witness: encodeVkey(v.witness) }
  }

  /**
   * What an auditor needs to check the note of `chk` (docs/audit.md): the
   * note, the log's vkeys with their binding (signed by the node's identity
   * key), and for each witness whose cosignature the note carries, its vkey
   * and the binding its own identity key signed (as the witness sent it).
   */
  auditorView(chk: Pick<ChkEnvelope, 'origin' | 'size' | 'root'>): AuditorNoteView {
    const witnesses = this.cosignatures(chk.size, chk.root).flatMap((line) => {
      const did = /^— (\S+)\/witness /u.exec(line)?.[1]
      const saved = did === undefined ? undefined : this.c.store.misc.meta(`witness.binding.${did}`)
      if (did === undefined || saved === undefined) return []
      const binding = storedBinding(saved)
      return [{ did, vkey: encodeVkey(bindingVerifiers(binding).witness), binding }]
    })
    return { note: this.note(chk), logKeys: { ...this.vkeys(), binding: this.c.binding() }, witnesses }
  }

  /** Cosignature lines kept for the checkpoint of `size` with `root`, one per witness key. */
  cosignatures(size: number, root: string): string[] {
    const saved = this.c.store.misc.meta(`audit.cosig.${size}`)
    if (saved === undefined) return []
    const kept = JSON.parse(saved) as { root: string; lines: string[] }
    // rows written before decision 0066 may hold several lines of one key: the last is the newest
    return kept.root === root ? onePerWitness(kept.lines) : []
  }

  /**
   * Keep the cosignature of a witness (verified under `witness`) for the
   * checkpoint of `chk`, at most one line per witness key (docs/audit.md;
   * Go's sumdb/note refuses a note with two signatures of one known key):
   * the newest of those it sent replaces the one it held. A witness not held
   * yet takes a free slot; when all `MAX_COSIGNATURES` are taken, the
   * witnesses held keep theirs ('full'). 'invalid' when none verifies.
   */
  addCosignatures(
    chk: Pick<ChkEnvelope, 'origin' | 'size' | 'root'>,
    lines: string,
    witness: NoteVerifier,
  ): 'kept' | 'full' | 'invalid' {
    const note = `${this.text(chk)}\n${lines}`
    let verified
    try {
      verified = verifyNote(note, [witness])
    } catch {
      return 'invalid'
    }
    // verifyNote checks each line of the key in order: the i-th verified is the i-th line of the key
    const mine = parseNote(note).signatures.filter((s) => s.name === witness.name && s.keyId === witness.keyId)
    let newest = 0
    verified.forEach((v, i) => {
      if ((v.timestamp ?? 0) > (verified[newest]?.timestamp ?? 0)) newest = i
    })
    const line = mine[newest]?.line
    if (line === undefined) return 'invalid'
    const held = this.cosignatures(chk.size, chk.root)
    const others = held.filter((l) => !l.startsWith(`— ${witness.name} `))
    if (others.length === held.length && held.length >= MAX_COSIGNATURES) return 'full'
    const next = others.length === held.length ? [...held, line] : held.map((l) => (others.includes(l) ? l : line))
    this.c.store.misc.setMetaValue(`audit.cosig.${chk.size}`, JSON.stringify({ root: chk.root, lines: next }))
    return 'kept'
  }
}

/** `lines` with one line per signer name, the last of each, in the order of those lines. */
function onePerWitness(lines: readonly string[]): string[] {
  const name = (l: string): string => l.split(' ', 2)[1] ?? l
  const last = new Map(lines.map((l, i) => [name(l), i]))
  return lines.filter((l, i) => last.get(name(l)) === i)
}

/**
 * Why a checkpoint of `size` entries, whose prefix of `anchor.size` entries
 * has root `rootAt(anchor.size)`, would not be consistent with the anchor;
 * null when it is.
 */
export function continuityProblem(
  anchor: { size: number; root: string } | undefined,
  size: number,
  rootAt: (n: number) => Uint8Array,
): string | null {
  if (anchor === undefined) return null
  if (size < anchor.size) {
    return `the log holds ${size} entries but the last signed checkpoint covered ${anchor.size}: entries were removed`
  }
  if (toB64(rootAt(anchor.size)) !== anchor.root) {
    return `the first ${anchor.size} entries no longer have the root of the last signed checkpoint: the log was edited`
  }
  return null
}
