import { randomInt } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { RegionalChannels } from '../activities/deps';
import { buildShortlinkApp } from '../channels/shortlink/shortlink-app';
import type { ShortlinkAuditEvent } from '../channels/shortlink/shortlink-app';
import { regionFor } from '../domain/residency';
import type { Env } from '../config';
import type { HttpMeter } from '../channels/http-meter';
import type { AuditLog } from '../store/audit-log';
import type { Database } from '../store/database';
import { ShortlinkStore } from '../store/shortlinks';
import type { CreateShortlinkInput } from '../store/shortlinks';

export interface LinkMaker {
  create(input: Omit<CreateShortlinkInput, 'baseUrl'>): Promise<{ url: string }>;
}

/**
 * Recipe A: media that cannot reach the phone waits behind a secure link; opening it asks for a
 * one-time code, sent by SMS to the bound number through that number's own region.
 */
export async function startShortlinks(options: {
  env: Env;
  db: Database;
  kek: Buffer;
  auditLog: AuditLog;
  auditHashKey: string;
  channels: RegionalChannels;
  logger: Logger;
  meter?: HttpMeter;
}): Promise<{ store: ShortlinkStore; links: LinkMaker; url: string; server: FastifyInstance }> {
  const { env, logger } = options;
  const store = new ShortlinkStore({
    db: options.db,
    kek: options.kek,
    recipientHashKey: options.auditHashKey,
    baseUrl: env.SHORTLINK_BASE_URL,
    defaultTtlSeconds: env.SHORTLINK_TTL_SECONDS,
    sendCode: async (e164, code, messageId) => {
      const region = regionFor(e164) ?? env.HOME_REGION;
      await options.channels.forRegion(region).smsGateway.submit({
        messageId: `${messageId}:code`,
        to: e164,
        text: `Your code to open the file: ${code}. It expires in 10 minutes.`,
      });
    },
  });
  const audit = async (event: ShortlinkAuditEvent) => {
    // Link events have their own trail per link; a random position keeps concurrent opens apart.
    await options.auditLog.appendHashed(
      {
        tenant: 'shortlink',
        recipientHash: event.recipientHash ?? 'unknown',
        region: 'n/a',
        flow: 'shortlink',
      },
      [
        {
          messageId: event.messageId ?? 'shortlink:unknown-token',
          seq: 1_000_000 + randomInt(1_000_000_000),
          event: event.event,
          channel: null,
          result: null,
          errorCode: null,
          detail: { ...event.detail, linkId: event.linkId },
          occurredAt: event.at,
        },
      ],
    );
  };
  const server = buildShortlinkApp({
    store,
    audit,
    logger: logger.child({ component: 'shortlinks' }),
    ...(options.meter ? { meter: options.meter } : {}),
  });
  const url = await server.listen({ host: env.SHORTLINK_HOST, port: env.SHORTLINK_PORT });
  // Port 0 (tests) has no configured public URL: links then point at the port we got.
  const baseUrl = env.SHORTLINK_PORT === 0 ? url : env.SHORTLINK_BASE_URL;
  const links: LinkMaker = { create: (input) => store.create({ ...input, baseUrl }) };
  return { store, links, url, server };
}
