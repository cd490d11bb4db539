import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { Command, Option } from 'commander';
import { E2EE_POLICIES, FLOWS } from '../domain/message';
import { ConfigError } from '../config';
import { connectFromEnv, connectHttpFromEnv } from './connect';
import { ApiRequestError } from './http-client';
import { outcomeJson, outcomeText } from './format';
import { UnknownMessageError } from './switchboard-client';
import type { SwitchboardClient } from './switchboard-client';
import { ValidationError } from './validation';
import { registerRolloutCommands } from './rollout-commands';
import { registerReportCommands, registerSloCommand } from './slo-commands';
import { registerAuditCommands } from './audit-commands';
import { registerProbeCommands } from './probe-commands';
import { registerAccessCommands, registerEscrowCommands } from './escrow-commands';
import { UnknownAccessRequestError } from './lawful-access-client';
import { EscrowStore } from '../store/escrow-store';
import type { AuditCommandDeps } from './audit-commands';
import { AuditLog } from '../store/audit-log';
import { AuditExportError } from '../store/audit-export';
import { dropExpiredAuditPartitions, ensureAuditPartitions } from '../store/audit-retention';
import type { RolloutDeps } from './rollout-commands';
import { databaseUrlFor } from './database-url';
import { loadConfig } from '../config';
import { dataDir } from '../config/paths';
import { deriveKey, resolveSecrets } from '../config/secrets';
import { openDatabase } from '../store/database';
import { migrate } from '../store/migrate';
import type { Database } from '../store/database';
import type { Env } from '../config';
import type { Secrets } from '../config/secrets';
import { RecipientPreferences } from '../store/rollout/recipient-preferences';
import { NoGoodVersionError, RolloutStore } from '../store/rollout/rollout-store';
import { TenantWebhooks } from '../store/tenant-webhooks';
import { registerWebhookCommands } from './webhook-commands';
import { ApiKeyStore, TenantError } from '../store/api-keys';
import { registerApiKeyCommands } from './api-key-commands';
import { registerDeployCommands } from './deploy-commands';
import type { DeployDeps } from './deploy-commands';
import { NothingToRollBackError, WorkerDeployments } from './worker-deployments';
import { DeploymentChanges } from '../store/deployment-changes';
import { deploymentName } from '../config/worker-deployment';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { Client, Connection } from '@temporalio/client';
import { hostname, userInfo } from 'node:os';

const EXIT_FAILED_DELIVERY = 1;
const EXIT_BAD_INPUT = 2;

/** What `send` and `status` need: the direct client, or with SWITCHBOARD_API_KEY the REST API. */
type MessageClient = Pick<SwitchboardClient, 'send' | 'status' | 'waitForOutcome' | 'close'>;

async function withMessages(run: (client: MessageClient) => Promise<void>): Promise<void> {
  const env = loadConfig();
  const client: MessageClient = env.SWITCHBOARD_API_KEY ? connectHttpFromEnv(env) : await connectFromEnv(env);
  try {
    await run(client);
  } finally {
    await client.close();
  }
}

/** Operator commands (lawful access) keep their direct Temporal access. */
async function withClient(run: (client: SwitchboardClient) => Promise<void>): Promise<void> {
  const client = await connectFromEnv();
  try {
    await run(client);
  } finally {
    await client.close();
  }
}

/** Admin commands talk to the stack's database directly (DATABASE_URL, else the embedded one). */
async function withDatabase<T>(
  build: (db: Database, env: Env, secrets: Secrets) => T,
  run: (deps: T) => Promise<void>,
): Promise<void> {
  const env = loadConfig();
  const secrets = resolveSecrets({ ...env, DATA_DIR: dataDir(env) });
  const db = openDatabase(databaseUrlFor(env), 2);
  try {
    await migrate(db);
    await run(build(db, env, secrets));
  } finally {
    await db.end();
  }
}

const withAuditDeps = (run: (deps: AuditCommandDeps) => Promise<void>) =>
  withDatabase((db, _env, secrets) => ({ db, auditLog: new AuditLog(db, secrets.auditHashKey) }), run);

const withRolloutDeps = (run: (deps: RolloutDeps) => Promise<void>) =>
  withDatabase(
    (db, env, secrets) => ({
      rollout: new RolloutStore(db, env.ROLLOUT_DEFAULT_PHASE),
      preferences: new RecipientPreferences(db, deriveKey(secrets, 'preferences')),
    }),
    run,
  );

/** Deploy commands: Temporal's worker-deployment APIs, each change recorded in the database. */
async function withDeployDeps(run: (deps: DeployDeps) => Promise<void>): Promise<void> {
  const env = loadConfig();
  const connection = await Connection.connect(temporalConnectionOptions(env));
  try {
    await withDatabase(
      (db) => ({
        deployment: deploymentName(env),
        deployments: new WorkerDeployments(
          new Client({ connection, namespace: env.TEMPORAL_NAMESPACE }),
          env.TEMPORAL_NAMESPACE,
          new DeploymentChanges(db),
          `${userInfo().username}@${hostname()} switchboard deploy`,
        ),
      }),
      run,
    );
  } finally {
    await connection.close();
  }
}

const CONTENT_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.pdf': 'application/pdf',
  '.txt': 'text/plain',
  '.mp4': 'video/mp4',
};

function readMedia(file: string): { data: Uint8Array; contentType: string; fileName: string } {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch {
    throw new ValidationError('--media', 'a readable file');
  }
  return {
    data,
    contentType: CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    fileName: basename(file),
  };
}

function print(json: boolean, value: Record<string, unknown>, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);
}

