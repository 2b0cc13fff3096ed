/**
 * What a log keeps of the witnesses that cosign its checkpoints (docs/audit.md,
 * "Witnesses"; decision 0066, addendum): `cosigner.<PeerId>`, the size of the
 * checkpoint the witness last cosigned (the old size of the next request),
 * and `witness.binding.<DID>`, the binding the witness sent, for auditors
 * (`auditorView`), with `keptSize`, the size of the checkpoint its line was
 * last kept for. Both are written only for a line kept in a note, and each
 * table holds at most `limits.witness.origins` rows: past it the witness whose
 * line was kept longest ago (the smallest size) is forgotten first. A fresh
 * PeerId costs nothing, so without the bound every checkpoint could leave 16
 * rows more for good (found by the hundredth attack review).
 */
import type { LogKeyBinding } from '../core/log-key-binding.js'
import type { Store } from '../store/index.js'

const COSIGNER = 'cosigner.'
const BINDING = 'witness.binding.'

/** A stored witness binding: the binding, and the size its line was last kept for (absent before the addendum). */
type StoredBinding = LogKeyBinding & { readonly keptSize?: number }

/** The bounded rows of a log's witnesses. */
export class WitnessCosigners {
  constructor(
    private readonly store: Store,
    private readonly max: () => number,
  ) {}

  /** Keep that the witness `w` at `peerId` had its line kept for the checkpoint of `size` (in a transaction). */
  keep(peerId: string, w: LogKeyBinding, size: number): void {
    this.put(COSIGNER, `${COSIGNER}${peerId}`, String(size), (v) => Number(v))
    this.put(BINDING, `${BINDING}${w.did}`, JSON.stringify({ ...w, keptSize: size }), (v) => {
      return (JSON.parse(v) as StoredBinding).keptSize ?? 0
    })
  }

  /** Write `key` = `value` in the table `prefix`, forgetting the rows of smallest `sizeOf` to stay within the bound. */
  private put(prefix: string, key: string, value: string, sizeOf: (v: string) => number): void {
    const misc = this.store.misc
    if (misc.meta(key) === undefined) {
      const over = misc.countMeta(prefix) - this.max() + 1
      if (over > 0) {
        const oldest = misc
          .metaWithPrefix(prefix)
          .map((r) => ({ key: r.key, size: sizeOf(r.value) }))
          .sort((x, y) => x.size - y.size)
          .slice(0, over)
        for (const r of oldest) misc.deleteMeta(r.key)
      }
    }
    misc.setMetaValue(key, value)
  }
}
