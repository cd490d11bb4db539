// SMSC ids are not unique: an SMSC reuses them after a rebind, and two SMSCs hand out the same
// ones. A receipt is matched on its connector, its id and its number, to the newest part still
// waiting for a final receipt, and never completes a message it does not belong to. On a real
// PostgreSQL, with the sandbox SMSCs over real TCP for the end-to-end case.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createDeliveryActivities } from '../../activities';
import type { SmsSent } from '../../activities/delivery';
import type { ChannelSet } from '../../activities/deps';
import { smsInboxReceipt } from '../../channels/receipts/receipt-intake';
import { recipientMatchHash } from '../../channels/receipts/recipient-match';
import type { SmppGateway } from '../../channels/sms/smpp-gateway';
import type { SandboxSmsc } from '../../sandbox/smsc';
import { ReceiptInbox } from '../../store/receipt-inbox';
import { SmsSubmissions } from '../../store/sms-submissions';
import { gateway, smsSendInput, startSmsc, waitFor } from '../channels/sms-harness';
import { createTestDatabase } from '../store/test-database';
import type { TestDatabase } from '../store/test-database';
import { recordingSink, startInboxPipeline } from './inbox-harness';

const hash = recipientMatchHash('2a'.repeat(32));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('receipts matched on connector, SMSC id and number', function () {
  this.timeout(30_000);
  let testDb: TestDatabase;
  let submissions: SmsSubmissions;
  let inbox: ReceiptInbox;
  const open: Array<() => Promise<void>> = [];

  before(async () => {
    testDb = await createTestDatabase('switchboard_receipt_matching');
    submissions = new SmsSubmissions(testDb.db);
    inbox = new ReceiptInbox(testDb.db);
  });
  afterEach(async () => {
    for (const stop of open.splice(0)) await stop();
  });
  after(() => testDb?.drop());

  const pipeline = (tuning = {}) => {
    const sink = recordingSink();
    const p = startInboxPipeline({ db: testDb.db, databaseUrl: testDb.url, sink, tuning });
    open.push(() => p.stop());
    return { ...p, sink };
  };

  /** One accepted single-part SMS, as sendSms records it. */
  async function submitted(connector: string, smscMessageId: string, to: string): Promise<string> {
    const messageId = randomUUID();
    const workflowId = `deliver-${messageId}`;
    await submissions.record([
      { messageId, workflowId, part: 1, parts: 1, smscMessageId, connector, recipientHash: hash(to) },
    ]);
    return workflowId;
  }

  const receipt = (connector: string, id: string, handset: string | null, state = 'DELIVRD') =>
    inbox.record(
      smsInboxReceipt(
        connector,
        { smscMessageId: id, handset, state: state as 'DELIVRD', errorCode: null },
        hash,
      ),
    );

  it('two connectors with the same id: each receipt goes to the message sent through its own SMSC', async () => {
    const us = await submitted('us', 'a1', '+15550300101');
    const eu = await submitted('eu', 'a1', '+447700900101');
    const { sink } = pipeline();
    await receipt('eu', 'a1', '447700900101');
    await receipt('us', 'a1', '15550300101');
    await waitFor(() => sink.signals.length === 2, 'both receipts');
    assert.deepEqual(sink.signals.map((s) => s.workflowId).sort(), [eu, us].sort());
  });

  it('an id reused for another number: each receipt goes to its own number’s message, in any order', async () => {
    const older = await submitted('us', 'b1', '+15550300102');
    const newer = await submitted('us', 'b1', '+15550300103');
    const { sink } = pipeline();
    await receipt('us', 'b1', '15550300102');
    await receipt('us', 'b1', '15550300103');
    await waitFor(() => sink.signals.length === 2, 'both receipts');
    const byWorkflow = new Map(sink.signals.map((s) => [s.workflowId, s]));
    assert.ok(byWorkflow.has(older) && byWorkflow.has(newer), 'one receipt each');
  });

  it('an id reused for the same number: a final receipt goes to the newest part still waiting; one with nothing waiting waits for a newer submission', async () => {
    const to = '+15550300104';
    const first = await submitted('us', 'c1', to);
    const { sink, dispatcher } = pipeline();
    await receipt('us', 'c1', '15550300104', 'DELIVRD');
    await waitFor(() => sink.signals.length === 1, 'the first receipt');
    assert.equal(sink.signals[0]?.workflowId, first);
    // The same id and number again, before the SMSC reused it: the only match has its final receipt.
    await receipt('us', 'c1', '15550300104', 'UNDELIV');
    await sleep(500);
    assert.equal(sink.signals.length, 1, 'never to the finished part');
    const second = await submitted('us', 'c1', to);
    await waitFor(() => sink.signals.length === 2, 'claimed by the newer submission');
    assert.deepEqual(sink.signals[1], { workflowId: second, id: 'c1', state: 'UNDELIV' });
    assert.equal(dispatcher.counts.orphaned, 0);
  });

  it('a receipt whose number matches no submission of its id completes nothing and is orphaned', async () => {
    await submitted('us', 'd1', '+15550300105');
    const { sink, dispatcher } = pipeline({ orphanAfterMs: 1000, sweepMs: 200 });
    await receipt('us', 'd1', '15550300999');
    await waitFor(() => dispatcher.counts.orphaned === 1, 'orphaned');
    assert.equal(sink.signals.length, 0);
  });

  describe('over SMPP: an SMSC that counts its ids from 1 on every bind, and a second SMSC doing the same', () => {
    let us: { smsc: SandboxSmsc; port: number };
    let eu: { smsc: SandboxSmsc; port: number };
    let gateways: Record<string, SmppGateway>;

    beforeEach(async () => {
      us = await startSmsc();
      eu = await startSmsc();
      gateways = { us: gateway(us.port), eu: gateway(eu.port) };
      await Promise.all(Object.values(gateways).map((g) => g.ready()));
    });
    afterEach(async () => {
      await Promise.all(Object.values(gateways).map((g) => g.close()));
      await us.smsc.stop();
      await eu.smsc.stop();
    });

    it('every message gets its own receipt', async () => {
      const activities = createDeliveryActivities({
        smsSubmissions: submissions,
        recipientHash: hash,
        channels: { forRegion: (r: string) => ({ smsGateway: gateways[r] }) as unknown as ChannelSet },
        rcsSends: { record: () => Promise.reject(new Error('no RCS here')) },
        audit: { append: () => Promise.resolve([]), hasEntry: () => Promise.resolve(false) },
      });
      const send = (to: string, region: string) => {
        const input = smsSendInput(to, region, 'hello');
        return new MockActivityEnvironment()
          .run<[typeof input], SmsSent, typeof activities.sendSms>((m) => activities.sendSms(m), input)
          .then((sent) => ({ workflowId: input.workflowId, sent }));
      };
      const { sink } = pipeline();
      for (const [region, g] of Object.entries(gateways))
        g.onReceipt((r) => inbox.record(smsInboxReceipt(region, r, hash)).then(() => undefined));
      // Receipts come late, after the rebind: the first message's id is handed out again by then.
      for (const { smsc } of [us, eu]) smsc.inject({ idsRestartOnBind: true, receiptDelayMs: 1500 });
      us.smsc.inject({ dropAfterSubmits: 1 });
      const first = await send('+15550300201', 'us');
      await waitFor(() => gateways.us?.bound === true && us.smsc.stats.binds >= 2, 'the rebind');
      const second = await send('+15550300202', 'us');
      const third = await send('+15550300203', 'eu');
      const ids = [first, second, third].map((m) => m.sent.smscMessageIds[0]);
      assert.deepEqual(ids, ['1', '1', '1'], 'the SMSCs handed out one id three times');
      await waitFor(() => sink.signals.length >= 3, 'three receipts', 15_000);
      await sleep(300);
      assert.deepEqual(
        sink.signals.map((s) => s.workflowId).sort(),
        [first, second, third].map((m) => m.workflowId).sort(),
        'each message its own receipt, none twice',
      );
    });
  });
});