export function buildCli(): Command {
  const program = new Command('switchboard').description('Send and inspect Switchboard messages');

  program
    .command('send')
    .description('start delivery of one message')
    .requiredOption('--to <e164>', 'recipient, E.164 (e.g. +15550100001)')
    .requiredOption('--text <text>', 'message text')
    .addOption(new Option('--flow <flow>', 'delivery flow').choices([...FLOWS]).default('standard'))
    .addOption(
      new Option('--e2ee <policy>', 'end-to-end encryption policy')
        .choices([...E2EE_POLICIES])
        .default('preferred'),
    )
    .option('--tenant <tenant>', 'whose message (an escrowed tenant archives its E2EE messages)')
    .option('--idempotency-key <key>', 'the same key always means the same message')
    .option('--rcs-copy', 'critical flow: also send a supplementary RCS copy')
    .option('--media <file>', 'a file for the recipient, delivered behind a secure shortlink')
    .option('--notice <text>', 'e2ee required: what a recipient without E2EE gets instead')
    .option('--status-callback-url <url>', "where this message's status events go (signed)")
    .option('--wait', 'wait for the outcome and print it')
    .option('--json', 'one JSON object on stdout')
    .action(
      async (opts: {
        to: string;
        text: string;
        flow: string;
        e2ee: string;
        tenant?: string;
        idempotencyKey?: string;
        rcsCopy?: boolean;
        media?: string;
        notice?: string;
        statusCallbackUrl?: string;
        wait?: boolean;
        json?: boolean;
      }) => {
        await withMessages(async (client) => {
          const sent = await client.send({
            to: opts.to,
            text: opts.text,
            flow: opts.flow,
            e2ee: opts.e2ee,
            tenant: opts.tenant,
            idempotencyKey: opts.idempotencyKey,
            rcsCopy: opts.rcsCopy,
            notice: opts.notice,
            media: opts.media ? readMedia(opts.media) : undefined,
            statusCallbackUrl: opts.statusCallbackUrl,
          });
          if (!opts.wait) {
            print(
              !!opts.json,
              { ...sent },
              `message ${sent.messageId} ${sent.started ? 'started' : 'already exists'} (workflow ${sent.workflowId})`,
            );
            return;
          }
          if (!opts.json) process.stderr.write(`message ${sent.messageId} started, waiting for delivery…\n`);
          const outcome = await client.waitForOutcome(sent.messageId);
          print(!!opts.json, outcomeJson(outcome), outcomeText(outcome));
          if (outcome.status === 'failed') process.exitCode = EXIT_FAILED_DELIVERY;
        });
      },
    );

  program
    .command('status')
    .description('show a running or finished message')
    .argument('<messageId>')
    .option('--json', 'one JSON object on stdout')
    .action(async (messageId: string, opts: { json?: boolean }) => {
      await withMessages(async (client) => {
        const status = await client.status(messageId);
        print(!!opts.json, { ...outcomeJson(status), step: status.step }, outcomeText(status));
      });
    });

  registerRolloutCommands(program, withRolloutDeps);
  registerSloCommand(program, (run) => withDatabase((db) => db, run));
  registerReportCommands(program, (run) => withDatabase((db) => db, run));
  registerProbeCommands(program, (run) => withDatabase((db, env, secrets) => ({ db, env, secrets }), run));
  registerEscrowCommands(program, (run) => withDatabase((db) => new EscrowStore(db), run));
  registerAccessCommands(
    program,
    (run) => withClient((client) => run(client.lawfulAccess())),
    (run) => withDatabase((db) => db, run),
  );
  registerWebhookCommands(program, (run) =>
    withDatabase(
      (db, _env, secrets) =>
        new TenantWebhooks(db, deriveKey(secrets, 'webhook-secrets'), {
          audit: new AuditLog(db, secrets.auditHashKey),
        }),
      run,
    ),
  );
  registerApiKeyCommands(program, (run) =>
    withDatabase((db, _env, secrets) => new ApiKeyStore(db, new AuditLog(db, secrets.auditHashKey)), run),
  );
  registerDeployCommands(program, withDeployDeps);
  const audit = registerAuditCommands(program, withAuditDeps);
  audit
    .command('retention')
    .description('drop whole monthly partitions older than AUDIT_RETENTION_YEARS (run as the table owner)')
    .option('--json', 'JSON output')
    .action(async (opts: { json?: boolean }) => {
      const env = loadConfig();
      await withAuditDeps(async ({ db }) => {
        await ensureAuditPartitions(db, new Date());
        const dropped = await dropExpiredAuditPartitions(db, env.AUDIT_RETENTION_YEARS);
        print(
          !!opts.json,
          { dropped },
          dropped.length ? dropped.map((p) => `dropped ${p.name}`).join('\n') : 'nothing has expired',
        );
      });
    });
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (err) {
    if (
      err instanceof ValidationError ||
      err instanceof ConfigError ||
      err instanceof NoGoodVersionError ||
      err instanceof NothingToRollBackError ||
      err instanceof TenantError
    ) {
      process.stderr.write(`switchboard: ${err.message}\n`);
      process.exitCode = EXIT_BAD_INPUT;
      return;
    }
    if (err instanceof AuditExportError) {
      process.stderr.write(`switchboard: ${err.message}\n`);
      process.exitCode = EXIT_FAILED_DELIVERY;
      return;
    }
    if (
      err instanceof UnknownMessageError ||
      err instanceof UnknownAccessRequestError ||
      err instanceof ApiRequestError
    ) {
      process.stderr.write(`switchboard: ${err.message}\n`);
      process.exitCode = EXIT_FAILED_DELIVERY;
      return;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`switchboard: ${message}\n`);
    if (/connect|ECONNREFUSED|UNAVAILABLE/i.test(message)) {
      process.stderr.write('Is the stack running? Start it with `npm start`, or set TEMPORAL_ADDRESS.\n');
    }
    process.exitCode = 1;
  }
}
