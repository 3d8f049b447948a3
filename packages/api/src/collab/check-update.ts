/**
 * A structural check of a Yjs V1 update before Yjs sees it.
 *
 * Yjs trusts its input: a count read from the bytes sizes an array before anything is checked
 * (`new Array(numberOfStructs)`: 66 random bytes made it allocate 168 MB and spend 300 ms), and
 * its readers return `undefined` past the end instead of throwing. This walk reads the same
 * format with every count bounded by the bytes left, and accepts only what a plain-text field
 * holds (strings, deletions, formats, embeds under the one root type), so anything it passes
 * costs Yjs time linear in its size.
 */

/** Content refs a text field's items may carry (Yjs `contentRefs`). */
const CONTENT = {
  deleted: 1,
  string: 4,
  embed: 5,
  format: 6,
} as const;
const GC = 0;
const SKIP = 10;
const BITS5 = 31;
const ORIGIN = 128;
const RIGHT_ORIGIN = 64;
const PARENT_SUB = 32;

export class UpdateFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UpdateFormatError";
  }
}

class Reader {
  pos = 0;
  constructor(private readonly bytes: Uint8Array) {}

  get left(): number {
    return this.bytes.length - this.pos;
  }

  byte(): number {
    const value = this.bytes[this.pos++];
    if (value === undefined) throw new UpdateFormatError("update is truncated");
    return value;
  }

  /** lib0's varuint: 7 bits a byte, little end first, at most 53 bits. */
  uint(): number {
    let value = 0;
    let multiplier = 1;
    for (;;) {
      const byte = this.byte();
      value += (byte & 0x7f) * multiplier;
      if (byte < 0x80) return value;
      multiplier *= 128;
      if (multiplier > 2 ** 53)
        throw new UpdateFormatError("update has an integer out of range");
    }
  }

  /** An item id: client and clock. */
  id(): void {
    this.uint();
    this.uint();
  }

  /** A count of things each at least one byte long: never more than the bytes left. */
  count(): number {
    const value = this.uint();
    if (value > this.left)
      throw new UpdateFormatError("update claims more entries than it holds");
    return value;
  }

  string(): string {
    const length = this.count();
    const start = this.pos;
    this.pos += length;
    return new TextDecoder().decode(this.bytes.subarray(start, this.pos));
  }

  json(): void {
    try {
      JSON.parse(this.string());
    } catch {
      throw new UpdateFormatError("update holds malformed JSON");
    }
  }
}

/**
 * Throws `UpdateFormatError` unless `update` is a well-formed V1 update whose items all belong
 * to the root type `rootName` (directly or through origins) and carry text content.
 */
export function checkTextUpdate(update: Uint8Array, rootName: string): void {
  const reader = new Reader(update);
  const clients = reader.count();
  for (let c = 0; c < clients; c++) {
    const structs = reader.count();
    reader.uint(); // client
    reader.uint(); // first clock
    for (let s = 0; s < structs; s++) readStruct(reader, rootName);
  }
  const deleteClients = reader.count();
  for (let c = 0; c < deleteClients; c++) {
    reader.uint(); // client
    const ranges = reader.count();
    for (let r = 0; r < ranges; r++) {
      reader.uint(); // clock
      reader.uint(); // length
    }
  }
  if (reader.left !== 0)
    throw new UpdateFormatError("update has trailing bytes");
}

function readStruct(reader: Reader, rootName: string): void {
  const info = reader.byte();
  const content = info & BITS5;
  if (content === GC || content === SKIP) {
    reader.uint();
    return;
  }
  if (info & ORIGIN) reader.id();
  if (info & RIGHT_ORIGIN) reader.id();
  if ((info & (ORIGIN | RIGHT_ORIGIN)) === 0) {
    // No origin to inherit the parent from: the parent is named (a root type) or an item id.
    const parentIsRoot = reader.uint() === 1;
    if (parentIsRoot) {
      if (reader.string() !== rootName)
        throw new UpdateFormatError(
          "update edits another document (unknown root type)",
        );
    } else reader.id();
    if (info & PARENT_SUB)
      throw new UpdateFormatError("update edits a map, not text");
  }
  switch (content) {
    case CONTENT.deleted:
      reader.uint();
      return;
    case CONTENT.string:
      reader.string();
      return;
    case CONTENT.embed:
      reader.json();
      return;
    case CONTENT.format:
      reader.string();
      reader.json();
      return;
    default:
      throw new UpdateFormatError(
        `update carries content a text field does not hold (ref ${content})`,
      );
  }
}

/** Throws `UpdateFormatError` unless `stateVector` is a well-formed Yjs state vector. */
export function checkStateVector(stateVector: Uint8Array): void {
  const reader = new Reader(stateVector);
  const clients = reader.count();
  for (let c = 0; c < clients; c++) reader.id();
  if (reader.left !== 0)
    throw new UpdateFormatError("state vector has trailing bytes");
}
