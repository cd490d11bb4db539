// The SMS side as Switchboard sees it: an SMPP gateway that submits and reports receipts.

export type SmsEncoding = 'gsm7' | 'ucs2';

export interface SmsSubmission {
  /** Our message id; used for the concatenation reference and for logs (never the number). */
  messageId: string;
  to: string; // E.164
  text: string;
}

export interface SmsSubmitResult {
  /**
   * One SMSC message id per part, in part order: as submit_sm_resp gave it for the parts this call
   * submitted, as given in `alreadyAccepted` for the others.
   */
  smscMessageIds: string[];
  encoding: SmsEncoding;
  /** The parts (1-based) this call submitted; the others were accepted in an earlier attempt. */
  submittedParts: number[];
}

/** Which part of how many, as the concatenation UDH numbers them (1-based). */
export interface SmsPartRef {
  part: number;
  parts: number;
}

/** Parts an earlier attempt at the same message got accepted by the SMSC. */
export interface SmsAcceptedParts {
  /** The part count that attempt used: if the text now splits differently, nothing is skipped. */
  parts: number;
  /** Part number (1-based) → its SMSC message id. */
  smscMessageIds: ReadonlyMap<number, string>;
}

/**
 * Hooks that let a caller make a resubmission per part: record the intent before each part goes
 * out, its SMSC id as soon as it is accepted, and skip parts accepted before. Both hooks are
 * awaited: the part is not submitted until `onPartSubmitting` resolved, and the next part (and
 * submit() itself) waits for `onPartAccepted`. A hook that throws fails submit() with its error;
 * parts already accepted stay accepted at the SMSC.
 */
export interface SmsSubmitOptions {
  alreadyAccepted?: SmsAcceptedParts;
  onPartSubmitting?: (ref: SmsPartRef) => Promise<void>;
  onPartAccepted?: (ref: SmsPartRef, smscMessageId: string) => Promise<void>;
}

/** SMPP delivery receipt states (SMPP 3.4 §5.2.28 message_state, text form). */
export type SmsReceiptState =
  'DELIVRD' | 'EXPIRED' | 'DELETED' | 'UNDELIV' | 'ACCEPTD' | 'UNKNOWN' | 'REJECTD' | 'ENROUTE';

export interface SmsReceipt {
  smscMessageId: string;
  /** The deliver_sm's source_addr: the handset the part went to (null when the SMSC leaves it out). */
  handset: string | null;
  state: SmsReceiptState;
  /** The `err:` field, as the SMSC wrote it. */
  errorCode: string | null;
}

/** Counts the SMPP link's events (metrics); the gateway's window and binds are read on scrape. */
export interface SmppMeter {
  bind(result: 'bound' | 'refused' | 'no_answer'): void;
  /** The SMSC answered ESME_RTHROTTLED. */
  throttled(): void;
  /** submit_sm written → its response read. */
  submitted(seconds: number): void;
}

/**
 * Takes one receipt. The deliver_sm is acknowledged once every handler resolved; a handler that
 * rejects makes the gateway answer ESME_RX_T_APPN, so the SMSC redelivers the receipt later.
 */
export type SmsReceiptHandler = (receipt: SmsReceipt) => Promise<void> | void;

export interface SmsGateway {
  submit(message: SmsSubmission, options?: SmsSubmitOptions): Promise<SmsSubmitResult>;
  /** Called for every delivery receipt, before its deliver_sm is answered (SmsReceiptHandler). */
  onReceipt(handler: SmsReceiptHandler): void;
  close(): Promise<void>;
}
