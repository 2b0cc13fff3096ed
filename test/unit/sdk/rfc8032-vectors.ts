/** RFC 8032 §7.1 Ed25519 test vectors TEST 1-3 (hex copied from the RFC text). */
export interface Rfc8032Vector {
  readonly name: string
  readonly secretKey: string
  readonly publicKey: string
  readonly message: string
  readonly signature: string
}

/** TEST 1 (empty message), TEST 2 (0x72 = 'r'), TEST 3 (0xaf82, not valid UTF-8). */
export const RFC8032_VECTORS: readonly Rfc8032Vector[] = [
  {
    name: 'TEST 1',
    secretKey: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    name: 'TEST 2',
    secretKey: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    name: 'TEST 3',
    secretKey: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    publicKey: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    message: 'af82',
    signature:
      '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
]

/** Hex to bytes. */
export function hex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'hex'))
}

/** Hex to standard base64. */
export function hexToB64(text: string): string {
  return Buffer.from(text, 'hex').toString('base64')
}

/** The vector's message as a string when it is valid UTF-8, else undefined. */
export function utf8Message(v: Rfc8032Vector): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(hex(v.message))
  } catch {
    return undefined
  }
}
