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
import type { CheckedMessage, MediaInput } from './message-input';
import { problem } from './problem';
import type { FieldError, Problem } from './problem';
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

const refused = (errors: FieldError[]): StartResult => ({
  problem: problem(400, 'The message was refused; nothing was started.', errors),
});

const mediaRefOf = (m: MediaRef): MediaRef => ({
  mediaId: m.mediaId,
  contentType: m.contentType,
  fileName: m.fileName,
  bytes: m.bytes,
});

/** The workflow's input; `media` is the upload's reference, or absent until an inline file is stored. */
function requestOf(
  tenant: string,
  messageId: string,
  message: CheckedMessage,
  upload: MediaRef | null,
): DeliveryRequest {
  return {
    messageId,
    to: message.to,
    text: message.text,
    ...(message.textIsNotice ? { textIsNotice: true } : {}),
    ...(message.e2eePayload ? { e2eePayload: message.e2eePayload } : {}),
    ...(upload ? { media: upload } : {}),
    flow: message.flow,
    e2ee: message.e2ee,
    tenant,
    region: message.region,
    submittedAt: new Date().toISOString(),
    ...(message.rcsCopy ? { rcsCopy: true } : {}),
    ...(message.statusCallbackUrl ? { statusCallbackUrl: message.statusCallbackUrl } : {}),
  };
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
      return refused([...('errors' in result ? result.errors : []), ...keyErrors]);
    const message = result.ok;
    const messageId = idempotencyKey
      ? keyedMessageId(this.deps.messageIdKey, tenant, idempotencyKey)
      : randomUUID();
    // Every check, the worker's own included, before the Idempotency-Key is claimed or an inline
    // file stored: a refused request leaves neither a record nor a file behind.
    let request: DeliveryRequest;
    try {
      const upload =
        message.media?.kind === 'ref' ? await this.loadUpload(message.media.mediaId, tenant) : null;
      // An inline file was checked by checkMessage; its reference exists once it is stored.
      request = validateDeliveryRequest(requestOf(tenant, messageId, message, upload));
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return refused([{ field: err.field, detail: err.expected }]);
    }
    const accepted = (created: boolean): StartResult => ({
      accepted: {
        messageId,
        created,
        encrypted: !!message.e2eePayload,
        links: { self: messageLink(messageId) },
      },
    });
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
      // Started before: answered from the record, even once Temporal's retention forgot the workflow.
      if (claim === 'same-body-started') return accepted(false);
    }
    if (message.media?.kind === 'inline')
      request = { ...request, media: await this.storeInline(message.media, tenant) };
    const created = await this.startWorkflow(request, message.metadata);
    if (idempotencyKey) await this.deps.records.markStarted(tenant, messageId);
    return accepted(created);
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

  /** The claim check's file, stored now (after every check and the idempotency claim). */
  private async storeInline(input: MediaInput & { kind: 'inline' }, tenant: string): Promise<MediaRef> {
    const stored = await this.deps.media.put({
      tenant,
      data: input.data,
      contentType: input.contentType,
      fileName: input.fileName,
    });
    return mediaRefOf(stored);
  }

  /** The claim check: an upload of this tenant's. */
  private async loadUpload(mediaId: string, tenant: string): Promise<MediaRef> {
    try {
      return mediaRefOf(await this.deps.media.load(mediaId, tenant));
    } catch (err) {
      if (err instanceof MediaObjectNotFoundError)
        throw new ValidationError('media.mediaId', 'the id of a live upload of this tenant (POST /v1/media)');
      throw err;
    }
  }
}
