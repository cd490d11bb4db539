// One malformed PDU from the SMSC. `smpp` 0.5.1 stops reading that socket for good when it cannot
// parse a PDU (it emits 'error' and stays busy; a command_length of 1..4 stops it without even
// that), while the socket stays open: the link must drop the session and rebind, not sit bound
// behind a dead reader while its submits time out. Counts are taken at the sandbox SMSC.
import assert from 'node:assert/strict';
import { SmsTransientError } from '../../channels/sms/errors';
import type { SmppGateway } from '../../channels/sms/smpp-gateway';
import { smpp } from '../../channels/sms/smpp-lib';
import type { SandboxSmsc } from '../../sandbox/smsc';
import { gateway, startSmsc, waitFor } from '../channels/sms-harness';

const TO = '+15550300001';
const DELIVER_SM = 0x00000005;
const MESSAGE_STATE_TLV = 0x0427;

function header(commandLength: number, bytes = 16): Buffer {
  const b = Buffer.alloc(bytes);
  b.writeUInt32BE(commandLength, 0);
  if (bytes >= 8) b.writeUInt32BE(DELIVER_SM, 4);
  if (bytes >= 16) b.writeUInt32BE(4242, 12);
  return b;
}

/** A well-formed deliver_sm with a message_state TLV header whose one value byte is missing. */
function deliverSmWithTruncatedTlv(): Buffer {
  const pdu = new smpp.PDU('deliver_sm', {
    sequence_number: 4243,
    source_addr: '15550300001',
    destination_addr: 'Switchboard',
    short_message: 'id:1 stat:DELIVRD',
  }).toBuffer();
  const tlvHeader = Buffer.alloc(4);
  tlvHeader.writeUInt16BE(MESSAGE_STATE_TLV, 0);
  tlvHeader.writeUInt16BE(1, 2);
  const bytes = Buffer.concat([pdu, tlvHeader]);
  bytes.writeUInt32BE(bytes.length, 0);
  return bytes;
}

const MALFORMED: Array<[string, () => Buffer]> = [
  ['a command_length beyond the 16 KB maximum', () => header(0x00100000)],
  ['a command_length shorter than the PDU header', () => header(8, 8)],
  ['a command_length of 4 (no header at all)', () => header(4, 4)],
  ['a deliver_sm whose last TLV runs past the end of the PDU', deliverSmWithTruncatedTlv],
];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves with the time of the next bind the SMSC accepts. */
function nextBind(smsc: SandboxSmsc): Promise<number> {
  return new Promise((resolve) => smsc.once('bind', () => resolve(Date.now())));
}

function submitsByText(smsc: SandboxSmsc): Map<string, number> {
  const counts = new Map<string, number>();
  for (const s of smsc.submits) counts.set(s.text, (counts.get(s.text) ?? 0) + 1);
  return counts;
}

describe('SMPP link after a malformed PDU from the SMSC', function () {
  this.timeout(30_000);
  let smsc: SandboxSmsc;
  let port: number;
  let gw: SmppGateway;
  // Response timeouts short enough that a wedged link shows within the test, far longer than a rebind.
  const timing = { responseTimeoutMs: 1500, submitTimeoutMs: 4000, rebindBackoffMs: 200 };

  beforeEach(async () => {
    ({ smsc, port } = await startSmsc());
    gw = gateway(port, timing);
    await gw.ready();
  });

  afterEach(async () => {
    await gw.close();
    await smsc.stop();
  });

  for (const [what, malformed] of MALFORMED) {
    it(`rebinds within 2 s after ${what}; later parts go exactly once`, async () => {
      const rebound = nextBind(smsc);
      const faultAt = Date.now();
      assert.equal(smsc.sendRaw(malformed()), 1);
      await sleep(100); // the gateway reads the bytes: no submit below is in flight at the fault
      const texts = Array.from({ length: 8 }, (_, i) => `after the fault ${i}`);
      const long = `${'long after the fault '.repeat(10)}end`; // 2 parts
      const results = await Promise.all(
        [...texts, long].map((text, i) => gw.submit({ messageId: `after-${i}`, to: TO, text })),
      );
      const reboundInMs = (await rebound) - faultAt;
      assert.ok(reboundInMs < 2000, `rebound after ${reboundInMs} ms`);
      assert.equal(smsc.stats.binds, 2, 'one rebind, on a new session');
      assert.equal(results.at(-1)?.smscMessageIds.length, 2);
      assert.equal(smsc.submits.length, texts.length + 2, 'one submit_sm per part');
      assert.ok(
        [...submitsByText(smsc).values()].every((n) => n === 1),
        'no part reached the SMSC twice',
      );
      assert.equal(smsc.received.length, texts.length + 1, 'every message reached the SMSC');
      assert.equal(await smsc.enquireLinkAll(), 1, 'the bound session reads again');
      assert.ok(gw.bound);
    });
  }

  it('reports itself unbound from the moment its reader fails until the new bind', async () => {
    await gw.close();
    gw = gateway(port, { ...timing, rebindBackoffMs: 1000 });
    await gw.ready();
    smsc.sendRaw(header(4, 4));
    await waitFor(() => !gw.bound, 'the link to stop reporting itself bound', 500);
    await waitFor(() => gw.bound, 'the new bind', 2000);
    assert.equal(await smsc.enquireLinkAll(), 1, 'the bound session reads');
  });

  it('does not take a bind whose bind_resp came in the same chunk as a malformed PDU', async () => {
    await gw.close();
    smsc.inject({ bytesAfterBindResp: header(0x00100000) });
    gw = gateway(port, timing);
    await gw.ready();
    assert.equal(smsc.stats.binds, 3, 'ready only on the bind after the one the malformed PDU followed');
    const r = await gw.submit({ messageId: 'after-bind-fault', to: TO, text: 'bound for real' });
    assert.equal(r.smscMessageIds.length, 1);
    assert.equal(smsc.submits.length, 1);
  });

  it('moves a submit still waiting for the window to the new session; the unanswered one fails transient', async () => {
    await gw.close();
    gw = gateway(port, { ...timing, windowSize: 1 });
    await gw.ready();
    smsc.inject({ responseDelayMs: 1000 });
    const answered = gw.submit({ messageId: 'in-flight', to: TO, text: 'written before the fault' }).then(
      () => null,
      (e: unknown) => e,
    );
    await waitFor(() => smsc.submits.length === 1, 'the first submit_sm at the SMSC');
    smsc.resetFaults();
    const queued = gw.submit({ messageId: 'queued', to: TO, text: 'queued before the fault' });
    await sleep(50);
    assert.equal(smsc.submits.length, 1, 'the second submit waits for the window, unwritten');
    const rebound = nextBind(smsc);
    smsc.sendRaw(header(0x00100000));

    const inFlightError = await answered;
    assert.ok(inFlightError instanceof SmsTransientError, String(inFlightError));
    assert.equal(inFlightError.code, 'malformed_pdu');
    const { smscMessageIds } = await queued;
    const reboundAt = await rebound;
    const second = smsc.submits.find((s) => s.smscMessageId === smscMessageIds[0]);
    assert.ok(second && second.at >= reboundAt, 'the queued submit went out on the new session');
    assert.deepEqual(
      [...submitsByText(smsc).entries()].sort(),
      [
        ['queued before the fault', 1],
        ['written before the fault', 1],
      ],
      'each submit_sm reached the SMSC once: the gateway did not resend the ambiguous one itself',
    );
  });
});
