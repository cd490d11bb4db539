import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningApiServer } from '../../workers/api-server';
import { runCli } from '../fixtures/cli';
import { stack } from '../fixtures/stack';
import { call, keyStore, startTestApi, tenantWithKey } from './api-fixture';

interface Outcome {
  messageId: string;
  status: string;
  channel: string | null;
  e2ee: boolean;
}

describe('switchboard send with SWITCHBOARD_API_KEY: the CLI as an app of the REST API', function () {
  this.timeout(60_000);
  let api: RunningApiServer;
  before(async () => (api = await startTestApi()));
  after(() => api.close());

  /** No codec keys and no reachable Temporal: only the API key and the API's address. */
  const asApp = (apiKey: string, args: string[], secrets: 'none' | 'sandbox' = 'none') =>
    runCli(args, mkdtempSync(join(tmpdir(), 'switchboard-api-app-')), {
      SWITCHBOARD_API_KEY: apiKey,
      SWITCHBOARD_API_URL: api.url,
      TEMPORAL_ADDRESS: '127.0.0.1:9',
      ...(secrets === 'none' ? { CODEC_KEYS: '', CODEC_ACTIVE_KEY: '', AUDIT_HASH_KEY: '' } : {}),
    });

  it('sends, waits and shows status through the API, as the key’s tenant, with neither Temporal nor codec keys', async () => {
    const { apiKey } = await tenantWithKey();
    const sent = await asApp(apiKey, [
      'send',
      '--to',
      '+15550300031',
      '--text',
      'via api',
      '--e2ee',
      'off',
      '--wait',
      '--json',
    ]);
    assert.equal(sent.code, 0, sent.stderr);
    const outcome = JSON.parse(sent.stdout) as Outcome;
    assert.deepEqual([outcome.status, outcome.channel], ['delivered', 'sms']);
    // It is the key's tenant's message: readable with the key, and through the direct client too.
    assert.equal(
      (await call(api.url, 'GET', `/v1/messages/${outcome.messageId}`, { key: apiKey })).status,
      200,
    );
    assert.equal((await stack().switchboard.status(outcome.messageId)).status, 'delivered');
    const status = await asApp(apiKey, ['status', outcome.messageId, '--json']);
    assert.equal(status.code, 0, status.stderr);
    assert.equal((JSON.parse(status.stdout) as Outcome).status, 'delivered');
  });

  it('refuses what the direct client refuses, with the same words, and a tenant the key does not give', async () => {
    const { apiKey, keyId } = await tenantWithKey();
    const bad = await asApp(apiKey, ['send', '--to', '12345', '--text', 'hi']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /to: an E\.164 number/);
    const tenant = await asApp(apiKey, ['send', '--to', '+15550300031', '--text', 'hi', '--tenant', 'other']);
    assert.equal(tenant.code, 2);
    assert.match(tenant.stderr, /tenant: absent: with an API key/);
    const unknown = await asApp(apiKey, ['status', '6f1c1f7e-0000-4000-8000-000000000000']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no message with id/);
    await keyStore().revoke(keyId);
    const revoked = await asApp(apiKey, ['send', '--to', '+15550300031', '--text', 'hi']);
    assert.equal(revoked.code, 1);
    assert.match(revoked.stderr, /REST API answered 401/);
  });

  it('--e2ee required: sealed in the app, only ciphertext and the notice reach the API; the phone reads it', async () => {
    const { apiKey } = await tenantWithKey();
    const sent = await asApp(
      apiKey,
      ['send', '--to', '+15550100031', '--text', 'api secret', '--e2ee', 'required', '--wait', '--json'],
      'sandbox',
    );
    assert.equal(sent.code, 0, sent.stderr);
    const outcome = JSON.parse(sent.stdout) as Outcome;
    assert.deepEqual([outcome.channel, outcome.e2ee], ['rcs', true]);
    // The phone's last message (its inbox is keyed by RBM message ids): decrypted, the app's text.
    const entry = stack().carriers.phones?.inbox('+15550100031').at(-1);
    assert.equal(entry?.ok, true);
    assert.equal(
      (JSON.parse(entry?.plaintext?.toString('utf8') ?? '{}') as { text?: string }).text,
      'api secret',
    );
  });
});
