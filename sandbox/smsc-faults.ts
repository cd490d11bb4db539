// Faults the sandbox SMSC can be told to produce at run time, so tests and demos can exercise the
// gateway's flow control, rebinding and receipt matching against a real SMPP socket.

export interface SmscFaults {
  /** The next N submit_sm are answered ESME_RTHROTTLED (0x58). */
  throttleNext: number;
  /** The next N submit_sm are answered ESME_RMSGQFUL (0x14). */
  queueFullNext: number;
  /** The next N submit_sm are never answered (the client's response timeout fires). */
  silentNext: number;
  /** The next N submit_sm are refused with `errorStatus` (a transient ESME_RSYSERR by default). */
  errorNext: number;
  errorStatus: number;
  /** Each submit_sm is answered this much later (outstanding submits pile up at the SMSC). */
  responseDelayMs: number;
  /**
   * After N more accepted submit_sm, the SMSC answers the Nth and closes that connection; PDUs
   * the client had already pipelined behind it are dropped unprocessed (an SMSC crash before
   * commit). null = never.
   */
  dropAfterSubmits: number | null;
  /** Written in the same write as the next successful bind_resp (a malformed PDU right behind it). */
  bytesAfterBindResp: Buffer | null;
  /** enquire_link from clients goes unanswered (a wedged link the client must notice). */
  ignoreEnquireLink: boolean;
  /** Extra delay before each receipt. */
  receiptDelayMs: number;
  /** A further random 0..X ms per receipt, so receipts overtake each other. */
  receiptJitterMs: number;
  /** Every receipt is sent twice. */
  duplicateReceipts: boolean;
  /** Receipts carry only the text form, no receipted_message_id / message_state TLVs. */
  receiptsTextOnly: boolean;
  /** Receipts give the id in decimal although submit_sm_resp gave it in hex. */
  receiptIdsDecimal: boolean;
  /** receipted_message_id is sent without its terminating NUL. */
  receiptIdWithoutNul: boolean;
  /** Message ids count from 1 again on every bind (an SMSC whose ids are not unique). */
  idsRestartOnBind: boolean;
}

export const NO_FAULTS: Readonly<SmscFaults> = {
  throttleNext: 0,
  queueFullNext: 0,
  silentNext: 0,
  errorNext: 0,
  errorStatus: 0x08,
  responseDelayMs: 0,
  dropAfterSubmits: null,
  bytesAfterBindResp: null,
  ignoreEnquireLink: false,
  receiptDelayMs: 0,
  receiptJitterMs: 0,
  duplicateReceipts: false,
  receiptsTextOnly: false,
  receiptIdsDecimal: false,
  receiptIdWithoutNul: false,
  idsRestartOnBind: false,
};

export type SubmitFault = 'throttle' | 'queue-full' | 'silent' | 'error' | null;

/** Counts the "next N" faults down as submits arrive. */
export function takeSubmitFault(f: SmscFaults): SubmitFault {
  if (f.silentNext > 0) {
    f.silentNext--;
    return 'silent';
  }
  if (f.errorNext > 0) {
    f.errorNext--;
    return 'error';
  }
  if (f.throttleNext > 0) {
    f.throttleNext--;
    return 'throttle';
  }
  if (f.queueFullNext > 0) {
    f.queueFullNext--;
    return 'queue-full';
  }
  return null;
}
