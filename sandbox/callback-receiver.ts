// The sandbox's app end of status callbacks: verifies each signature as an app would (with the
// helper apps use, client/callback-signature.ts) and logs the event. Events carry no number or
// text, and neither does this log.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { SIGNATURE_HEADER, verifyCallbackSignature } from '../client/callback-signature';
import type { StatusEvent } from '../domain/status-event';

export const CALLBACK_RECEIVER_PATH = '/callbacks';
const MAX_BODY = 64 * 1024;

export interface CallbackReceiver {
  url: string;
  server: Server;
  /** What it accepted, in arrival order (the last 1,000). */
  received: StatusEvent[];
  close(): Promise<void>;
}

export async function startCallbackReceiver(o: {
  host: string;
  port: number;
  /** The tenant's current secret (read per request: a rotation applies at once). */
  secretFor: () => Promise<string | null>;
  logger: Logger;
}): Promise<CallbackReceiver> {
  const received: StatusEvent[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      void (async () => {
        if (req.method !== 'POST' || req.url !== CALLBACK_RECEIVER_PATH || size > MAX_BODY) {
          res.writeHead(404).end();
          return;
        }
        const body = Buffer.concat(chunks);
        const secret = await o.secretFor();
        const header = req.headers[SIGNATURE_HEADER.toLowerCase()];
        const check = secret
          ? verifyCallbackSignature({ secret, header: typeof header === 'string' ? header : null, body })
          : ({ valid: false, reason: 'mismatch' } as const);
        if (!check.valid) {
          o.logger.warn({ reason: check.reason }, 'sandbox callback receiver: signature refused');
          res.writeHead(401).end();
          return;
        }
        const event = JSON.parse(body.toString('utf8')) as StatusEvent;
        received.push(event);
        if (received.length > 1000) received.shift();
        const { messageId, sequence, status, channel, fallbackReason, errorCode } = event;
        o.logger.info(
          { messageId, sequence, status, channel, fallbackReason, errorCode },
          'status callback received (signature verified)',
        );
        res.writeHead(204).end();
      })().catch(() => res.writeHead(500).end());
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${o.host}:${port}${CALLBACK_RECEIVER_PATH}`,
    server,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
