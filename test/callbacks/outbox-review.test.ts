// The outbox's fixes from the security review (issue 14), each reproduced on a real PostgreSQL:
// claims bind their settlement, the retry budget runs from the first attempt, reads of messages
// that want no callbacks are final, held reads expire, settled events are deleted after the
// retention, the worker role only reads webhooks, and webhook changes are audited.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { withReadEvents } from '../../channels/callbacks/read-events';
import type { ReceiptSink } from '../../channels/receipts/receipt-dispatcher';
import type { AuditEntry } from '../../domain/audit';
import { sweepStatusEvents } from '../../store/status-events-sweep';
import { TenantWebhooks } from '../../store/tenant-webhooks';
import { KEY, context, delivered, startOutboxFixture } from './outbox-fixture';
import type { OutboxFixture } from './outbox-fixture';
import { waitUntil } from './receiver';

describe('status events outbox: review fixes', function () {
  this.timeout(30_000);
  let f: OutboxFixture;

  before(async () => {
    f = await startOutboxFixture('callbacks_review_outbox');
  });
  afterEach(() => f.reset());
  after(() => f.close());

  const state = async (m: string) => (await f.outbox.forMessage(m)).map((e) => e.state);

  it('a sender whose lease ran out cannot settle or move the row another sender claimed since', async () => {
    const m = randomUUID();
    await f.outbox.append(context(f.receiver.url), delivered(m));
    const [stale] = await f.outbox.claim(1, 100);
    assert.ok(stale);
    await new Promise((r) => setTimeout(r, 250));
    const [fresh] = await f.outbox.claim(1, 60_000);
    assert.equal(fresh?.id, stale.id, 'the same row, claimed again after the lease');
    await f.outbox.acknowledged(stale);
    await f.outbox.undeliverable(stale, 'LATE');
    await f.outbox.retryIn(stale, 1, 'LATE');
    assert.deepEqual(await state(m), ['pending', 'pending'], 'the stale claim changed nothing');
    const { rows } = await f.t.db.query<{ later: boolean }>(
      "SELECT next_attempt_at > now() + interval '30 seconds' AS later FROM status_events WHERE id = $1",
      [fresh.id],
    );
    assert.equal(rows[0]?.later, true, 'the fresh lease was not shortened by the stale retryIn');
    await f.outbox.acknowledged(fresh);
    assert.deepEqual(await state(m), ['sent', 'pending']);
  });

  it('concurrent claims never hand out one row twice', async () => {
    const messages = Array.from({ length: 40 }, () => randomUUID());
    for (const m of messages) await f.outbox.append(context(f.receiver.url), delivered(m));
    const ours = new Set<string>(messages);
    const claims = await Promise.all(Array.from({ length: 8 }, () => f.outbox.claim(6, 60_000)));
    const ids = claims
      .flat()
      .filter((e) => ours.has(e.event.messageId))
      .map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length, 'every claimed row once');
    assert.ok(ids.length >= 6, `claims were made (${ids.length})`);
    for (const e of claims.flat()) await f.outbox.undeliverable(e, 'TEST');
  });

  it('an event queued longer than the retry budget still gets retried: the budget runs from its first try', async () => {
    const m = randomUUID();
    await f.outbox.append(context(f.receiver.url), delivered(m));
    // Written two days ago: a receiver (or the workers) down for longer than the 24 h budget.
    await f.t.db.query(
      "UPDATE status_events SET created_at = now() - interval '2 days' WHERE message_id = $1",
      [m],
    );
    f.receiver.status = 503;
    f.sender({ retryForMs: 1500 });
    await waitUntil(
      'the first event given up on',
      async () => (await state(m))[0] === 'undeliverable',
      10_000,
    );
    const { rows } = await f.t.db.query<{ attempts: number }>(
      'SELECT attempts FROM status_events WHERE message_id = $1 AND seq = 1',
      [m],
    );
    assert.ok(
      (rows[0]?.attempts ?? 0) >= 3,
      `retried for its budget (${rows[0]?.attempts} attempts), not once`,
    );
  });

  it('a READ for a running message of a tenant without a webhook is final, not retried forever', async () => {
    const sink: ReceiptSink = {
      rcsEvent: () => Promise.resolve('delivered'),
      smsReceipt: () => Promise.resolve('delivered'),
    };
    const m = randomUUID();
    const [received, routed] = delivered(m) as [AuditEntry, AuditEntry];
    const noWebhook = { ...context(f.receiver.url), tenant: 'no-webhook-tenant' };
    await f.outbox.append(noWebhook, [routed]);
    assert.equal(await f.outbox.recordRead(m, new Date()), 'untracked', 'no received row yet: retried');
    await f.outbox.append(noWebhook, [received]);
    const read = { rbmMessageId: m, eventType: 'READ', eventId: randomUUID(), errorCode: null };
    assert.equal(await withReadEvents(sink, f.outbox).rcsEvent(`deliver-${m}`, read), 'delivered');
    assert.equal(await f.outbox.recordRead(m, new Date()), 'unwanted');
    assert.deepEqual(await f.outbox.forMessage(m), []);
  });

  it('a held read whose message never gets an outcome is not counted as depth, and expires', async () => {
    const m = randomUUID();
    const [received] = delivered(m) as [AuditEntry];
    await f.outbox.append(context(f.receiver.url), [received]);
    const before = await f.outbox.depth();
    assert.equal(await f.outbox.recordRead(m, new Date()), 'held');
    assert.equal(await f.outbox.depth(), before, 'a held read is not waiting to be sent');
    assert.deepEqual((await sweepStatusEvents(f.t.db, 60_000, 30)).expired, 0, 'not before the budget');
    await f.t.db.query(
      "UPDATE status_events SET created_at = now() - interval '2 minutes' WHERE message_id = $1 AND seq IS NULL",
      [m],
    );
    assert.equal((await sweepStatusEvents(f.t.db, 60_000, 30)).expired, 1);
    assert.deepEqual(await state(m), ['pending', 'undeliverable']);
  });

  it('settled events are deleted after the retention; pending and recent ones stay', async () => {
    const [old, recent, waiting] = [randomUUID(), randomUUID(), randomUUID()];
    for (const m of [old, recent, waiting]) await f.outbox.append(context(f.receiver.url), delivered(m));
    await f.t.db.query(
      `UPDATE status_events SET state = 'sent', settled_at = now() - CASE WHEN message_id = $1
         THEN interval '31 days' ELSE interval '29 days' END WHERE message_id = ANY($2)`,
      [old, [old, recent]],
    );
    assert.ok((await sweepStatusEvents(f.t.db, 86_400_000, 30)).deleted >= 2);
    assert.deepEqual(await state(old), []);
    assert.deepEqual(await state(recent), ['sent', 'sent']);
    assert.deepEqual(await state(waiting), ['pending', 'pending']);
  });

  it('the worker role reads tenant_webhooks but cannot write them; it may delete settled events', async () => {
    const client = await f.t.db.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL ROLE switchboard_app');
      await client.query('SELECT tenant FROM tenant_webhooks');
      await client.query(
        "DELETE FROM status_events WHERE state = 'sent' AND settled_at < now() - interval '1 year'",
      );
      for (const sql of [
        "UPDATE tenant_webhooks SET default_url = 'https://evil.example/h'",
        "INSERT INTO tenant_webhooks (tenant, secret_sealed) VALUES ('x', '\\x00')",
        'DELETE FROM tenant_webhooks',
      ]) {
        await client.query('SAVEPOINT s');
        await assert.rejects(client.query(sql), /permission denied/, sql);
        await client.query('ROLLBACK TO SAVEPOINT s');
      }
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('webhook set and every rotation are audited (never the secret); the old secret signs during its grace', async () => {
    const tenant = `audited-${randomUUID().slice(0, 8)}`;
    const webhooks = new TenantWebhooks(f.t.db, KEY, { audit: f.audit });
    const first = await webhooks.set(tenant, 'https://app.example.com/h');
    const second = await webhooks.set(tenant);
    const trail = await f.audit.forMessage(`webhook-${tenant}`);
    assert.deepEqual(
      trail.map((r) => [r.seq, r.event, r.tenant]),
      [
        [0, 'webhook_created', tenant],
        [1, 'webhook_secret_rotated', tenant],
      ],
    );
    const raw = JSON.stringify(trail);
    assert.ok(!raw.includes(first.secret) && !raw.includes(second.secret), 'no secret in the trail');

    assert.deepEqual(await webhooks.secretsFor(tenant, 60_000), [second.secret, first.secret]);
    assert.deepEqual(await webhooks.secretsFor(tenant, 0), [second.secret], 'no grace: the new one only');
    await f.t.db.query(
      "UPDATE tenant_webhooks SET rotated_at = now() - interval '2 minutes' WHERE tenant = $1",
      [tenant],
    );
    assert.deepEqual(await webhooks.secretsFor(tenant, 60_000), [second.secret], 'the grace ran out');
  });
});
