// `switchboard webhook set|show` through the real binary, and a tenant's default webhook used by
// a message that names no statusCallbackUrl.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../fixtures/cli';
import { stack } from '../fixtures/stack';
import { startTestReceiver, waitUntil } from './receiver';

const APP_DIR = mkdtempSync(join(tmpdir(), 'switchboard-webhook-cli-'));
const TENANT = 'cli-hooks';
const admin = (args: string[]) => runCli(args, APP_DIR, { DATABASE_URL: stack().databaseUrl });
const auditTrail = async (trail: string) =>
  (
    await stack().db.query<{ event: string }>(
      'SELECT event FROM audit_log WHERE message_id = $1 ORDER BY seq',
      [trail],
    )
  ).rows.map((r) => r.event);

describe('switchboard webhook', function () {
  this.timeout(60_000);

  it('set shows the secret once, show never; the default URL gets callbacks signed with it', async () => {
    let secret = '';
    const receiver = await startTestReceiver(() => secret);
    try {
      const set = await admin(['webhook', 'set', '--tenant', TENANT, '--url', receiver.url, '--json']);
      assert.equal(set.code, 0, set.stderr);
      const made = JSON.parse(set.stdout) as { secret: string; defaultUrl: string };
      secret = made.secret;
      assert.match(secret, /^whsec_[A-Za-z0-9_-]{43}$/);
      assert.equal(made.defaultUrl, receiver.url);

      const shown = await admin(['webhook', 'show', '--tenant', TENANT, '--json']);
      assert.equal(shown.code, 0, shown.stderr);
      assert.equal((JSON.parse(shown.stdout) as { defaultUrl: string }).defaultUrl, receiver.url);
      assert.ok(!shown.stdout.includes(secret), 'show never prints the secret');
      const { rows } = await stack().db.query<{ secret_sealed: Buffer }>(
        'SELECT secret_sealed FROM tenant_webhooks WHERE tenant = $1',
        [TENANT],
      );
      assert.ok(!rows[0]?.secret_sealed.includes(Buffer.from(secret)), 'the secret is sealed at rest');

      const sent = await stack().switchboard.send({
        to: '+15550200021',
        text: 'default hook',
        tenant: TENANT,
      });
      await stack().switchboard.waitForOutcome(sent.messageId);
      await waitUntil('two events', () => receiver.forMessage(sent.messageId).length === 2, 15_000);

      // A rotation: during its grace (CALLBACK_SECRET_GRACE_MS) callbacks carry a signature under
      // the old secret too, so an app that has not switched yet loses nothing; then the new one.
      const rotated = await admin(['webhook', 'set', '--tenant', TENANT, '--json']);
      const next = JSON.parse(rotated.stdout) as { secret: string; defaultUrl: string };
      assert.notEqual(next.secret, secret);
      assert.equal(next.defaultUrl, receiver.url, 'a rotation without --url keeps the URL');
      const other = await stack().switchboard.send({
        to: '+15550200022',
        text: 'after rotation',
        tenant: TENANT,
      });
      await waitUntil(
        'verified under the old secret',
        () => receiver.forMessage(other.messageId).length >= 1,
        15_000,
      );
      secret = next.secret;
      await waitUntil(
        'and under the new one',
        () => receiver.forMessage(other.messageId).length >= 2,
        15_000,
      );
      assert.equal(receiver.invalid, 0, 'no callback refused across the rotation');
      const trail = await auditTrail(`webhook-${TENANT}`);
      assert.deepEqual(trail, ['webhook_created', 'webhook_secret_rotated'], 'both changes audited');
    } finally {
      await receiver.stop();
    }
  });

  it('refuses a bad URL naming the field, and show of an unknown tenant exits 1', async () => {
    const bad = await admin(['webhook', 'set', '--tenant', TENANT, '--url', 'ftp://example.com/x']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /url: an absolute http or https URL/);
    const unknown = await admin(['webhook', 'show', '--tenant', 'nobody-here']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /has no webhook/);
  });
});
