/**
 * Writes a repository keeps in memory inside a transaction, one level per
 * open transaction or savepoint, and writes once just before the outermost
 * COMMIT (issue 13): trust evidence (trust-repo.ts) and message counts
 * (agents-repo.ts). A released savepoint's level folds into the one below;
 * a rolled-back one is dropped with its values. It answers the transaction
 * runner's `TransactionHooks` (transaction.ts).
 */
import type { TransactionHooks } from './transaction.js'

/** What a repository says about its levels. */
export interface LevelRules<L> {
  /** A new, empty level. */
  fresh(): L
  /** Fold a released savepoint's level into the level below it. */
  fold(below: L, top: L): void
  /** Write a level's values to the database (the outermost one before COMMIT). */
  write(level: L): void
}

/** The open levels of one repository, outermost first. */
export class SavepointLevels<L> implements Required<TransactionHooks> {
  readonly #levels: L[] = []

  constructor(private readonly rules: LevelRules<L>) {}

  /** The open levels, outermost first. */
  get all(): readonly L[] {
    return this.#levels
  }

  /** The innermost open level, or undefined outside a transaction of the runner. */
  get top(): L | undefined {
    return this.#levels.at(-1)
  }

  /** The runner opened a transaction or savepoint. */
  opened(): void {
    this.#levels.push(this.rules.fresh())
  }

  /** The outermost transaction is about to COMMIT: write what it kept. */
  committing(): void {
    const level = this.top
    if (level !== undefined) this.rules.write(level)
  }

  /** A savepoint was released (its values now belong to the level below) or the transaction committed. */
  closed(nested: boolean): void {
    const top = this.#levels.pop()
    if (top === undefined || !nested) return // committed: `committing` wrote it
    const below = this.top
    if (below === undefined)
      this.rules.write(top) // a savepoint of a transaction the runner did not open
    else this.rules.fold(below, top)
  }

  /** The innermost level was rolled back: its values are dropped. */
  rolledBack(): void {
    this.#levels.pop()
  }
}
