// Lawful access to escrowed messages (issue 6). The request names messages; the workflow waits
// for k valid custodian approvals before a deadline; only then does one activity rebuild the
// escrow key, open exactly the named messages and seal each to the requester's key. Every step
// is audited by the activity that takes it, under the trail `access-<requestId>`.
//
// Shares never appear in clear: each custodian seals theirs to the request's own HPKE key (bound
// to the request's digest), whose private half lives sealed in PostgreSQL until the request
// closes. However the workflow ends — granted, refused, failed, cancelled — the request is
// closed and the key erased first (a terminated workflow's key expires and is swept), so the
// sealed shares left in this history open nothing.

import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ACCESS_GRANT_AUDIT_ROWS, normaliseApproval } from '../domain/lawful-access';
import type {
  AccessResult,
  AccessStatus,
  CustodianApproval,
  LawfulAccessRequest,
  RefusalReason,
} from '../domain/lawful-access';
import { accessStatusQuery, custodianApprovalSignal } from './lawful-access-definitions';

const retry = {
  initialInterval: '1 second',
  maximumAttempts: 10,
  nonRetryableErrorTypes: ['AccessRequestClosed', 'AccessRequestKeyError', 'EscrowError', 'SealedBoxError'],
};
const { openAccessRequest, checkCustodianApproval, refuseAccess } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry,
});
// Rebuilding the key and opening up to 100 messages from their groups' join states.
const { grantAccess } = proxyActivities<Activities>({ startToCloseTimeout: '5 minutes', retry });

interface Arrived extends CustodianApproval {
  arrivedAt: number;
}

export async function lawfulAccess(request: LawfulAccessRequest): Promise<AccessResult> {
  const status: AccessStatus = {
    state: 'opening',
    request: null,
    escrowId: null,
    threshold: null,
    custodians: null,
    approvedShares: [],
    rejectedApprovals: 0,
    requestPublicKey: null,
    deadline: null,
  };
  const inbox: Arrived[] = [];
  setHandler(accessStatusQuery, () => status);
  setHandler(custodianApprovalSignal, (approval: unknown) => {
    inbox.push({ ...normaliseApproval(approval), arrivedAt: Date.now() });
  });
  const result = (outcome: AccessResult['outcome'], rest: Partial<AccessResult> = {}): AccessResult => ({
    requestId: request.requestId,
    outcome,
    reason: null,
    approvedShares: [...status.approvedShares],
    threshold: status.threshold,
    messages: [],
    ...rest,
  });

  const opened = await openAccessRequest({ request });
  let auditSeq = opened.nextAuditSeq;
  status.request = opened.summary;
  if (!opened.escrow) {
    status.state = 'refused';
    return result('refused', { reason: opened.refusal });
  }
  const escrow = opened.escrow;
  const deadline = Date.now() + request.approvalWindowMs;
  Object.assign(status, {
    state: 'awaiting-approvals',
    escrowId: escrow.escrowId,
    threshold: escrow.threshold,
    custodians: escrow.custodians,
    requestPublicKey: escrow.requestPublicKey,
    deadline: new Date(deadline).toISOString(),
  });
  const valid = new Map<number, CustodianApproval>();
  const check = async (approval: CustodianApproval, ignore?: 'NOT_NEEDED' | 'TOO_LATE') => {
    const checked = await checkCustodianApproval({
      requestId: request.requestId,
      tenant: request.tenant,
      escrowId: escrow.escrowId,
      approval: {
        custodian: approval.custodian,
        shareIndex: approval.shareIndex,
        sealedShare: approval.sealedShare,
      },
      alreadyApproved: valid.has(approval.shareIndex),
      ...(ignore ? { ignore } : {}),
      auditSeq: auditSeq++,
    });
    if (checked.valid && !ignore && !valid.has(approval.shareIndex)) {
      valid.set(approval.shareIndex, approval);
      status.approvedShares = [...valid.keys()].sort((a, b) => a - b);
    } else {
      status.rejectedApprovals += 1;
    }
  };
  /** Approvals nobody will use are still audited, as not counted. */
  const drain = async (why: 'NOT_NEEDED' | 'TOO_LATE') => {
    for (let a = inbox.shift(); a; a = inbox.shift()) await check(a, why);
  };

  let messages: AccessResult['messages'] | null = null;
  let refusal: RefusalReason = 'deadline_passed';
  let cause: string | null = null;
  let cancelled: Error | null = null;
  try {
    // An approval counts if it arrived before the deadline, even if its check runs after it.
    while (valid.size < escrow.threshold) {
      const next = inbox.shift();
      if (next) {
        await (next.arrivedAt <= deadline ? check(next) : check(next, 'TOO_LATE'));
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0 || !(await condition(() => inbox.length > 0, left))) break;
    }
    if (valid.size >= escrow.threshold) {
      await drain('NOT_NEEDED');
      status.state = 'decrypting';
      const granted = await grantAccess({
        request,
        escrowId: escrow.escrowId,
        approvals: [...valid.values()],
        auditSeq,
      });
      auditSeq += ACCESS_GRANT_AUDIT_ROWS;
      messages = granted.messages;
    }
  } catch (err) {
    if (isCancellation(err) && err instanceof Error) {
      refusal = 'cancelled';
      cancelled = err;
    } else {
      refusal = 'grant_failed';
      const failure = err instanceof ActivityFailure ? err.cause : err;
      cause = failure instanceof ApplicationFailure ? (failure.type ?? 'ApplicationFailure') : 'unknown';
    }
    // After every row grantAccess could have written, so this one is never taken for a retry's.
    auditSeq += ACCESS_GRANT_AUDIT_ROWS;
  }

  if (messages) {
    status.state = 'granted';
    await drain('NOT_NEEDED');
    return result('granted', { messages });
  }

  // Whatever else happened, the request closes and its key is erased before the workflow ends.
  await CancellationScope.nonCancellable(async () => {
    await refuseAccess({
      requestId: request.requestId,
      tenant: request.tenant,
      reason: refusal,
      cause,
      approvedShares: status.approvedShares,
      threshold: escrow.threshold,
      auditSeq: auditSeq++,
    });
    await drain('TOO_LATE');
  });
  status.state = 'refused';
  if (cancelled) throw cancelled;
  return result('refused', { reason: refusal });
}
