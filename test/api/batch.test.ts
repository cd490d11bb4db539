import assert from 'node:assert/strict';
import type { RunningApiServer } from '../../workers/api-server';
import { call, settleWorkflowCount, startTestApi, tenantWithKey, waitForStatus } from './api-fixture';

interface BatchAnswer {
  accepted: number;
  refused: number;
  results: Array<{
    index: number;
    status: number;
    message?: { messageId: string; created: boolean };
    problem?: { errors?: Array<{ field: string }> };
  }>;
}

describe('REST API: POST /v1/messages:batch', function () {
  this.timeout(60_000);
  let api: RunningApiServer;
  before(async () => (api = await startTestApi()));
  after(() => api.close());

  it('starts the good items, refuses the bad ones on their own, each with its result', async () => {
    const { tenant, apiKey } = await tenantWithKey();
    const messages = [
      { to: '+15550200021', text: 'one' },
      { to: 'nobody', text: 'two' },
      { to: '+15550300021', text: 'three', idempotencyKey: 'batch-3' },
      { to: '+15550200022', text: 'four', flow: 'urgent' },
      { to: '+15550300021', text: 'three', idempotencyKey: 'batch-3' },
      { to: '+15550200023', text: 'six', surprise: 1 },
    ];
    const answer = await call<BatchAnswer>(api.url, 'POST', '/v1/messages:batch', {
      key: apiKey,
      body: { messages },
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const { results } = answer.body;
    assert.deepEqual(
      results.map((r) => r.index),
      messages.map((_, i) => i),
    );
    assert.deepEqual(
      [0, 1, 3, 5].map((i) => results[i]!.status),
      [202, 400, 400, 400],
    );
    // Items 2 and 4 share a key: one started it, the other found it (whichever ran first).
    assert.deepEqual([results[2]!.status, results[4]!.status].sort(), [200, 202]);
    assert.equal(results[2]!.message!.messageId, results[4]!.message!.messageId);
    assert.deepEqual(
      results[1]!.problem!.errors!.map((e) => e.field),
      ['to'],
    );
    assert.deepEqual(
      results[3]!.problem!.errors!.map((e) => e.field),
      ['flow'],
    );
    assert.deepEqual(
      results[5]!.problem!.errors!.map((e) => e.field),
      ['surprise'],
    );
    assert.equal(answer.body.accepted, 3);
    assert.equal(answer.body.refused, 3);
    for (const r of results.filter((r) => r.message))
      assert.equal((await waitForStatus(api.url, apiKey, r.message!.messageId)).status, 'delivered');
    assert.equal(
      await settleWorkflowCount(tenant, 2),
      2,
      'two messages started, nothing for the refused items',
    );
  });

  it('refuses an empty batch and one over 1,000 items as a whole', async () => {
    const { tenant, apiKey } = await tenantWithKey();
    const empty = await call<{ errors: Array<{ field: string }> }>(api.url, 'POST', '/v1/messages:batch', {
      key: apiKey,
      body: { messages: [] },
    });
    assert.equal(empty.status, 400);
    assert.deepEqual(
      empty.body.errors.map((e) => e.field),
      ['messages'],
    );
    const tooMany = await call(api.url, 'POST', '/v1/messages:batch', {
      key: apiKey,
      body: { messages: Array.from({ length: 1001 }, () => ({ to: '+15550200024', text: 'x' })) },
    });
    assert.equal(tooMany.status, 400);
    assert.equal(await settleWorkflowCount(tenant, 0), 0);
  });

  it('takes 1,000 items in one request, a result for each', async () => {
    const { tenant, apiKey } = await tenantWithKey();
    // Mostly items refused by validation, so the suite does not wait on a thousand deliveries.
    const messages = Array.from({ length: 1000 }, (_, i) =>
      i % 50 === 0 ? { to: '+15550200025', text: `bulk ${i}`, e2ee: 'off' } : { to: '+1', text: `bad ${i}` },
    );
    const answer = await call<BatchAnswer>(api.url, 'POST', '/v1/messages:batch', {
      key: apiKey,
      body: { messages },
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.body.results.length, 1000);
    assert.equal(answer.body.accepted, 20);
    assert.equal(new Set(answer.body.results.flatMap((r) => r.message?.messageId ?? [])).size, 20);
    assert.equal(await settleWorkflowCount(tenant, 20), 20);
  });
});
