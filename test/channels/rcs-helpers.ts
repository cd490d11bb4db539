// Real peers for the RCS tests: the sandbox hub, a client pointed at it, and a small webhook
// receiver that verifies what the hub posts exactly as production would.

import { setTimeout as sleep } from 'node:timers/promises';
import fastify from 'fastify';
import { RcsWebhookSignatureError } from '../../channels/rcs/errors';
import { RbmHubClient } from '../../channels/rcs/rbm-client';
import { staticTokenProvider } from '../../channels/rcs/token';
import type { RcsEvent } from '../../channels/rcs/types';
import { processRbmWebhookPost } from '../../channels/rcs/webhook';
import { SandboxRcsHub } from '../../sandbox/rcs-hub';
import type { SandboxRcsHubOptions } from '../../sandbox/rcs-hub';

export const AGENT_ID = 'test-agent';
export const BEARER = 'test-bearer-token';
export const CLIENT_TOKEN = 'test-client-token';

export interface Receiver {
  url: string;
  events: RcsEvent[];
  rejected: string[];
  handshakes: number;
  /** Status the next posts get instead of 200, to exercise the hub's retries. */
  failNext: number;
  stop(): Promise<void>;
}

export async function startReceiver(clientToken = CLIENT_TOKEN): Promise<Receiver> {
  const app = fastify({ logger: false });
  // Signatures cover exact bytes, so the route must see the body before any JSON parsing.
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  const receiver: Receiver = {
    url: '',
    events: [],
    rejected: [],
    handshakes: 0,
    failNext: 0,
    stop: () => app.close(),
  };
  app.post('/rbm-webhook', async (req, reply) => {
    if (receiver.failNext > 0) {
      receiver.failNext--;
      return reply.code(500).send();
    }
    try {
      const post = processRbmWebhookPost(req.body as Buffer, req.headers['x-goog-signature'], clientToken);
      if (post.kind === 'handshake') {
        receiver.handshakes++;
        return reply.code(200).type('text/plain').send(post.secret);
      }
      if (post.kind === 'event') receiver.events.push(post.event);
      return reply.code(200).send();
    } catch (err) {
      if (!(err instanceof RcsWebhookSignatureError)) throw err;
      receiver.rejected.push(err.reason);
      return reply.code(401).send();
    }
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  receiver.url = `http://127.0.0.1:${port}/rbm-webhook`;
  return receiver;
}

export async function startHub(
  overrides: Partial<SandboxRcsHubOptions> = {},
): Promise<{ hub: SandboxRcsHub; url: string; client: RbmHubClient }> {
  const hub = new SandboxRcsHub({
    agentId: AGENT_ID,
    bearerToken: BEARER,
    clientToken: CLIENT_TOKEN,
    deliveryDelayMs: 30,
    ...overrides,
  });
  const { url } = await hub.start();
  return { hub, url, client: clientFor(url) };
}

export function clientFor(url: string, token = BEARER, timeoutMs = 2000): RbmHubClient {
  return new RbmHubClient({
    baseUrl: url,
    agentId: AGENT_ID,
    tokenProvider: staticTokenProvider(token),
    timeoutMs,
  });
}

export async function waitFor(what: string, check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
