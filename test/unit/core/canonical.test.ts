import { describe, expect, it } from 'vitest'
import { canonicalize } from '../../../node/index.js'
import { codeOf } from '../../helpers/error-code.js'

function f64(hexBits: string): number {
  return Buffer.from(hexBits, 'hex').readDoubleBE(0)
}

describe('JCS (RFC 8785)', () => {
  it('§3.2.4: the worked example serialises exactly', () => {
    const input = `{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\"\\/",
      "literals": [null, true, false]
    }`
    expect(canonicalize(JSON.parse(input))).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    )
  })

  it('§3.2.3: sorts keys by UTF-16 code units, including non-ASCII and astral keys', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    }
    expect(canonicalize(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis",' +
        '"€":"Euro Sign","😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    )
  })

  it('sorts nested objects and keeps array order; no whitespace', () => {
    expect(canonicalize({ b: [3, { z: 1, a: 2 }], a: { d: null, c: 'x' } })).toBe(
      '{"a":{"c":"x","d":null},"b":[3,{"a":2,"z":1}]}',
    )
  })

  it('Appendix B: serialises IEEE 754 numbers like ECMAScript', () => {
    const table: Array<[string, string]> = [
      ['0000000000000000', '0'],
      ['8000000000000000', '0'],
      ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['ffefffffffffffff', '-1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'],
      ['44b52d02c7e14af6', '1e+23'],
      ['44b52d02c7e14af7', '1.0000000000000001e+23'],
      ['444b1ae4d6e2ef4e', '999999999999999700000'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'],
      ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555553', '333333333.3333332'],
      ['41b3de4355555554', '333333333.33333325'],
      ['41b3de4355555555', '333333333.3333333'],
      ['41b3de4355555556', '333333333.3333334'],
      ['41b3de4355555557', '333333333.33333343'],
      ['becbf647612f3696', '-0.0000033333333333333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ]
    for (const [bits, expected] of table) expect(canonicalize(f64(bits)), bits).toBe(expected)
    expect(canonicalize(-0)).toBe('0')
    expect(canonicalize(1e21)).toBe('1e+21')
    expect(canonicalize(1e20)).toBe('100000000000000000000')
    expect(canonicalize(0.000001)).toBe('0.000001')
    expect(canonicalize(0.0000001)).toBe('1e-7')
  })

  it('refuses NaN and ±Infinity (Appendix B: 7fffffffffffffff, 7ff0000000000000)', () => {
    expect(codeOf(() => canonicalize(f64('7fffffffffffffff')))).toBe('MALFORMED')
    expect(codeOf(() => canonicalize(f64('7ff0000000000000')))).toBe('MALFORMED')
    expect(codeOf(() => canonicalize({ a: [1, -Infinity] }))).toBe('MALFORMED')
  })

  it('refuses lone surrogates in values and in keys, accepts proper pairs', () => {
    for (const bad of ['\ud800', 'a\udc00', '\udbff\ud800', 'x\ud83d']) {
      expect(
        codeOf(() => canonicalize(bad)),
        JSON.stringify(bad),
      ).toBe('MALFORMED')
      expect(codeOf(() => canonicalize({ [bad]: 1 }))).toBe('MALFORMED')
    }
    expect(canonicalize('\ud83d\ude00')).toBe('"😀"')
  })

  it('refuses values JSON cannot carry', () => {
    expect(codeOf(() => canonicalize(undefined))).toBe('MALFORMED')
    expect(codeOf(() => canonicalize(10n))).toBe('MALFORMED')
    expect(codeOf(() => canonicalize(() => 1))).toBe('MALFORMED')
    expect(codeOf(() => canonicalize(new Date(0)))).toBe('MALFORMED')
    expect(canonicalize({ a: undefined, b: 1 })).toBe('{"b":1}')
  })
})
