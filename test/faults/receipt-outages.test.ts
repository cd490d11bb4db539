// Receipts survive outages: a worker of its own (own database, own sandbox carriers, its own task
// queue on the test Temporal server) reaches Temporal and PostgreSQL through TCP proxies this test
// cuts for 60 s, and the sandbox SMSC is restarted mid-batch. Every message must end delivered and
// every receipt the SMSC had acknowledged must be delivered from the inbox. Receipt timeouts are
// 3 min, longer than any outage, so what is measured is the inbox, not the timeout.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { SwitchboardClient } from '../../client/switchboard-client';
import { loadConfig } from '../../config';
import { deriveKey } from '../../config/secrets';
import { ReceiptInbox } from '../../store/receipt-inbox';
import { startSandboxCarriers } from '../../workers/sandbox-carriers';
import type { SandboxCarriers } from '../../workers/sandbox-carriers';
import { RBM_WEBHOOK_PATH } from '../../workers/receipts-server';
import { startWorker } from '../../workers/worker';
import type { RunningWorker } from '../../workers/worker';
import { waitFor } from '../channels/sms-harness';
import { TEST_SECRETS, stack, testDataConverter } from '../fixtures/stack';
import { ADMIN_URL, createTestDatabase } from '../store/test-database';
import type { TestDatabase } from '../store/test-database';
import { TcpProxy } from './tcp-proxy';

const OUTAGE_MS = 60_000;
const BATCH = 12;
/** Receipts come this long after the submit: the outage starts between the two. */
const RECEIPT_DELAY_MS = 4000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function proxied(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.toString();
}

