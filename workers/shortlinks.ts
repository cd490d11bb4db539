import { randomInt, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { RegionalChannels } from '../activities/deps';
import { JunkCounter } from '../channels/shortlink/junk-counter';
import type { JunkSummary } from '../channels/shortlink/junk-counter';
import { buildShortlinkApp } from '../channels/shortlink/shortlink-app';
import type { ShortlinkAuditEvent } from '../channels/shortlink/shortlink-app';
import { regionFor } from '../domain/residency';
import type { Env } from '../config';
import { AuditLog } from '../store/audit-log';
import type { HashedAuditContext } from '../domain/audit';
import { openDatabase } from '../store/database';
import type { HttpMeter } from '../channels/http-meter';
import type { Database } from '../store/database';
import { ShortlinkStore } from '../store/shortlinks';
import type { CreateShortlinkInput } from '../store/shortlinks';

/**
 * The public page's own connections. A page request holds one for a row-locked lookup and one
 * for its audit append, a few milliseconds each, so three serve any honest load; a flood queues
 * here, bounded by the connection timeout, instead of taking the connections the sends need.
 */
export const PUBLIC_POOL_SIZE = 3;
const PUBLIC_POOL_WAIT_MS = 5_000;
/** The public pool's sessions carry this name in pg_stat_activity. */
export const PUBLIC_POOL_NAME = 'switchboard-shortlinks';

const LINK_CONTEXT: HashedAuditContext = {
  tenant: 'shortlink',
  recipientHash: 'unknown',
  region: 'n/a',
  flow: 'shortlink',
};

export interface LinkMaker {
  create(input: Omit<CreateShortlinkInput, 'baseUrl'>): Promise<{ url: string }>;
}

interface ShortlinkStoreOptions {
  env: Env;
  kek: Buffer;
  auditHashKey: string;
  channels: RegionalChannels;
}

/** Links on one pool; their one-time codes go out by SMS through the number's own region. */
function shortlinkStore(options: ShortlinkStoreOptions, db: Database): ShortlinkStore {
  const { env } = options;
  return new ShortlinkStore({
    db,
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
}

/**
 * The send path's side of Recipe A, on the worker's pool: a delivery worker that does not run the
 * page itself (its own process, `--services shortlinks`) makes links to `baseUrl`, the page's
 * public address.
 */
export function shortlinkMaker(
  options: ShortlinkStoreOptions & { db: Database },
  baseUrl: string,
): LinkMaker {
  const sendPath = shortlinkStore(options, options.db);
  return { create: (input) => sendPath.create({ ...input, baseUrl }) };
}

/**
 * Recipe A: media that cannot reach the phone waits behind a secure link; opening it asks for a
 * one-time code, sent by SMS to the bound number through that number's own region.
 */
export async function startShortlinks(options: {
  env: Env;
  /** The worker's pool: links are created on it (the send path), never looked up by the page. */
  db: Database;
  /** The public page opens its own pool of PUBLIC_POOL_SIZE on this database. */
  databaseUrl: string;
  kek: Buffer;
  auditHashKey: string;
  channels: RegionalChannels;
  logger: Logger;
  meter?: HttpMeter;
}): Promise<{
  links: LinkMaker;
  url: string;
  server: FastifyInstance;
  junk: JunkCounter;
}> {
  const { env, logger } = options;
  const storeOn = (db: Database) => shortlinkStore(options, db);
  // Everything the page does in PostgreSQL, its audit rows included, goes through its own pool.
  const publicDb = openDatabase(options.databaseUrl, PUBLIC_POOL_SIZE, {
    application_name: PUBLIC_POOL_NAME,
    connectionTimeoutMillis: PUBLIC_POOL_WAIT_MS,
  });
  const publicAudit = new AuditLog(publicDb, options.auditHashKey);
  const audit = async (event: ShortlinkAuditEvent) => {
    // Link events have their own trail per link; a random position keeps concurrent opens apart.
    await publicAudit.appendHashed({ ...LINK_CONTEXT, recipientHash: event.recipientHash ?? 'unknown' }, [
      {
        messageId: event.messageId ?? 'shortlink:unknown-link',
        seq: 1_000_000 + randomInt(1_000_000_000),
        event: event.event,
        channel: null,
        result: null,
        errorCode: null,
        detail: { ...event.detail, linkId: event.linkId },
        occurredAt: event.at,
      },
    ]);
  };
  // One trail per process, numbered 1, 2, 3…: instances never collide, a summary is one row.
  const junkTrail = `shortlink:junk:${randomUUID()}`;
  let junkSeq = 0;
  const junk = new JunkCounter({
    logger,
    record: async (summary: JunkSummary) => {
      await publicAudit.appendHashed(LINK_CONTEXT, [
        {
          messageId: junkTrail,
          seq: ++junkSeq,
          event: 'shortlink.junk',
          channel: null,
          result: null,
          errorCode: null,
          detail: { ...summary },
          occurredAt: summary.to,
        },
      ]);
    },
  });
  const server = buildShortlinkApp({
    store: storeOn(publicDb),
    audit,
    junk,
    trustProxy: env.SHORTLINK_TRUST_PROXY,
    ...(options.meter ? { meter: options.meter } : {}),
    logger: logger.child({ component: 'shortlinks' }),
  });
  server.addHook('onClose', async () => {
    await junk.stop();
    await publicDb.end();
  });
  let url: string;
  try {
    url = await server.listen({ host: env.SHORTLINK_HOST, port: env.SHORTLINK_PORT });
  } catch (err) {
    await server.close();
    throw err;
  }
  // Port 0 (tests) has no configured public URL: links then point at the port we got.
  const baseUrl = env.SHORTLINK_PORT === 0 ? url : env.SHORTLINK_BASE_URL;
  return { links: shortlinkMaker(options, baseUrl), url, server, junk };
}
