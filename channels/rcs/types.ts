// The RCS side as Switchboard sees it: RBM's REST resources, with extensions of ours (the
// `E2EE_MLS` and `FILE_TRANSFER_HTTP` capability features, 409 on a duplicate messageId); see
// docs/rcs-hub-api.md.

/** RBM feature names that matter to routing; a hub may answer others, which we keep. */
export const RCS_FEATURE_E2EE_MLS = 'E2EE_MLS';
export const RCS_FEATURE_RICHCARD = 'RICHCARD_STANDALONE';
/**
 * Our second extension: RBM has no feature for media, so the hub also answers GSMA UP's
 * "file transfer over HTTP" by name. The sandbox gives it exactly to the phones that have rich
 * cards; a phone without it gets 400 for any message carrying a file.
 */
export const RCS_FEATURE_FILE_TRANSFER = 'FILE_TRANSFER_HTTP';

export interface RcsCapabilities {
  features: string[];
}

export interface RcsContent {
  text: string;
  /** Media by reference, as RBM's `contentInfo.fileUrl`. */
  fileUrl?: string;
  /**
   * Client-managed E2EE (our extension, docs/rcs-hub-api.md): MLS bytes instead of text. With it,
   * `text` is never sent and `fileUrl` must be absent. `welcome` only on a group's first message.
   */
  e2ee?: { ciphertext: Buffer; welcome?: Buffer };
}

export type RevokeResult = 'revoked' | 'already-delivered';

export interface RcsHub {
  /** null when the hub answers 404: the number is not an RCS user. */
  getCapabilities(msisdn: string, requestId: string): Promise<RcsCapabilities | null>;
  /** Idempotent on messageId: a second send with the same id is ignored by the hub. */
  sendMessage(msisdn: string, messageId: string, content: RcsContent, ttlSeconds?: number): Promise<void>;
  /** 'already-delivered' when the hub answers 404: too late, the phone has it. */
  revokeMessage(msisdn: string, messageId: string): Promise<RevokeResult>;
}

/** Counts hub requests (metrics); status is the HTTP status, or 'error' when no answer came. */
export interface RcsHubMeter {
  request(op: 'capability' | 'send' | 'revoke' | 'batchGet', status: number | 'error'): void;
}

export type RcsEventType =
  'DELIVERED' | 'READ' | 'IS_TYPING' | 'TTL_EXPIRATION_REVOKED' | 'E2EE_DECRYPT_FAILED';

/** The decoded `message.data` of an RBM webhook POST. */
export interface RcsEvent {
  agentId: string;
  senderPhoneNumber: string;
  eventType: RcsEventType;
  eventId: string;
  messageId: string;
  sendTime: string;
  /** E2EE_DECRYPT_FAILED: the phone's MLS error code (e.g. DECRYPT_FAILED, NOT_IN_WELCOME). */
  errorCode?: string;
}
