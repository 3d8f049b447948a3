/**
 * The WHATWG Encoding API, in every runtime this package runs on (browsers, Node ≥ 11) but in
 * no `lib` of the isomorphic base config (ES only: no DOM, no Node types). Only what
 * doc-socket.ts uses.
 */
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}

declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input?: Uint8Array): string;
}
