// The three parties of lawful access, as a library (the CLI's `access` commands use it):
// the requester files a request and later opens the result with a key only it holds; each
// custodian seals their share to the request's key and hands it in as an approval.

import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import {
  ACCESS_LABEL_MAX,
  ACCESS_LIMITS,
  accessWorkflowIdFor,
  invalidAccessRequestField,
  resultSealContext,
  shareSealContext,
} from '../domain/lawful-access';
import type { AccessResult, AccessStatus, LawfulAccessRequest } from '../domain/lawful-access';
import { encodeEscrowShare } from '../e2ee/escrow';
import type { EscrowShare } from '../e2ee/escrow';
import { generateSealingKeyPair, openSealed, sealTo } from '../e2ee/sealed-box';
import { accessStatusQuery, custodianApprovalSignal } from '../workflows/lawful-access-definitions';
import { lawfulAccess } from '../workflows';
import { ValidationError } from './validation';

export interface AccessRequestInput {
  tenant: string;
  messageIds: string[];
  requester: string;
  caseReference: string;
  approvalWindowMs: number;
}

export interface FiledAccessRequest {
  requestId: string;
  workflowId: string;
  /** The requester's private key: the only way to read the result. Keep it; it is shown once. */
  requesterKey: Uint8Array;
}

export type ReadMessage =
  | {
      messageId: string;
      ok: true;
      plaintext: Uint8Array;
      /** The app's text, when the plaintext is Switchboard's message envelope. */ text: string | null;
    }
  | { messageId: string; ok: false; code: string };

export interface ReadAccessResult extends Omit<AccessResult, 'messages'> {
  messages: ReadMessage[];
}

export class UnknownAccessRequestError extends Error {
  override readonly name = 'UnknownAccessRequestError';
  constructor(requestId: string) {
    super(`no lawful-access request with id ${requestId}`);
  }
}

const EXPECTED: Record<string, string> = {
  tenant: 'lowercase letters, digits and dashes',
  messageIds: `1 to ${ACCESS_LIMITS.maxMessages} distinct message ids, as \`send\` printed them (UUIDs)`,
  requester: `1 to ${ACCESS_LABEL_MAX} printable characters`,
  caseReference: `1 to ${ACCESS_LABEL_MAX} printable characters`,
  approvalWindowMs: 'between 1 second and 30 days',
};
/** Stand-ins for what `request` adds itself, so the domain's rules check the rest. */
const PLACEHOLDERS = {
  requestId: '00000000-0000-4000-8000-000000000000',
  requesterPublicKey: 'A'.repeat(43),
};

/**
 * Refuses a bad request before anything starts, by the same rules the worker applies
 * (domain/lawful-access.ts); names the field, never echoes a value.
 */
export function validateAccessRequest(input: AccessRequestInput): AccessRequestInput {
  const trim = (v: unknown) => (typeof v === 'string' ? v.trim() : v);
  const normalised = {
    tenant: input.tenant,
    messageIds: Array.isArray(input.messageIds)
      ? input.messageIds.map((id) => (typeof id === 'string' ? id.trim().toLowerCase() : id))
      : input.messageIds,
    requester: trim(input.requester),
    caseReference: trim(input.caseReference),
    approvalWindowMs: input.approvalWindowMs,
  };
  const field = invalidAccessRequestField({ ...normalised, ...PLACEHOLDERS });
  if (field) throw new ValidationError(field, EXPECTED[field] ?? 'a valid value');
  return normalised as AccessRequestInput;
}

export class LawfulAccessClient {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  /** Files a request. The requester key pair is made here; only its public half leaves. */
  async request(input: AccessRequestInput): Promise<FiledAccessRequest> {
    const valid = validateAccessRequest(input);
    const requestId = randomUUID();
    const workflowId = accessWorkflowIdFor(requestId);
    const pair = await generateSealingKeyPair();
    const request: LawfulAccessRequest = { requestId, ...valid, requesterPublicKey: pair.publicKey };
    await this.client.workflow.start(lawfulAccess, {
      taskQueue: this.taskQueue,
      workflowId,
      args: [request],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      memo: { tenant: valid.tenant, kind: 'lawful-access' },
    });
    return { requestId, workflowId, requesterKey: pair.privateKey };
  }

