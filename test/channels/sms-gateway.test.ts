// SmppGateway against the sandbox SMSC over real TCP: encodings, concatenation, receipts, bind
// failures and flow control (stage 1).
import assert from 'node:assert/strict';
import { SmsPermanentError, SmsTransientError } from '../../channels/sms/errors';
import { concatReference } from '../../channels/sms/segmenter';
import type { SmppGateway } from '../../channels/sms/smpp-gateway';
import type { SandboxSmsc } from '../../sandbox/smsc';
import { collectReceipts, gateway, startSmsc, waitFor } from './sms-harness';

describe('SmppGateway with the sandbox SMSC', () => {
  let smsc: SandboxSmsc;
  let port: number;
  let gw: SmppGateway;

  beforeEach(async () => {
    ({ smsc, port } = await startSmsc());
    gw = gateway(port);
  });

  afterEach(async () => {
    await gw.close();
    await smsc.stop();
  });

  it('sends GSM 03.38 text with @ _ $ € { } unchanged, data_coding 0x00', async () => {
    const text = 'Pay @ 10:00 _ref_ $5 or 4€ {ok} [x] ~|^\\';
    const result = await gw.submit({ messageId: 'm-gsm', to: '+15550300001', text });
    assert.equal(result.encoding, 'gsm7');
    assert.equal(result.smscMessageIds.length, 1);
    const msg = await waitFor(() => smsc.received[0], 'the SMSC to receive the message');
    assert.equal(msg.text, text);
    assert.equal(msg.dataCoding, 0x00);
    assert.equal(msg.parts, 1);
    assert.equal(msg.destination, '+15550300001');
    assert.deepEqual(msg.smscMessageIds, result.smscMessageIds);
  });

  it('sends text outside GSM 03.38 as UCS-2 (data_coding 0x08)', async () => {
    const text = 'ça va? 你好';
    const result = await gw.submit({ messageId: 'm-ucs2', to: '+15550300001', text });
    assert.equal(result.encoding, 'ucs2');
    const msg = await waitFor(() => smsc.received[0], 'the SMSC to receive the message');
    assert.equal(msg.text, text);
    assert.equal(msg.dataCoding, 0x08);
  });

  it('splits a 400-character GSM text into 3 parts with one UDH reference, reassembled by the SMSC', async () => {
    const text = Array.from({ length: 400 }, (_, i) => 'abcdefghi€'.charAt(i % 10)).join('');
    const result = await gw.submit({ messageId: 'm-long', to: '+15550300001', text });
    assert.equal(result.smscMessageIds.length, 3);
    const msg = await waitFor(() => smsc.received[0], 'the reassembled message');
    assert.equal(msg.text, text);
    assert.equal(msg.parts, 3);
    assert.equal(msg.concatRef, concatReference('m-long'));
    assert.deepEqual(msg.smscMessageIds, result.smscMessageIds, 'ids in part order');
    for (const [i, part] of smsc.submits.entries()) {
      assert.equal(part.esmClass & 0x40, 0x40, 'UDH indicator');
      assert.deepEqual(part.concat, { ref: concatReference('m-long'), total: 3, seq: i + 1 });
    }
  });

  it('splits a long UCS-2 text without breaking surrogate pairs', async () => {
    const text = 'ok 😀 '.repeat(30);
    const result = await gw.submit({ messageId: 'm-emoji', to: '+15550300001', text });
    assert.equal(result.encoding, 'ucs2');
    const msg = await waitFor(() => smsc.received[0], 'the reassembled message');
    assert.equal(msg.text, text);
    assert.equal(msg.parts, result.smscMessageIds.length);
    assert.ok(
      smsc.submits.every((p) => !p.text.includes('\ufffd')),
      'no part decodes to a replacement char',
    );
  });

  it('reports DELIVRD and UNDELIV receipts per the number plan, under the submit ids', async () => {
    const receipts = collectReceipts(gw);
    const ok = await gw.submit({ messageId: 'm-ok', to: '+15550300001', text: 'hello' });
    const ko = await gw.submit({ messageId: 'm-ko', to: '+15550700001', text: 'hello' });
    await waitFor(() => receipts.length >= 2, 'two receipts');
    const byId = new Map(receipts.map((r) => [r.smscMessageId, r]));
    assert.equal(byId.get(ok.smscMessageIds[0] as string)?.state, 'DELIVRD');
    assert.equal(byId.get(ko.smscMessageIds[0] as string)?.state, 'UNDELIV');
    assert.equal(byId.get(ko.smscMessageIds[0] as string)?.errorCode, '001');
    await waitFor(() => smsc.stats.receiptsAcked === 2, 'deliver_sm_resp for both receipts');
  });

  it('gives one receipt per part of a concatenated message', async () => {
    const receipts = collectReceipts(gw);
    const result = await gw.submit({ messageId: 'm-parts', to: '+15550300001', text: 'x'.repeat(200) });
    await waitFor(() => receipts.length >= 2, 'two receipts');
    assert.deepEqual(receipts.map((r) => r.smscMessageId).sort(), [...result.smscMessageIds].sort());
  });

  it('acknowledges a receipt only once its handlers took it: a refusal is answered 0x64 and redelivered', async () => {
    let refusals = 2;
    const taken: string[] = [];
    gw.onReceipt((r) => {
      if (refusals-- > 0) return Promise.reject(new Error('inbox unavailable'));
      taken.push(r.smscMessageId);
      return Promise.resolve();
    });
    const sent = await gw.submit({ messageId: 'm-1', to: '+15550300001', text: 'one' });
    await waitFor(() => smsc.stats.receiptsAcked === 1, 'the receipt acknowledged at last');
    assert.equal(smsc.stats.receiptsRefused, 2, 'answered ESME_RX_T_APPN twice');
    assert.equal(smsc.stats.receiptsSent, 3, 'sent again after each refusal');
    assert.deepEqual(taken, sent.smscMessageIds);
  });

  it('fails with SmsPermanentError when the SMSC refuses the password', async () => {
    const bad = gateway(port, { password: 'wrong' });
    try {
      await assert.rejects(
        bad.ready(),
        (e: unknown) => e instanceof SmsPermanentError && e.code === 'ESME_RBINDFAIL',
      );
      await assert.rejects(
        bad.submit({ messageId: 'm-bad', to: '+15550300001', text: 'hi' }),
        (e: unknown) => e instanceof SmsPermanentError && e.code === 'ESME_RBINDFAIL',
      );
      assert.equal(smsc.received.length, 0);
    } finally {
      await bad.close();
    }
  });

  it('rejects an invalid destination with SmsPermanentError', async () => {
    await assert.rejects(
      gw.submit({ messageId: 'm-dst', to: 'not-a-number', text: 'hi' }),
      (e: unknown) => e instanceof SmsPermanentError && e.code === 'ESME_RINVDSTADR',
    );
  });

  it('backs off and resubmits after ESME_RTHROTTLED, then succeeds', async () => {
    smsc.inject({ throttleNext: 2 });
    const result = await gw.submit({ messageId: 'm-thr', to: '+15550300001', text: 'slow down' });
    assert.equal(result.smscMessageIds.length, 1);
    assert.equal(smsc.stats.throttled, 2);
    assert.equal(smsc.received.length, 1);
  });

  it('backs off after ESME_RMSGQFUL and gives up with SmsTransientError after its retries', async () => {
    smsc.inject({ queueFullNext: 100 });
    const small = gateway(port, { throttleRetries: 2, queueFullBackoffMs: 10 });
    try {
      await assert.rejects(
        small.submit({ messageId: 'm-qf', to: '+15550300001', text: 'full' }),
        (e: unknown) => e instanceof SmsTransientError && e.code === 'ESME_RMSGQFUL',
      );
      assert.equal(smsc.stats.queueFull, 3, 'first try + 2 retries');
    } finally {
      await small.close();
    }
  });

  it('times out a submit_sm that is never answered with SmsTransientError(timeout)', async () => {
    await gw.ready();
    const quick = gateway(port, { responseTimeoutMs: 200 });
    try {
      await quick.ready();
      smsc.inject({ silentNext: 1 });
      await assert.rejects(
        quick.submit({ messageId: 'm-silent', to: '+15550300001', text: 'hello?' }),
        (e: unknown) => e instanceof SmsTransientError && e.code === 'timeout',
      );
    } finally {
      await quick.close();
    }
  });

  it('waits for a bind up to submitTimeoutMs, then fails with SmsTransientError(timeout)', async () => {
    await smsc.stop();
    const nowhere = gateway(port, { submitTimeoutMs: 300 });
    try {
      const started = Date.now();
      await assert.rejects(
        nowhere.submit({ messageId: 'm-down', to: '+15550300001', text: 'hi' }),
        (e: unknown) => e instanceof SmsTransientError && e.code === 'timeout',
      );
      assert.ok(Date.now() - started >= 250);
    } finally {
      await nowhere.close();
    }
  });

  it('submits made before the bind completes wait for it', async () => {
    const fresh = gateway(port);
    try {
      assert.equal(fresh.bound, false);
      const r = await fresh.submit({ messageId: 'm-early', to: '+15550300001', text: 'early' });
      assert.equal(r.smscMessageIds.length, 1);
    } finally {
      await fresh.close();
    }
  });

  it('close() unbinds: the SMSC sees the session go and later submits fail fast', async () => {
    await gw.ready();
    assert.equal(smsc.boundSessions, 1);
    await gw.close();
    assert.equal(smsc.stats.unbinds, 1);
    await waitFor(() => smsc.boundSessions === 0, 'the SMSC to drop the session');
    await assert.rejects(
      gw.submit({ messageId: 'm-late', to: '+15550300001', text: 'late' }),
      (e: unknown) => e instanceof SmsTransientError && e.code === 'closed',
    );
  });
});
