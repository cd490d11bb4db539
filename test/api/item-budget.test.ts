// A batch is as many messages as it has items against the tenant's budget (API_ITEM_RATE_LIMIT),
// over real HTTP with real starts.
import assert from 'node:assert/strict';
import { call, settleWorkflowCount, startTestApi, tenantWithKey } from './api-fixture';

const batchOf = (n: number, tag: string) => ({
  messages: Array.from({ length: n }, (_, i) => ({ to: `+1555020004${i}`, text: `${tag} ${i}` })),
});

describe('REST API: the per-tenant message budget', function () {
  this.timeout(60_000);

  it('counts each batch item; a batch over what is left gets 429 with Retry-After and starts nothing', async () => {
    const api = await startTestApi({ API_ITEM_RATE_LIMIT: '5', API_RATE_LIMIT: '100' });
    try {
      const busy = await tenantWithKey();
      const quiet = await tenantWithKey();
      const first = await call(api.url, 'POST', '/v1/messages:batch', {
        key: busy.apiKey,
        body: batchOf(3, 'first'),
      });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const over = await call<{ detail: string }>(api.url, 'POST', '/v1/messages:batch', {
        key: busy.apiKey,
        body: batchOf(3, 'over'),
      });
      assert.equal(over.status, 429, JSON.stringify(over.body));
      const retryAfter = Number(over.headers.get('retry-after'));
      assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After ${retryAfter}`);
      assert.match(over.body.detail, /each count/);
      // What is left still fits single messages and smaller batches: 2 more, then none.
      const single = await call(api.url, 'POST', '/v1/messages', {
        key: busy.apiKey,
        body: { to: '+15550200049', text: 'single' },
      });
      assert.equal(single.status, 202);
      assert.equal(
        (await call(api.url, 'POST', '/v1/messages:batch', { key: busy.apiKey, body: batchOf(1, 'last') }))
          .status,
        200,
      );
      const spent = await call(api.url, 'POST', '/v1/messages', {
        key: busy.apiKey,
        body: { to: '+15550200049', text: 'one too many' },
      });
      assert.equal(spent.status, 429);
      // Another tenant's budget is its own.
      assert.equal(
        (await call(api.url, 'POST', '/v1/messages:batch', { key: quiet.apiKey, body: batchOf(5, 'q') }))
          .status,
        200,
      );
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(await settleWorkflowCount(busy.tenant, 5), 5, 'the refused batch started nothing');
    } finally {
      await api.close();
    }
  });
});
