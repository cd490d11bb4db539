import { randomUUID } from 'node:crypto';
import { keyedMessageId } from '../domain/message-id';
import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { workflowIdFor } from '../domain/message';
import type { DeliveryOutcome, DeliveryRequest, MediaRef } from '../domain/message';
import { SwitchboardTenantKey } from '../workflows/definitions';
import { describeMessage } from './message-status';
import type { MessageStatus } from './message-status';
import { deliverMessage } from '../workflows';
import type { SendInput } from './validation';
import { ValidationError, validateSend } from './validation';
import { sealForRecipient } from './e2ee-sealing';
import type { MessageSealer } from './e2ee-sealing';
import { LawfulAccessClient } from './lawful-access-client';
import type { MediaUploader } from './media-uploader';
import type { TemporalConnectionOptions } from '../config/temporal-connection';
import { taskQueues } from '../config/task-queues';

/** Where Temporal is: an address, and TLS or an API key (config/temporal-connection.ts builds them). */
export interface SwitchboardClientOptions extends TemporalConnectionOptions {
  namespace: string;
  taskQueue: string;
  dataConverter: DataConverter;
  /** Keys the message ids of idempotency keys: `deriveKey(secrets, 'message-id')`, as the CLI uses. */
  messageIdKey: string;
  /** The app's MLS sender (client-managed keys); without one, E2EE is unavailable to this client. */
  e2ee?: MessageSealer;
  /** Uploads a message's file before its workflow starts (`POST /v1/media`); without one, media is refused. */
  media?: MediaUploader;
  /** Runs on close(), after the connection: the sealer's own resources. */
  onClose?: () => Promise<void>;
}

export interface SentMessage {
  messageId: string;
  workflowId: string;
  /** False when an idempotency key matched a message that was already started. */
  started: boolean;
  /** Sealed for the recipient with MLS in this process. */
  encrypted: boolean;
  /** Why the message could not be sealed (a key-negotiation code), when E2EE was asked for. */
  e2eeError: string | null;
}

export { UnknownMessageError } from './message-status';
export type { MessageStatus } from './message-status';

/** The typed door into Switchboard for apps and the CLI. */
export class SwitchboardClient {
  private constructor(
    private readonly client: Client,
    private readonly connection: Connection,
    private readonly taskQueue: string,
    private readonly messageIdKey: string,
    private readonly sealer: MessageSealer | null,
    private readonly uploader: MediaUploader | null,
    private readonly onClose: (() => Promise<void>) | null = null,
  ) {}

  static async connect(options: SwitchboardClientOptions): Promise<SwitchboardClient> {
    const { address, tls, apiKey } = options;
    const connection = await Connection.connect({ address, tls, apiKey });
    const client = new Client({
      connection,
      namespace: options.namespace,
      dataConverter: options.dataConverter,
    });
    return new SwitchboardClient(
      client,
      connection,
      options.taskQueue,
      options.messageIdKey,
      options.e2ee ?? null,
      options.media ?? null,
      options.onClose ?? null,
    );
  }

  /** Validates, then starts one deliverMessage workflow. Throws ValidationError before starting anything. */
  async send(input: SendInput): Promise<SentMessage> {
    const valid = validateSend(input);
    // An idempotency key maps to the same id every time; the key itself (which an app might
    // build from a phone number) never leaves this process, nor can it be recovered from the id.
    const messageId = valid.idempotencyKey
      ? keyedMessageId(this.messageIdKey, valid.tenant, valid.idempotencyKey)
      : randomUUID();
    const workflowId = workflowIdFor(messageId);
    // The claim check: only a reference to the uploaded file goes into the workflow input. A
    // repeated send (same idempotency key) uploads again; the unused copy expires with its TTL.
    const media = valid.media ? await this.upload(valid.media, valid.tenant) : null;
    const sealed = await sealForRecipient(
      this.sealer,
      valid.to,
      valid.text,
      valid.e2ee,
      input.notice,
      valid.tenant,
    );
    const request: DeliveryRequest = {
      messageId,
      to: valid.to,
      text: sealed.text,
      ...(sealed.textIsNotice ? { textIsNotice: true } : {}),
      ...(sealed.payload ? { e2eePayload: sealed.payload } : {}),
      ...(media ? { media } : {}),
      flow: valid.flow,
      e2ee: valid.e2ee,
      tenant: valid.tenant,
      region: valid.region,
      submittedAt: new Date().toISOString(),
      ...(valid.rcsCopy ? { rcsCopy: true } : {}),
      ...(valid.statusCallbackUrl ? { statusCallbackUrl: valid.statusCallbackUrl } : {}),
    };
    const e2ee = {
      encrypted: sealed.payload !== null,
      e2eeError: valid.e2ee === 'off' ? null : sealed.negotiationError,
    };
    try {
      await this.client.workflow.start(deliverMessage, {
        taskQueue: this.taskQueue,
        workflowId,
        args: [request],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        memo: { tenant: valid.tenant, region: valid.region, flow: valid.flow, e2eePolicy: valid.e2ee },
        typedSearchAttributes: [{ key: SwitchboardTenantKey, value: valid.tenant }],
      });
      return { messageId, workflowId, started: true, ...e2ee };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError)
        return { messageId, workflowId, started: false, ...e2ee };
      throw err;
    }
  }

  private async upload(
    file: { data: Uint8Array; contentType: string; fileName: string },
    tenant: string,
  ): Promise<MediaRef> {
    if (!this.uploader) throw new ValidationError('media', 'a client with a media uploader (options.media)');
    return this.uploader.upload({ ...file, tenant });
  }

  async waitForOutcome(messageId: string): Promise<DeliveryOutcome> {
    return this.client.workflow.getHandle<typeof deliverMessage>(workflowIdFor(messageId)).result();
  }

  async status(messageId: string): Promise<MessageStatus> {
    return (await describeMessage(this.client, messageId)).status;
  }

  /** Lawful access to escrowed messages, over the same connection. */
  lawfulAccess(): LawfulAccessClient {
    return new LawfulAccessClient(
      this.client,
      taskQueues({ TEMPORAL_TASK_QUEUE: this.taskQueue }).lawfulAccess,
    );
  }

  async close(): Promise<void> {
    await this.connection.close();
    await this.onClose?.();
  }
}