  async status(requestId: string): Promise<AccessStatus> {
    const handle = this.client.workflow.getHandle<typeof lawfulAccess>(accessWorkflowIdFor(requestId));
    try {
      const description = await handle.describe();
      if (description.status.name !== 'RUNNING') {
        const result = await handle.result();
        return {
          state: result.outcome,
          request: null,
          escrowId: null,
          threshold: result.threshold,
          custodians: null,
          approvedShares: result.approvedShares,
          rejectedApprovals: 0,
          requestPublicKey: null,
          deadline: null,
        };
      }
      return await handle.query(accessStatusQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new UnknownAccessRequestError(requestId);
      throw err;
    }
  }

  /**
   * A custodian's approval: seals the share to the request's key and hands it in. Refuses a
   * share of another escrow, or a request that no longer takes approvals.
   */
  async approve(
    requestId: string,
    custodian: string,
    share: EscrowShare,
    options: { waitMs?: number; expectDigest?: string } = {},
  ): Promise<{ accepted: boolean | null; status: AccessStatus }> {
    const waitMs = options.waitMs ?? 15_000;
    const name = custodian.trim();
    if (
      name.length === 0 ||
      name.length > ACCESS_LABEL_MAX ||
      [...name].some((c) => c.charCodeAt(0) < 0x20)
    ) {
      throw new ValidationError('custodian', EXPECTED.requester as string);
    }
    let status = await this.status(requestId);
    const until = Date.now() + waitMs;
    while (status.state === 'opening' && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 200));
      status = await this.status(requestId);
    }
    if (status.state !== 'awaiting-approvals' || !status.requestPublicKey || !status.request) {
      throw new ValidationError('request', `a request awaiting approvals (this one is ${status.state})`);
    }
    if (options.expectDigest !== undefined && options.expectDigest.toLowerCase() !== status.request.digest) {
      throw new ValidationError(
        'digest',
        'the digest `access status` shows for this request (it changed, or is mistyped)',
      );
    }
    if (status.escrowId !== share.escrowId) {
      throw new ValidationError('share', 'a share of the escrow this request is for');
    }
    const box = await sealTo(
      status.requestPublicKey,
      Buffer.from(encodeEscrowShare(share), 'utf8'),
      shareSealContext(requestId, status.request.digest),
    );
    const checkedBefore = status.approvedShares.length + status.rejectedApprovals;
    // A share already approved is handed in anyway (the trail records the repeat), but counts once.
    const repeat = status.approvedShares.includes(share.index);
    await this.client.workflow.getHandle(accessWorkflowIdFor(requestId)).signal(custodianApprovalSignal, {
      custodian: name,
      shareIndex: share.index,
      sealedShare: Buffer.from(box).toString('base64url'),
    });
    // The workflow checks each approval in an activity; wait for its verdict (null: not yet known).
    const checkedBy = Date.now() + waitMs;
    for (;;) {
      status = await this.status(requestId);
      if (!repeat && status.approvedShares.includes(share.index)) return { accepted: true, status };
      const checked = status.approvedShares.length + status.rejectedApprovals;
      if (status.state === 'awaiting-approvals' && checked > checkedBefore)
        return { accepted: false, status };
      if (status.state !== 'awaiting-approvals' || Date.now() > checkedBy) return { accepted: null, status };
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Waits for the request to close and opens what was granted with the requester's key. */
  async result(requestId: string, requesterKey: Uint8Array): Promise<ReadAccessResult> {
    let result: AccessResult;
    try {
      result = await this.client.workflow
        .getHandle<typeof lawfulAccess>(accessWorkflowIdFor(requestId))
        .result();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new UnknownAccessRequestError(requestId);
      throw err;
    }
    const messages: ReadMessage[] = [];
    for (const m of result.messages) {
      if (!m.ok) {
        messages.push(m);
        continue;
      }
      const plaintext = await openSealed(
        requesterKey,
        new Uint8Array(Buffer.from(m.sealed, 'base64url')),
        resultSealContext(requestId, m.messageId),
      );
      messages.push({ messageId: m.messageId, ok: true, plaintext, text: envelopeText(plaintext) });
    }
    return { ...result, messages };
  }
}

/** Switchboard's client seals `{"v":1,"text":…}` (client/e2ee-sealing.ts). */
function envelopeText(plaintext: Uint8Array): string | null {
  try {
    const parsed = JSON.parse(Buffer.from(plaintext).toString('utf8')) as { v?: unknown; text?: unknown };
    return parsed.v === 1 && typeof parsed.text === 'string' ? parsed.text : null;
  } catch {
    return null;
  }
}
