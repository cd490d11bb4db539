// Gaps of issue 3's list that the other SMS suites leave open, over real TCP against the sandbox
// SMSC: the send window's limit and its shrinking and growing, an unbind from the SMSC,
// ESME_RMSGQFUL that clears, error statuses mapped to our two types, message_payload, and the
// per-part submit options (skipped parts, hooks) that the sendSms activity builds on.
import assert from 'node:assert/strict';
import { SmsPermanentError, SmsTransientError } from '../../channels/sms/errors';
import { concatReference } from '../../channels/sms/segmenter';
import type { SmppGateway } from '../../channels/sms/smpp-gateway';
import type { SmsPartRef } from '../../channels/sms/types';
import type { SandboxSmsc, SmscSubmit } from '../../sandbox/smsc';
import { collectReceipts, gateway, startSmsc, waitFor } from './sms-harness';

const TO = '+15550300001';
const LONG = Array.from({ length: 400 }, (_, i) => 'abcdefghij'.charAt(i % 10)).join(''); // 3 parts

describe('SmppGateway flow control and submit options', function () {
  this.timeout(30_000);
  let smsc: SandboxSmsc;
  let port: number;
  let gw: SmppGateway;

  beforeEach(async () => {
    ({ smsc, port } = await startSmsc());
    gw = gateway(port);
    await gw.ready();
  });

  afterEach(async () => {
    await gw.close();
    await smsc.stop();
  });

  describe('send window', () => {
    it('never has more submit_sm outstanding than its window', async () => {
      const narrow = gateway(port, { windowSize: 3 });
      try {
        await narrow.ready();
        smsc.inject({ responseDelayMs: 40 });
        await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            narrow.submit({ messageId: `w-${i}`, to: TO, text: `w ${i}` }),
          ),
        );
        assert.equal(smsc.stats.maxUnanswered, 3, 'the window is full, and never more');
        assert.equal(smsc.submits.length, 12);
      } finally {
        await narrow.close();
      }
    });

    it('halves after ESME_RTHROTTLED and grows back by one per window of accepted submits', async () => {
      const wide = gateway(port, { windowSize: 8 });
      try {
        await wide.ready();
        assert.equal(wide.sendWindow.size, 8);
        smsc.inject({ throttleNext: 1 });
        await wide.submit({ messageId: 'shrink', to: TO, text: 'throttled once' });
        assert.equal(wide.sendWindow.size, 4);
        // 4 + 5 + 6 + 7 accepted submits at sizes 4..7 (the resubmitted one counted) bring it back to 8.
        for (let i = 0; i < 26; i++) await wide.submit({ messageId: `grow-${i}`, to: TO, text: 'ok' });
        assert.equal(wide.sendWindow.size, 8);
        assert.equal(wide.sendWindow.outstanding, 0);
      } finally {
        await wide.close();
      }
    });
  });

  it('answers an unbind from the SMSC, rebinds, and sends on the new bind', async () => {
    const receipts = collectReceipts(gw);
    const binds = smsc.stats.binds;
    assert.equal(await smsc.unbindAll(), 1, 'unbind_resp came back');
    await waitFor(() => smsc.stats.binds > binds && gw.bound, 'the rebind');
    const r = await gw.submit({ messageId: 'after-unbind', to: TO, text: 'rebound' });
    await waitFor(() => receipts.some((x) => x.smscMessageId === r.smscMessageIds[0]), 'its receipt');
  });

  it('retries ESME_RMSGQFUL after a longer pause and succeeds when the queue drains', async () => {
    smsc.inject({ queueFullNext: 2 });
    const started = Date.now();
    const r = await gw.submit({ messageId: 'qf', to: TO, text: 'queue full twice' });
    assert.equal(r.smscMessageIds.length, 1);
    assert.equal(smsc.stats.queueFull, 2);
    assert.ok(Date.now() - started >= 40 + 80, 'backed off 40 ms, then 80 ms');
    assert.equal(smsc.received.length, 1);
  });

  it('maps refusals: ESME_RSYSERR is transient and not retried inside, ESME_RINVDSTADR permanent', async () => {
    smsc.inject({ errorNext: 1 });
    await assert.rejects(
      gw.submit({ messageId: 'syserr', to: TO, text: 'x' }),
      (e: unknown) => e instanceof SmsTransientError && e.code === 'ESME_RSYSERR',
    );
    assert.equal(smsc.stats.errors, 1);
    smsc.inject({ errorNext: 1, errorStatus: 0x0b });
    await assert.rejects(
      gw.submit({ messageId: 'baddst', to: TO, text: 'x' }),
      (e: unknown) => e instanceof SmsPermanentError && e.code === 'ESME_RINVDSTADR',
    );
    smsc.inject({ errorNext: 1, errorStatus: 0x4242 });
    await assert.rejects(
      gw.submit({ messageId: 'unknown-status', to: TO, text: 'x' }),
      (e: unknown) => e instanceof SmsPermanentError && e.code === '0x00004242',
    );
    assert.equal(smsc.submits.length, 0);
  });

  it('sends a long text as one message_payload when configured (one PDU against the rate)', async () => {
    const payload = gateway(port, { longMessages: 'payload' });
    try {
      const r = await payload.submit({ messageId: 'mp', to: TO, text: LONG });
      assert.equal(r.smscMessageIds.length, 1);
      const msg = await waitFor(() => smsc.received[0], 'the message');
      assert.equal(msg.text, LONG);
      assert.equal(msg.parts, 1);
      assert.equal(smsc.submits[0]?.esmClass, 0, 'no UDH');
    } finally {
      await payload.close();
    }
  });

  describe('submit options', () => {
    it('skips parts accepted earlier and reports which parts it sent', async () => {
      const r = await gw.submit(
        { messageId: 'skip', to: TO, text: LONG },
        { alreadyAccepted: { parts: 3, smscMessageIds: new Map([[1, 'earlier-1']]) } },
      );
      assert.deepEqual(r.submittedParts, [2, 3]);
      assert.equal(r.smscMessageIds[0], 'earlier-1');
      assert.deepEqual(
        r.smscMessageIds.slice(1),
        smsc.submits.map((s) => s.smscMessageId),
      );
      assert.deepEqual(
        smsc.submits.map((s) => s.concat),
        [
          { ref: concatReference('skip'), total: 3, seq: 2 },
          { ref: concatReference('skip'), total: 3, seq: 3 },
        ],
      );
    });

    it('sends every part again when the earlier attempt split the text differently', async () => {
      const r = await gw.submit(
        { messageId: 'resplit', to: TO, text: LONG },
        { alreadyAccepted: { parts: 2, smscMessageIds: new Map([[1, 'x']]) } },
      );
      assert.deepEqual(r.submittedParts, [1, 2, 3]);
      assert.equal(smsc.submits.length, 3);
    });

    it('records the intent before each part reaches the SMSC and the id before the next part', async () => {
      const trace: string[] = [];
      smsc.on('submit', (s: SmscSubmit) => trace.push(`smsc ${s.concat?.seq}`));
      const r = await gw.submit(
        { messageId: 'hooks', to: TO, text: LONG },
        {
          onPartSubmitting: async (ref: SmsPartRef) => {
            await new Promise((resolve) => setTimeout(resolve, 5));
            trace.push(`intent ${ref.part}/${ref.parts}`);
          },
          onPartAccepted: async (ref, id) => {
            await new Promise((resolve) => setTimeout(resolve, 5));
            trace.push(`accepted ${ref.part} ${id === smsc.submits[ref.part - 1]?.smscMessageId}`);
          },
        },
      );
      assert.deepEqual(trace, [
        'intent 1/3',
        'smsc 1',
        'accepted 1 true',
        'intent 2/3',
        'smsc 2',
        'accepted 2 true',
        'intent 3/3',
        'smsc 3',
        'accepted 3 true',
      ]);
      assert.deepEqual(r.submittedParts, [1, 2, 3]);
    });

    it('sends nothing when the intent cannot be recorded', async () => {
      await assert.rejects(
        gw.submit(
          { messageId: 'no-intent', to: TO, text: 'hello' },
          { onPartSubmitting: () => Promise.reject(new Error('database down')) },
        ),
        /database down/,
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(smsc.stats.submits, 0);
    });

    it('two submits of the same message at once put each part on the wire once', async () => {
      smsc.inject({ responseDelayMs: 50 });
      const [a, b] = await Promise.all([
        gw.submit({ messageId: 'twice', to: TO, text: LONG }),
        gw.submit({ messageId: 'twice', to: TO, text: LONG }),
      ]);
      assert.deepEqual(a.smscMessageIds, b.smscMessageIds);
      assert.equal(smsc.submits.length, 3);
    });
  });
});
