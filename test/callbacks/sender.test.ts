// The callback sender over real HTTP sockets and PostgreSQL: order, sharing the outbox, the
// retry budget, the SSRF rule.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { isPrivateAddress } from '../../channels/callbacks/address-guard';
import { CALLBACK_AUDIT_LANE } from '../../workers/status-callbacks';
import { context, delivered, startOutboxFixture } from './outbox-fixture';
import type { OutboxFixture } from './outbox-fixture';
import { waitUntil } from './receiver';

describe('status callback sender', function () {
  this.timeout(30_000);
  let f: OutboxFixture;

  before(async () => {
    f = await startOutboxFixture('callbacks_sender');
  });
  afterEach(() => f.reset());
  after(() => f.close());

  it('sends each message’s events in order, signed, once acknowledged', async () => {
    const messages = [randomUUID(), randomUUID(), randomUUID()];
    for (const m of messages) await f.outbox.append(context(f.receiver.url), delivered(m));
    f.sender();
    await waitUntil(
      'every event',
      () => messages.every((m) => f.receiver.forMessage(m).length === 2),
      10_000,
    );
    for (const m of messages) {
      assert.deepEqual(
        f.receiver.forMessage(m).map((e) => [e.sequence, e.status]),
        [
          [1, 'accepted'],
          [2, 'delivered'],
        ],
      );
      assert.deepEqual(
        (await f.outbox.forMessage(m)).map((e) => e.state),
        ['sent', 'sent'],
      );
    }
    assert.equal(f.receiver.invalid, 0);
  });

  it('two senders share the outbox without sending an event twice; a dead sender’s claim is taken again', async () => {
    const messages = Array.from({ length: 12 }, () => randomUUID());
    for (const m of messages) await f.outbox.append(context(f.receiver.url), delivered(m));
    // A sender that claimed one message's first event and died before sending it.
    const [orphan] = await f.outbox.claim(1, 1500);
    assert.ok(orphan);
    f.sender();
    f.sender();
    await waitUntil(
      'every event, the orphan after its lease',
      () => messages.every((m) => f.receiver.forMessage(m).length === 2),
      15_000,
    );
    for (const m of messages) {
      assert.deepEqual(
        f.receiver.forMessage(m).map((e) => e.sequence),
        [1, 2],
        'once each, in order',
      );
    }
  });

  it('gives an event up once the retry budget is spent, audits it, then sends the next', async () => {
    const m = randomUUID();
    await f.outbox.append(context(f.receiver.url), delivered(m));
    f.receiver.status = 503;
    f.sender({ retryForMs: 1500 });
    await waitUntil(
      'the first event given up on',
      async () => (await f.outbox.forMessage(m))[0]?.state === 'undeliverable',
      10_000,
    );
    assert.ok(f.results.filter((r) => r === 'failed').length >= 2, 'it was retried before giving up');
    assert.ok(f.results.includes('undeliverable'));
    const trail = await f.audit.forMessage(m);
    const given = trail.find((r) => r.event === 'callback_undeliverable');
    assert.equal(given?.seq, CALLBACK_AUDIT_LANE + 1);
    assert.equal(given?.errorCode, 'HTTP_503');
    // Event 2 goes next, with a budget of its own from its first attempt.
    await waitUntil(
      'the second event settled',
      async () => (await f.outbox.forMessage(m))[1]?.state !== 'pending',
      10_000,
    );
    assert.equal(f.receiver.forMessage(m).length, 0, 'the receiver accepted nothing while it answered 503');
  });

  it('refuses callback URLs to loopback, private and link-local addresses unless allowed', async () => {
    const hitsBefore = f.receiver.hits;
    const byName = randomUUID();
    const byLiteral = randomUUID();
    await f.outbox.append(context(f.receiver.url.replace('127.0.0.1', 'localhost')), delivered(byName));
    await f.outbox.append(context(f.receiver.url), delivered(byLiteral));
    f.sender({ privateTargets: { allowAll: false, allowed: [] } });
    await waitUntil(
      'both refused',
      async () =>
        (await f.outbox.forMessage(byName)).every((e) => e.state === 'undeliverable') &&
        (await f.outbox.forMessage(byLiteral)).every((e) => e.state === 'undeliverable'),
      10_000,
    );
    assert.equal(f.receiver.hits, hitsBefore, 'no request reached the private address');
    assert.ok(f.results.filter((r) => r === 'refused').length >= 4, 'counted as refused');
    const { rows } = await f.t.db.query<{ last_error: string }>(
      'SELECT DISTINCT last_error FROM status_events WHERE message_id = ANY($1)',
      [[byName, byLiteral]],
    );
    assert.deepEqual(
      rows.map((r) => r.last_error),
      ['ADDRESS_REFUSED'],
    );
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '::1',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '0.0.0.0',
      '100.64.0.1',
    ])
      assert.ok(isPrivateAddress(a), a);
    for (const a of ['8.8.8.8', '2001:4860:4860::8888', '93.184.216.34']) assert.ok(!isPrivateAddress(a), a);
  });
});
