// GET /v1/messages/{id} of another tenant's message is refused from the memo alone: its history is
// not read and its worker not queried. Reproduced with a running message whose task queue has no
// worker, so a status query could never be answered.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { workflowIdFor } from '../../domain/message';
import type { DeliveryRequest } from '../../domain/message';
import type { RunningApiServer } from '../../workers/api-server';
import { deliverMessage } from '../../workflows';
import { stack } from '../fixtures/stack';
import { call, startTestApi, tenantWithKey } from './api-fixture';

describe('REST API: another tenant’s message', function () {
  this.timeout(60_000);
  let api: RunningApiServer;
  before(async () => (api = await startTestApi()));
  after(() => api.close());

  it('is a 404 decided from the memo, before the worker is queried', async () => {
    const owner = await tenantWithKey();
    const other = await tenantWithKey();
    const messageId = randomUUID();
    const request: DeliveryRequest = {
      messageId,
      to: '+15550200031',
      text: 'never looked at',
      flow: 'standard',
      e2ee: 'preferred',
      tenant: owner.tenant,
      region: 'us',
      submittedAt: new Date().toISOString(),
    };
    const handle = await stack().client.workflow.start(deliverMessage, {
      taskQueue: `no-worker-${randomUUID()}`,
      workflowId: workflowIdFor(messageId),
      args: [request],
      memo: { tenant: owner.tenant },
    });
    try {
      const started = Date.now();
      const theirs = await call(api.url, 'GET', `/v1/messages/${messageId}`, { key: other.apiKey });
      assert.equal(theirs.status, 404, JSON.stringify(theirs.body));
      assert.ok(Date.now() - started < 3000, `answered after ${Date.now() - started} ms`);
    } finally {
      await handle.terminate('test over');
    }
  });
});
