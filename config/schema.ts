import { z } from 'zod';
import { regionEndpointsSchema } from './regions';
import { trustProxySchema } from './trust-proxy';
import { probeRecipientsSchema } from './probes';

// Every variable Switchboard reads, validated once at start. .env.example and the README's
// configuration table list the same names; test/config.test.ts keeps them in step.

const port = z.coerce.number().int().min(0).max(65535);
const ms = z.coerce.number().int().min(1);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/**
 * Temporal worker settings (TEMPORAL_WORKER_OPTIONS, JSON): a checked subset of the SDK's
 * WorkerOptions; anything left out keeps the SDK's default. The bench measures them.
 */
export const workerOptionsSchema = z
  .object({
    maxCachedWorkflows: z.number().int().min(0),
    maxConcurrentWorkflowTaskExecutions: z.number().int().min(2),
    maxConcurrentWorkflowTaskPolls: z.number().int().min(2),
    nonStickyToStickyPollRatio: z.number().gt(0).max(1),
    maxConcurrentActivityTaskExecutions: z.number().int().min(1),
    maxConcurrentActivityTaskPolls: z.number().int().min(1),
    maxConcurrentLocalActivityExecutions: z.number().int().min(1),
    maxEagerActivityReservationsPerWorkflowTask: z.number().int().min(0),
    stickyQueueScheduleToStartTimeoutMs: z.number().int().min(1),
    workflowThreadPoolSize: z.number().int().min(1),
    reuseV8Context: z.boolean(),
  })
  .partial()
  .strict();

