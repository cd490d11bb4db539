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
    // Message ids are RFC 4122 UUIDs because RBM requires its messageId to be one. An idempotency
    // key maps to the same id every time; the key itself (which an app might build from a phone
    // number) never leaves this process.
    const messageId = valid.idempotencyKey
      ? uuidV5(`${valid.tenant}\0${valid.idempotencyKey}`)
      : randomUUID();
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
      ...(valid.rcsCopy ? { rcsCopy: true } : {}),
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

/** Switchboard's namespace for name-based (v5) message ids. */
const MESSAGE_ID_NAMESPACE = Buffer.from('4f2a1c6e9b3d4e7a8c5f0d1b2a3c4d5e', 'hex');

function uuidV5(name: string): string {
  const hash = createHash('sha1').update(MESSAGE_ID_NAMESPACE).update(name).digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
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
