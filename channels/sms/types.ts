// The SMS side as Switchboard sees it: an SMPP gateway that submits and reports receipts.

export type SmsEncoding = 'gsm7' | 'ucs2';

export interface SmsSubmission {
  /** Our message id; used for the concatenation reference and for logs (never the number). */
  messageId: string;
  to: string; // E.164
  text: string;
}

export interface SmsSubmitResult {
  /** One SMSC message id per part, in part order. */
  smscMessageIds: string[];
  encoding: SmsEncoding;
}

/** SMPP delivery receipt states (SMPP 3.4 §5.2.28 message_state, text form). */
export type SmsReceiptState =
  'DELIVRD' | 'EXPIRED' | 'DELETED' | 'UNDELIV' | 'ACCEPTD' | 'UNKNOWN' | 'REJECTD' | 'ENROUTE';

export interface SmsReceipt {
  smscMessageId: string;
  state: SmsReceiptState;
  /** The `err:` field, as the SMSC wrote it. */
  errorCode: string | null;
}

export interface SmsGateway {
  submit(message: SmsSubmission): Promise<SmsSubmitResult>;
  /** Called for every delivery receipt; deliver_sm is answered before the handler runs. */
  onReceipt(handler: (receipt: SmsReceipt) => void): void;
  close(): Promise<void>;
}
