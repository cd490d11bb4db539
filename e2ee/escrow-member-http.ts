// `GET /v1/e2ee/escrowMembers/{tenant}`: the public side of a tenant's escrow member, which the
// tenant's sending apps add to every new group. Served inside the key directory's routes (same
// bearer). 404 NOT_ESCROWED for a tenant without escrow. An app trusts this answer as it trusts
// the directory's KeyPackages (see the threat model in README).

import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { request } from 'undici';
import type { EscrowRecord } from './escrow';
import type { EscrowMemberPublic } from './sender';

export const ESCROW_MEMBERS_PATH = '/v1/e2ee/escrowMembers';

export interface EscrowMemberSource {
  activeEscrow(tenant: string): Promise<Pick<EscrowRecord, 'escrowId' | 'keyPackages'> | null>;
}

export interface EscrowMemberResponse {
  escrowId: string;
  keyPackages: string[];
}

/** Tenant names as the client validates them. */
const TENANT = /^[a-z0-9][a-z0-9-]{0,62}$/;

export function registerEscrowMemberRoute(
  app: FastifyInstance,
  source: EscrowMemberSource,
  fail: (
    reply: FastifyReply,
    status: number,
    code: 'INVALID_ARGUMENT' | 'NOT_ESCROWED' | 'UNAVAILABLE',
    message: string,
    field?: string,
  ) => FastifyReply,
  logger?: Logger,
): void {
  app.get<{ Params: { tenant: string } }>(`${ESCROW_MEMBERS_PATH}/:tenant`, async (req, reply) => {
    const { tenant } = req.params;
    if (!TENANT.test(tenant)) {
      return fail(
        reply,
        400,
        'INVALID_ARGUMENT',
        'tenant must be lowercase letters, digits and dashes.',
        'tenant',
      );
    }
    let record;
    try {
      record = await source.activeEscrow(tenant);
    } catch (err) {
      logger?.error({ error: err instanceof Error ? err.name : typeof err }, 'escrow member lookup failed');
      return fail(reply, 503, 'UNAVAILABLE', 'The escrow registry is unavailable.');
    }
    if (!record) return fail(reply, 404, 'NOT_ESCROWED', 'This tenant has no escrow.');
    const answer: EscrowMemberResponse = {
      escrowId: record.escrowId,
      keyPackages: record.keyPackages.map((k) => Buffer.from(k).toString('base64')),
    };
    return reply.code(200).header('cache-control', 'no-store').send(answer);
  });
}

/** Thrown by fetchEscrowMember for anything but an answer or "not escrowed". Carries no URL or token. */
export class EscrowMemberFetchError extends Error {
  override readonly name = 'EscrowMemberFetchError';
  constructor(readonly status: number | null) {
    super(`escrow member lookup failed${status === null ? '' : ` (${status})`}`);
  }
}

/** The tenant's escrow member, or null when the tenant is not escrowed. */
export async function fetchEscrowMember(options: {
  baseUrl: string;
  bearerToken: string;
  tenant: string;
  timeoutMs?: number;
}): Promise<EscrowMemberPublic | null> {
  let status: number;
  let text: string;
  try {
    const res = await request(
      `${options.baseUrl.replace(/\/+$/, '')}${ESCROW_MEMBERS_PATH}/${encodeURIComponent(options.tenant)}`,
      {
        method: 'GET',
        signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
        headers: { authorization: `Bearer ${options.bearerToken}`, accept: 'application/json' },
      },
    );
    status = res.statusCode;
    text = await res.body.text();
  } catch {
    throw new EscrowMemberFetchError(null);
  }
  if (status === 404 && text.includes('"NOT_ESCROWED"')) return null;
  if (status !== 200) throw new EscrowMemberFetchError(status);
  try {
    return decodeEscrowMember(JSON.parse(text));
  } catch {
    throw new EscrowMemberFetchError(200);
  }
}

/** An EscrowMemberResponse as the app's sender takes it; throws on any other shape. */
export function decodeEscrowMember(value: unknown): EscrowMemberPublic {
  const body = (typeof value === 'object' && value !== null ? value : {}) as Partial<EscrowMemberResponse>;
  if (typeof body.escrowId !== 'string' || !Array.isArray(body.keyPackages) || body.keyPackages.length === 0)
    throw new Error('not an escrow member');
  return {
    escrowId: body.escrowId,
    keyPackages: body.keyPackages.map((k) => new Uint8Array(Buffer.from(String(k), 'base64'))),
  };
}
