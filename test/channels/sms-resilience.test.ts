// The gateway under SMSC faults (stage 2): lost sockets mid-batch, throttle storms, odd receipts,
// and volume with receipts out of order. Counts are taken at the SMSC.
import assert from 'node:assert/strict';
import type { SmppGateway } from '../../channels/sms/smpp-gateway';
import type { SandboxSmsc } from '../../sandbox/smsc';
import { collectReceipts, gateway, startSmsc, waitFor } from './sms-harness';

const TO = '+15550300001';

function batch(gw: SmppGateway, n: number, prefix: string) {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      gw.submit({ messageId: `${prefix}-${i}`, to: TO, text: `${prefix} message ${i}` }),
    ),
  );
}

function countByText(smsc: SandboxSmsc): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of smsc.received) counts.set(m.text, (counts.get(m.text) ?? 0) + 1);
  return counts;
}

describe('SmppGateway under SMSC faults', function () {
  this.timeout(60_000);
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

  it('completes a 50-message batch across a dropped connection: nothing lost, nothing sent twice', async () => {
    const receipts = collectReceipts(gw);
    smsc.inject({ dropAfterSubmits: 20 });
    const results = await batch(gw, 50, 'drop');
    assert.equal(smsc.stats.drops, 1);
    assert.ok(smsc.stats.binds >= 2, 'the gateway rebound on a new session');
    const counts = countByText(smsc);
    assert.equal(counts.size, 50, 'every message reached the SMSC');
    assert.ok(
      [...counts.values()].every((c) => c === 1),
      'no message reached it twice',
    );
    assert.equal(smsc.submits.length, 50);
    const ids = new Set(results.flatMap((r) => r.smscMessageIds));
    await waitFor(() => receipts.filter((r) => ids.has(r.smscMessageId)).length >= 50, '50 receipts');
  });

  it('survives an abrupt kill of every socket mid-batch: nothing lost (in-flight parts may repeat)', async () => {
    const receipts = collectReceipts(gw);
    const done = batch(gw, 50, 'kill');
    await waitFor(() => smsc.submits.length >= 15, '15 submits before the kill');
    assert.equal(smsc.killConnections(), 1);
    const results = await done;
    const counts = countByText(smsc);
    assert.equal(counts.size, 50, 'every message reached the SMSC');
    const repeats = [...counts.values()].reduce((a, c) => a + c - 1, 0);
    // Only submits in flight at the kill are ambiguous, and at most a window of them is in flight.
    assert.ok(repeats <= 10, `${repeats} repeats`);
    const ids = new Set(results.flatMap((r) => r.smscMessageIds));
    await waitFor(
      () => new Set(receipts.map((r) => r.smscMessageId).filter((id) => ids.has(id))).size === 50,
      'receipts',
    );
  });

  it('rides out a throttle storm: shrinks its window, backs off, and every message gets through', async () => {
    smsc.inject({ throttleNext: 40 });
    const results = await batch(gw, 50, 'storm');
    assert.equal(results.length, 50);
    assert.equal(smsc.stats.throttled, 40);
    assert.equal(countByText(smsc).size, 50);
  });

  it('answers a receipt for an unknown id and carries on', async () => {
    const receipts = collectReceipts(gw);
    smsc.sendReceipt('switchboard', 'deadbeef', 'DELIVRD');
    await waitFor(() => smsc.stats.receiptsAcked === 1, 'deliver_sm_resp for the stray receipt');
    assert.equal(receipts[0]?.smscMessageId, 'deadbeef');
    const r = await gw.submit({ messageId: 'after-stray', to: TO, text: 'still fine' });
    await waitFor(() => receipts.some((x) => x.smscMessageId === r.smscMessageIds[0]), 'the next receipt');
  });

  it('refuses a receipt while nothing on this gateway can store it, and takes it when something can', async () => {
    // A process whose binds receive receipts before its handler is in place would otherwise
    // acknowledge them into nowhere (the chaos runs' lost receipts: the page's bind took them).
    smsc.sendReceipt('switchboard', 'cafe01', 'DELIVRD');
    await waitFor(() => smsc.stats.receiptsRefused >= 1, 'the receipt refused');
    assert.equal(smsc.stats.receiptsAcked, 0, 'not acknowledged');
    const receipts = collectReceipts(gw);
    await waitFor(() => receipts.length === 1, 'offered again and taken', 5000);
    assert.equal(receipts[0]?.smscMessageId, 'cafe01');
    // The deliver_sm_resp follows the handler: the SMSC counts it once it has read it.
    await waitFor(() => smsc.stats.receiptsAcked === 1, 'the receipt acknowledged');
  });

  it('matches 500 messages to receipts arriving out of order', async () => {
    const receipts = collectReceipts(gw);
    smsc.inject({ receiptJitterMs: 300 });
    const results = await batch(gw, 500, 'bulk');
    const submitted = results.map((r) => r.smscMessageIds[0] as string);
    assert.equal(new Set(submitted).size, 500, 'unique SMSC ids');
    await waitFor(() => receipts.length >= 500, '500 receipts', 20_000);
    const got = receipts.map((r) => r.smscMessageId);
    assert.deepEqual([...got].sort(), [...submitted].sort(), 'each receipt under its submit id, once');
    assert.notDeepEqual(got, submitted, 'receipts really did arrive out of order');
    assert.ok(receipts.every((r) => r.state === 'DELIVRD'));
  });

  it('reads receipts that come only in text form', async () => {
    const receipts = collectReceipts(gw);
    smsc.inject({ receiptsTextOnly: true });
    const ok = await gw.submit({ messageId: 't-ok', to: TO, text: 'text only' });
    const ko = await gw.submit({ messageId: 't-ko', to: '+15550700001', text: 'text only' });
    await waitFor(() => receipts.length >= 2, 'two receipts');
    const state = (id: string | undefined) => receipts.find((r) => r.smscMessageId === id)?.state;
    assert.equal(state(ok.smscMessageIds[0]), 'DELIVRD');
    assert.equal(state(ko.smscMessageIds[0]), 'UNDELIV');
  });

  it('answers duplicated receipts and reports both (deduplication is the router’s job)', async () => {
    const receipts = collectReceipts(gw);
    smsc.inject({ duplicateReceipts: true });
    const r = await gw.submit({ messageId: 'dup', to: TO, text: 'twice' });
    await waitFor(() => smsc.stats.receiptsAcked === 2, 'both copies answered');
    await waitFor(() => receipts.length === 2, 'both copies reported');
    assert.ok(receipts.every((x) => x.smscMessageId === r.smscMessageIds[0]));
  });

  it('maps decimal receipt ids back to the hex id submit_sm_resp gave', async () => {
    const receipts = collectReceipts(gw);
    smsc.inject({ receiptIdsDecimal: true });
    const r = await gw.submit({ messageId: 'dec', to: TO, text: 'decimal' });
    await waitFor(() => receipts.length === 1, 'the receipt');
    assert.equal(receipts[0]?.smscMessageId, r.smscMessageIds[0]);
  });

  it('decodes receipted_message_id by its TLV length when the SMSC omits the NUL', async () => {
    const receipts = collectReceipts(gw);
    smsc.inject({ receiptIdWithoutNul: true });
    const r = await gw.submit({ messageId: 'nonul', to: TO, text: 'no nul' });
    await waitFor(() => receipts.length === 1, 'the receipt');
    assert.equal(receipts[0]?.smscMessageId, r.smscMessageIds[0]);
  });

  it('keeps receipts while no receiver is bound and delivers them after the rebind', async () => {
    const receipts = collectReceipts(gw);
    smsc.inject({ receiptDelayMs: 200 });
    const r = await gw.submit({ messageId: 'later', to: TO, text: 'queued receipt' });
    smsc.killConnections();
    await waitFor(
      () => receipts.some((x) => x.smscMessageId === r.smscMessageIds[0]),
      'the receipt after rebind',
    );
  });

  it('answers the SMSC’s enquire_link', async () => {
    assert.equal(await smsc.enquireLinkAll(), 1);
  });

  it('drops and rebinds a link whose enquire_link goes unanswered', async () => {
    const watchful = gateway(port, { enquireLinkMs: 100, responseTimeoutMs: 150 });
    try {
      await watchful.ready();
      const binds = smsc.stats.binds;
      smsc.inject({ ignoreEnquireLink: true });
      await waitFor(() => smsc.stats.binds > binds, 'a rebind after the unanswered enquire_link');
      smsc.resetFaults();
      const r = await watchful.submit({ messageId: 'after-wedge', to: TO, text: 'alive again' });
      assert.equal(r.smscMessageIds.length, 1);
    } finally {
      await watchful.close();
    }
  });

  it('can bind a transmitter and a receiver separately', async () => {
    await gw.close(); // else the SMSC may hand our receipt to that transceiver of the same system_id
    const split = gateway(port, { bindMode: 'separate' });
    try {
      const receipts = collectReceipts(split);
      await split.ready();
      await waitFor(() => smsc.boundSessions === 2, 'tx and rx bound');
      const r = await split.submit({ messageId: 'split', to: TO, text: 'two binds' });
      await waitFor(() => receipts.some((x) => x.smscMessageId === r.smscMessageIds[0]), 'the receipt on rx');
    } finally {
      await split.close();
    }
  });

  it('limits submit_sm per second, each part counting', async () => {
    const slow = gateway(port, { ratePerSecond: 50 });
    try {
      await slow.ready();
      const started = Date.now();
      await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          slow.submit({ messageId: `rate-${i}`, to: TO, text: 'y'.repeat(400) }),
        ),
      );
      // 15 parts at 50/s: the first goes at once, the other 14 are 20 ms apart.
      assert.ok(Date.now() - started >= 270, `${Date.now() - started} ms`);
    } finally {
      await slow.close();
    }
  });
});