describe('faults: receipts across Temporal, PostgreSQL and SMSC outages', function () {
  this.timeout(180_000);
  let testDb: TestDatabase;
  let temporalProxy: TcpProxy;
  let postgresProxy: TcpProxy;
  let carriers: SandboxCarriers;
  let worker: RunningWorker;
  let switchboard: SwitchboardClient;
  let inbox: ReceiptInbox;
  let batchNo = 0;

  before(async () => {
    testDb = await createTestDatabase('switchboard_receipt_outages');
    inbox = new ReceiptInbox(testDb.db);
    const temporalAddress = stack().temporal.address;
    const [temporalHost = '127.0.0.1', temporalPort = '7233'] = temporalAddress.split(':');
    temporalProxy = new TcpProxy(temporalHost, Number(temporalPort));
    const temporalProxyPort = await temporalProxy.start();
    const admin = new URL(ADMIN_URL);
    postgresProxy = new TcpProxy(admin.hostname, Number(admin.port || 5432));
    const postgresProxyPort = await postgresProxy.start();

    const taskQueue = `receipt-outages-${randomBytes(3).toString('hex')}`;
    const base = {
      ...process.env,
      GUARD_REGIONS: '',
      TEMPORAL_TASK_QUEUE: taskQueue,
      SANDBOX_RECEIPT_DELAY_MS: String(RECEIPT_DELAY_MS),
      SMS_RECEIPT_TIMEOUT_MS: '180000',
      RCS_RECEIPT_TIMEOUT_MS: '180000',
      RECEIPT_RETRY_MAX_MS: '2000',
      RECEIPT_INBOX_SWEEP_MS: '2000',
      REGION_ENDPOINTS: '{}',
      SMPP_PORT: '0',
      RECEIPTS_PORT: '0',
      // Any free metrics port: a Switchboard running on this machine must not make the test fail.
      METRICS_PORT: '0',
      SHORTLINK_PORT: '0',
      CODEC_SERVER_PORT: '0',
      LOG_LEVEL: 'silent',
    };
    const logger = pino({ level: 'silent' });
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
    });
    worker = await startWorker({
      env,
      secrets: TEST_SECRETS,
      temporalAddress: `127.0.0.1:${temporalProxyPort}`,
      databaseUrl: proxied(testDb.url, postgresProxyPort),
      logger,
    });
    carriers.rcsHub.setWebhookUrl(`${worker.receiptsUrl}${RBM_WEBHOOK_PATH}`);
    switchboard = await SwitchboardClient.connect({
      address: temporalAddress,
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue,
      dataConverter: testDataConverter(),
      messageIdKey: deriveKey(TEST_SECRETS, 'message-id'),
    });
  });

  after(async () => {
    temporalProxy?.restore();
    postgresProxy?.restore();
    await switchboard?.close();
    await worker?.shutdown();
    await carriers?.stop();
    await temporalProxy?.stop();
    await postgresProxy?.stop();
    await testDb?.drop();
  });

  interface Batch {
    ids: string[];
    acked: number;
    sent: number;
    refused: number;
  }

  /** Starts a batch of SMS-only messages; `recorded` waits until every part is accepted and recorded. */
  async function sendBatch(recorded = true): Promise<Batch> {
    batchNo++;
    const submitsBefore = carriers.smsc.submits.length;
    const batch: Batch = {
      ids: [],
      acked: carriers.smsc.stats.receiptsAcked,
      sent: carriers.smsc.stats.receiptsSent,
      refused: carriers.smsc.stats.receiptsRefused,
    };
    for (let i = 0; i < BATCH; i++) {
      const to = `+1555030${String(batchNo * 100 + i).padStart(4, '0')}`;
      batch.ids.push((await switchboard.send({ to, text: `batch ${batchNo} message ${i}` })).messageId);
    }
    if (!recorded) return batch;
    await waitFor(
      () => carriers.smsc.submits.length - submitsBefore >= BATCH,
      'every submit at the SMSC',
      20_000,
    );
    const deadline = Date.now() + 20_000;
    while ((await messagesWithSubmission(batch.ids)) < BATCH) {
      assert.ok(Date.now() < deadline, 'every SMSC id recorded before the outage');
      await sleep(100);
    }
    return batch;
  }

  async function messagesWithSubmission(ids: string[]): Promise<number> {
    const { rows } = await testDb.db.query<{ n: string }>(
      'SELECT count(DISTINCT message_id) AS n FROM sms_submissions WHERE message_id = ANY($1)',
      [ids],
    );
    return Number(rows[0]?.n);
  }

  async function pendingRows(ids: string[]): Promise<number> {
    const { rows } = await testDb.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM receipt_inbox i JOIN sms_submissions s ON s.smsc_message_id = i.external_id
       WHERE i.kind = 'sms' AND i.status = 'pending' AND s.message_id = ANY($1)`,
      [ids],
    );
    return Number(rows[0]?.n);
  }

  /** Waits for every outcome and counts: sent / delivered / receipts lost / duplicates. */
  async function settle(what: string, batch: Batch): Promise<void> {
    const outcomes = await Promise.all(batch.ids.map((id) => switchboard.waitForOutcome(id)));
    const delivered = outcomes.filter((o) => o.status === 'delivered').length;
    // A signal that outlived its timeout can land and finish the message while its row still waits
    // for its retry: let the inbox settle before counting.
    const deadline = Date.now() + 15_000;
    while ((await pendingRows(batch.ids)) > 0 && Date.now() < deadline) await sleep(200);
    // 'late' counts as signalled: a signal that outlived its timeout may land, and its retry then
    // finds the message finished (a duplicate, which the workflow would have ignored anyway).
    const { rows } = await testDb.db.query<{
      signalled: string;
      late: string;
      pending: string;
      rows: string;
    }>(
      `SELECT count(DISTINCT s.message_id) FILTER (WHERE i.status IN ('delivered', 'late')) AS signalled,
              count(*) FILTER (WHERE i.status = 'late') AS late,
              count(*) FILTER (WHERE i.status = 'pending') AS pending, count(*) AS rows
       FROM receipt_inbox i JOIN sms_submissions s ON s.smsc_message_id = i.external_id
       WHERE i.kind = 'sms' AND s.message_id = ANY($1)`,
      [batch.ids],
    );
    const row = rows[0] ?? { signalled: '0', late: '0', pending: '0', rows: '0' };
    const lost = BATCH - Number(row.signalled);
    const stats = carriers.smsc.stats;
    const acked = stats.receiptsAcked - batch.acked;
    console.log(
      `${what}: sent ${BATCH}, delivered ${delivered}, receipts lost ${lost}, ` +
        `duplicates ${acked - Number(row.rows) + Number(row.late)} (receipts acknowledged ${acked}, ` +
        `inbox rows ${row.rows}, of which late ${row.late}; ` +
        `deliver_sm written ${stats.receiptsSent - batch.sent}, refused with 0x64 ${stats.receiptsRefused - batch.refused})`,
    );
    assert.deepEqual(
      outcomes.map((o) => o.status),
      batch.ids.map(() => 'delivered'),
      'every message ends delivered',
    );
    assert.equal(lost, 0, 'no receipt lost');
    assert.equal(Number(row.pending), 0, 'nothing left pending');
  }

  it('a 60 s Temporal outage during a batch: every receipt waits in the inbox and is delivered after', async () => {
    const batch = await sendBatch();
    await sleep(500); // the submit activities' completions reach Temporal
    const ackedBefore = carriers.smsc.stats.receiptsAcked;
    temporalProxy.cut();
    const cutAt = Date.now();
    await waitFor(
      () => carriers.smsc.stats.receiptsAcked - ackedBefore >= BATCH,
      'receipts taken during the outage',
      20_000,
    );
    const pending = (await inbox.countByStatus()).pending;
    assert.ok(pending >= BATCH, `receipts wait in the inbox while Temporal is away (${pending} pending)`);
    await sleep(OUTAGE_MS - (Date.now() - cutAt));
    temporalProxy.restore();
    await settle('Temporal outage 60 s', batch);
  });

  it('a 60 s PostgreSQL outage during a batch: deliver_sm answered 0x64, redelivered, then delivered', async () => {
    const batch = await sendBatch();
    await sleep(500);
    const refusedBefore = carriers.smsc.stats.receiptsRefused;
    postgresProxy.cut();
    const cutAt = Date.now();
    await waitFor(
      () => carriers.smsc.stats.receiptsRefused - refusedBefore >= BATCH,
      'receipts refused with 0x64',
      20_000,
    );
    await sleep(OUTAGE_MS - (Date.now() - cutAt));
    postgresProxy.restore();
    await settle('PostgreSQL outage 60 s', batch);
  });

  it('an SMSC restart mid-batch: every message delivered', async () => {
    const submitsBefore = carriers.smsc.submits.length;
    const sending = sendBatch(false);
    await waitFor(
      () => carriers.smsc.submits.length - submitsBefore >= BATCH / 2,
      'half the batch submitted',
      20_000,
    );
    await carriers.smsc.stop();
    await sleep(1000);
    await carriers.smsc.start();
    await settle('SMSC restart', await sending);
  });
});
