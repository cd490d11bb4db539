// Lawful-access activities (workflows/lawful-access.ts). Each audits its own step before it
// returns, under the trail `access-<requestId>`; none returns or logs a share, a key or a
// plaintext. The worker trusts nothing in a request or a signal: both are validated here.

import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { wipe } from '../e2ee/bytes';
import {
  EscrowError,
  decodeEscrowShare,
  decryptEscrowed,
  isEscrowShareOf,
  reconstructEscrowKey,
} from '../e2ee/escrow';
import type { EscrowRecord, EscrowShare } from '../e2ee/escrow';
import type { EscrowArchiveStore } from '../e2ee/escrow-archive';
import { SealedBoxError, generateSealingKeyPair, openSealed, sealTo } from '../e2ee/sealed-box';
import {
  ACCESS_LABEL_MAX,
  invalidAccessRequestField,
  resultSealContext,
  shareSealContext,
} from '../domain/lawful-access';
import type {
  AccessRequestSummary,
  CustodianApproval,
  LawfulAccessRequest,
  OpenedMessage,
  RefusalReason,
} from '../domain/lawful-access';
import type { AuditEntry, HashedAuditContext } from '../domain/audit';
import { AccessRequestClosedError, AccessRequestKeyError } from '../store/access-requests';
import type { AccessRequests } from '../store/access-requests';

export interface LawfulAccessDeps {
  escrows: Pick<EscrowArchiveStore, 'byId' | 'archived' | 'escrowsHolding'>;
  requests: Pick<AccessRequests, 'open' | 'get' | 'privateKey' | 'close'>;
  audit: {
    appendHashed(context: HashedAuditContext, entries: AuditEntry[]): Promise<unknown>;
    lastSeq(messageId: string): Promise<number>;
  };
}

export interface OpenedAccessRequest {
  escrow: { escrowId: string; threshold: number; custodians: number; requestPublicKey: string } | null;
  refusal: RefusalReason | null;
  /** What custodians are shown; null when the request itself is malformed. */
  summary: AccessRequestSummary | null;
  /** Where the workflow's own audit rows go on. */
  nextAuditSeq: number;
}

/** An approval that is not checked: it came once k were in, or after the request closed. */
export type IgnoredApproval = 'NOT_NEEDED' | 'TOO_LATE';

type AuditRow = Pick<AuditEntry, 'event' | 'result' | 'errorCode' | 'detail'>;

/** Time after the approval window in which the grant may still use the request key. */
const GRANT_GRACE_MS = 3600_000;

export const accessTrailId = (requestId: string) => `access-${requestId}`;

