import type { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { NativeConnection } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { Env } from '../../config';
import type { Secrets } from '../../config/secrets';
import type { SwitchboardMetrics } from '../../metrics';
import type { Database } from '../../store/database';

/** What every role of a process shares: config, the pool, the Temporal connections, metrics. */
export interface RoleContext {
  env: Env;
  secrets: Secrets;
  logger: Logger;
  db: Database;
  databaseUrl: string;
  dataConverter: DataConverter;
  metrics: SwitchboardMetrics;
  /** A client with the data converter (signals, guards, admin). */
  client: Client;
  /** The workers' connection. */
  connection: NativeConnection;
  /** The workflow code, bundled once for every worker of the process. */
  workflowBundle(): Promise<{ code: string }>;
  /** Closed in reverse when the process stops (or start-up fails half way). */
  opened: Array<() => Promise<unknown>>;
}
