// API-key authentication and scopes. A route names the scope it needs in its config
// (`config: { scope: 'send' }`); the key comes as `Authorization: Bearer sb_live_…`. The tenant
// of the request is the key's, always: no body, header or parameter can name another.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiScope } from '../domain/api-key';
import type { ApiKeyInfo } from '../store/api-keys';
import { ClientLimiter } from '../channels/client-limiter';
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
}

/** The request's tenant; only for routes with a scope (the hook has checked it). */
export function tenantOf(request: FastifyRequest): string {
  if (!request.principal) throw new Error('tenantOf: a route without a scope');
  return request.principal.tenant;
}

/** Failed key checks a client address may make per minute before it is refused unchecked (429). */
export const AUTH_FAILURES_PER_MINUTE = 20;

export function installApiKeyAuth(app: FastifyInstance, keys: KeyVerifier): void {
  // Guessing secrets, or making us run scrypt for a known key id over and over, costs a client
  // address its budget; requests with a good key are not counted.
  const failures = new ClientLimiter({ limit: AUTH_FAILURES_PER_MINUTE, windowMs: 60_000 });
  app.decorateRequest('principal', null);
  // onRequest: before the body is read, so nobody without a key makes us buffer one.
  app.addHook('onRequest', async (request, reply) => {
    const scope = request.routeOptions.config.scope;
    if (!scope) return;
    const blocked = failures.check(request.ip);
    if (!blocked.allowed) {
      reply.header('retry-after', String(blocked.retryAfterSeconds));
      return sendProblem(
        reply,
        problem(429, 'Too many failed API key checks from this address; retry later.'),
      );
    }
    const header = request.headers.authorization ?? '';
    const presented = /^Bearer (\S+)$/i.exec(header)?.[1];
    const key = presented ? await keys.verify(presented) : null;
    if (!key) {
      failures.take(request.ip);
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
    if (!key.scopes.includes(scope))
      return sendProblem(
        reply,
        problem(403, `This route needs the "${scope}" scope; the key has ${key.scopes.join(', ')}.`, [
          { field: 'authorization', detail: `a key with the "${scope}" scope` },
        ]),
      );
    request.principal = key;
  });
}
