// The sender's fixes from the security review (issue 14) over real sockets and PostgreSQL:
// private addresses refused by default (only listed targets pass), per-tenant fairness, the
// address guard's transition ranges, signatures under a rotation's grace, refused tolerances.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { isPrivateAddress } from '../../channels/callbacks/address-guard';
import { privateTargetOf } from '../../channels/callbacks/callback-transport';
import { signCallback } from '../../channels/callbacks/signature';
import { SignatureToleranceError, verifyCallbackSignature } from '../../client/callback-signature';
import { loadConfig } from '../../config';
import { deriveKey } from '../../config/secrets';
import { TenantWebhooks } from '../../store/tenant-webhooks';
import { allowingSandboxReceiver, startSandboxCallbacks } from '../../workers/sandbox-callbacks';
import { TEST_SECRETS } from '../fixtures/stack';
import pino from 'pino';
import { context, delivered, startOutboxFixture } from './outbox-fixture';
import type { OutboxFixture } from './outbox-fixture';
import { startTestReceiver, waitUntil } from './receiver';

describe('status callback sender: review fixes', function () {
  this.timeout(30_000);
  let f: OutboxFixture;

  before(async () => {
    f = await startOutboxFixture('callbacks_review_sender');
  });
  afterEach(() => f.reset());
  after(() => f.close());

  it('refuses private hosts by default, even with SANDBOX=true; a listed host:port passes, nothing else', async () => {
    const env = loadConfig({ SANDBOX: 'true' });
    assert.equal(env.CALLBACK_ALLOW_PRIVATE_HOSTS, false);
    assert.deepEqual(env.CALLBACK_ALLOWED_PRIVATE_TARGETS, []);
    assert.deepEqual(
      loadConfig({ CALLBACK_ALLOWED_PRIVATE_TARGETS: '127.0.0.1:8094,[::1]:8094' })
        .CALLBACK_ALLOWED_PRIVATE_TARGETS,
      ['127.0.0.1:8094', '[::1]:8094'],
    );
    assert.throws(
      () => loadConfig({ CALLBACK_ALLOWED_PRIVATE_TARGETS: '127.0.0.1' }),
      /CALLBACK_ALLOWED_PRIVATE_TARGETS.*host:port/s,
    );

    const listed = randomUUID();
    const otherName = randomUUID();
    await f.outbox.append(context(f.receiver.url), delivered(listed));
    await f.outbox.append(context(f.receiver.url.replace('127.0.0.1', 'localhost')), delivered(otherName));
    f.sender({
      privateTargets: {
        allowAll: env.CALLBACK_ALLOW_PRIVATE_HOSTS,
        allowed: [privateTargetOf(f.receiver.url)],
      },
    });
    await waitUntil(
      'the listed target got both events',
      () => f.receiver.forMessage(listed).length === 2,
      10_000,
    );
    await waitUntil(
      'the unlisted name refused',
      async () => (await f.outbox.forMessage(otherName)).every((e) => e.state === 'undeliverable'),
      10_000,
    );
    assert.equal(f.receiver.forMessage(otherName).length, 0);
  });

  it('npm start allows its sandbox receiver, and only it', async () => {
    const sandboxEnv = loadConfig({ SANDBOX: 'true', SANDBOX_CALLBACK_PORT: '0' });
    const sandbox = await startSandboxCallbacks(sandboxEnv, {
      db: f.t.db,
      secrets: TEST_SECRETS,
      logger: pino({ level: 'silent' }),
    });
    try {
      const env = allowingSandboxReceiver(sandboxEnv, sandbox);
      assert.equal(env.CALLBACK_ALLOW_PRIVATE_HOSTS, false);
      assert.deepEqual(env.CALLBACK_ALLOWED_PRIVATE_TARGETS, [privateTargetOf(sandbox.url)]);
      const toSandbox = randomUUID();
      const elsewhere = randomUUID();
      // The sandbox tenant's default webhook, and another loopback port of the same machine.
      await f.outbox.append({ ...context(), tenant: 'default' }, delivered(toSandbox));
      await f.outbox.append({ ...context(f.receiver.url), tenant: 'default' }, delivered(elsewhere));
      f.sender({
        secrets: new TenantWebhooks(f.t.db, deriveKey(TEST_SECRETS, 'webhook-secrets')),
        privateTargets: {
          allowAll: env.CALLBACK_ALLOW_PRIVATE_HOSTS,
          allowed: env.CALLBACK_ALLOWED_PRIVATE_TARGETS,
        },
      });
      await waitUntil(
        'the sandbox receiver verified both events',
        () => sandbox.received.filter((e) => e.messageId === toSandbox).length === 2,
        10_000,
      );
      await waitUntil(
        'the other loopback port refused',
        async () => (await f.outbox.forMessage(elsewhere)).every((e) => e.state === 'undeliverable'),
        10_000,
      );
      assert.equal(f.receiver.forMessage(elsewhere).length, 0);
    } finally {
      await sandbox.close();
    }
  });

  it('one tenant’s hanging receiver takes at most its share of the slots; another tenant’s events go on', async () => {
    const hanging = await startTestReceiver(() => 'unused');
    hanging.hang = true;
    try {
      const stuck = Array.from({ length: 6 }, () => randomUUID());
      for (const m of stuck) await f.outbox.append(context(hanging.url), delivered(m));
      const other = 'fair-tenant';
      const { secret } = await f.webhooks.set(other);
      const fine = await startTestReceiver(() => secret);
      try {
        const m = randomUUID();
        await f.outbox.append({ ...context(fine.url), tenant: other }, delivered(m));
        f.sender({ timeoutMs: 15_000, concurrency: 4, concurrencyPerTenant: 2 });
        await waitUntil('the other tenant’s events', () => fine.forMessage(m).length === 2, 5_000);
        await waitUntil('the hanging tenant’s share', () => hanging.hits >= 2, 5_000);
        assert.equal(hanging.hits, 2, 'the hanging tenant holds 2 slots, not all 4');
      } finally {
        await fine.stop();
      }
    } finally {
      await hanging.stop();
    }
  });

  it('blocks transition and documentation ranges, judging embedded IPv4 addresses by themselves', () => {
    for (const a of [
      '::7f00:1', // IPv4-compatible ::127.0.0.1
      '::a00:1',
      '2002:7f00:1::1', // 6to4 of 127.0.0.1
      '2002:a9fe:a9fe::', // 6to4 of 169.254.169.254
      '2001:0:4136:e378:8000:63bf:3fff:fdd2', // Teredo
      'fec0::1',
      '192.88.99.1',
      '192.0.2.1',
      '198.51.100.7',
      '203.0.113.9',
      '2001:db8::1',
      '64:ff9b::7f00:1', // NAT64 of 127.0.0.1
      '64:ff9b::a9fe:a9fe',
      '64:ff9b::10.0.0.1',
      '::ffff:7f00:1', // mapped, hex form (as URL parsing writes it)
      '64:ff9b:1::808:808',
    ])
      assert.ok(isPrivateAddress(a), a);
    for (const a of ['64:ff9b::808:808', '64:ff9b::8.8.8.8', '2002:808:808::1', '::ffff:8.8.8.8'])
      assert.ok(!isPrivateAddress(a), `${a}: its embedded address is public`);
  });

  it('signs with the current and the rotated-out secret during the grace: an app with either verifies', () => {
    const body = '{"eventId":"e"}';
    const header = signCallback(['whsec_new', 'whsec_old'], body, 1_800_000_000);
    assert.match(header, /^t=1800000000,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    for (const secret of ['whsec_new', 'whsec_old'])
      assert.ok(verifyCallbackSignature({ secret, header, body, now: 1_800_000_000 }).valid, secret);
    assert.equal(
      verifyCallbackSignature({ secret: 'whsec_x', header, body, now: 1_800_000_000 }).valid,
      false,
    );
  });

  it('refuses a tolerance that is not a finite number ≥ 0 (NaN would accept a replay of any age)', () => {
    const body = '{}';
    const old = signCallback('s', body, 1_000);
    for (const toleranceSeconds of [Number.NaN, Number.POSITIVE_INFINITY, -1])
      assert.throws(
        () =>
          verifyCallbackSignature({ secret: 's', header: old, body, now: 1_800_000_000, toleranceSeconds }),
        (err: unknown) => err instanceof SignatureToleranceError && /^toleranceSeconds: /.test(err.message),
        String(toleranceSeconds),
      );
    assert.equal(
      verifyCallbackSignature({ secret: 's', header: old, body, now: 1_800_000_000 }).valid,
      false,
    );
  });
});
