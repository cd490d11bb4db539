// PostgreSQL away for 6 minutes, longer than the old policies' ~5.5 minutes (10 local-activity
// attempts): a worker of its own reaches its own database through a proxy that the test cuts (as
// if the server were down: every connection reset).
// Messages sent before and during the outage all end delivered once it is back, each sent once
// (counted at the sandbox SMSC and hub), and both rollout guards ride it out on the same run.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pg from 'pg';
import pino from 'pino';
import { SwitchboardClient } from '../../client/switchboard-client';
import { loadConfig } from '../../config';
import { deriveKey } from '../../config/secrets';
import { workflowIdFor } from '../../domain/message';
import type { DeliveryOutcome } from '../../domain/message';
import { superviseGuards } from '../../workers/guards';
import type { GuardSupervisor } from '../../workers/guards';
import { guardWorkflowId } from '../../workers/guards';
import { RBM_WEBHOOK_PATH } from '../../workers/receipts-server';
import { startSandboxCarriers } from '../../workers/sandbox-carriers';
import type { SandboxCarriers } from '../../workers/sandbox-carriers';
import { startWorker } from '../../workers/worker';
import type { RunningWorker } from '../../workers/worker';
import { guardStatusQuery } from '../../workflows/definitions';
import type { GuardStatus } from '../../workflows/definitions';
import { TEST_SECRETS, TEST_TIMEOUTS, stack, testDataConverter } from '../fixtures/stack';
import { CuttableProxy } from './cuttable-proxy';

const OUTAGE_MS = 6 * 60_000;
const RECOVERY_MS = 3 * 60_000;
const RCS_USER = '+15550200011';
const SMS_USERS = ['+15550300011', '+15550300012', '+15550300013'];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

