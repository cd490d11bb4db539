// Real peers for the E2EE transport suites: the production receipts server (RBM webhook and key
// directory routes on one port) with a receipt router that records what it would signal, and a
// pino logger whose output the suites can search.

import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import type { Logger } from 'pino';
import { Agent } from 'undici';
import type { Dispatcher } from 'undici';
import type { ReceiptRecorder } from '../../channels/receipts/receipt-intake';
import { workflowIdFor } from '../../domain/message';
import type { KeyPackageSource } from '../../e2ee/key-directory';
import type { KeyDirectoryRoutesOptions } from '../../e2ee/key-directory-http';
import { RBM_WEBHOOK_PATH, startReceiptsServer } from '../../workers/receipts-server';
import { AGENT_ID, CLIENT_TOKEN } from '../channels/rcs-helpers';

export const DIRECTORY_TOKEN = 'test-key-directory-token-0123456789';

export interface CapturedLog {
  logger: Logger;
  text(): string;
}

/** A logger at trace level whose every line is kept in memory. */
export function captureLog(): CapturedLog {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: pino({ level: 'trace' }, stream), text: () => lines.join('') };
}

export interface RoutedEvent {
  workflowId: string;
  rbmMessageId: string;
  eventType: string;
  errorCode: string | null;
}

export interface SwitchboardEndpoint {
  /** http://127.0.0.1:<port> */
  baseUrl: string;
  webhookUrl: string;
  /** What the webhook recorded in its inbox, in arrival order. */
  events: RoutedEvent[];
  server: FastifyInstance;
  stop(): Promise<void>;
}

/** The receipts server as the worker runs it, with the key directory routes switched on. */
export async function startSwitchboardEndpoint(
  directory: KeyPackageSource,
  logger: Logger = pino({ enabled: false }),
  rateLimit?: KeyDirectoryRoutesOptions['rateLimit'],
): Promise<SwitchboardEndpoint> {
  const events: RoutedEvent[] = [];
  const inbox: ReceiptRecorder = {
    record(r) {
      events.push({
        workflowId: workflowIdFor(r.externalId),
        rbmMessageId: r.externalId,
        eventType: r.event,
        errorCode: r.errorCode,
      });
      return Promise.resolve();
    },
  };
  const { url, server } = await startReceiptsServer({
    host: '127.0.0.1',
    port: 0,
    clientToken: CLIENT_TOKEN,
    agentIds: [AGENT_ID],
    inbox,
    logger,
    keyDirectory: { directory, bearerToken: DIRECTORY_TOKEN, ...(rateLimit ? { rateLimit } : {}) },
  });
  return {
    baseUrl: url,
    webhookUrl: `${url}${RBM_WEBHOOK_PATH}`,
    events,
    server,
    stop: () => server.close(),
  };
}

/** An undici dispatcher that keeps a copy of every request body it sends: what went on the wire. */
export class RecordingAgent extends Agent {
  readonly bodies: string[] = [];
  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    if (typeof options.body === 'string') this.bodies.push(options.body);
    return super.dispatch(options, handler);
  }
}
