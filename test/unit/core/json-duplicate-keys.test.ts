// duplicateJsonKey (node/core/json-duplicate-keys.ts): JSON.parse keeps the last of two equal member names, so an
// audit export is read with this check first (docs/audit.md). Names compare after unescaping; strings holding
// quotes, backslashes or brackets are skipped whole; equal names in different objects are no repeat.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { duplicateJsonKey } from '../../../node/core/json-duplicate-keys.js'

describe('duplicateJsonKey', () => {
  it('finds a name written twice in one object, at any depth', () => {
    expect(duplicateJsonKey('{"a":1,"a":2}')).toBe('a')
    expect(duplicateJsonKey('[{"x":{"k":1,"j":[1,{"k":2}],"k":3}}]')).toBe('k')
    expect(duplicateJsonKey('{"entry":{"kind":"x","index":0,"kind":"y"}}')).toBe('kind')
  })

  it('compares names after unescaping', () => {
    expect(duplicateJsonKey('{"a":1,"\\u0061":2}')).toBe('a')
    expect(duplicateJsonKey('{"a\\"b":1,"a\\u0022b":2}')).toBe('a"b')
  })

  it('sees no repeat in equal names of different objects, in values, or in strings that look like JSON', () => {
    expect(duplicateJsonKey('[{"a":1},{"a":2}]')).toBeUndefined()
    expect(duplicateJsonKey('{"a":{"a":{"a":1}}}')).toBeUndefined()
    expect(duplicateJsonKey('{"a":"a","b":["a","a"]}')).toBeUndefined()
    expect(duplicateJsonKey('{"a":"\\\\","b":"{\\"b\\":1,","c":"\\\\\\""}')).toBeUndefined()
    expect(duplicateJsonKey('"{\\"a\\":1,\\"a\\":2}"')).toBeUndefined()
    expect(duplicateJsonKey('[1,"x",null,true,{}]')).toBeUndefined()
  })

  it('agrees with JSON.parse on any JSON text: a repeat exactly when parsing dropped a member (property)', () => {
    const name = fc.constantFrom('a', 'b', 'a"', '\\', '{', ',')
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        fc.integer(),
        fc.array(tie('node'), { maxLength: 3 }),
        fc.array(fc.tuple(name, tie('node')), { maxLength: 4 }),
      ),
    })).node
    /** JSON text of a value in which arrays of [name, value] pairs become objects, repeats kept. */
    const text = (v: unknown): string => {
      if (Array.isArray(v) && v.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string'))
        return `{${v.map(([k, x]) => `${JSON.stringify(k)}:${text(x)}`).join(',')}}`
      if (Array.isArray(v)) return `[${v.map((x) => text(x)).join(',')}]`
      return JSON.stringify(v)
    }
    const repeats = (v: unknown): boolean => {
      if (!Array.isArray(v)) return false
      const pairs = v.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string')
      const names = pairs ? v.map((p) => (p as [string, unknown])[0]) : []
      if (new Set(names).size < names.length) return true
      return v.some((x) => (pairs ? repeats((x as [string, unknown])[1]) : repeats(x)))
    }
    fc.assert(
      fc.property(value, (v) => {
        const t = text(v)
        JSON.parse(t)
        expect(duplicateJsonKey(t) !== undefined).toBe(repeats(v))
      }),
    )
  })
})
