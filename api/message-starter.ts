// Starts one message for a tenant: the body's checks, the Idempotency-Key, the media claim check,
// then the deliverMessage workflow. Nothing is started (and no idempotency record is written)
// for a request that is refused.
import { createHmac, randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { ValidationError, validateDeliveryRequest } from '../domain/delivery-request';
import { keyedMessageId } from '../domain/message-id';
import { workflowIdFor } from '../domain/message';
import type { DeliveryRequest, MediaRef } from '../domain/message';
import type { MediaObjectStore } from '../store/media-objects';
import { MediaObjectNotFoundError } from '../store/media-objects';
import type { IdempotencyRecords } from '../store/idempotency-records';
import { deliverMessage } from '../workflows';
import { SwitchboardTenantKey } from '../workflows/definitions';
import { checkMessage } from './message-input';
import type { MediaInput } from './message-input';
import { problem } from './problem';
import type { Problem } from './problem';
import { MAX_IDEMPOTENCY_KEY_CHARS } from './schemas';
import type { Accepted, MessageInput } from './schemas';

export interface MessageStarterDeps {
  client: Client;
  taskQueue: string;
  /** `deriveKey(secrets, 'message-id')`: an Idempotency-Key is the same message id as from the client. */
  messageIdKey: string;
  /** `deriveKey(secrets, 'api-idempotency')`: bodies are recorded as an HMAC under it. */
  bodyHashKey: string;
  records: IdempotencyRecords;
  media: Pick<MediaObjectStore, 'put' | 'load'>;
}

export type StartResult = { accepted: Accepted } | { problem: Problem };

/** JSON with sorted keys, so the same body hashes the same whatever order its fields came in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

export const messageLink = (messageId: string) => `/v1/messages/${messageId}`;

export class MessageStarter {
  constructor(private readonly deps: MessageStarterDeps) {}

  async start(tenant: string, input: MessageInput, idempotencyKey: string | null): Promise<StartResult> {
    const result = checkMessage(input);
    const keyErrors =
      idempotencyKey !== null &&
      (idempotencyKey.length === 0 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY_CHARS)
        ? [{ field: 'Idempotency-Key', detail: `1 to ${MAX_IDEMPOTENCY_KEY_CHARS} characters` }]
        : [];
    if ('errors' in result || keyErrors.length)
      return {
        problem: problem(400, 'The message was refused; nothing was started.', [
          ...('errors' in result ? result.errors : []),
          ...keyErrors,
        ]),
      };
    const message = result.ok;
    const messageId = idempotencyKey
      ? keyedMessageId(this.deps.messageIdKey, tenant, idempotencyKey)
      : randomUUID();
    let media: MediaRef | null;
    try {
      media = message.media ? await this.resolveMedia(message.media, tenant) : null;
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return {
        problem: problem(400, 'The message was refused; nothing was started.', [
          { field: err.field, detail: err.expected },
        ]),
      };
    }
    if (idempotencyKey) {
      const bodyHash = createHmac('sha256', this.deps.bodyHashKey).update(canonical(input)).digest();
      const claim = await this.deps.records.claim(tenant, messageId, bodyHash);
      if (claim === 'different-body')
        return {
          problem: problem(
            422,
            'This Idempotency-Key was first used with a different body; nothing was started.',
            [
              {
                field: 'Idempotency-Key',
                detail: 'a new key for a different message, or the same body as before',
              },
            ],
          ),
        };
    }
    const request: DeliveryRequest = {
      messageId,
      to: message.to,
      text: message.text,
      ...(message.textIsNotice ? { textIsNotice: true } : {}),
      ...(message.e2eePayload ? { e2eePayload: message.e2eePayload } : {}),
      ...(media ? { media } : {}),
      flow: message.flow,
      e2ee: message.e2ee,
      tenant,
      region: message.region,
      submittedAt: new Date().toISOString(),
      ...(message.rcsCopy ? { rcsCopy: true } : {}),
      ...(message.statusCallbackUrl ? { statusCallbackUrl: message.statusCallbackUrl } : {}),
    };
    try {
      // The worker's own check, here too: a request the worker would refuse is never started.
      validateDeliveryRequest(request);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return {
        problem: problem(400, 'The message was refused; nothing was started.', [
          { field: err.field, detail: err.expected },
        ]),
      };
    }
    const created = await this.startWorkflow(request, message.metadata);
    return {
      accepted: {
        messageId,
        created,
        encrypted: !!message.e2eePayload,
        links: { self: messageLink(messageId) },
      },
    };
  }

  private async startWorkflow(
    request: DeliveryRequest,
    metadata: Record<string, string> | null,
  ): Promise<boolean> {
    try {
      await this.deps.client.workflow.start(deliverMessage, {
        taskQueue: this.deps.taskQueue,
        workflowId: workflowIdFor(request.messageId),
        args: [request],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        memo: {
          tenant: request.tenant,
          region: request.region,
          flow: request.flow,
          e2eePolicy: request.e2ee,
          ...(metadata ? { metadata } : {}),
        },
        typedSearchAttributes: [{ key: SwitchboardTenantKey, value: request.tenant }],
      });
      return true;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
      throw err;
    }
  }

  /** The claim check: an upload of this tenant's, or the inline file stored now. */
  private async resolveMedia(input: MediaInput, tenant: string): Promise<MediaRef> {
    if (input.kind === 'inline') {
      const stored = await this.deps.media.put({
        tenant,
        data: input.data,
        contentType: input.contentType,
        fileName: input.fileName,
      });
      return {
        mediaId: stored.mediaId,
        contentType: stored.contentType,
        fileName: stored.fileName,
        bytes: stored.bytes,
      };
    }
    try {
      const found = await this.deps.media.load(input.mediaId, tenant);
      return {
        mediaId: found.mediaId,
        contentType: found.contentType,
        fileName: found.fileName,
        bytes: found.bytes,
      };
    } catch (err) {
      if (err instanceof MediaObjectNotFoundError)
        throw new ValidationError('media.mediaId', 'the id of a live upload of this tenant (POST /v1/media)');
      throw err;
    }
  }
}
