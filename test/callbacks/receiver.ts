// A test app's callback endpoint on a real socket: verifies every signature with the helper apps
// use, records what it accepted, and can be stopped and started again on the same port, or hang.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SIGNATURE_HEADER, verifyCallbackSignature } from '../../client/callback-signature';
import type { StatusEvent } from '../../domain/status-event';

export interface TestReceiver {
  url: string;
  port: number;
  events: StatusEvent[];
  /** Every request that reached it, signed or not, answered or not. */
  hits: number;
  invalid: number;
  /** Never answer (the connection stays open until the sender gives up). */
  hang: boolean;
  /** Answer with this status instead of 204. */
  status: number;
  stop(): Promise<void>;
  restart(): Promise<void>;
  forMessage(messageId: string): StatusEvent[];
}

export async function startTestReceiver(secret: () => string, port = 0): Promise<TestReceiver> {
  let server: Server;
  const open = new Set<ServerResponse>();
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      receiver.hits++;
      if (receiver.hang) {
        open.add(res);
        return;
      }
      const body = Buffer.concat(chunks);
      const header = req.headers[SIGNATURE_HEADER.toLowerCase()] as string | undefined;
      if (!verifyCallbackSignature({ secret: secret(), header, body }).valid) {
        receiver.invalid++;
        res.writeHead(401).end();
        return;
      }
      if (receiver.status !== 204) {
        res.writeHead(receiver.status).end();
        return;
      }
      receiver.events.push(JSON.parse(body.toString('utf8')) as StatusEvent);
      res.writeHead(204).end();
    });
  };
  const listen = (p: number) =>
    new Promise<number>((resolve, reject) => {
      server = createServer(handle);
      server.once('error', reject);
      server.listen(p, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
  const bound = await listen(port);
  const receiver: TestReceiver = {
    url: `http://127.0.0.1:${bound}/hooks/status`,
    port: bound,
    events: [],
    hits: 0,
    invalid: 0,
    hang: false,
    status: 204,
    async stop() {
      for (const res of open) res.destroy();
      open.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    async restart() {
      await listen(bound);
    },
    forMessage(messageId) {
      return receiver.events.filter((e) => e.messageId === messageId);
    },
  };
  return receiver;
}

export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
