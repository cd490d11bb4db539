// Puts concatenated parts back together by their UDH reference, the way a handset would.

export interface ConcatInfo {
  ref: number;
  total: number;
  seq: number;
}

/** Reads IEI 0x00 (8-bit reference) or 0x08 (16-bit) from the library's list of UDH elements. */
export function concatInfo(udh: unknown): ConcatInfo | null {
  if (!Array.isArray(udh)) return null;
  for (const ie of udh as unknown[]) {
    if (!Buffer.isBuffer(ie) || ie.length < 2) continue;
    const iei = ie[0];
    if (iei === 0x00 && ie.length >= 5) return { ref: ie[2] ?? 0, total: ie[3] ?? 0, seq: ie[4] ?? 0 };
    if (iei === 0x08 && ie.length >= 6)
      return { ref: ie.readUInt16BE(2), total: ie[4] ?? 0, seq: ie[5] ?? 0 };
  }
  return null;
}

export interface PartIn<T> {
  key: string;
  info: ConcatInfo;
  value: T;
}

export class Reassembler<T> {
  private readonly pending = new Map<string, Map<number, T>>();

  /** All parts in order once the last one arrives; a resent part replaces its earlier copy. */
  add(part: PartIn<T>): T[] | null {
    const key = `${part.key}|${part.info.ref}|${part.info.total}`;
    const parts = this.pending.get(key) ?? new Map<number, T>();
    parts.set(part.info.seq, part.value);
    this.pending.set(key, parts);
    if (parts.size < part.info.total) return null;
    this.pending.delete(key);
    return [...parts.entries()].sort(([a], [b]) => a - b).map(([, v]) => v);
  }

  get incomplete(): number {
    return this.pending.size;
  }
}