describe('a PostgreSQL outage longer than the old retry budgets', function () {
  this.timeout(OUTAGE_MS + RECOVERY_MS + 3 * 60_000);
  const tag = randomBytes(3).toString('hex');
  const dbName = `switchboard_outage_${tag}`;
  const regions = [`outage-a-${tag}`, `outage-b-${tag}`];
  const workerLog: string[] = [];
  let adminUrl: URL;
  let proxy: CuttableProxy;
  let carriers: SandboxCarriers;
  let worker: RunningWorker;
  let guards: GuardSupervisor;
  let switchboard: SwitchboardClient;

  before(async () => {
    adminUrl = new URL(stack().databaseUrl);
    adminUrl.pathname = '/postgres';
    const admin = new pg.Client({ connectionString: adminUrl.toString() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    proxy = new CuttableProxy({ host: adminUrl.hostname, port: Number(adminUrl.port || 5432) });
    const proxyUrl = new URL(adminUrl.toString());
    proxyUrl.port = String(await proxy.start());
    proxyUrl.pathname = `/${dbName}`;

    const logger = pino(
      { level: 'warn' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          workerLog.push(chunk.toString());
          done();
        },
      }),
    );
    const taskQueue = `switchboard-outage-${tag}`;
    // Any free metrics port: a Switchboard running on this machine must not make the test fail.
    const base = {
      ...process.env,
      ...TEST_TIMEOUTS,
      TEMPORAL_TASK_QUEUE: taskQueue,
      LOG_LEVEL: 'silent',
      METRICS_PORT: '0',
    };
    carriers = await startSandboxCarriers(loadConfig(base), {
      webhookUrl: 'http://127.0.0.1:9/unset',
      logger,
      smppPort: 0,
      rcsPort: 0,
    });
    const env = loadConfig({
      ...base,
      SMPP_PORT: String(carriers.smppPort),
      RCS_HUB_URL: carriers.rcsHubUrl,
      RECEIPTS_PORT: '0',
      SHORTLINK_PORT: '0',
      CODEC_SERVER_PORT: '0',
      REGION_ENDPOINTS: JSON.stringify({
        eu: { rcsHubUrl: carriers.rcsHubUrl, smppPort: carriers.smppPort },
      }),
      GUARD_REGIONS: regions.join(','),
      GUARD_CHECK_MS: '5000',
      // The guards must survive on their own retries: the supervisor does not look during the test.
      GUARD_SUPERVISE_MS: String(24 * 3_600_000),
    });
    const { temporal } = stack();
    worker = await startWorker({
      env,
      secrets: TEST_SECRETS,
      temporalAddress: temporal.address,
      databaseUrl: proxyUrl.toString(),
      logger,
    });
    carriers.rcsHub.setWebhookUrl(`${worker.receiptsUrl}${RBM_WEBHOOK_PATH}`);
    guards = await superviseGuards(worker.client, env, logger);
    switchboard = await SwitchboardClient.connect({
      address: temporal.address,
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue,
      dataConverter: testDataConverter(),
      messageIdKey: deriveKey(TEST_SECRETS, 'message-id'),
    });
  });

  after(async () => {
    guards?.stop();
    for (const region of regions) {
      await stack()
        .client.workflow.getHandle(guardWorkflowId(region))
        .terminate('test over')
        .catch(() => undefined);
    }
    await switchboard?.close();
    await worker?.shutdown();
    await carriers?.stop();
    await proxy?.stop();
    const drop = new pg.Client({ connectionString: adminUrl.toString() });
    await drop.connect();
    await drop.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await drop.end();
  });

  const send = async (to: string, text: string) => (await switchboard.send({ to, text })).messageId;
  const submitsOf = (text: string) => carriers.smsc.submits.filter((s) => s.text === text).length;
  const rcsSendsOf = (messageId: string) =>
    carriers.rcsHub.requests.filter((r) => r.op === 'send' && r.messageId === messageId && r.status === 200)
      .length;
  const guardRun = async (region: string) => {
    const d = await stack().client.workflow.getHandle(guardWorkflowId(region)).describe();
    return { status: d.status.name, runId: d.runId };
  };

  /** The guard's status once it answers a query; a workflow task failure is said in the error. */
  async function guardAnswer(region: string): Promise<GuardStatus> {
    const handle = stack().client.workflow.getHandle(guardWorkflowId(region));
    for (;;) {
      try {
        return await handle.query(guardStatusQuery);
      } catch (err) {
        const history = await handle.fetchHistory();
        const failures = (history.events ?? [])
          .map((e) => e.workflowTaskFailedEventAttributes?.failure?.message)
          .filter(Boolean);
        process.stderr.write(`guard ${region} not answering (${String(err)}): ${failures.join(' | ')}\n`);
        await sleep(2_000);
      }
    }
  }

  it('every message sent before and during it is delivered once, and the guards ride it out', async () => {
    const messages: Array<{ id: string; to: string; text: string; channel: 'rcs' | 'sms' }> = [];
    const add = async (to: string, channel: 'rcs' | 'sms', when: string) => {
      const text = `outage ${tag} ${when} ${messages.length}`;
      messages.push({ id: await send(to, text), to, text, channel });
    };

    // Before: the stack works end to end.
    await add(RCS_USER, 'rcs', 'before');
    await add(SMS_USERS[0] as string, 'sms', 'before');
    for (const m of messages) {
      const outcome = await within(60_000, 'a message before the outage', switchboard.waitForOutcome(m.id));
      assert.equal(outcome.status, 'delivered');
    }
    const guardsBefore = await Promise.all(regions.map(guardRun));
    assert.deepEqual(
      guardsBefore.map((g) => g.status),
      ['RUNNING', 'RUNNING'],
    );

    proxy.cutOff();
    const cutAt = Date.now();
    await add(RCS_USER, 'rcs', 'during');
    await add(SMS_USERS[1] as string, 'sms', 'during');
    await sleep(OUTAGE_MS / 2);
    await add(SMS_USERS[2] as string, 'sms', 'late');
    await sleep(cutAt + OUTAGE_MS - Date.now());

    // Still waiting at the end of the outage: nothing failed, nothing reached a carrier.
    const during = messages.slice(2);
    for (const m of during) {
      const { status } = await stack().client.workflow.getHandle(workflowIdFor(m.id)).describe();
      assert.equal(status.name, 'RUNNING', `${m.channel} message during the outage`);
      assert.equal(m.channel === 'sms' ? submitsOf(m.text) : rcsSendsOf(m.id), 0);
    }
    assert.ok(proxy.refused > 0, 'the worker tried the database during the outage');
    proxy.restore();

    const outcomes = await within(
      RECOVERY_MS,
      'messages after the outage',
      Promise.all(messages.map((m) => switchboard.waitForOutcome(m.id))),
    );
    outcomes.forEach((outcome: DeliveryOutcome, i) => {
      const m = messages[i] as (typeof messages)[number];
      assert.equal(
        outcome.status,
        'delivered',
        `message ${i} (${m.channel}): ${JSON.stringify(outcome.attempts)}`,
      );
      assert.equal(outcome.channel, m.channel, `message ${i}`);
      assert.equal(submitsOf(m.text), m.channel === 'sms' ? 1 : 0, `SMS submits of message ${i}`);
      assert.equal(rcsSendsOf(m.id), m.channel === 'rcs' ? 1 : 0, `RCS sends of message ${i}`);
    });

    // The guards are the runs they were before the outage, and answer again.
    for (const [i, region] of regions.entries()) {
      assert.deepEqual(await guardRun(region), guardsBefore[i]);
      const status = await within(60_000, `guard ${region} answering`, guardAnswer(region));
      assert.equal(status.throttled, false);
    }
    assert.ok(!workerLog.some((l) => l.includes('rollout guard was not running')));
  });
});