export const envSchema = z.object({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['auto', 'pretty', 'json']).default('auto'),
  DATA_DIR: z.string().min(1).default('.data'),

  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('switchboard'),
  TEMPORAL_DEV_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_CLI_PATH: z.string().min(1).optional(),
  // How every process and the CLI reach Temporal, read by @temporalio/envconfig
  // (config/temporal-connection.ts): a TOML profile, these variables over it.
  TEMPORAL_PROFILE: z.string().min(1).optional(),
  TEMPORAL_CONFIG_FILE: z.string().min(1).optional(),
  TEMPORAL_TLS: z.enum(['true', 'false']).optional(),
  TEMPORAL_TLS_CLIENT_CERT_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_CLIENT_KEY_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  TEMPORAL_API_KEY: z.string().min(1).optional(),

  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  // Connections of a process's main pool: several processes share one PostgreSQL's max_connections.
  DATABASE_POOL_MAX: z.coerce.number().int().min(2).max(200).default(10),
  EMBEDDED_PG_PORT: port.default(54329),

  CODEC_KEYS: z
    .string()
    .regex(
      /^[A-Za-z0-9_-]+:[A-Za-z0-9+/=]+(,[A-Za-z0-9_-]+:[A-Za-z0-9+/=]+)*$/,
      'id:base64key[,id:base64key…]',
    )
    .optional(),
  CODEC_ACTIVE_KEY: z.string().min(1).optional(),
  AUDIT_HASH_KEY: z.string().min(16).optional(),
  AUDIT_RETENTION_YEARS: z.coerce.number().int().min(1).max(100).default(7),
  CODEC_SERVER_HOST: z.string().min(1).default('127.0.0.1'),
  CODEC_SERVER_PORT: port.default(8092),
  CODEC_SERVER_TOKEN: z.string().min(16).optional(),
  CODEC_ACCESS_TOKENS: z
    .string()
    .regex(/^[^,\s]{16,}(,[^,\s]{16,})*$/, 'comma-separated tokens, each at least 16 characters')
    .optional(),

  HOME_REGION: z
    .string()
    .regex(/^[a-z0-9-]+$/)
    .default('us'),
  REGION_ENDPOINTS: regionEndpointsSchema.default({
    eu: { rcsHubUrl: 'http://127.0.0.1:8190', smppHost: '127.0.0.1', smppPort: 2875 },
  }),

  SMPP_HOST: z.string().min(1).default('127.0.0.1'),
  SMPP_PORT: port.default(2775),
  SMPP_SYSTEM_ID: z.string().min(1).max(15).default('switchboard'),
  SMPP_PASSWORD: z.string().max(8).default('sandbox'),
  SMPP_SOURCE_ADDR: z.string().min(1).max(20).default('Switchboard'),
  SMPP_WINDOW: z.coerce.number().int().min(1).max(1000).default(10),
  SMPP_SYSTEM_TYPE: z.string().max(12).default(''),
  SMPP_BIND_MODE: z.enum(['transceiver', 'separate']).default('transceiver'),
  SMPP_RATE_PER_SECOND: z.coerce.number().min(0).default(0),
  SMPP_GSM_DATA_CODING: z.coerce.number().int().min(0).max(255).default(0),
  SMPP_LONG_MESSAGES: z.enum(['udh', 'payload']).default('udh'),
  SMPP_SUBMIT_TIMEOUT_MS: ms.default(10_000),

  RCS_HUB_URL: z.url().default('http://127.0.0.1:8090'),
  RCS_AGENT_ID: z.string().min(1).default('switchboard-sandbox-agent'),
  RCS_HUB_TOKEN: z.string().min(1).default('sandbox-token'),
  RCS_WEBHOOK_CLIENT_TOKEN: z.string().min(8).default('sandbox-client-token'),
  RCS_HUB_TIMEOUT_MS: ms.default(5000),
  CAPABILITY_FRESH_TTL_MS: ms.default(30_000),
  CAPABILITY_MAX_AGE_MS: ms.default(120_000),
  CAPABILITY_REGION_TTLS: z
    .string()
    .regex(
      /^[a-z0-9-]+=\d+\/\d+(,[a-z0-9-]+=\d+\/\d+)*$/,
      'region=freshMs/maxAgeMs[,region=freshMs/maxAgeMs…]',
    )
    .optional(),

  SHORTLINK_HOST: z.string().min(1).default('127.0.0.1'),
  SHORTLINK_PORT: port.default(8093),
  SHORTLINK_BASE_URL: z.url().default('http://127.0.0.1:8093'),
  SHORTLINK_KEK: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, 'base64 of 32 bytes')
    .optional(),
  SHORTLINK_TTL_SECONDS: z.coerce.number().int().min(60).max(604_800).default(86_400),
  SHORTLINK_TRUST_PROXY: trustProxySchema.default(false),
  ACCESS_REQUEST_KEK: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, 'base64 of 32 bytes')
    .optional(),
  ACCESS_REQUEST_SWEEP_MS: z.coerce.number().int().min(1_000).default(600_000),

  RECEIPTS_HOST: z.string().min(1).default('127.0.0.1'),
  KEY_DIRECTORY_TOKEN: z.string().min(16).optional(),
  RECEIPTS_PORT: port.default(8091),

  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(8094),
  API_RATE_LIMIT: z.coerce.number().int().min(1).default(600),
  API_RATE_LIMIT_WINDOW_MS: ms.default(60_000),
  API_TRUST_PROXY: trustProxySchema.default(false),
  API_ITEM_RATE_LIMIT: z.coerce.number().int().min(1).default(6000),
  // Apps and the CLI: with a key, `switchboard send` and `status` go through the REST API.
  SWITCHBOARD_API_KEY: z.string().min(1).optional(),
  SWITCHBOARD_API_URL: z.url().optional(),

  SANDBOX: bool.default(true),
  SANDBOX_HOST: z.string().min(1).default('127.0.0.1'),
  SANDBOX_WEBHOOK_URL: z.url().optional(),
  SANDBOX_RECEIPT_DELAY_MS: z.coerce.number().int().min(0).default(50),

  ROLLOUT_DEFAULT_PHASE: z.enum(['sms-only', 'pilot', 'rcs-first', 'rcs-default']).default('rcs-default'),
  GUARD_REGIONS: z
    .string()
    .regex(/^([a-z0-9-]+(,[a-z0-9-]+)*)?$/, 'comma-separated regions')
    .default('us,eu'),
  GUARD_THRESHOLD: z.coerce.number().gt(0).lt(1).default(0.05),
  GUARD_MIN_SAMPLE: z.coerce.number().int().min(1).default(20),
  GUARD_WINDOW_MS: ms.default(300_000),
  GUARD_CHECK_MS: ms.default(15_000),
  GUARD_ROLLBACK: bool.default(false),
  GUARD_SUPERVISE_MS: ms.default(30_000),
  PROBE_RECIPIENTS: probeRecipientsSchema.optional(),
  PROBE_INTERVAL_MS: z.coerce.number().int().min(1_000).default(30_000),
  PROBE_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(25_000),
  CAPABILITY_TTL_TUNING: bool.default(false),

  RCS_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(5).default(2),
  RCS_RETRY_BACKOFF_MS: ms.default(1000),
  RCS_RECEIPT_TIMEOUT_MS: ms.default(15000),
  SMS_RECEIPT_TIMEOUT_MS: ms.default(3_600_000),
  RECEIPT_INBOX_SWEEP_MS: z.coerce.number().int().min(100).default(30_000),
  RECEIPT_ORPHAN_AFTER_MS: z.coerce.number().int().min(1_000).default(86_400_000),
  RECEIPT_RETRY_MAX_MS: z.coerce.number().int().min(100).default(30_000),
  // Worker versioning of the delivery worker (workers/worker-deployment.ts): the deployment it
  // belongs to (default: the delivery task queue's name) and this build's id (default: the
  // package version and the git commit). No '.' in the name: Temporal joins the two with one.
  WORKER_DEPLOYMENT_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,100}$/, 'letters, digits, _ and - (at most 100)')
    .optional(),
  WORKER_BUILD_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.+-]{1,100}$/, 'letters, digits, _ . + and - (at most 100)')
    .optional(),
  // first: a delivery worker makes its build current only when the deployment has none (a
  // cluster: later builds go live by `switchboard deploy ramp | promote`); always: it makes its
  // own build current at start (npm start, one process that replaces the last).
  WORKER_DEPLOYMENT_PROMOTE: z.enum(['first', 'always']).default('first'),
  TEMPORAL_WORKER_OPTIONS: z
    .string()
    .transform((raw, ctx) => {
      if (raw.trim() === '') return {};
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'a JSON object' });
        return z.NEVER;
      }
    })
    .pipe(workerOptionsSchema)
    .default({}),

  CALLBACK_TIMEOUT_MS: ms.default(10_000),
  CALLBACK_RETRY_FOR_MS: ms.default(86_400_000),
  CALLBACK_RETRY_BASE_MS: ms.default(1_000),
  CALLBACK_RETRY_MAX_MS: ms.default(600_000),
  CALLBACK_POLL_MS: z.coerce.number().int().min(10).default(250),
  CALLBACK_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(32),
  CALLBACK_CONCURRENCY_PER_TENANT: z.coerce.number().int().min(1).max(1000).default(8),
  CALLBACK_CONNECT_TIMEOUT_MS: ms.default(3_000),
  CALLBACK_SECRET_GRACE_MS: z.coerce.number().int().min(0).default(86_400_000),
  CALLBACK_EVENT_RETENTION_DAYS: z.coerce.number().int().min(1).default(30),
  /** Any private address (tests, a private network of apps); never a default, not even in the sandbox. */
  CALLBACK_ALLOW_PRIVATE_HOSTS: bool.default(false),
  /** The private host:port targets allowed one by one (the sandbox stack adds its own receiver). */
  CALLBACK_ALLOWED_PRIVATE_TARGETS: z
    .string()
    .regex(/^((\[[0-9a-f:.]+\]|[^\s,:[\]]+):\d{1,5}(,|$))*$/i, 'comma-separated host:port targets')
    .transform((v) => v.split(',').filter((t) => t !== ''))
    .default([]),
  SANDBOX_CALLBACK_PORT: port.default(8095),

  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  METRICS_PORT: port.default(9464),
  TEMPORAL_METRICS_PORT: port.default(9465),
});

export type Env = z.infer<typeof envSchema>;
