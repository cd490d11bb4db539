// Small binary helpers: length-prefixed packing of byte strings behind a 4-byte magic, hex.

const MAGIC_LENGTH = 4;

/** magic (4 ASCII bytes) ‖ count (u16) ‖ for each part: length (u32) ‖ bytes. */
export function pack(magic: string, parts: readonly Uint8Array[]): Uint8Array {
  if (magic.length !== MAGIC_LENGTH) throw new Error('pack: magic must be 4 characters');
  const total = MAGIC_LENGTH + 2 + parts.reduce((n, p) => n + 4 + p.length, 0);
  const out = Buffer.alloc(total);
  out.write(magic, 0, 'latin1');
  out.writeUInt16BE(parts.length, MAGIC_LENGTH);
  let offset = MAGIC_LENGTH + 2;
  for (const p of parts) {
    out.writeUInt32BE(p.length, offset);
    offset += 4;
    out.set(p, offset);
    offset += p.length;
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** The parts packed by `pack` with this magic, or null if the bytes are not such a packing. */
export function unpack(magic: string, bytes: Uint8Array, expectedParts?: number): Uint8Array[] | null {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < MAGIC_LENGTH + 2 || buf.toString('latin1', 0, MAGIC_LENGTH) !== magic) return null;
  const count = buf.readUInt16BE(MAGIC_LENGTH);
  if (expectedParts !== undefined && count !== expectedParts) return null;
  const parts: Uint8Array[] = [];
  let offset = MAGIC_LENGTH + 2;
  for (let i = 0; i < count; i++) {
    if (offset + 4 > buf.length) return null;
    const len = buf.readUInt32BE(offset);
    offset += 4;
    if (offset + len > buf.length) return null;
    // A copy, so that wiping a part never touches the caller's buffer and vice versa.
    parts.push(Uint8Array.from(buf.subarray(offset, offset + len)));
    offset += len;
  }
  return offset === buf.length ? parts : null;
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function wipe(...arrays: (Uint8Array | undefined)[]): void {
  for (const a of arrays) a?.fill(0);
}
