import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { workflowIdFor } from '../domain/message';
import type { AttemptRecord, DeliveryOutcome } from '../domain/message';
import type { LiveStatus } from '../workflows/definitions';
import { statusQuery } from '../workflows/definitions';
import type { deliverMessage } from '../workflows';

/** What `status` shows: the outcome once there is one, the live step before. */
export type MessageStatus = DeliveryOutcome & { step: string };

export class UnknownMessageError extends Error {
  override readonly name = 'UnknownMessageError';
  constructor(messageId: string) {
    super(`no message with id ${messageId}`);
  }
}

export interface DescribedMessage {
  status: MessageStatus;
  /** From the memo the starter wrote: whose message it is, and the app's metadata (REST API). */
  tenant: string | null;
  metadata: Record<string, string> | null;
}

/**
 * A message's status and owner, running or finished; UnknownMessageError when there is none, or
 * when `tenant` is given and the message is another tenant's: that is decided from the memo alone,
 * before its history or the worker (result, query) is asked anything.
 */
export async function describeMessage(
  client: Client,
  messageId: string,
  tenant?: string,
): Promise<DescribedMessage> {
  const handle = client.workflow.getHandle<typeof deliverMessage>(workflowIdFor(messageId));
  let description;
  try {
    description = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new UnknownMessageError(messageId);
    throw err;
  }
  const memo = description.memo ?? {};
  const owner = {
    tenant: typeof memo.tenant === 'string' ? memo.tenant : null,
    metadata: (memo.metadata as Record<string, string> | undefined) ?? null,
  };
  if (tenant !== undefined && owner.tenant !== tenant) throw new UnknownMessageError(messageId);
  if (description.status.name === 'COMPLETED') {
    const outcome = await handle.result();
    return { status: { ...outcome, step: outcome.status }, ...owner };
  }
  if (description.status.name !== 'RUNNING') {
    const step = description.status.name.toLowerCase();
    return { status: pendingView(messageId, handle.workflowId, step, [], 'failed'), ...owner };
  }
  const live: LiveStatus = await handle.query(statusQuery);
  const status = live.outcome
    ? { ...live.outcome, step: live.step }
    : pendingView(messageId, handle.workflowId, live.step, live.attempts, 'pending');
  return { status, ...owner };
}

function pendingView(
  messageId: string,
  workflowId: string,
  step: string,
  attempts: AttemptRecord[],
  status: 'pending' | 'failed',
): MessageStatus {
  return {
    messageId,
    workflowId,
    status,
    step,
    channel: null,
    e2ee: false,
    attempts,
    fallbackReason: null,
    shortlink: false,
    timings: { totalMs: 0, probeMs: 0, rcsMs: null, smsMs: null },
    flow: 'standard',
    configVersion: 0,
    authoritative: null,
    pilot: null,
  };
}
