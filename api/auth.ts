// API-key authentication and scopes. A route names the scope it needs in its config
// (`config: { scope: 'send' }`); the key comes as `Authorization: Bearer sb_live_…`. The tenant
// of the request is the key's, always: no body, header or parameter can name another.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiScope } from '../domain/api-key';
import type { ApiKeyInfo } from '../store/api-keys';
import { ClientLimiter } from '../channels/client-limiter';
import { KeyCheckGate } from './key-check-gate';
import { problem, sendProblem } from './problem';

declare module 'fastify' {
  interface FastifyRequest {
    principal: ApiKeyInfo | null;
  }
  interface FastifyContextConfig {
    /** The scope a route needs; routes without one are public (the OpenAPI document, health). */
    scope?: ApiScope;
  }
}

export interface KeyVerifier {
  verify(presented: string): Promise<ApiKeyInfo | null>;
  /** Whether the key was already proven here, so checking it needs no scrypt (no I/O). */
  isProven(presented: string): boolean;
}

/** The request's tenant; only for routes with a scope (the hook has checked it). */
export function tenantOf(request: FastifyRequest): string {
  if (!request.principal) throw new Error('tenantOf: a route without a scope');
  return request.principal.tenant;
}

/** Failed key checks a client address may make per minute before it is refused unchecked (429). */
export const AUTH_FAILURES_PER_MINUTE = 20;

const refuse = (reply: FastifyReply, retryAfterSeconds: number, detail: string) =>
  sendProblem(reply.header('retry-after', String(retryAfterSeconds)), problem(429, detail));

export function installApiKeyAuth(app: FastifyInstance, keys: KeyVerifier): void {
  // Guessing secrets, or making us run scrypt for a known key id over and over, costs a client
  // address its budget; requests with a good key are not counted. Behind a proxy or NAT one
  // address is many apps: an address over its budget is refused only the checks that would need
  // scrypt; a key already proven here still gets in (API_TRUST_PROXY makes each client its own).
  const failures = new ClientLimiter({ limit: AUTH_FAILURES_PER_MINUTE, windowMs: 60_000 });
  const slowChecks = new KeyCheckGate();
  app.decorateRequest('principal', null);
  // onRequest: before the body is read, so nobody without a key makes us buffer one.
  app.addHook('onRequest', async (request, reply) => {
    const scope = request.routeOptions.config.scope;
    if (!scope) return;
    const header = request.headers.authorization ?? '';
    const presented = /^Bearer (\S+)$/i.exec(header)?.[1];
    const key = presented && keys.isProven(presented) ? await keys.verify(presented) : undefined;
    const checked = key === undefined ? await slowCheck(request, reply, presented) : key;
    if (checked === undefined) return reply;
    if (!checked) {
      reply.header('www-authenticate', 'Bearer');
      return sendProblem(
        reply,
        problem(401, 'Send a live API key as "Authorization: Bearer sb_live_…".', [
          {
            field: 'authorization',
            detail: presented ? 'a live API key (this one is unknown or revoked)' : 'a Bearer API key',
          },
        ]),
      );
    }
    if (!checked.scopes.includes(scope))
      return sendProblem(
        reply,
        problem(403, `This route needs the "${scope}" scope; the key has ${checked.scopes.join(', ')}.`, [
          { field: 'authorization', detail: `a key with the "${scope}" scope` },
        ]),
      );
    request.principal = checked;
  });

  /**
   * A key not proven yet: the address's failure budget is taken BEFORE the check (parallel
   * requests cannot all pass a check made before any of them failed) and given back when the key
   * is good. Undefined when the request was refused (429) unchecked.
   */
  async function slowCheck(
    request: FastifyRequest,
    reply: FastifyReply,
    presented: string | undefined,
  ): Promise<ApiKeyInfo | null | undefined> {
    const reserved = failures.take(request.ip);
    if (!reserved.allowed) {
      refuse(
        reply,
        reserved.retryAfterSeconds,
        'Too many failed API key checks from this address; retry later.',
      );
      return undefined;
    }
    if (!presented) return null;
    const release = slowChecks.enter(request.ip);
    if (!release) {
      failures.refund(request.ip);
      refuse(reply, 1, 'Too many API key checks in flight; retry in a second.');
      return undefined;
    }
    try {
      const key = await keys.verify(presented);
      if (key) failures.refund(request.ip);
      return key;
    } finally {
      release();
    }
  }
}
