// Delivery receipts (deliver_sm with esm_class message type 0x04). TLVs are preferred over the
// free-text form because the text is not standardised (SMPP 3.4 Appendix B is only an example).
//
// Id matching rule: the id from submit_sm_resp is canonical. Some SMSCs write the receipt id in
// decimal when submit_sm_resp gave hex (or the other way round), with or without zero padding or
// upper case. `receiptIdCandidates` lists the spellings a receipt id may correspond to, the id
// as given first; look each up among the stored submit ids. SmppGateway already rewrites a
// receipt's id to the submit_sm_resp spelling when it submitted that id since it started.
import type { SmsReceipt, SmsReceiptState } from './types';

/** The deliver_sm fields we read; `smpp`'s PDU satisfies it. */
export interface DeliverSmFields {
  esm_class?: number;
  short_message?: unknown;
  message_payload?: unknown;
  receipted_message_id?: unknown;
  message_state?: unknown;
  network_error_code?: unknown;
  source_addr?: unknown;
}

const MESSAGE_TYPE_MASK = 0x3c;
const SMSC_DELIVERY_RECEIPT = 0x04;

// SMPP 3.4 §5.3.2.35 (0 and 9 are SMPP 5.0 additions).
const STATE_BY_NUMBER: Readonly<Record<number, SmsReceiptState>> = {
  0: 'ENROUTE',
  1: 'ENROUTE',
  2: 'DELIVRD',
  3: 'EXPIRED',
  4: 'DELETED',
  5: 'UNDELIV',
  6: 'ACCEPTD',
  7: 'UNKNOWN',
  8: 'REJECTD',
  9: 'UNDELIV',
};

const STATE_BY_TEXT: Readonly<Record<string, SmsReceiptState>> = {
  DELIVRD: 'DELIVRD',
  DELIVERED: 'DELIVRD',
  EXPIRED: 'EXPIRED',
  DELETED: 'DELETED',
  UNDELIV: 'UNDELIV',
  UNDELIVERABLE: 'UNDELIV',
  ACCEPTD: 'ACCEPTD',
  ACCEPTED: 'ACCEPTD',
  UNKNOWN: 'UNKNOWN',
  REJECTD: 'REJECTD',
  REJECTED: 'REJECTD',
  ENROUTE: 'ENROUTE',
};

export function isDeliveryReceipt(pdu: DeliverSmFields): boolean {
  return ((pdu.esm_class ?? 0) & MESSAGE_TYPE_MASK) === SMSC_DELIVERY_RECEIPT;
}

function stripNuls(s: string): string {
  return s.replace(/\0/g, '').trim();
}

/** Strings, Buffers and the library's decoded `{ message }` form, as ASCII text. */
function asText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  if (value && typeof value === 'object' && 'message' in value) return asText(value.message);
  return null;
}

export function normaliseSmscId(id: string): string {
  return stripNuls(id)
    .toLowerCase()
    .replace(/^0+(?=.)/, '');
}

/**
 * Spellings under which the submit_sm_resp id of this receipt id may have been stored: the id as
 * given, its normalised form (and upper case), then its decimal↔hex conversions. Zero padding of
 * the stored id cannot be guessed: store normaliseSmscId(id) to be safe from it.
 */
export function receiptIdCandidates(id: string): string[] {
  const raw = stripNuls(id);
  const n = normaliseSmscId(raw);
  const out = [raw, n, n.toUpperCase()];
  // Ids longer than this are not numbers in disguise (and would make BigInt slow).
  if (n.length > 0 && n.length <= 40) {
    if (/^[0-9]+$/.test(n)) {
      const hex = BigInt(n).toString(16);
      out.push(hex, hex.toUpperCase());
    }
    if (/^[0-9a-f]+$/.test(n)) out.push(BigInt(`0x${n}`).toString(10));
  }
  return [...new Set(out)].filter((c) => c !== '');
}

export interface ReceiptText {
  id: string;
  stat: string | null;
  err: string | null;
}

export function parseReceiptText(text: string): ReceiptText | null {
  // The `text:` field carries the message's first characters: never look for fields inside it.
  const cut = text.search(/\btext:/i);
  const head = cut >= 0 ? text.slice(0, cut) : text;
  const id = /\bid:(\S+)/i.exec(head)?.[1];
  if (!id) return null;
  return {
    id,
    stat: /\bstat:(\S+)/i.exec(head)?.[1] ?? null,
    err: /\berr:(\S+)/i.exec(head)?.[1] ?? null,
  };
}

function stateFromText(stat: string | null): SmsReceiptState {
  return (stat && STATE_BY_TEXT[stat.toUpperCase()]) || 'UNKNOWN';
}

function tlvErrorCode(value: unknown): string | null {
  // network_error_code: 1 octet network type, 2 octets error code.
  if (!Buffer.isBuffer(value) || value.length < 3) return null;
  return String(value.readUInt16BE(1)).padStart(3, '0');
}

/** Null when the PDU is not a receipt or carries no id we can read. */
export function parseDeliveryReceipt(pdu: DeliverSmFields): SmsReceipt | null {
  if (!isDeliveryReceipt(pdu)) return null;
  const rawText = asText(pdu.short_message) || asText(pdu.message_payload) || '';
  const text = parseReceiptText(rawText);
  const tlvId = asText(pdu.receipted_message_id);
  const id = tlvId !== null && stripNuls(tlvId) !== '' ? stripNuls(tlvId) : text ? stripNuls(text.id) : '';
  if (!id) return null;
  const stateNumber = typeof pdu.message_state === 'number' ? pdu.message_state : undefined;
  const state =
    stateNumber !== undefined && STATE_BY_NUMBER[stateNumber]
      ? STATE_BY_NUMBER[stateNumber]
      : stateFromText(text?.stat ?? null);
  const handset = asText(pdu.source_addr);
  return {
    smscMessageId: id,
    handset: handset ? stripNuls(handset) : null,
    state,
    errorCode: text?.err ?? tlvErrorCode(pdu.network_error_code),
  };
}
