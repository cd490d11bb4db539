import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningApiServer } from '../../workers/api-server';
import { AuditLog } from '../../store/audit-log';
import { runCli } from '../fixtures/cli';
import { TEST_SECRETS, stack } from '../fixtures/stack';
import { call, startTestApi } from './api-fixture';

const APP_DIR = mkdtempSync(join(tmpdir(), 'switchboard-apikey-cli-'));
const cli = (args: string[]) => runCli(args, APP_DIR, { DATABASE_URL: stack().databaseUrl });

describe('switchboard tenant / apikey', function () {
  this.timeout(60_000);
  let api: RunningApiServer;
  before(async () => (api = await startTestApi()));
  after(() => api.close());

  it('creates a tenant and a key shown once, lists and revokes it, and audits both', async () => {
    const tenant = `cli-${randomBytes(3).toString('hex')}`;
    const made = await cli(['tenant', 'create', tenant]);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, new RegExp(`tenant ${tenant} created`));
    assert.match((await cli(['tenant', 'create', tenant])).stdout, /already exists/);

    const created = await cli(['apikey', 'create', '--tenant', tenant, '--scope', 'read', '--json']);
    assert.equal(created.code, 0, created.stderr);
    const key = JSON.parse(created.stdout) as { apiKey: string; keyId: string; scopes: string[] };
    assert.match(key.apiKey, /^sb_live_[0-9a-f]{24}_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(key.scopes, ['read']);
    const secret = key.apiKey.split('_').slice(3).join('_');
    const { rows } = await stack().db.query('SELECT * FROM api_keys WHERE id = $1', [key.keyId]);
    assert.equal(rows.length, 1);
    assert.ok(!JSON.stringify(rows).includes(secret), 'the secret is not stored');

    const listed = await cli(['apikey', 'list', '--tenant', tenant, '--json']);
    const list = JSON.parse(listed.stdout) as Array<{ keyId: string; revokedAt: string | null }>;
    assert.deepEqual(
      list.map((k) => [k.keyId, k.revokedAt]),
      [[key.keyId, null]],
    );
    assert.ok(!listed.stdout.includes(secret), 'a listing never shows the secret');
    assert.match((await cli(['apikey', 'list'])).stdout, new RegExp(`${key.keyId}.*live`));

    assert.equal((await call(api.url, 'GET', '/v1/messages', { key: key.apiKey })).status, 200);
    const revoked = await cli(['apikey', 'revoke', key.keyId]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal((await call(api.url, 'GET', '/v1/messages', { key: key.apiKey })).status, 401);
    const again = await cli(['apikey', 'revoke', key.keyId]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /keyId: the id of a live key/);

    const trail = await new AuditLog(stack().db, TEST_SECRETS.auditHashKey).forMessage(`apikey-${key.keyId}`);
    assert.deepEqual(
      trail.map((r) => [r.event, r.tenant]),
      [
        ['apikey_created', tenant],
        ['apikey_revoked', tenant],
      ],
    );
  });

  it('refuses bad input, naming it', async () => {
    const unknown = await cli(['apikey', 'create', '--tenant', 'no-such-tenant']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /tenant: no tenant named so/);
    const scope = await cli(['apikey', 'create', '--tenant', 'x', '--scope', 'send,admin']);
    assert.equal(scope.code, 2);
    assert.match(scope.stderr, /--scope: comma-separated scopes, each one of send, read/);
    const name = await cli(['tenant', 'create', 'Not Valid']);
    assert.equal(name.code, 2);
    assert.match(name.stderr, /tenant: lowercase letters, digits and dashes/);
  });
});
