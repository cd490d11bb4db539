// The key directory over HTTP, for apps that hold their own MLS state (client-managed keys):
// `POST /v1/e2ee/keyPackages:claim` with {msisdn} answers one KeyPackage per device of the
// number, consuming one-time packages exactly as PostgresKeyDirectory.claim does. Both sides are
// here: `keyDirectoryRoutes` (a fastify plugin; Switchboard serves it beside the RBM webhook) and
// `HttpKeyDirectory` (undici; the `KeyPackageSource` an app's E2eeSender takes).
//
// Every request counts against its client's rate limit (ClientLimiter, by address), checked before
// the bearer token: a client over it gets 429 with Retry-After, others are served. Claims consume
// one-time KeyPackages, so an unthrottled client could drain a number's packages (every later
// sender then gets the last-resort one) or hold the database; a token guesser is slowed too.
//
// KeyPackages are public keys, but the number is personal data: nothing here logs a number, a
// URL (URLs may be proxied with bodies), a KeyPackage or a token, and no error carries one.

import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { request } from 'undici';
import type { Dispatcher } from 'undici';
import { bearerCheck } from '../channels/bearer-auth';
import { ClientLimiter } from '../channels/client-limiter';
import type { ClientLimitOptions } from '../channels/client-limiter';
import { E2eeKeyNegotiationError } from './errors';
import type { ClaimedKeyPackage, KeyPackageSource } from './key-directory';
import { registerEscrowMemberRoute } from './escrow-member-http';
import type { EscrowMemberSource } from './escrow-member-http';

export const KEY_PACKAGES_CLAIM_PATH = '/v1/e2ee/keyPackages:claim';

/** The request body of a claim. */
export interface KeyPackagesClaimRequest {
  /** E.164, e.g. "+15550100001". */
  msisdn: string;
}

/** The answer to a claim: one KeyPackage per device (a device's last-resort one once its one-time ones ran out). */
export interface KeyPackagesClaimResponse {
  devices: { deviceId: string; keyPackage: string; lastResort: boolean }[];
}

export type KeyDirectoryApiErrorCode =
  | 'UNAUTHENTICATED'
  | 'INVALID_ARGUMENT'
  | 'NO_KEY_PACKAGES'
  | 'NOT_ESCROWED'
  | 'UNAVAILABLE'
  | 'RESOURCE_EXHAUSTED';

/** Every non-200 answer. `field` names the offending request field on 400. */
export interface KeyDirectoryApiErrorBody {
  error: { code: KeyDirectoryApiErrorCode; message: string; field?: string };
}

export interface KeyDirectoryRoutesOptions {
  directory: KeyPackageSource;
  /** Apps send `Authorization: Bearer <bearerToken>`. At least 16 characters. */
  bearerToken: string;
  /** Gets ids, statuses and error classes only. */
  logger?: Logger;
  /** Escrowed tenants' members (e2ee/escrow-member-http.ts); without it the route is not served. */
  escrowMembers?: EscrowMemberSource;
  /** Requests one client address may make per window. Default DEFAULT_KEY_DIRECTORY_RATE_LIMIT. */
  rateLimit?: Pick<ClientLimitOptions, 'limit' | 'windowMs'>;
}

/** 20 claims a second per sending app's address, sustained: above any one app's new recipients. */
export const DEFAULT_KEY_DIRECTORY_RATE_LIMIT = { limit: 1200, windowMs: 60_000 };
/** E.164: a plus, a country code not starting with 0, at most 15 digits in all. */
const E164 = /^\+[1-9]\d{1,14}$/;
/** A claim body is one short number; anything bigger is not one. */
const BODY_LIMIT = 4096;

/**
 * The key directory's routes as a fastify plugin, encapsulated: its bearer check applies to its
 * own routes only. Works whether the host server parses JSON bodies or hands them over raw
 * (as the receipts server does for the RBM webhook's signature check).
 */
