// The REST API's process role: apps hold an API key and nothing else; this process holds the
// codec keys (its Temporal client seals every payload) and PostgreSQL access.
import { Client, Connection } from '@temporalio/client';
import type { Logger } from 'pino';
import { buildApiApp } from '../api/app';
import type { ApiAppOptions } from '../api/app';
import { MessageStarter } from '../api/message-starter';
import { createDataConverter } from '../codec/data-converter';
import type { Env } from '../config';
import { deriveKey } from '../config/secrets';
import { temporalConnectionTo } from '../config/temporal-connection';
import type { Secrets } from '../config/secrets';
import { ApiKeyStore } from '../store/api-keys';
import { AuditLog } from '../store/audit-log';
import { openDatabase } from '../store/database';
import { PostgresKeyDirectory } from '../e2ee/key-directory';
import { IdempotencyRecords } from '../store/idempotency-records';
import { MediaObjectStore } from '../store/media-objects';
import { EscrowStore } from '../store/escrow-store';
import { migrate } from '../store/migrate';

export interface RunningApiServer {
  url: string;
  close(): Promise<void>;
}

/** Uploads are sealed under the shortlink KEK, as the worker's (it loads them). */
function shortlinkKek(env: Env, secrets: Secrets): Buffer {
  return env.SHORTLINK_KEK
    ? Buffer.from(env.SHORTLINK_KEK, 'base64')
    : Buffer.from(deriveKey(secrets, 'shortlink-kek'), 'hex');
}

export async function startApiServer(options: {
  env: Env;
  secrets: Secrets;
  temporalAddress: string;
  databaseUrl: string;
  logger: Logger;
  onRoute?: ApiAppOptions['onRoute'];
  meter?: ApiAppOptions['meter'];
}): Promise<RunningApiServer> {
  const { env, secrets } = options;
  const logger = options.logger.child({ component: 'api' });
  const db = openDatabase(options.databaseUrl, 5, { application_name: 'switchboard-api' });
  const connection = await Connection.connect(temporalConnectionTo(env, options.temporalAddress)).catch(
    async (err: unknown) => {
      await db.end();
      throw err;
    },
  );
  const close = async () => {
    await connection.close().catch(() => undefined);
    await db.end().catch(() => undefined);
  };
  try {
    await migrate(db, logger);
    const client = new Client({
      connection,
      namespace: env.TEMPORAL_NAMESPACE,
      dataConverter: createDataConverter({
        codecKeys: secrets.codecKeys,
        activeKeyId: secrets.codecActiveKey,
      }),
    });
    const media = new MediaObjectStore({
      db,
      kek: shortlinkKek(env, secrets),
      ttlSeconds: env.SHORTLINK_TTL_SECONDS,
    });
    const app = await buildApiApp({
      keys: new ApiKeyStore(db, new AuditLog(db, secrets.auditHashKey)),
      starter: new MessageStarter({
        client,
        taskQueue: env.TEMPORAL_TASK_QUEUE,
        messageIdKey: deriveKey(secrets, 'message-id'),
        bodyHashKey: deriveKey(secrets, 'api-idempotency'),
        records: new IdempotencyRecords(db),
        media,
      }),
      client,
      namespace: env.TEMPORAL_NAMESPACE,
      cursorKey: deriveKey(secrets, 'api-cursor'),
      media,
      keyPackages: new PostgresKeyDirectory(db, deriveKey(secrets, 'key-directory')),
      escrowMembers: new EscrowStore(db),
      rateLimit: { max: env.API_RATE_LIMIT, windowMs: env.API_RATE_LIMIT_WINDOW_MS },
      itemRateLimit: env.API_ITEM_RATE_LIMIT,
      logger,
      trustProxy: env.API_TRUST_PROXY,
      onRoute: options.onRoute,
      meter: options.meter,
    });
    const url = await app.listen({ host: env.API_HOST, port: env.API_PORT });
    return {
      url,
      async close() {
        await app.close();
        await close();
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}
