import { timingSafeEqual, createHash } from 'node:crypto';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Payload, PayloadCodec } from '@temporalio/common';

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
  ),
  data: Buffer.from(p.data ?? '', 'base64'),
});

const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * How the codec server knows its caller. `access-tokens`: the Web UI user's access token, which
 * the UI sends as `Authorization: Bearer …` with `codec.passAccessToken` (deployments).
 * `sandbox-url-token`: one local token, as a bearer or in the URL (`/t/<token>/decode`) that an
 * operator pastes into the UI's browser-only codec setting; loopback only.
 */
export type CodecServerAuth =
  { mode: 'access-tokens'; tokens: readonly string[] } | { mode: 'sandbox-url-token'; token: string };

export class CodecServerConfigError extends Error {
  override readonly name = 'CodecServerConfigError';
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** True when `given` is one of `expected`; every candidate is compared, so timing tells nothing. */
function matchesAny(given: string, expected: readonly Buffer[]): boolean {
  const candidate = digest(given);
  let found = false;
  for (const e of expected) found = timingSafeEqual(candidate, e) || found;
  return found;
}

/**
 * Temporal's remote codec protocol (POST /encode, /decode) for the Web UI, so an operator can
 * read non-E2EE payloads there. E2EE bodies stay MLS ciphertext: this only removes our codec
 * layer.
 */
export async function startCodecServer(options: {
  codec: PayloadCodec;
  auth: CodecServerAuth;
  host: string;
  port: number;
  /** Browser origins allowed to call it (the Web UI). */
  allowedOrigins: string[];
}): Promise<{ url: string; browserEndpoint: string | null; server: FastifyInstance }> {
  const { auth } = options;
  if (auth.mode === 'sandbox-url-token' && !isLoopbackHost(options.host))
    throw new CodecServerConfigError(
      `CODEC_SERVER_HOST: the URL-token mode listens on a loopback address only, not ${options.host}`,
    );
  if (auth.mode === 'access-tokens' && auth.tokens.length === 0)
    throw new CodecServerConfigError('CODEC_ACCESS_TOKENS: at least one token is required');
  const server = Fastify({ logger: false, bodyLimit: 8 * 1024 * 1024, forceCloseConnections: true });
  const expected = (auth.mode === 'access-tokens' ? auth.tokens : [auth.token]).map(digest);
  const authorised = (request: FastifyRequest, pathToken?: string) => {
    const header = request.headers.authorization;
    const given = pathToken ?? (header?.startsWith('Bearer ') ? header.slice(7) : undefined);
    return given !== undefined && matchesAny(given, expected);
  };

  server.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (origin && options.allowedOrigins.includes(origin)) {
      void reply.header('access-control-allow-origin', origin);
      void reply.header('access-control-allow-headers', 'authorization, content-type, x-namespace');
      void reply.header('access-control-allow-methods', 'POST, OPTIONS');
      void reply.header('vary', 'origin');
    }
    void reply.header('cache-control', 'no-store');
  });

  const handle = (direction: 'encode' | 'decode') => async (request: FastifyRequest, reply: FastifyReply) => {
    const token = (request.params as { token?: string }).token;
    if (!authorised(request, token))
      return reply.code(401).send({ error: 'a valid bearer token is required' });
    const body = request.body as { payloads?: unknown } | undefined;
    if (!body || !Array.isArray(body.payloads))
      return reply.code(400).send({ error: 'payloads: an array is required' });
    const payloads = (body.payloads as JsonPayload[]).map(fromJson);
    try {
      const result =
        direction === 'encode' ? await options.codec.encode(payloads) : await options.codec.decode(payloads);
      return reply.send({ payloads: result.map(toJson) });
    } catch {
      return reply.code(400).send({ error: `payloads: could not ${direction}` });
    }
  };

  for (const prefix of auth.mode === 'sandbox-url-token' ? ['', '/t/:token'] : ['']) {
    server.options(`${prefix}/encode`, (_req, reply) => reply.code(204).send());
    server.options(`${prefix}/decode`, (_req, reply) => reply.code(204).send());
    server.post(`${prefix}/encode`, handle('encode'));
    server.post(`${prefix}/decode`, handle('decode'));
  }
  const url = await server.listen({ host: options.host, port: options.port });
  return {
    url,
    browserEndpoint: auth.mode === 'sandbox-url-token' ? `${url}/t/${auth.token}` : null,
    server,
  };
}