export function keyDirectoryRoutes(options: KeyDirectoryRoutesOptions): FastifyPluginAsync {
  const refusal = bearerCheck(options.bearerToken, 'key directory');
  const logger = options.logger?.child({ component: 'key-directory-api' });
  const limiter = new ClientLimiter(options.rateLimit ?? DEFAULT_KEY_DIRECTORY_RATE_LIMIT);

  return (app: FastifyInstance) => {
    app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
      const admission = limiter.take(req.ip);
      if (!admission.allowed) {
        logger?.warn({ retryAfterSeconds: admission.retryAfterSeconds }, 'key directory: client throttled');
        reply.header('retry-after', String(admission.retryAfterSeconds));
        return apiError(reply, 429, 'RESOURCE_EXHAUSTED', 'Too many requests; retry after the given delay.');
      }
      const refused = refusal(req.headers.authorization);
      if (refused) {
        logger?.warn({ reason: refused }, 'key directory: bearer refused');
        reply.header('www-authenticate', 'Bearer');
        return apiError(reply, 401, 'UNAUTHENTICATED', 'A valid bearer token is required.');
      }
    });

    // '::' is fastify's escape for the literal ':' of a custom method.
    app.post(
      KEY_PACKAGES_CLAIM_PATH.replace(':claim', '::claim'),
      { bodyLimit: BODY_LIMIT },
      async (req, reply) => {
        const body = parseBody(req.body);
        if (body === null)
          return apiError(reply, 400, 'INVALID_ARGUMENT', 'The body must be a JSON object.', 'body');
        const msisdn = body.msisdn;
        if (typeof msisdn !== 'string' || !E164.test(msisdn)) {
          return apiError(reply, 400, 'INVALID_ARGUMENT', 'msisdn must be an E.164 number.', 'msisdn');
        }
        let claimed: ClaimedKeyPackage[];
        try {
          claimed = await options.directory.claim(msisdn);
        } catch (err) {
          logger?.error({ error: errorClass(err) }, 'key directory: claim failed');
          return apiError(reply, 503, 'UNAVAILABLE', 'The key directory is unavailable.');
        }
        if (claimed.length === 0) {
          return apiError(reply, 404, 'NO_KEY_PACKAGES', 'No KeyPackages are published for this number.');
        }
        logger?.debug({ devices: claimed.length }, 'key directory: claimed');
        const answer: KeyPackagesClaimResponse = {
          devices: claimed.map((c) => ({
            deviceId: c.deviceId,
            keyPackage: Buffer.from(c.keyPackage).toString('base64'),
            lastResort: c.lastResort,
          })),
        };
        // One-time packages are consumed by this answer: no cache may serve it twice.
        return reply.code(200).header('cache-control', 'no-store').send(answer);
      },
    );
    if (options.escrowMembers) registerEscrowMemberRoute(app, options.escrowMembers, apiError, logger);
    return Promise.resolve();
  };
}

/** Registers the key directory routes on `server` (call before it listens). */
export async function registerKeyDirectoryRoutes(
  server: FastifyInstance,
  options: KeyDirectoryRoutesOptions,
): Promise<void> {
  await server.register(keyDirectoryRoutes(options));
}

