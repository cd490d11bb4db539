// The sendSms activity's per-part intent records, on a real PostgreSQL and the sandbox SMSC over
// real TCP: a retry submits only the parts the SMSC has not accepted, every SMSC id is stored
// before the activity returns, and receipts find their workflow under any spelling of the id,
// after a restart too. The activity is called directly: no Temporal needed.
import { recipientMatchHash } from '../channels/receipts/recipient-match';
import { MockActivityEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { ApplicationFailure } from '@temporalio/common';
import pino from 'pino';
import { createDeliveryActivities } from '../activities';
import type { DeliveryDeps } from '../activities';
import type { SmsSent } from '../activities/delivery';
import type { ChannelSet } from '../activities/deps';
import type { SmsGateway } from '../channels/sms/types';
import { smsInboxReceipt } from '../channels/receipts/receipt-intake';
import { receiptIdCandidates } from '../channels/sms/delivery-receipt';
import { concatReference } from '../channels/sms/segmenter';
import type { SmppGateway } from '../channels/sms/smpp-gateway';
import type { SandboxSmsc, SmscSubmit } from '../sandbox/smsc';
import { SmsSubmissions } from '../store/sms-submissions';
import type { SmsSubmissionRecord } from '../store/sms-submissions';
import { collectReceipts, gateway, smsSendInput, startSmsc, waitFor } from './channels/sms-harness';
import { recordingSink, startInboxPipeline } from './receipts/inbox-harness';
import { createTestDatabase } from './store/test-database';
import type { TestDatabase } from './store/test-database';

const TO = '+15550300001'; // the number plan delivers SMS to it
const LONG = Array.from({ length: 400 }, (_, i) => 'abcdefghij'.charAt(i % 10)).join(''); // 3 parts

const RECIPIENT_HASH = recipientMatchHash('0f'.repeat(32));

/** sendSms with real SMS deps; the rest of the delivery deps are not touched by it. */
function smsSender({
  smsGateway,
  smsSubmissions,
}: {
  smsGateway: SmsGateway;
  smsSubmissions: DeliveryDeps['smsSubmissions'];
}) {
  const activities = createDeliveryActivities({
    smsSubmissions,
    recipientHash: RECIPIENT_HASH,
    channels: { forRegion: () => ({ smsGateway }) as unknown as ChannelSet },
    rcsSends: { record: () => Promise.reject(new Error('sendSms records no RCS send')) },
    audit: { append: () => Promise.resolve([]), hasEntry: () => Promise.resolve(false) },
  });
  // The activity heartbeats, so it runs in an activity context as under a worker.
  return (message: ReturnType<typeof input>) =>
    new MockActivityEnvironment().run<[ReturnType<typeof input>], SmsSent, typeof activities.sendSms>(
      (m) => activities.sendSms(m),
      message,
    );
}

const input = (messageId = randomUUID()) => smsSendInput(TO, 'us', LONG, messageId);

/** Every submit the SMSC accepted for this message, by part number. */
function partsAtSmsc(smsc: SandboxSmsc, messageId: string): number[] {
  const ref = concatReference(messageId);
  return smsc.submits
    .filter((s) => s.concat?.ref === ref)
    .map((s) => s.concat?.seq ?? 0)
    .sort();
}

/** Injects a fault as soon as the SMSC has accepted part `after` of a concatenated message. */
function afterPart(smsc: SandboxSmsc, after: number, fault: Parameters<SandboxSmsc['inject']>[0]): void {
  const onSubmit = (s: SmscSubmit): void => {
    if (s.concat?.seq !== after) return;
    smsc.off('submit', onSubmit);
    smsc.inject(fault);
  };
  smsc.on('submit', onSubmit);
}

function isTransientFailure(err: unknown): boolean {
  return err instanceof ApplicationFailure && err.type === 'SmsTransientError' && !err.nonRetryable;
}

describe('sendSms: per-part intent records (PostgreSQL + sandbox SMSC)', function () {
  this.timeout(30_000);
  let testDb: TestDatabase;
  let submissions: SmsSubmissions;
  let smsc: SandboxSmsc;
  let port: number;
  let gw: SmppGateway;

  before(async () => {
    testDb = await createTestDatabase('switchboard_sms_intent');
    submissions = new SmsSubmissions(testDb.db);
  });
  after(() => testDb?.drop());

  beforeEach(async () => {
    ({ smsc, port } = await startSmsc());
    gw = gateway(port, { responseTimeoutMs: 500 });
    await gw.ready();
  });

  afterEach(async () => {
    await gw.close();
    await smsc.stop();
  });

  it('is created by migration 7, after the earlier SMS table', async () => {
    const { rows } = await testDb.db.query<{ id: number }>('SELECT id FROM schema_migrations ORDER BY id');
    const ids = rows.map((r) => r.id);
    assert.ok(ids.includes(2) && ids.includes(7), `applied: ${ids.join(',')}`);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
    );
  });

  it('a retry after part 3 failed transiently submits only part 3; a retry after success submits nothing', async () => {
    const sendSms = smsSender({ smsGateway: gw, smsSubmissions: submissions });
    const msg = input();
    afterPart(smsc, 2, { errorNext: 1 }); // part 3's first submit_sm is answered ESME_RSYSERR

    await assert.rejects(sendSms(msg), isTransientFailure);
    assert.equal(smsc.stats.errors, 1);
    assert.deepEqual(partsAtSmsc(smsc, msg.messageId), [1, 2]);
    const midway = await submissions.forMessage(msg.messageId);
    assert.deepEqual(
      midway.map((r) => [r.part, r.parts, r.state]),
      [
        [1, 3, 'accepted'],
        [2, 3, 'accepted'],
        [3, 3, 'submitting'],
      ],
    );

    const sent = await sendSms(msg);
    assert.deepEqual(partsAtSmsc(smsc, msg.messageId), [1, 2, 3], 'only part 3 went again');
    assert.equal(smsc.submits.length, 3);
    assert.equal(sent.smscMessageIds.length, 3);
    const atSmsc = smsc.submits.map((s) => s.smscMessageId);
    assert.deepEqual(sent.smscMessageIds, atSmsc, 'ids in part order, as the SMSC gave them');
    const msgAtSmsc = await waitFor(() => smsc.received[0], 'the reassembled message');
    assert.equal(msgAtSmsc.text, LONG, 'the handset reassembles parts 1-2 with the resent part 3');

    for (const [i, id] of sent.smscMessageIds.entries()) {
      const found = await submissions.find(receiptIdCandidates(id));
      assert.deepEqual(found, {
        connector: 'us',
        smscMessageId: id,
        messageId: msg.messageId,
        workflowId: msg.workflowId,
        part: i + 1,
        parts: 3,
      });
    }
    const done = await submissions.forMessage(msg.messageId);
    assert.ok(done.every((r) => r.state === 'accepted'));

    const again = await sendSms(msg);
    assert.deepEqual(again, sent);
    assert.equal(smsc.submits.length, 3, 'nothing submitted after full success');
    assert.equal(smsc.stats.submits, 3);
  });

  it('resubmits a part whose submit_sm was never answered (left "submitting")', async () => {
    const sendSms = smsSender({ smsGateway: gw, smsSubmissions: submissions });
    const msg = input();
    afterPart(smsc, 1, { silentNext: 1 }); // part 2 gets no answer: the response timeout fires

    await assert.rejects(sendSms(msg), isTransientFailure);
    assert.deepEqual(
      (await submissions.forMessage(msg.messageId)).map((r) => r.state),
      ['accepted', 'submitting'],
    );
    const sent = await sendSms(msg);
    assert.deepEqual(partsAtSmsc(smsc, msg.messageId), [1, 2, 3]);
    assert.equal(sent.smscMessageIds.length, 3);
  });

  it('sends a part twice only when the SMSC accepted it and its id could not be recorded', async () => {
    // The one window left (README, "Duplicate SMS"): the answer came, the worker died (here: the
    // write failed) before the id was stored. The retry cannot know, and sends part 2 again.
    let failOnce = true;
    const flaky = {
      record: async (records: SmsSubmissionRecord[]): Promise<void> => {
        if (failOnce && records.some((r) => r.state !== 'submitting' && r.part === 2)) {
          failOnce = false;
          throw new Error('database connection lost');
        }
        await submissions.record(records);
      },
      forMessage: (messageId: string) => submissions.forMessage(messageId),
    };
    const sendSms = smsSender({ smsGateway: gw, smsSubmissions: flaky });
    const msg = input();
    await assert.rejects(sendSms(msg), /database connection lost/);
    const sent = await sendSms(msg);
    assert.deepEqual(partsAtSmsc(smsc, msg.messageId), [1, 2, 2, 3], 'part 2 twice, parts 1 and 3 once');
    const part2 = smsc.submits.filter((s) => s.concat?.seq === 2).map((s) => s.smscMessageId);
    assert.equal(sent.smscMessageIds[1], part2[1], 'the workflow waits for the id that was recorded');
    assert.equal(await submissions.find(receiptIdCandidates(part2[0] as string)), null);
  });

  it('overlapping attempts on one worker send each part once', async () => {
    const slow = gateway(port, { responseTimeoutMs: 5000 });
    try {
      await slow.ready();
      const sendSms = smsSender({ smsGateway: slow, smsSubmissions: submissions });
      smsc.inject({ responseDelayMs: 100 });
      const msg = input();
      const first = sendSms(msg);
      await waitFor(() => smsc.submits.length >= 1, 'the first attempt to be under way');
      const [a, b] = await Promise.all([first, sendSms(msg)]);
      assert.deepEqual(a, b);
      assert.deepEqual(partsAtSmsc(smsc, msg.messageId), [1, 2, 3]);
    } finally {
      await slow.close();
    }
  });

  it('stores ids normalised and finds them under any spelling a receipt uses', async () => {
    const messageId = randomUUID();
    const part = { messageId, workflowId: `deliver-${messageId}`, parts: 2 };
    await submissions.record([
      { ...part, part: 1, smscMessageId: '000ABCDEF0' },
      { ...part, part: 2, smscMessageId: '0000012345' },
    ]);
    const rows = await submissions.forMessage(messageId);
    assert.deepEqual(
      rows.map((r) => r.smscMessageId),
      ['abcdef0', '12345'],
    );
    for (const spelling of ['000ABCDEF0', 'abcdef0', 'ABCDEF0', String(0xabcdef0)]) {
      assert.equal((await submissions.find(receiptIdCandidates(spelling)))?.part, 1, spelling);
    }
    // Decimal 12345 submitted, receipt in hex (0x3039) or zero-padded decimal.
    for (const spelling of ['12345', '00012345', '3039']) {
      assert.equal((await submissions.find(receiptIdCandidates(spelling)))?.part, 2, spelling);
    }
    // A row written before normalisation (as the SMSC gave it) is still found.
    await testDb.db.query(
      `INSERT INTO sms_submissions (smsc_message_id, message_id, workflow_id, part, parts)
       VALUES ('00FACE', $1, $2, 1, 1)`,
      [`legacy-${messageId}`, `deliver-legacy-${messageId}`],
    );
    assert.equal((await submissions.find(receiptIdCandidates('00FACE')))?.smscMessageId, '00FACE');
  });

  it('routes receipts to the workflow after a restart, with decimal ids in text-only receipts', async () => {
    const sendSms = smsSender({ smsGateway: gw, smsSubmissions: submissions });
    smsc.inject({ receiptDelayMs: 300, receiptIdsDecimal: true, receiptsTextOnly: true });
    const msg = input();
    const sent = await sendSms(msg);
    await gw.close(); // the worker goes away before any receipt

    const sink = recordingSink();
    // A new process: nothing in memory.
    const pipeline = startInboxPipeline({ db: testDb.db, databaseUrl: testDb.url, sink });
    try {
      gw = gateway(port);
      gw.onReceipt((r) =>
        pipeline.inbox.record(smsInboxReceipt('us', r, RECIPIENT_HASH)).then(() => undefined),
      );
      await waitFor(() => sink.signals.length >= 3, 'three delivered receipts');
    } finally {
      await pipeline.stop();
    }
    assert.ok(sink.signals.every((s) => s.workflowId === msg.workflowId));
    assert.deepEqual(sink.signals.map((s) => s.id).sort(), [...sent.smscMessageIds].sort());
  });

  it('answers a receipt for an unknown id, orphans it without logging any number or text, signals nothing', async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );
    const sink = recordingSink();
    const pipeline = startInboxPipeline({
      db: testDb.db,
      databaseUrl: testDb.url,
      sink,
      logger,
      tuning: { orphanAfterMs: 1000, sweepMs: 200 },
    });
    try {
      const receipts = collectReceipts(gw);
      gw.onReceipt((r) =>
        pipeline.inbox.record(smsInboxReceipt('us', r, RECIPIENT_HASH)).then(() => undefined),
      );
      smsc.sendReceipt('switchboard', 'feedface0', 'DELIVRD');
      await waitFor(() => pipeline.dispatcher.counts.orphaned === 1, 'the unknown id to be orphaned');
      assert.equal(sink.signals.length, 0);
      assert.equal(smsc.stats.receiptsAcked, 1, 'deliver_sm_resp sent');
      assert.equal(receipts.length, 1);
      const { rows } = await testDb.db.query<{ status: string }>(
        `SELECT status FROM receipt_inbox WHERE external_id = 'feedface0'`,
      );
      assert.deepEqual(rows, [{ status: 'orphaned' }]);
    } finally {
      await pipeline.stop();
    }
    const logged = lines.join('');
    assert.match(logged, /orphaned receipt: no message has its id/);
    assert.doesNotMatch(logged, /15550000000|sandbox/, 'neither the handset nor the sender is logged');
  });
});
