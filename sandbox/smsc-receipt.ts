// The deliver_sm an SMSC sends as a delivery receipt: the SMPP 3.4 Appendix B text form, plus the
// receipted_message_id / message_state TLVs unless a fault says otherwise.
import type { SmscFaults } from './smsc-faults';

export type FinalState = 'DELIVRD' | 'UNDELIV' | 'EXPIRED' | 'REJECTD';

const MESSAGE_STATE: Record<FinalState, number> = { DELIVRD: 2, EXPIRED: 3, UNDELIV: 5, REJECTD: 8 };
const ERR: Record<FinalState, string> = { DELIVRD: '000', EXPIRED: '000', UNDELIV: '001', REJECTD: '002' };
const ESM_CLASS_DELIVERY_RECEIPT = 0x04;

export interface ReceiptInput {
  smscMessageId: string;
  state: FinalState;
  /** The handset: the original submit's destination, E.164. */
  handset: string;
  /** The original submit's source address. */
  sender: string;
  submittedAt: Date;
  /** First characters of the original part (real SMSCs echo up to 20). */
  textStart: string;
}

function yymmddhhmm(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}`;
}

export function receiptText(r: ReceiptInput, id: string, doneAt: Date): string {
  const dlvrd = r.state === 'DELIVRD' ? '001' : '000';
  // Only characters that survive any 7-bit coder: the text is an echo, not content.
  const echo = r.textStart.replace(/[^A-Za-z0-9 ]/g, ' ').slice(0, 20);
  return (
    `id:${id} sub:001 dlvrd:${dlvrd} submit date:${yymmddhhmm(r.submittedAt)} ` +
    `done date:${yymmddhhmm(doneAt)} stat:${r.state} err:${ERR[r.state]} text:${echo}`
  );
}

/** deliver_sm parameters for the `smpp` library. */
export function receiptPdu(
  r: ReceiptInput,
  faults: SmscFaults,
  doneAt = new Date(),
): Record<string, unknown> {
  const id = faults.receiptIdsDecimal ? BigInt(`0x${r.smscMessageId}`).toString(10) : r.smscMessageId;
  const handset = r.handset.replace(/^\+/, '');
  const params: Record<string, unknown> = {
    source_addr_ton: r.handset.startsWith('+') ? 1 : 0,
    source_addr_npi: 1,
    source_addr: handset,
    destination_addr: r.sender,
    esm_class: ESM_CLASS_DELIVERY_RECEIPT,
    data_coding: 0x00,
    short_message: Buffer.from(receiptText(r, id, doneAt), 'ascii'),
  };
  if (!faults.receiptsTextOnly) {
    params.receipted_message_id = Buffer.from(faults.receiptIdWithoutNul ? id : `${id}\0`, 'ascii');
    params.message_state = MESSAGE_STATE[r.state];
  }
  return params;
}
