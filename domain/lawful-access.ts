// Lawful access to escrowed messages: the request, the custodians' approvals and the result.
// Types only, plus constants, so the workflow can import it.

export const ACCESS_LIMITS = {
  /** Named messages per request: lawful access names messages, it does not sweep. */
  maxMessages: 100,
  minApprovalWindowMs: 1_000,
  maxApprovalWindowMs: 30 * 24 * 3600_000,
} as const;

/** Audit seqs a grant may use: one row per message plus two, so a later row never collides. */
export const ACCESS_GRANT_AUDIT_ROWS = ACCESS_LIMITS.maxMessages + 2;

export interface LawfulAccessRequest {
  /** UUID, chosen by the requester's client. */
  requestId: string;
  tenant: string;
  /** The deliveries' message ids, as the sender's client returned them. */
  messageIds: string[];
  /** Who asks (an office or officer) and under what authority: audited, never secret. */
  requester: string;
  caseReference: string;
  /** base64url X25519 public key: each opened message is sealed to it, for the requester only. */
  requesterPublicKey: string;
  /** k approvals must arrive within this window, or the request is refused. */
  approvalWindowMs: number;
}

/** One custodian's approval: their escrow share, sealed to the request's own key. */
export interface CustodianApproval {
  custodian: string;
  /** 1..n, as printed on the custodian's share. */
  shareIndex: number;
  /** base64url HPKE box of the encoded share, sealed to AccessStatus.requestPublicKey. */
  sealedShare: string;
}

export type AccessState = 'opening' | 'awaiting-approvals' | 'decrypting' | 'granted' | 'refused';

/**
 * not_archived: no named message is in the tenant's escrow archive; mixed_escrows: they span
 * escrows (the tenant rotated its escrow), ask once per escrow; invalid_request: a field of the
 * request is malformed (the audit row names it); request_reused: this request id was used
 * before; grant_failed: the shares did not rebuild the key or opening failed; cancelled: the
 * request was cancelled; expired: the request outlived its window without closing (swept).
 */
export type RefusalReason =
  | 'not_archived'
  | 'mixed_escrows'
  | 'invalid_request'
  | 'request_reused'
  | 'deadline_passed'
  | 'grant_failed'
  | 'cancelled'
  | 'expired';

/** What custodians are asked to approve: shown to them before they hand in a share. */
export interface AccessRequestSummary {
  tenant: string;
  messageIds: string[];
  requester: string;
  caseReference: string;
  /** Hex SHA-256 of the whole request: a custodian's sealed share opens for this request only. */
  digest: string;
}

export interface AccessStatus {
  state: AccessState;
  request: AccessRequestSummary | null;
  escrowId: string | null;
  threshold: number | null;
  custodians: number | null;
  /** Share indexes whose approval was checked and valid. */
  approvedShares: number[];
  rejectedApprovals: number;
  /** Custodians seal their shares to this key. */
  requestPublicKey: string | null;
  /** ISO-8601: approvals after this do not count. */
  deadline: string | null;
}

export type OpenedMessage =
  | {
      messageId: string;
      ok: true;
      /** base64url HPKE box of the plaintext, to the requester's key. */ sealed: string;
    }
  | { messageId: string; ok: false; code: string };

export interface AccessResult {
  requestId: string;
  outcome: 'granted' | 'refused';
  reason: RefusalReason | null;
  approvedShares: number[];
  threshold: number | null;
  /** Granted: one entry per named message, in the order named. Refused: empty. */
  messages: OpenedMessage[];
}

export function accessWorkflowIdFor(requestId: string): string {
  return `lawful-access-${requestId}`;
}

/** HPKE `info` strings: a box made for one purpose and request opens for no other. */
export const shareSealContext = (requestId: string, requestDigest: string) =>
  `switchboard lawful-access share v2 ${requestId} ${requestDigest}`;
export const resultSealContext = (requestId: string, messageId: string) =>
  `switchboard lawful-access result v1 ${requestId} ${messageId}`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TENANT = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** base64url of 32 bytes (an X25519 public key). */
const SEALING_KEY = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;
export const ACCESS_LABEL_MAX = 120;

const isLabel = (v: unknown): v is string =>
  typeof v === 'string' &&
  v.trim().length > 0 &&
  v.length <= ACCESS_LABEL_MAX &&
  ![...v].some((c) => c.charCodeAt(0) < 0x20);

/**
 * The first field of `r` that is not what a request needs, or null. Pure, so the client (before
 * starting anything) and the worker (which trusts no input) apply the same rules. Message ids are
 * lower-case UUIDs here; the client lower-cases them first.
 */
export function invalidAccessRequestField(
  r: Partial<Record<keyof LawfulAccessRequest, unknown>>,
): string | null {
  if (typeof r.requestId !== 'string' || !UUID.test(r.requestId)) return 'requestId';
  if (typeof r.tenant !== 'string' || !TENANT.test(r.tenant)) return 'tenant';
  const ids = r.messageIds;
  if (
    !Array.isArray(ids) ||
    ids.length === 0 ||
    ids.length > ACCESS_LIMITS.maxMessages ||
    !ids.every((id) => typeof id === 'string' && UUID.test(id)) ||
    new Set(ids).size !== ids.length
  ) {
    return 'messageIds';
  }
  if (!isLabel(r.requester)) return 'requester';
  if (!isLabel(r.caseReference)) return 'caseReference';
  if (typeof r.requesterPublicKey !== 'string' || !SEALING_KEY.test(r.requesterPublicKey)) {
    return 'requesterPublicKey';
  }
  const w = r.approvalWindowMs;
  if (
    typeof w !== 'number' ||
    !Number.isInteger(w) ||
    w < ACCESS_LIMITS.minApprovalWindowMs ||
    w > ACCESS_LIMITS.maxApprovalWindowMs
  ) {
    return 'approvalWindowMs';
  }
  return null;
}

/** A signal's payload as the workflow takes it: anything malformed becomes an approval that fails its check. */
export function normaliseApproval(raw: unknown): CustodianApproval {
  const a = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  return {
    custodian: typeof a.custodian === 'string' ? a.custodian.slice(0, ACCESS_LABEL_MAX) : '(malformed)',
    shareIndex: typeof a.shareIndex === 'number' && Number.isInteger(a.shareIndex) ? a.shareIndex : 0,
    sealedShare: typeof a.sealedShare === 'string' ? a.sealedShare.slice(0, 4096) : '',
  };
}
