import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { request } from 'undici';
import type { ReceiptRecorder } from '../../channels/receipts/receipt-intake';
import { ReceiptInbox } from '../../store/receipt-inbox';
import { signRbmEventBody } from '../../channels/rcs/webhook';
import { openDatabase } from '../../store/database';
import type { Database } from '../../store/database';
import { RBM_WEBHOOK_PATH, startReceiptsServer } from '../../workers/receipts-server';
import { stack } from '../fixtures/stack';

const CLIENT_TOKEN = 'webhook-test-client-token';
const AGENT = 'our-agent';
const PHONE = '+15550204242';

const event = (overrides: Record<string, string> = {}) => ({
  agentId: AGENT,
  senderPhoneNumber: PHONE,
  eventType: 'DELIVERED',
  eventId: randomUUID(),
  messageId: randomUUID(),
  sendTime: new Date().toISOString(),
  ...overrides,
});

const post = (url: string, body: string, signature: string) =>
  request(`${url}${RBM_WEBHOOK_PATH}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'x-goog-signature': signature },
  });

interface Webhook {
  url: string;
  forwarded: string[];
  logLines: Array<Record<string, unknown>>;
  server: FastifyInstance;
}

/** A receipts server on a real socket, with an inbox that records what it was given. */
async function startWebhook(
  options: { inbox?: ReceiptInbox; rejectionLogIntervalMs?: number } = {},
): Promise<Webhook> {
  const logLines: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const forwarded: string[] = [];
  const inbox: ReceiptRecorder = options.inbox ?? {
    record(receipt) {
      forwarded.push(receipt.eventId ?? '');
      return Promise.resolve();
    },
  };
  const { url, server } = await startReceiptsServer({
    host: '127.0.0.1',
    port: 0,
    clientToken: CLIENT_TOKEN,
    agentIds: [AGENT],
    inbox,
    logger,
    ...(options.rejectionLogIntervalMs ? { rejectionLogIntervalMs: options.rejectionLogIntervalMs } : {}),
  });
  return { url, forwarded, logLines, server };
}

describe('security: the RBM webhook', function () {
  this.timeout(30_000);
  const open: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const close of open.splice(0).reverse()) await close();
  });
  const webhook = async (options?: Parameters<typeof startWebhook>[0]) => {
    const started = await startWebhook(options);
    open.push(() => started.server.close());
    return started;
  };

  it('refuses a genuinely signed event of another agent, and does not forward it', async () => {
    const hook = await webhook();
    const { body, signature } = signRbmEventBody(event({ agentId: 'someone-elses-agent' }), CLIENT_TOKEN);
    const answer = await post(hook.url, body, signature);
    assert.equal(answer.statusCode, 403);
    assert.match(await answer.body.text(), /agentId/);
    assert.deepEqual(hook.forwarded, []);
  });

  it("the worker's own webhook refuses an agent other than its RCS_AGENT_ID", async () => {
    const { worker, env } = stack();
    const other = signRbmEventBody(
      event({ agentId: `${env.RCS_AGENT_ID}-other` }),
      env.RCS_WEBHOOK_CLIENT_TOKEN,
    );
    assert.equal((await post(worker.receiptsUrl, other.body, other.signature)).statusCode, 403);
    const own = signRbmEventBody(event({ agentId: env.RCS_AGENT_ID }), env.RCS_WEBHOOK_CLIENT_TOKEN);
    assert.equal((await post(worker.receiptsUrl, own.body, own.signature)).statusCode, 200);
  });

  it('a redelivered eventId is answered 200 and forwarded once', async () => {
    const hook = await webhook();
    const delivered = event();
    const first = signRbmEventBody(delivered, CLIENT_TOKEN);
    const again = signRbmEventBody(delivered, CLIENT_TOKEN);
    assert.equal((await post(hook.url, first.body, first.signature)).statusCode, 200);
    assert.equal((await post(hook.url, again.body, again.signature)).statusCode, 200);
    const other = event();
    const next = signRbmEventBody(other, CLIENT_TOKEN);
    assert.equal((await post(hook.url, next.body, next.signature)).statusCode, 200);
    assert.deepEqual(hook.forwarded, [delivered.eventId, other.eventId]);
  });

  it('a flood of bad signatures costs one log line per interval, with a count', async () => {
    const hook = await webhook();
    const { body } = signRbmEventBody(event(), CLIENT_TOKEN);
    const forged = signRbmEventBody(event(), 'a-guessed-token');
    for (let i = 0; i < 100; i++) {
      const answer = await post(hook.url, body, forged.signature);
      assert.equal(answer.statusCode, 401);
      await answer.body.dump();
    }
    const lines = hook.logLines.filter((l) => l.msg === 'rejected RBM webhook posts');
    assert.equal(lines.length, 1, 'one line for 100 rejected posts within 10 s');
    assert.equal(lines[0]?.rejected, 1);

    const short = await webhook({ rejectionLogIntervalMs: 300 });
    for (let i = 0; i < 20; i++) await (await post(short.url, body, forged.signature)).body.dump();
    await new Promise((r) => setTimeout(r, 350));
    await (await post(short.url, body, forged.signature)).body.dump();
    const counted = short.logLines.filter((l) => l.msg === 'rejected RBM webhook posts');
    assert.deepEqual(
      counted.map((l) => l.rejected),
      [1, 20],
      'the second line counts the 19 suppressed and the one that logged it',
    );
    assert.deepEqual(counted[1]?.reasons, { 'bad signature': 20 });
  });

  describe('when routing fails', () => {
    let brokenDb: Database;
    before(() => {
      // A real PostgreSQL that answers every query with an error (no such database).
      const url = new URL(stack().databaseUrl);
      url.pathname = '/no_such_database_for_this_test';
      brokenDb = openDatabase(url.toString(), 1);
    });
    after(() => brokenDb.end());

    it('answers a clean 500, logs the cause by name and code only, and records the retry', async () => {
      const hook = await webhook({ inbox: new ReceiptInbox(brokenDb) });
      const delivered = event();
      const { body, signature } = signRbmEventBody(delivered, CLIENT_TOKEN);
      const answer = await post(hook.url, body, signature);
      assert.equal(answer.statusCode, 500);
      assert.deepEqual(await answer.body.json(), { error: 'internal error' });

      const line = hook.logLines.find((l) => l.msg === 'recording an RBM event failed');
      assert.ok(line, 'the failure is logged');
      assert.deepEqual(line.cause, { name: 'error', code: '3D000' });
      const logged = JSON.stringify(hook.logLines);
      assert.ok(!logged.includes(PHONE) && !logged.includes(PHONE.slice(1)), 'no number in the log');
      assert.ok(!logged.includes('no_such_database'), 'no internals in the log');

      // Not remembered as seen: RBM's retry is tried again, not swallowed as a duplicate.
      assert.equal((await post(hook.url, body, signature)).statusCode, 500);
    });
  });
});
