// The RCS hub as an RBM v1 REST peer. Every failure leaves here as RcsTransientError or
// RcsPermanentError; nothing that leaves (errors, logs) names the phone number, the text or the token.

import pino from 'pino';
import type { Logger } from 'pino';
import { request } from 'undici';
import type { Dispatcher } from 'undici';
import { classifyHttpFailure, classifyTransportFailure } from './classify';
import { RcsTransientError } from './errors';
import { BATCH_GET_PATH, agentMessagePath, capabilitiesPath, toAgentMessage } from './rbm-wire';
import type { RbmBatchGetRequest } from './rbm-wire';
import type { TokenProvider } from './token';
import type { RcsCapabilities, RcsContent, RcsHub, RcsHubMeter, RevokeResult } from './types';

export interface RbmHubClientOptions {
  /** e.g. https://rcsbusinessmessaging.googleapis.com, or the sandbox hub's url. */
  baseUrl: string;
  agentId: string;
  tokenProvider: TokenProvider;
  /** Whole-request budget (connect, headers and body). */
  timeoutMs?: number;
  logger?: Logger;
  /** An undici Agent/Pool to tune keep-alive and connection limits; the global one otherwise. */
  dispatcher?: Dispatcher;
  meter?: RcsHubMeter;
}

const METERED_OP = {
  capabilities: 'capability',
  send: 'send',
  revoke: 'revoke',
  batchGet: 'batchGet',
} as const;

/** RBM accepts at most this many users in one users:batchGet. */
const BATCH_GET_MAX_USERS = 10_000;

interface HubAnswer {
  status: number;
  payload: unknown;
  retryAfter: string | string[] | undefined;
}

export class RbmHubClient implements RcsHub {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly logger: Logger;

  constructor(private readonly options: RbmHubClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.logger = (options.logger ?? pino({ enabled: false })).child({ component: 'rbm-client' });
  }

  async getCapabilities(msisdn: string, requestId: string): Promise<RcsCapabilities | null> {
    const answer = await this.call('capabilities', 'GET', capabilitiesPath(msisdn), { requestId });
    if (answer.status === 404) return null;
    if (answer.status !== 200) throw this.failure('capabilities', answer);
    const features = (answer.payload as { features?: unknown } | null)?.features;
    // RBM omits empty repeated fields, so a missing list is an RCS user with no optional features.
    if (features === undefined) return { features: [] };
    if (!Array.isArray(features) || !features.every((f) => typeof f === 'string')) {
      throw new RcsTransientError('malformed-response');
    }
    return { features };
  }

  async sendMessage(
    msisdn: string,
    messageId: string,
    content: RcsContent,
    ttlSeconds?: number,
  ): Promise<void> {
    const body = toAgentMessage(content, ttlSeconds);
    const answer = await this.call('send', 'POST', agentMessagePath(msisdn), { messageId }, body);
    // 409 ALREADY_EXISTS: an earlier attempt with this id got through (e.g. its answer timed
    // out). The hub holds the message once, so the retry has succeeded.
    if (answer.status === 409) {
      this.logger.info({ op: 'send' }, 'message id already accepted by the hub');
      return;
    }
    if (answer.status !== 200) throw this.failure('send', answer);
  }

  async revokeMessage(msisdn: string, messageId: string): Promise<RevokeResult> {
    const path = `${agentMessagePath(msisdn)}/${encodeURIComponent(messageId)}`;
    const answer = await this.call('revoke', 'DELETE', path, {});
    if (answer.status === 200) return 'revoked';
    if (answer.status === 404) return 'already-delivered';
    throw this.failure('revoke', answer);
  }

  /** The subset of `msisdns` the hub reports as RCS-reachable; meant for warming the capability cache. */
  async batchGetReachableUsers(msisdns: string[]): Promise<string[]> {
    const reachable: string[] = [];
    for (let i = 0; i < msisdns.length; i += BATCH_GET_MAX_USERS) {
      const body: RbmBatchGetRequest = {
        users: msisdns.slice(i, i + BATCH_GET_MAX_USERS),
        agentId: this.options.agentId,
      };
      const answer = await this.call('batchGet', 'POST', BATCH_GET_PATH, {}, body);
      if (answer.status !== 200) throw this.failure('batchGet', answer);
      const users = (answer.payload as { reachableUsers?: unknown } | null)?.reachableUsers ?? [];
      if (!Array.isArray(users)) throw new RcsTransientError('malformed-response');
      for (const user of users) if (typeof user === 'string') reachable.push(user);
    }
    return reachable;
  }

  private failure(op: string, answer: HubAnswer): Error {
    const err = classifyHttpFailure(answer.status, answer.retryAfter);
    this.logger.warn({ op, status: answer.status, error: err.name }, 'rcs hub request failed');
    return err;
  }

  private async call(
    op: keyof typeof METERED_OP,
    method: Dispatcher.HttpMethod,
    path: string,
    query: Record<string, string>,
    body?: unknown,
  ): Promise<HubAnswer> {
    let token: string;
    try {
      token = await this.options.tokenProvider();
    } catch {
      // The provider's own error may quote credentials; report only that it failed.
      this.logger.warn({ op }, 'rcs hub token unavailable');
      throw new RcsTransientError('token');
    }
    const search = new URLSearchParams({ ...query, agentId: this.options.agentId });
    const url = `${this.baseUrl}${path}?${search.toString()}`;
    const signal = AbortSignal.timeout(this.timeoutMs);
    const started = Date.now();
    try {
      const res = await request(url, {
        method,
        signal,
        dispatcher: this.options.dispatcher,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.body.text();
      this.options.meter?.request(METERED_OP[op], res.statusCode);
      this.logger.debug({ op, status: res.statusCode, ms: Date.now() - started }, 'rcs hub answered');
      return { status: res.statusCode, payload: parseJson(text), retryAfter: res.headers['retry-after'] };
    } catch (err) {
      const timedOut = signal.aborted;
      this.options.meter?.request(METERED_OP[op], 'error');
      // Only the error code: undici messages can quote the URL, which holds the number.
      const code = (err as { code?: unknown }).code;
      this.logger.warn(
        { op, timedOut, code: typeof code === 'string' ? code : undefined, ms: Date.now() - started },
        'rcs hub unreachable',
      );
      throw classifyTransportFailure(timedOut);
    }
  }
}

function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
