// A REST API server on the test stack (real Temporal dev server, PostgreSQL, sandbox carriers),
// reached over real HTTP, and tenants with keys made through the same store the CLI uses.
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import type { ApiScope } from '../../domain/api-key';
import { ApiKeyStore } from '../../store/api-keys';
import { AuditLog } from '../../store/audit-log';
import { startApiServer } from '../../workers/api-server';
import type { RunningApiServer } from '../../workers/api-server';
import { loadConfig } from '../../config';
import { TEST_SECRETS, TEST_TIMEOUTS, stack } from '../fixtures/stack';

export async function startTestApi(
  env: Record<string, string> = {},
  onRoute?: Parameters<typeof startApiServer>[0]['onRoute'],
  meter?: Parameters<typeof startApiServer>[0]['meter'],
): Promise<RunningApiServer> {
  const { temporal, taskQueue, databaseUrl, env: stackEnv } = stack();
  return startApiServer({
    env: loadConfig({
      ...process.env,
      ...TEST_TIMEOUTS,
      TEMPORAL_TASK_QUEUE: taskQueue,
      TEMPORAL_NAMESPACE: stackEnv.TEMPORAL_NAMESPACE,
      API_PORT: '0',
      ...env,
    }),
    secrets: TEST_SECRETS,
    temporalAddress: temporal.address,
    databaseUrl,
    logger: pino({ level: 'silent' }),
    onRoute,
    meter,
  });
}

export const keyStore = () =>
  new ApiKeyStore(stack().db, new AuditLog(stack().db, TEST_SECRETS.auditHashKey));

/** A fresh tenant (its own name, so visibility queries see only this test's messages) and a key. */
export async function tenantWithKey(
  scopes: ApiScope[] = ['send', 'read'],
): Promise<{ tenant: string; apiKey: string; keyId: string }> {
  const tenant = `t-${randomBytes(4).toString('hex')}`;
  const keys = keyStore();
  await keys.createTenant(tenant);
  const created = await keys.create(tenant, scopes);
  return { tenant, apiKey: created.apiKey, keyId: created.keyId };
}

export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/** One request over HTTP; the body is parsed as JSON when it is JSON. */
export async function call<T = Record<string, unknown>>(
  base: string,
  method: string,
  path: string,
  options: { key?: string; body?: unknown; raw?: Buffer | string; headers?: Record<string, string> } = {},
): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  let body: string | Buffer | undefined;
  if (options.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(options.body);
  } else if (options.raw !== undefined) body = options.raw;
  const response = await fetch(`${base}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  return { status: response.status, headers: response.headers, body: parsed as T };
}

export interface Status {
  messageId: string;
  status: string;
  channel: string | null;
  fallbackReason: string | null;
  metadata: Record<string, string> | null;
  shortlink: boolean;
  attempts: Array<{ channel: string; result: string; errorCode: string | null }>;
}

/** GET /v1/messages/{id} until the message has an outcome. */
export async function waitForStatus(
  base: string,
  key: string,
  messageId: string,
  timeoutMs = 30_000,
): Promise<Status> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await call<Status>(base, 'GET', `/v1/messages/${messageId}`, { key });
    if (got.status !== 200) throw new Error(`GET /v1/messages/${messageId}: ${got.status}`);
    if (got.body.status !== 'pending') return got.body;
    if (Date.now() > deadline) throw new Error(`message ${messageId} still pending`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Workflows started for a tenant, as Temporal visibility counts them. */
export async function workflowsOf(tenant: string): Promise<number> {
  const { count } = await stack().client.workflow.count(`SwitchboardTenant = "${tenant}"`);
  return count;
}

/** Waits until visibility shows `expected` workflows of the tenant (it trails the starts a little). */
export async function settleWorkflowCount(tenant: string, expected: number): Promise<number> {
  const deadline = Date.now() + 10_000;
  let count = await workflowsOf(tenant);
  while (count < expected && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    count = await workflowsOf(tenant);
  }
  return count;
}
