import { createHash, randomUUID } from 'node:crypto';
import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
} from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { workflowIdFor } from '../domain/message';
import type { AttemptRecord, DeliveryOutcome, DeliveryRequest } from '../domain/message';
import type { LiveStatus } from '../workflows/definitions';
import { statusQuery } from '../workflows/definitions';
import type { SendInput } from './validation';
import { validateSend } from './validation';

export interface SwitchboardClientOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  dataConverter: DataConverter;
}

export interface SentMessage {
  messageId: string;
  workflowId: string;
  /** False when an idempotency key matched a message that was already started. */
  started: boolean;
}

/** What `status` shows: the outcome once there is one, the live step before. */
export type MessageStatus = DeliveryOutcome & { step: string };

export class UnknownMessageError extends Error {
  override readonly name = 'UnknownMessageError';
  constructor(messageId: string) {
    super(`no message with id ${messageId}`);
  }
}

/** The typed door into Switchboard for apps and the CLI. */
export class SwitchboardClient {
  private constructor(
    private readonly client: Client,
    private readonly connection: Connection,
    private readonly taskQueue: string,
  ) {}

  static async connect(options: SwitchboardClientOptions): Promise<SwitchboardClient> {
    const connection = await Connection.connect({ address: options.address });
    const client = new Client({
      connection,
      namespace: options.namespace,
      dataConverter: options.dataConverter,
    });
    return new SwitchboardClient(client, connection, options.taskQueue);
  }

  /** Validates, then starts one deliverMessage workflow. Throws ValidationError before starting anything. */
  async send(input: SendInput): Promise<SentMessage> {
    const valid = validateSend(input);
    // An idempotency key maps to the same message id every time; the key itself (which an app
    // might build from a phone number) never leaves this process.
    const messageId = valid.idempotencyKey
      ? createHash('sha256').update(`${valid.tenant}\0${valid.idempotencyKey}`).digest('hex').slice(0, 32)
      : randomUUID().replace(/-/g, '');
    const workflowId = workflowIdFor(messageId);
    const request: DeliveryRequest = {
      messageId,
      to: valid.to,
      text: valid.text,
      flow: valid.flow,
      e2ee: valid.e2ee,
      tenant: valid.tenant,
      region: valid.region,
      submittedAt: new Date().toISOString(),
    };
    try {
      await this.client.workflow.start('deliverMessage', {
        taskQueue: this.taskQueue,
        workflowId,
        args: [request],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        memo: { tenant: valid.tenant, region: valid.region, flow: valid.flow, e2eePolicy: valid.e2ee },
      });
      return { messageId, workflowId, started: true };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError)
        return { messageId, workflowId, started: false };
      throw err;
    }
  }

  async waitForOutcome(messageId: string): Promise<DeliveryOutcome> {
    return this.client.workflow.getHandle(workflowIdFor(messageId)).result() as Promise<DeliveryOutcome>;
  }

  async status(messageId: string): Promise<MessageStatus> {
    const handle = this.client.workflow.getHandle(workflowIdFor(messageId));
    let description;
    try {
      description = await handle.describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new UnknownMessageError(messageId);
      throw err;
    }
    if (description.status.name === 'COMPLETED') {
      const outcome = (await handle.result()) as DeliveryOutcome;
      return { ...outcome, step: outcome.status };
    }
    if (description.status.name !== 'RUNNING') {
      return pendingView(messageId, handle.workflowId, description.status.name.toLowerCase(), [], 'failed');
    }
    const live: LiveStatus = await handle.query(statusQuery);
    return live.outcome
      ? { ...live.outcome, step: live.step }
      : pendingView(messageId, handle.workflowId, live.step, live.attempts, 'pending');
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
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
  };
}
