// Turns a text into the short_message payloads of one submit_sm each: picks the encoding and, for
// long texts, cuts parts and builds the concatenation UDH that the `smpp` library cannot build.
import { createHash } from 'node:crypto';
import { SmsPermanentError } from './errors';
import { encodeGsm7, gsmSeptets } from './gsm7';
import type { SmsEncoding } from './types';

export const DATA_CODING_UCS2 = 0x08;

const GSM_SINGLE = 160;
const GSM_PART = 153; // 160 septets minus the 6-octet UDH (7 septets)
const UCS2_SINGLE = 70;
const UCS2_PART = 67; // 140 octets minus the 6-octet UDH, in UTF-16 code units
const MAX_PARTS = 255; // the UDH part counter is one octet

export interface SmsPart {
  /** 6-octet concatenation UDH, absent for a single-part message. */
  udh?: Buffer;
  payload: Buffer;
}

export interface SegmentedMessage {
  encoding: SmsEncoding;
  dataCoding: number;
  parts: SmsPart[];
}

export interface SegmentOptions {
  /** Our message id: the 8-bit concatenation reference derives from it. */
  messageId: string;
  /** data_coding value the SMSC reads as GSM 03.38 ("SMSC default alphabet"); 0x00 per SMPP 3.4. */
  gsmDataCoding?: number;
}

/**
 * A retry of the same message gets the same reference, so a handset that already holds some parts
 * of the first attempt still reassembles them.
 */
export function concatReference(messageId: string): number {
  return createHash('sha256').update(messageId).digest()[0] ?? 0;
}

function gsmChunks(text: string): string[] {
  const chars = Array.from(text);
  let total = 0;
  for (const ch of chars) total += gsmSeptets(ch);
  if (total <= GSM_SINGLE) return [text];
  const chunks: string[] = [];
  let cur = '';
  let used = 0;
  for (const ch of chars) {
    const n = gsmSeptets(ch);
    // An extension character (ESC + code) never straddles two parts.
    if (used + n > GSM_PART) {
      chunks.push(cur);
      cur = '';
      used = 0;
    }
    cur += ch;
    used += n;
  }
  if (cur) chunks.push(cur);
  return chunks;
}

function ucs2Chunks(text: string): string[] {
  if (text.length <= UCS2_SINGLE) return [text];
  const chunks: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + UCS2_PART, text.length);
    const last = text.charCodeAt(end - 1);
    // Never leave a high surrogate at the end of a part: its pair would arrive alone.
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    chunks.push(text.slice(start, end));
    start = end;
  }
  return chunks;
}

function utf16be(text: string): Buffer {
  const le = Buffer.from(text, 'utf16le');
  return le.swap16();
}

export function segment(text: string, options: SegmentOptions): SegmentedMessage {
  let gsm = true;
  for (const ch of text) {
    if (gsmSeptets(ch) === 0) {
      gsm = false;
      break;
    }
  }
  const chunks = gsm ? gsmChunks(text) : ucs2Chunks(text);
  if (chunks.length > MAX_PARTS) throw new SmsPermanentError('message_too_long');
  const encode = gsm ? encodeGsm7 : utf16be;
  const ref = concatReference(options.messageId);
  const parts = chunks.map((chunk, i): SmsPart => {
    const payload = encode(chunk);
    if (chunks.length === 1) return { payload };
    return { udh: Buffer.from([0x05, 0x00, 0x03, ref, chunks.length, i + 1]), payload };
  });
  return {
    encoding: gsm ? 'gsm7' : 'ucs2',
    dataCoding: gsm ? (options.gsmDataCoding ?? 0x00) : DATA_CODING_UCS2,
    parts,
  };
}
