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
import type { ActivityOptions } from '@temporalio/workflow';
import type { LawfulAccessActivities } from '../activities';
import { DATABASE_OUTAGE_BUDGET, UNTIL_THE_DATABASE_IS_BACK } from './activities-proxy';
import { ACCESS_GRANT_AUDIT_ROWS, normaliseApproval } from '../domain/lawful-access';
import type {
  AccessResult,
  AccessStatus,
  CustodianApproval,
  LawfulAccessRequest,
  RefusalReason,
} from '../domain/lawful-access';
import { accessStatusQuery, custodianApprovalSignal } from './lawful-access-definitions';
import { sealedInput } from './refusals';

const retry = {
  ...UNTIL_THE_DATABASE_IS_BACK,
  nonRetryableErrorTypes: ['AccessRequestClosed', 'AccessRequestKeyError', 'EscrowError', 'SealedBoxError'],
};
export const accessRequestActivityOptions: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: DATABASE_OUTAGE_BUDGET,
  retry,
};
const { openAccessRequest, checkCustodianApproval, refuseAccess } = proxyActivities<LawfulAccessActivities>(
  accessRequestActivityOptions,
);
// Rebuilding the key and opening up to 100 messages from their groups' join states.
export const grantAccessOptions: ActivityOptions = {
  startToCloseTimeout: '5 minutes',
  scheduleToCloseTimeout: DATABASE_OUTAGE_BUDGET,
  retry,
};
const { grantAccess } = proxyActivities<LawfulAccessActivities>(grantAccessOptions);

interface Arrived extends CustodianApproval {
  arrivedAt: number;
}

type Escrow = NonNullable<Awaited<ReturnType<typeof openAccessRequest>>['escrow']>;

export async function lawfulAccess(input: LawfulAccessRequest): Promise<AccessResult> {
  const request = sealedInput(input);
  const status = initialStatus();
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
  const desk = new ApprovalDesk(request, escrow, status, inbox, opened.nextAuditSeq);
  const attempt = await collectAndGrant(desk, request, escrow, deadline, status);
  if (attempt.messages) {
    status.state = 'granted';
    await desk.drain('NOT_NEEDED');
    return result('granted', { messages: attempt.messages });
  }

  // Whatever else happened, the request closes and its key is erased before the workflow ends.
  await CancellationScope.nonCancellable(async () => {
    await refuseAccess({
      requestId: request.requestId,
      tenant: request.tenant,
      reason: attempt.refusal,
      cause: attempt.cause,
      approvedShares: status.approvedShares,
      threshold: escrow.threshold,
      auditSeq: desk.nextAuditSeq(),
    });
    await desk.drain('TOO_LATE');
  });
  status.state = 'refused';
  if (attempt.cancelled) throw attempt.cancelled;
  return result('refused', { reason: attempt.refusal });
}

function initialStatus(): AccessStatus {
  return {
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
}

/** Custodians' approvals as they arrive: each checked (and audited) by an activity, valid ones kept. */
class ApprovalDesk {
  readonly valid = new Map<number, CustodianApproval>();

  constructor(
    private readonly request: LawfulAccessRequest,
    private readonly escrow: Escrow,
    private readonly status: AccessStatus,
    readonly inbox: Arrived[],
    private auditSeq: number,
  ) {}

  nextAuditSeq(): number {
    return this.auditSeq++;
  }

  /** Where grantAccess writes its rows. */
  grantAuditSeq(): number {
    return this.auditSeq;
  }

  /** After every row grantAccess could have written, so a later row is never taken for a retry's. */
  skipGrantRows(): void {
    this.auditSeq += ACCESS_GRANT_AUDIT_ROWS;
  }

  async check(approval: CustodianApproval, ignore?: 'NOT_NEEDED' | 'TOO_LATE'): Promise<void> {
    const checked = await checkCustodianApproval({
      requestId: this.request.requestId,
      tenant: this.request.tenant,
      escrowId: this.escrow.escrowId,
      approval: {
        custodian: approval.custodian,
        shareIndex: approval.shareIndex,
        sealedShare: approval.sealedShare,
      },
      alreadyApproved: this.valid.has(approval.shareIndex),
      ...(ignore ? { ignore } : {}),
      auditSeq: this.nextAuditSeq(),
    });
    if (checked.valid && !ignore && !this.valid.has(approval.shareIndex)) {
      this.valid.set(approval.shareIndex, approval);
      this.status.approvedShares = [...this.valid.keys()].sort((a, b) => a - b);
    } else {
      this.status.rejectedApprovals += 1;
    }
  }

  /** Approvals nobody will use are still audited, as not counted. */
  async drain(why: 'NOT_NEEDED' | 'TOO_LATE'): Promise<void> {
    for (let a = this.inbox.shift(); a; a = this.inbox.shift()) await this.check(a, why);
  }
}

interface GrantAttempt {
  messages: AccessResult['messages'] | null;
  refusal: RefusalReason;
  cause: string | null;
  cancelled: Error | null;
}

/** Waits for k valid approvals before the deadline, then has the escrow open the named messages. */
async function collectAndGrant(
  desk: ApprovalDesk,
  request: LawfulAccessRequest,
  escrow: Escrow,
  deadline: number,
  status: AccessStatus,
): Promise<GrantAttempt> {
  const attempt: GrantAttempt = { messages: null, refusal: 'deadline_passed', cause: null, cancelled: null };
  try {
    // An approval counts if it arrived before the deadline, even if its check runs after it.
    while (desk.valid.size < escrow.threshold) {
      const next = desk.inbox.shift();
      if (next) {
        await (next.arrivedAt <= deadline ? desk.check(next) : desk.check(next, 'TOO_LATE'));
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0 || !(await condition(() => desk.inbox.length > 0, left))) break;
    }
    if (desk.valid.size >= escrow.threshold) {
      await desk.drain('NOT_NEEDED');
      status.state = 'decrypting';
      const granted = await grantAccess({
        request,
        escrowId: escrow.escrowId,
        approvals: [...desk.valid.values()],
        auditSeq: desk.grantAuditSeq(),
      });
      desk.skipGrantRows();
      attempt.messages = granted.messages;
    }
  } catch (err) {
    if (isCancellation(err) && err instanceof Error) {
      attempt.refusal = 'cancelled';
      attempt.cancelled = err;
    } else {
      attempt.refusal = 'grant_failed';
      const failure = err instanceof ActivityFailure ? err.cause : err;
      attempt.cause =
        failure instanceof ApplicationFailure ? (failure.type ?? 'ApplicationFailure') : 'unknown';
    }
    desk.skipGrantRows();
  }
  return attempt;
}
