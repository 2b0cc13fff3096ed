/** A WHERE clause of optional conditions, for the repositories' filtered lists. */

/** Conditions (with `?` placeholders) and their parameters, in order. */
export class SqlWhere {
  /** The parameters of the conditions added so far, in placeholder order. */
  readonly params: unknown[] = []
  private readonly conditions: string[] = []

  /** Add `condition` when `when` holds, with its parameters. */
  add(when: boolean, condition: string, ...params: unknown[]): this {
    if (when) {
      this.conditions.push(condition)
      this.params.push(...params)
    }
    return this
  }

  /** ` WHERE a AND b`, or '' without conditions. */
  sql(): string {
    return this.conditions.length ? ' WHERE ' + this.conditions.join(' AND ') : ''
  }
}
