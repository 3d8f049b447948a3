/**
 * Bytes as they travel: base64 in the api's JSON (superjson has no `Uint8Array`), and
 * Postgres' `bytea` text output in shapes. Isomorphic (`atob`/`btoa`: browsers and Node ≥ 16).
 */

export function toBase64(bytes: Uint8Array): string {
  // String.fromCharCode takes at most ~65k arguments: encode in chunks.
  let binary = "";
  for (let start = 0; start < bytes.length; start += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(start, start + 0x8000));
  return btoa(binary);
}

export function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * A `bytea` value as shapes carry it: Postgres' text output, `\x` then two hex digits a byte
 * (`bytea_output = hex`, the default; Electric and the kit's sync server both send it as is).
 * The old `escape` format is refused rather than misread.
 */
export function parseByteaHex(text: string): Uint8Array {
  if (!text.startsWith("\\x") || text.length % 2 !== 0)
    throw new TypeError("expected bytea in hex format (\\x…)");
  const bytes = new Uint8Array((text.length - 2) / 2);
  for (let i = 0; i < bytes.length; i++) {
    const byte = Number.parseInt(text.slice(2 + i * 2, 4 + i * 2), 16);
    if (Number.isNaN(byte)) throw new TypeError("bytea: not a hex digit");
    bytes[i] = byte;
  }
  return bytes;
}
