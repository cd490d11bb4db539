// What a refused request leaves behind (nothing: no idempotency record, no stored file), and a
// key whose message was started once after Temporal's retention has forgotten the workflow.
import assert from 'node:assert/strict';
import { WorkflowNotFoundError } from '@temporalio/client';
import { workflowIdFor } from '../../domain/message';
import type { RunningApiServer } from '../../workers/api-server';
import { stack } from '../fixtures/stack';
import { call, settleWorkflowCount, startTestApi, tenantWithKey, waitForStatus } from './api-fixture';

interface Accepted {
  messageId: string;
  created: boolean;
}
type Refusal = { errors?: Array<{ field: string }> };

async function countRows(table: 'api_idempotency' | 'media_objects', tenant: string): Promise<number> {
  const { rows } = await stack().db.query<{ n: string }>(
    `SELECT count(*) AS n FROM ${table} WHERE tenant = $1`,
    [tenant],
  );
  return Number(rows[0]!.n);
}

/** Deletes the workflow as Temporal's retention would, and waits until it is gone. */
async function forget(messageId: string): Promise<void> {
  const { client } = stack();
  const { runId } = await client.workflow.getHandle(workflowIdFor(messageId)).describe();
  await client.workflowService.deleteWorkflowExecution({
    namespace: client.options.namespace,
    workflowExecution: { workflowId: workflowIdFor(messageId), runId },
  });
  const deadline = Date.now() + 40_000;
  for (;;) {
    try {
      await client.workflow.getHandle(workflowIdFor(messageId)).describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return;
      throw err;
    }
    if (Date.now() > deadline) throw new Error('the workflow was not deleted');
    await new Promise((r) => setTimeout(r, 200));
  }
}

const file = {
  data: Buffer.from('a picture').toString('base64'),
  contentType: 'image/png',
  fileName: 'a.png',
};

describe('REST API: idempotency records and stored files only for what is started', function () {
  this.timeout(60_000);
  let api: RunningApiServer;
  before(async () => (api = await startTestApi()));
  after(() => api.close());

  it('a bad e2eePayload is refused naming its field, with no idempotency record and no stored file', async () => {
    const { tenant, apiKey } = await tenantWithKey();
    const payload = { ciphertext: 'not base64!', negotiationMs: 1, newGroup: true };
    for (const [e2eePayload, field] of [
      [payload, 'e2eePayload.ciphertext'],
      [{ ...payload, ciphertext: 'AAAA', welcome: '' }, 'e2eePayload.welcome'],
      [{ ...payload, ciphertext: 'AAAA', negotiationMs: -1 }, 'e2eePayload.negotiationMs'],
    ] as const) {
      const refused = await call<Refusal>(api.url, 'POST', '/v1/messages', {
        key: apiKey,
        body: { to: '+15550200021', text: 'hi', e2eePayload, media: file },
        headers: { 'idempotency-key': `bad-${field}` },
      });
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.deepEqual(
        refused.body.errors?.map((e) => e.field),
        [field],
      );
    }
    assert.equal(await countRows('api_idempotency', tenant), 0);
    assert.equal(await countRows('media_objects', tenant), 0);
    assert.equal(await settleWorkflowCount(tenant, 0), 0);
  });

  it('an inline file is stored only once the Idempotency-Key is claimed: a 422 stores none', async () => {
    const { tenant, apiKey } = await tenantWithKey();
    const headers = { 'idempotency-key': 'with-a-file' };
    const body = { to: '+15550200022', text: 'see the file', media: file };
    const first = await call(api.url, 'POST', '/v1/messages', { key: apiKey, body, headers });
    assert.equal(first.status, 202, JSON.stringify(first.body));
    assert.equal(await countRows('media_objects', tenant), 1);
    const other = await call(api.url, 'POST', '/v1/messages', {
      key: apiKey,
      body: { ...body, media: { ...file, fileName: 'b.png' } },
      headers,
    });
    assert.equal(other.status, 422);
    const again = await call(api.url, 'POST', '/v1/messages', { key: apiKey, body, headers });
    assert.equal(again.status, 200);
    assert.equal(await countRows('media_objects', tenant), 1, 'the 422 and the replay stored no file');
  });

  it('same key and body after Temporal forgot the workflow: 200 with the message, nothing started again', async function () {
    this.timeout(120_000);
    const { tenant, apiKey } = await tenantWithKey();
    const headers = { 'idempotency-key': 'order-91-shipped' };
    const body = { to: '+15550200023', text: 'once, even after retention' };
    const first = await call<Accepted>(api.url, 'POST', '/v1/messages', { key: apiKey, body, headers });
    assert.equal(first.status, 202);
    await waitForStatus(api.url, apiKey, first.body.messageId);
    await forget(first.body.messageId);
    const again = await call<Accepted>(api.url, 'POST', '/v1/messages', { key: apiKey, body, headers });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.deepEqual([again.body.messageId, again.body.created], [first.body.messageId, false]);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await settleWorkflowCount(tenant, 0), 0, 'no workflow started again');
  });
});
