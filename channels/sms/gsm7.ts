// GSM 03.38 default alphabet and its extension table, as unpacked septets (one per octet): that
// is what SMPP carries for the SMSC default alphabet. The `smpp` library's own coder mislabels
// data_coding, so we encode ourselves and hand it bytes.

const ESC = 0x1b;

// Index = septet value. 0x1B is the escape to the extension table, never a character.
const BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

const EXTENSION: ReadonlyArray<[string, number]> = [
  ['\f', 0x0a],
  ['^', 0x14],
  ['{', 0x28],
  ['}', 0x29],
  ['\\', 0x2f],
  ['[', 0x3c],
  ['~', 0x3d],
  [']', 0x3e],
  ['|', 0x40],
  ['€', 0x65],
];

const basicEnc = new Map<string, number>();
for (let i = 0; i < BASIC.length; i++) if (i !== ESC) basicEnc.set(BASIC.charAt(i), i);
const extEnc = new Map<string, number>(EXTENSION);
const extDec = new Map<number, string>(EXTENSION.map(([c, v]) => [v, c]));

/** Septets one character takes: 1 (basic), 2 (extension, ESC + code), or 0 if not GSM. */
export function gsmSeptets(char: string): 0 | 1 | 2 {
  if (basicEnc.has(char)) return 1;
  if (extEnc.has(char)) return 2;
  return 0;
}

export function isGsm7(text: string): boolean {
  for (const ch of text) if (gsmSeptets(ch) === 0) return false;
  return true;
}

export function encodeGsm7(text: string): Buffer {
  const out: number[] = [];
  for (const ch of text) {
    const b = basicEnc.get(ch);
    if (b !== undefined) {
      out.push(b);
      continue;
    }
    const e = extEnc.get(ch);
    if (e === undefined) throw new RangeError('character outside GSM 03.38');
    out.push(ESC, e);
  }
  return Buffer.from(out);
}

/** Unknown septets and unknown escapes decode to a space, as handsets do. */
export function decodeGsm7(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const v = (bytes[i] ?? 0) & 0x7f;
    if (v === ESC) {
      const next = bytes[i + 1];
      i++;
      out += next === undefined ? '' : (extDec.get(next & 0x7f) ?? ' ');
      continue;
    }
    out += BASIC.charAt(v);
  }
  return out;
}
