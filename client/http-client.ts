// SwitchboardClient's HTTP mode: the same send / waitForOutcome / status, over the REST API with
// an API key and nothing else (no Temporal access, no codec keys). E2EE stays client-side: the
// app's sealer encrypts here, and only the ciphertext (and, for "required", the notice) is sent.
import { request } from 'undici';
import type { DeliveryOutcome } from '../domain/message';
import { workflowIdFor } from '../domain/message';
import { sealForRecipient } from './e2ee-sealing';
import type { MessageSealer } from './e2ee-sealing';
import type { MessageStatus } from './message-status';
import { UnknownMessageError } from './message-status';
import type { SentMessage } from './switchboard-client';
import type { SendInput } from './validation';
import { ValidationError, validateSend } from './validation';

export interface SwitchboardHttpOptions {
  /** The REST API, e.g. http://127.0.0.1:8094. */
  baseUrl: string;
  /** `sb_live_…`: its tenant is every message's tenant. */
  apiKey: string;
  /** The app's MLS sender; without one, E2EE is unavailable to this client. */
  e2ee?: MessageSealer;
  /** How often waitForOutcome asks (milliseconds). */
  pollMs?: number;
}

/** A refusal the API answered that is not about a field (401, 403, 429, 5xx). */
export class ApiRequestError extends Error {
  override readonly name = 'ApiRequestError';
  constructor(
    readonly status: number,
    detail: string,
  ) {
    super(`REST API answered ${status}: ${detail}`);
  }
}

interface ProblemBody {
  detail?: string;
  errors?: Array<{ field: string; detail: string }>;
}

export class SwitchboardHttpClient {
  private readonly baseUrl: string;
  constructor(private readonly options: SwitchboardHttpOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  /** Validated here first (the same checks as the direct client), sealed here, then POSTed. */
  async send(input: SendInput): Promise<SentMessage> {
    if (input.tenant !== undefined)
      throw new ValidationError('tenant', 'absent: with an API key, the tenant is the key’s');
    const valid = validateSend(input);
    const sealed = await sealForRecipient(
      this.options.e2ee ?? null,
      valid.to,
      valid.text,
      valid.e2ee,
      input.notice,
    );
    const body = {
      to: valid.to,
      ...(sealed.textIsNotice ? { notice: sealed.text } : { text: sealed.text }),
      flow: valid.flow,
      e2ee: valid.e2ee,
      ...(valid.rcsCopy ? { rcsCopy: true } : {}),
      ...(valid.statusCallbackUrl ? { statusCallbackUrl: valid.statusCallbackUrl } : {}),
      ...(sealed.payload ? { e2eePayload: sealed.payload } : {}),
      ...(valid.media
        ? {
            media: {
              data: Buffer.from(valid.media.data).toString('base64'),
              contentType: valid.media.contentType,
              fileName: valid.media.fileName,
            },
          }
        : {}),
    };
    const headers = valid.idempotencyKey ? { 'idempotency-key': valid.idempotencyKey } : undefined;
    const accepted = await this.call<{ messageId: string; created: boolean }>(
      'POST',
      '/v1/messages',
      body,
      headers,
    );
    return {
      messageId: accepted.messageId,
      workflowId: workflowIdFor(accepted.messageId),
      started: accepted.created,
      encrypted: sealed.payload !== null,
      e2eeError: valid.e2ee === 'off' ? null : sealed.negotiationError,
    };
  }

  async status(messageId: string): Promise<MessageStatus> {
    // The API's answer is the CLI's `status --json` shape, plus metadata and links.
    return this.call<MessageStatus>('GET', `/v1/messages/${encodeURIComponent(messageId)}`).catch(
      (err: unknown) => {
        if (err instanceof ApiRequestError && err.status === 404) throw new UnknownMessageError(messageId);
        throw err;
      },
    );
  }

  /** Polls the message until it has an outcome. */
  async waitForOutcome(messageId: string): Promise<DeliveryOutcome> {
    for (;;) {
      const status = await this.status(messageId);
      if (status.status !== 'pending') return status;
      await new Promise((r) => setTimeout(r, this.options.pollMs ?? 250));
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private async call<T>(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    extra?: Record<string, string>,
  ): Promise<T> {
    const response = await request(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.options.apiKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...extra,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = (await response.body.json().catch(() => ({}))) as T & ProblemBody;
    if (response.statusCode < 300) return answer;
    const first = answer.errors?.[0];
    // A refused field reads exactly as the direct client's ValidationError would.
    if ((response.statusCode === 400 || response.statusCode === 422) && first)
      throw new ValidationError(first.field, first.detail);
    throw new ApiRequestError(response.statusCode, answer.detail ?? 'no detail');
  }
}
