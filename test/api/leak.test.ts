import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Client } from '@temporalio/client';
import type { RunningApiServer } from '../../workers/api-server';
import { dumpDatabase } from '../fixtures/dump-database';
import { stack } from '../fixtures/stack';
import { call, startTestApi, tenantWithKey, waitForStatus } from './api-fixture';

describe('REST API: nothing leaks', function () {
  this.timeout(60_000);
  let api: RunningApiServer;
  before(async () => (api = await startTestApi()));
  after(() => api.close());

  it('text, number and Idempotency-Key are in no table and no raw history; the key’s secret in no table', async () => {
    const { apiKey } = await tenantWithKey();
    const marker = `marker-api-${randomBytes(6).toString('hex')}`;
    const to = '+15550600089';
    // Keys are often built from a number: this one is, and must not be stored.
    const idempotencyKey = `otp-${to}-${marker}`;
    const sent = await call<{ messageId: string }>(api.url, 'POST', '/v1/messages', {
      key: apiKey,
      body: { to, text: `hello ${marker}`, metadata: { ref: `meta-${marker}` } },
      headers: { 'idempotency-key': idempotencyKey },
    });
    assert.equal(sent.status, 202);
    await waitForStatus(api.url, apiKey, sent.body.messageId);
    // A refused replay too: its body is not stored either.
    const refused = await call(api.url, 'POST', '/v1/messages', {
      key: apiKey,
      body: { to, text: `other ${marker}` },
      headers: { 'idempotency-key': idempotencyKey },
    });
    assert.equal(refused.status, 422);
    assert.ok(!JSON.stringify(refused.body).includes(marker));

    const tables = await dumpDatabase();
    assert.ok(!tables.includes(marker), 'marker (text or key) in PostgreSQL');
    assert.ok(!tables.includes(to.slice(1)), 'number in PostgreSQL');
    assert.ok(!tables.includes(apiKey.split('_').slice(3).join('_')), 'API key secret in PostgreSQL');
    const raw = new Client({ connection: stack().temporal.connection });
    const history = JSON.stringify(
      await raw.workflow.getHandle(`deliver-${sent.body.messageId}`).fetchHistory(),
    );
    assert.ok(
      !history.includes(marker),
      'marker (text, or metadata in the memo) in the raw Temporal history',
    );
    assert.ok(!history.includes(to.slice(1)), 'number in the raw Temporal history');
  });
});