/** Canonical JSON of the request: custodians' sealed shares are bound to its hash. */
function digestOf(request: LawfulAccessRequest): string {
  const canonical = JSON.stringify([
    request.requestId,
    request.tenant,
    request.messageIds,
    request.requester,
    request.caseReference,
    request.requesterPublicKey,
    request.approvalWindowMs,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

const nonRetryable = (type: string, message: string) =>
  ApplicationFailure.create({ type, message, nonRetryable: true });

export function createLawfulAccessActivities(deps: LawfulAccessDeps) {
  const audit = async (requestId: string, tenant: string, firstSeq: number, rows: AuditRow[]) => {
    const context: HashedAuditContext = {
      tenant,
      recipientHash: 'lawful-access',
      region: 'global',
      flow: 'lawful-access',
    };
    const occurredAt = new Date().toISOString();
    await deps.audit.appendHashed(
      context,
      rows.map((row, i) => ({
        messageId: accessTrailId(requestId),
        seq: firstSeq + i,
        channel: null,
        occurredAt,
        ...row,
      })),
    );
    return rows.length;
  };

  /** Typed failures for what retrying cannot mend. */
  const typed = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      if (err instanceof AccessRequestClosedError) throw nonRetryable('AccessRequestClosed', err.message);
      if (err instanceof AccessRequestKeyError) throw nonRetryable('AccessRequestKeyError', err.message);
      if (err instanceof EscrowError) throw nonRetryable('EscrowError', err.message);
      throw err;
    }
  };

  const recordOf = async (escrowId: string): Promise<EscrowRecord> => {
    const record = await deps.escrows.byId(escrowId);
    if (!record) throw nonRetryable('EscrowError', 'escrow: UNKNOWN_ESCROW');
    return record;
  };

  /** Opens a share sealed to the request's key; null when it is not this escrow's share at that index. */
  const openShare = async (
    privateKey: Uint8Array,
    requestId: string,
    digest: string,
    approval: CustodianApproval,
    record: EscrowRecord,
  ): Promise<EscrowShare | null> => {
    try {
      const box = new Uint8Array(Buffer.from(approval.sealedShare, 'base64url'));
      const opened = await openSealed(privateKey, box, shareSealContext(requestId, digest));
      const share = decodeEscrowShare(Buffer.from(opened).toString('utf8'));
      wipe(opened);
      return share.index === approval.shareIndex && isEscrowShareOf(share, record) ? share : null;
    } catch (err) {
      if (err instanceof SealedBoxError || err instanceof EscrowError) return null;
      throw err;
    }
  };

  return {
    /**
     * Validates the request, finds the escrow that archived its messages and opens it with a
     * fresh key pair. Every refusal here is audited and returned, not thrown.
     */
    async openAccessRequest(input: { request: LawfulAccessRequest }): Promise<OpenedAccessRequest> {
      const { request } = input;
      const requestId = typeof request.requestId === 'string' ? request.requestId : '(malformed)';
      const tenant = typeof request.tenant === 'string' ? request.tenant.slice(0, 63) : '(malformed)';
      const seq = (await deps.audit.lastSeq(accessTrailId(requestId))) + 1;
      const invalid = invalidAccessRequestField(request);
      const refuse = async (refusal: RefusalReason, detail: AuditEntry['detail']) => {
        const rows: AuditRow[] = [
          { event: 'access_requested', result: null, errorCode: null, detail },
          { event: 'access_refused', result: 'refused', errorCode: refusal, detail: {} },
        ];
        const used = await audit(requestId, tenant, seq, rows);
        return { escrow: null, refusal, summary: null, nextAuditSeq: seq + used };
      };
      if (invalid) return refuse('invalid_request', { invalidField: invalid });

      const digest = digestOf(request);
      const summary: AccessRequestSummary = {
        tenant: request.tenant,
        messageIds: request.messageIds,
        requester: request.requester,
        caseReference: request.caseReference,
        digest,
      };
      const requested = {
        requester: request.requester,
        caseReference: request.caseReference,
        messages: request.messageIds.length,
        approvalWindowMs: request.approvalWindowMs,
        digest,
      };
      const holding = await deps.escrows.escrowsHolding(request.tenant, request.messageIds);
      if (holding.length !== 1) {
        const refused = await refuse(holding.length === 0 ? 'not_archived' : 'mixed_escrows', requested);
        return { ...refused, summary };
      }
      const record = await recordOf(holding[0] as string);
      const pair = await generateSealingKeyPair();
      const opened = await deps.requests.open({
        requestId,
        escrowId: record.escrowId,
        tenant,
        digest,
        publicKey: pair.publicKey,
        privateKey: pair.privateKey,
        expiresAt: new Date(Date.now() + request.approvalWindowMs + GRANT_GRACE_MS),
      });
      wipe(pair.privateKey);
      if (!opened.opened) return { ...(await refuse('request_reused', requested)), summary };
      const archived = await deps.escrows.archived(record.escrowId, request.messageIds);
      const used = await audit(requestId, tenant, seq, [
        {
          event: 'access_requested',
          result: null,
          errorCode: null,
          detail: {
            ...requested,
            archived: archived.length,
            escrowId: record.escrowId,
            threshold: record.threshold,
            custodians: record.custodians,
          },
        },
      ]);
      return {
        escrow: {
          escrowId: record.escrowId,
          threshold: record.threshold,
          custodians: record.custodians,
          requestPublicKey: opened.publicKey,
        },
        refusal: null,
        summary,
        nextAuditSeq: seq + used,
      };
    },

    /**
     * Checks one approval's share (without keeping it) and audits the verdict. With `ignore`,
     * audits the approval as not counted and does not touch the request key.
     */
    async checkCustodianApproval(input: {
      requestId: string;
      tenant: string;
      escrowId: string;
      approval: CustodianApproval;
      alreadyApproved: boolean;
      ignore?: IgnoredApproval;
      auditSeq: number;
    }): Promise<{ valid: boolean }> {
      const { requestId, approval } = input;
      let verdict: string | null = input.ignore ?? null;
      if (!verdict) {
        const request = await deps.requests.get(requestId);
        if (!request) throw nonRetryable('AccessRequestClosed', 'lawful-access request is closed');
        const record = await recordOf(input.escrowId);
        const privateKey = await typed(() => deps.requests.privateKey(requestId));
        const share = await openShare(privateKey, requestId, request.digest, approval, record);
        wipe(privateKey);
        if (share) wipe(share.share);
        verdict = !share ? 'INVALID_SHARE' : input.alreadyApproved ? 'DUPLICATE_SHARE' : null;
      }
      await audit(requestId, input.tenant, input.auditSeq, [
        {
          event: 'custodian_approval',
          result: input.ignore ? 'ignored' : verdict ? 'rejected' : 'accepted',
          errorCode: verdict,
          detail: {
            custodian: String(approval.custodian).slice(0, ACCESS_LABEL_MAX),
            shareIndex: approval.shareIndex,
          },
        },
      ]);
      return { valid: verdict === null };
    },

    /** Closes the request without opening anything: its key is erased. */
    async refuseAccess(input: {
      requestId: string;
      tenant: string;
      reason: RefusalReason;
      /** Why a grant failed (a failure type or escrow code), for the audit row. */
      cause?: string | null;
      approvedShares: number[];
      threshold: number;
      auditSeq: number;
    }): Promise<void> {
      await deps.requests.close(input.requestId, 'refused', null);
      await audit(input.requestId, input.tenant, input.auditSeq, [
        {
          event: 'access_refused',
          result: 'refused',
          errorCode: input.reason,
          detail: {
            approvals: input.approvedShares.length,
            threshold: input.threshold,
            ...(input.cause ? { cause: input.cause.slice(0, ACCESS_LABEL_MAX) } : {}),
          },
        },
      ]);
    },

    /**
     * With k approvals: rebuilds the escrow key, opens exactly the named messages, seals each to
     * the requester's key, audits each, erases the request's key and the escrow key.
     */
    async grantAccess(input: {
      request: LawfulAccessRequest;
      escrowId: string;
      approvals: CustodianApproval[];
      auditSeq: number;
    }): Promise<{ messages: OpenedMessage[] }> {
      const { request } = input;
      const { requestId, tenant } = request;
      const stored = await deps.requests.get(requestId);
      if (stored?.outcome === 'granted' && stored.result) {
        return JSON.parse(stored.result) as { messages: OpenedMessage[] };
      }
      if (!stored) throw nonRetryable('AccessRequestClosed', 'lawful-access request is closed');
      const record = await recordOf(input.escrowId);
      const privateKey = await typed(() => deps.requests.privateKey(requestId));
      const shares: EscrowShare[] = [];
      try {
        for (const approval of input.approvals) {
          const share = await openShare(privateKey, requestId, stored.digest, approval, record);
          if (share) shares.push(share);
        }
      } finally {
        wipe(privateKey);
      }
      let key: Uint8Array;
      try {
        key = await typed(() => reconstructEscrowKey(shares, record));
      } finally {
        for (const s of shares) wipe(s.share);
      }

      const messages: OpenedMessage[] = [];
      try {
        const archived = await deps.escrows.archived(record.escrowId, request.messageIds);
        const opened = new Map(
          (await typed(() => decryptEscrowed(archived, key, record))).map((o) => [o.messageId, o]),
        );
        try {
          for (const messageId of request.messageIds) {
            const o = opened.get(messageId);
            if (!o) messages.push({ messageId, ok: false, code: 'NOT_ARCHIVED' });
            else if (!o.ok) messages.push({ messageId, ok: false, code: o.code });
            else {
              const box = await sealTo(
                request.requesterPublicKey,
                o.plaintext,
                resultSealContext(requestId, messageId),
              );
              messages.push({ messageId, ok: true, sealed: Buffer.from(box).toString('base64url') });
            }
          }
        } finally {
          for (const o of opened.values()) if (o.ok) wipe(o.plaintext);
        }
      } finally {
        wipe(key);
      }
      await audit(requestId, tenant, input.auditSeq, [
        {
          event: 'escrow_key_rebuilt',
          result: 'ok',
          errorCode: null,
          detail: { shares: shares.length, escrowId: record.escrowId },
        },
        ...messages.map((m) => ({
          event: 'escrowed_message_opened',
          result: m.ok ? 'opened' : 'failed',
          errorCode: m.ok ? null : m.code,
          detail: { targetMessageId: m.messageId },
        })),
        {
          event: 'access_granted',
          result: 'granted',
          errorCode: null,
          detail: { opened: messages.filter((m) => m.ok).length, requested: messages.length },
        },
      ]);
      const granted = { messages };
      await deps.requests.close(requestId, 'granted', JSON.stringify(granted));
      return granted;
    },
  };
}