function parseBody(body: unknown): Record<string, unknown> | null {
  let value = body;
  if (Buffer.isBuffer(value) || typeof value === 'string') {
    try {
      value = JSON.parse(value.toString('utf8')) as unknown;
    } catch {
      return null;
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  return value as Record<string, unknown>;
}

function apiError(
  reply: FastifyReply,
  status: number,
  code: KeyDirectoryApiErrorCode,
  message: string,
  field?: string,
): FastifyReply {
  const body: KeyDirectoryApiErrorBody = { error: { code, message, ...(field ? { field } : {}) } };
  return reply.code(status).send(body);
}

function errorClass(err: unknown): string {
  return err instanceof Error ? err.name : typeof err;
}

// ---------------------------------------------------------------------------------------------
// The client side.

export type KeyDirectoryHttpErrorCode =
  /** No answer within the timeout. */
  | 'KEY_DIRECTORY_TIMEOUT'
  /** Connection refused, reset, DNS… */
  | 'KEY_DIRECTORY_UNREACHABLE'
  /** 401/403: the app's token is wrong. */
  | 'KEY_DIRECTORY_UNAUTHORIZED'
  /** Another 4xx: the request was refused as invalid (the number is not E.164, say). */
  | 'KEY_DIRECTORY_REJECTED'
  /** 5xx or 429. */
  | 'KEY_DIRECTORY_UNAVAILABLE'
  /** A 200 whose body is not a claim answer. */
  | 'KEY_DIRECTORY_MALFORMED_RESPONSE';

/**
 * The directory could not be asked, or answered something other than KeyPackages or "none".
 * Never carries the number, the URL or the token, so a caller may log it.
 */
export class KeyDirectoryHttpError extends Error {
  override readonly name = 'KeyDirectoryHttpError';
  /** Worth asking again later (timeouts, network, 5xx, 429). */
  readonly retryable: boolean;
  constructor(
    readonly code: KeyDirectoryHttpErrorCode,
    /** The HTTP status, or null when there was no answer. */
    readonly status: number | null = null,
  ) {
    super(`key directory request failed: ${code}${status === null ? '' : ` (${status})`}`);
    this.retryable =
      code === 'KEY_DIRECTORY_TIMEOUT' ||
      code === 'KEY_DIRECTORY_UNREACHABLE' ||
      code === 'KEY_DIRECTORY_UNAVAILABLE';
  }
}

export interface HttpKeyDirectoryOptions {
  /** Where the routes are served, e.g. http://127.0.0.1:8091 (the receipts server). */
  baseUrl: string;
  bearerToken: string;
  /** Whole-request budget. Default 5000 ms. */
  timeoutMs?: number;
  dispatcher?: Dispatcher;
}

/**
 * A `KeyPackageSource` over HTTP, for E2eeSender in a sending app. `claim` answers the devices'
 * KeyPackages; throws E2eeKeyNegotiationError('NO_KEY_PACKAGES') when the directory has none for
 * the number (404), KeyDirectoryHttpError for everything else that is not a claim answer.
 */
export class HttpKeyDirectory implements KeyPackageSource {
  private readonly url: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: HttpKeyDirectoryOptions) {
    this.url = `${options.baseUrl.replace(/\/+$/, '')}${KEY_PACKAGES_CLAIM_PATH}`;
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  async claim(msisdn: string): Promise<ClaimedKeyPackage[]> {
    const body: KeyPackagesClaimRequest = { msisdn };
    const signal = AbortSignal.timeout(this.timeoutMs);
    let status: number;
    let text: string;
    try {
      const res = await request(this.url, {
        method: 'POST',
        signal,
        dispatcher: this.options.dispatcher,
        headers: {
          authorization: `Bearer ${this.options.bearerToken}`,
          accept: 'application/json',
          'content-type': 'application/json',
        },
        body: JSON.stringify(body),
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch {
      // The underlying error is dropped: undici's messages can quote the URL.
      throw new KeyDirectoryHttpError(signal.aborted ? 'KEY_DIRECTORY_TIMEOUT' : 'KEY_DIRECTORY_UNREACHABLE');
    }
    if (status === 200) return decodeClaim(text);
    if (status === 404 && errorCodeOf(text) === 'NO_KEY_PACKAGES') {
      throw new E2eeKeyNegotiationError('NO_KEY_PACKAGES');
    }
    if (status === 401 || status === 403)
      throw new KeyDirectoryHttpError('KEY_DIRECTORY_UNAUTHORIZED', status);
    if (status === 429 || status >= 500) throw new KeyDirectoryHttpError('KEY_DIRECTORY_UNAVAILABLE', status);
    // Includes a 404 that is not ours (a wrong base URL): that is a misconfiguration, not "no keys".
    throw new KeyDirectoryHttpError('KEY_DIRECTORY_REJECTED', status);
  }
}

function errorCodeOf(text: string): string | null {
  try {
    const code = (JSON.parse(text) as { error?: { code?: unknown } } | null)?.error?.code;
    return typeof code === 'string' ? code : null;
  } catch {
    return null;
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A claim answer's devices (the REST API answers the same shape); KeyDirectoryHttpError when it is not one. */
export function decodeClaim(text: string): ClaimedKeyPackage[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new KeyDirectoryHttpError('KEY_DIRECTORY_MALFORMED_RESPONSE', 200);
  }
  const devices = (parsed as { devices?: unknown } | null)?.devices;
  if (!Array.isArray(devices)) throw new KeyDirectoryHttpError('KEY_DIRECTORY_MALFORMED_RESPONSE', 200);
  return devices.map((d: unknown): ClaimedKeyPackage => {
    const { deviceId, keyPackage, lastResort } = (d ?? {}) as Record<string, unknown>;
    if (
      typeof deviceId !== 'string' ||
      typeof keyPackage !== 'string' ||
      keyPackage === '' ||
      !BASE64.test(keyPackage) ||
      typeof lastResort !== 'boolean'
    ) {
      throw new KeyDirectoryHttpError('KEY_DIRECTORY_MALFORMED_RESPONSE', 200);
    }
    return { deviceId, keyPackage: new Uint8Array(Buffer.from(keyPackage, 'base64')), lastResort };
  });
}
