/**
 * The MIME type a blob is stored and served with: the one the client declared, checked against
 * the leading bytes for common media types. The bytes win for the types we can recognise, so a
 * file declared `image/png` that is really a GIF is stored as `image/gif`, and one that is no
 * image at all as `application/octet-stream` (the Lexicon's `accept` then refuses it).
 */

/** How many leading bytes the sniffer looks at. */
export const SNIFF_BYTES = 16

export const OCTET_STREAM = 'application/octet-stream'

interface Signature {
  mime: string
  /** Declared types the same bytes may legitimately carry (the container is shared). */
  also?: string[]
  test(head: Uint8Array): boolean
}

const MP4_FAMILY = ['video/mp4', 'video/quicktime', 'audio/mp4', 'video/3gpp', 'video/x-m4v']

const SIGNATURES: Signature[] = [
  {
    mime: 'image/png',
    test: (h) => startsWith(h, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  },
  { mime: 'image/jpeg', also: ['image/jpg'], test: (h) => startsWith(h, [0xff, 0xd8, 0xff]) },
  { mime: 'image/gif', test: (h) => ascii(h, 0, 'GIF87a') || ascii(h, 0, 'GIF89a') },
  { mime: 'image/webp', test: (h) => ascii(h, 0, 'RIFF') && ascii(h, 8, 'WEBP') },
  { mime: 'image/avif', test: (h) => ftyp(h, ['avif', 'avis']) },
  { mime: 'image/heic', also: ['image/heif'], test: (h) => ftyp(h, ['heic', 'heix', 'mif1']) },
  { mime: 'video/quicktime', also: MP4_FAMILY, test: (h) => ftyp(h, ['qt  ']) },
  { mime: 'video/mp4', also: MP4_FAMILY, test: (h) => ascii(h, 4, 'ftyp') },
  {
    mime: 'video/webm',
    also: ['audio/webm', 'video/x-matroska', 'audio/x-matroska'],
    test: (h) => startsWith(h, [0x1a, 0x45, 0xdf, 0xa3]),
  },
  { mime: 'audio/ogg', also: ['video/ogg', 'application/ogg'], test: (h) => ascii(h, 0, 'OggS') },
  { mime: 'audio/mpeg', test: (h) => ascii(h, 0, 'ID3') },
  {
    mime: 'audio/wav',
    also: ['audio/x-wav'],
    test: (h) => ascii(h, 0, 'RIFF') && ascii(h, 8, 'WAVE'),
  },
  { mime: 'application/pdf', test: (h) => ascii(h, 0, '%PDF-') },
]

/**
 * Declared types that a mismatch downgrades: their signatures are unambiguous, so bytes that
 * lack them are not that type. (Video is left alone: some valid files do not open with `ftyp`.)
 */
const STRICT_TYPES = new Set(['image/png', 'image/jpeg', 'image/jpg', 'image/gif', 'image/webp'])

/** The type of the leading bytes, if they open one of the common formats. */
export function sniffMimeType(head: Uint8Array): string | null {
  return SIGNATURES.find((sig) => sig.test(head))?.mime ?? null
}

/** `Content-Type` header → bare lowercase `type/subtype`; anything unusable → octet-stream. */
export function normalizeMimeType(header: string | null | undefined): string {
  const bare = header?.split(';')[0]?.trim().toLowerCase() ?? ''
  if (bare === '*/*' || !/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/.test(bare)) {
    return OCTET_STREAM
  }
  return bare
}

/** The type to store: the declared one unless the leading bytes say otherwise. */
export function chooseMimeType(
  declaredHeader: string | null | undefined,
  head: Uint8Array,
): string {
  const declared = normalizeMimeType(declaredHeader)
  const signature = SIGNATURES.find((sig) => sig.test(head))
  if (signature) {
    if (declared === signature.mime || signature.also?.includes(declared)) return declared
    return signature.mime
  }
  return STRICT_TYPES.has(declared) ? OCTET_STREAM : declared
}

function startsWith(head: Uint8Array, bytes: number[]): boolean {
  return bytes.every((byte, i) => head[i] === byte)
}

function ascii(head: Uint8Array, offset: number, text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (head[offset + i] !== text.charCodeAt(i)) return false
  }
  return true
}

function ftyp(head: Uint8Array, brands: string[]): boolean {
  return ascii(head, 4, 'ftyp') && brands.some((brand) => ascii(head, 8, brand))
}
