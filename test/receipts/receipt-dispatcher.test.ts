// The receipt inbox and its dispatcher on a real PostgreSQL (LISTEN/NOTIFY on its own connection):
// waiting for a mapping, late receipts, retries while the sink fails, duplicates, several
// dispatchers on one inbox. The sink records signals: Temporal is covered by test/faults/.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ReceiptInbox } from '../../store/receipt-inbox';
import { SmsSubmissions } from '../../store/sms-submissions';
import { createTestDatabase } from '../store/test-database';
import type { TestDatabase } from '../store/test-database';
import { waitFor } from '../channels/sms-harness';
import { recordingSink, startInboxPipeline } from './inbox-harness';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('receipt inbox and dispatcher', function () {
  this.timeout(30_000);
  let testDb: TestDatabase;
  let submissions: SmsSubmissions;
  const open: Array<() => Promise<void>> = [];

  before(async () => {
    testDb = await createTestDatabase('switchboard_receipt_inbox');
    submissions = new SmsSubmissions(testDb.db);
  });
  afterEach(async () => {
    for (const stop of open.splice(0)) await stop();
  });
  after(() => testDb?.drop());

  const pipeline = (...args: Parameters<typeof recordingSink>) => {
    const sink = recordingSink(...args);
    const p = startInboxPipeline({ db: testDb.db, databaseUrl: testDb.url, sink });
    open.push(() => p.stop());
    return { ...p, sink };
  };

  async function mapped(smscMessageId: string): Promise<string> {
    const messageId = randomUUID();
    const workflowId = `deliver-${messageId}`;
    await submissions.record([{ messageId, workflowId, part: 1, parts: 1, smscMessageId }]);
    return workflowId;
  }

  const smsReceipt = (id: string) => ({
    kind: 'sms' as const,
    connector: 'us',
    externalId: id,
    event: 'DELIVRD',
    errorCode: '000',
  });

  it('a receipt that overtook its submission is delivered as soon as the mapping is written', async () => {
    // The sweep is a minute away: only the mapping's notification can deliver it in time.
    const { inbox, sink } = pipeline();
    const id = `a${Date.now().toString(16)}`;
    await inbox.record(smsReceipt(id));
    await sleep(300);
    assert.equal(sink.signals.length, 0, 'nothing to signal while the id is unknown');
    const workflowId = await mapped(id);
    const started = Date.now();
    await waitFor(() => sink.signals.length === 1, 'the waiting receipt delivered', 3000);
    assert.ok(Date.now() - started < 2000, 'woken by the notification, not by the sweep');
    assert.deepEqual(sink.signals, [{ workflowId, id, state: 'DELIVRD' }]);
  });

  it('a redelivered receipt adds no row and no signal', async () => {
    const { inbox, sink } = pipeline();
    const id = `b${Date.now().toString(16)}`;
    await mapped(id);
    assert.equal(await inbox.record(smsReceipt(id)), true);
    assert.equal(await inbox.record(smsReceipt(id)), false);
    await waitFor(() => sink.signals.length === 1, 'one signal');
    await sleep(300);
    assert.equal(sink.signals.length, 1);
  });

  it('a receipt for a finished message is marked late and not retried', async () => {
    const { inbox, sink, dispatcher } = pipeline(() => 'closed');
    const id = `c${Date.now().toString(16)}`;
    await mapped(id);
    await inbox.record(smsReceipt(id));
    await waitFor(() => dispatcher.counts.late === 1, 'the receipt marked late');
    await sleep(1500);
    assert.equal(sink.signals.length, 1, 'not retried');
    const { rows } = await testDb.db.query('SELECT status FROM receipt_inbox WHERE external_id = $1', [id]);
    assert.deepEqual(rows, [{ status: 'late' }]);
  });

  it('retries with backoff while the sink fails, until the signal lands', async () => {
    let failures = 3;
    const { inbox, sink, dispatcher } = pipeline(() => {
      if (failures-- > 0) throw new Error('temporal unavailable');
      return 'delivered';
    });
    const id = `d${Date.now().toString(16)}`;
    await mapped(id);
    await inbox.record(smsReceipt(id));
    // Backoffs of 0.5, 1 and 2 s; the rest is slack for a loaded CI machine.
    await waitFor(() => sink.signals.length === 1, 'the signal after three failures', 30_000);
    assert.equal(dispatcher.counts.retried, 3);
    const { rows } = await testDb.db.query<{ status: string; attempts: number }>(
      'SELECT status, attempts FROM receipt_inbox WHERE external_id = $1',
      [id],
    );
    assert.deepEqual(rows, [{ status: 'delivered', attempts: 4 }]);
  });

  it('a receipt leased by a dispatcher that died is taken when the lease ends, not at the sweep', async () => {
    const id = `f${Date.now().toString(16)}`;
    await mapped(id);
    await new ReceiptInbox(testDb.db).record(smsReceipt(id));
    // A dispatcher claims the row for 1.5 s and dies before it signals.
    const leased = await new ReceiptInbox(testDb.db).claimDue(1000, 1500);
    assert.ok(
      leased.some((r) => r.externalId === id),
      'the dead dispatcher held the row',
    );
    const { sink } = pipeline();
    const started = Date.now();
    await waitFor(() => sink.signals.some((s) => s.id === id), 'the receipt after the lease', 10_000);
    // The sweep is a minute away: only a wake at the row's own due time delivers it this soon.
    assert.ok(Date.now() - started < 8000, 'woken when the lease ended');
  });

  it('two dispatchers on one inbox deliver each receipt once', async () => {
    const one = pipeline();
    const two = pipeline();
    const ids = Array.from({ length: 60 }, (_, i) => `e${Date.now().toString(16)}${i}`);
    for (const id of ids) await mapped(id);
    await Promise.all(ids.map((id) => one.inbox.record(smsReceipt(id))));
    const ours = new Set(ids);
    const signalled = () => [...one.sink.signals, ...two.sink.signals].filter((s) => ours.has(s.id));
    await waitFor(() => signalled().length >= ids.length, 'every receipt signalled');
    await sleep(300);
    const all = signalled()
      .map((s) => s.id)
      .sort();
    assert.deepEqual(all, [...ids].sort(), 'each exactly once');
  });
});
