// HTTP mode keeps statusCallbackUrl: an app holding only an API key gets its status callbacks.
import assert from 'node:assert/strict';
import { SwitchboardHttpClient } from '../../client/http-client';
import { deriveKey } from '../../config/secrets';
import { TenantWebhooks } from '../../store/tenant-webhooks';
import type { RunningApiServer } from '../../workers/api-server';
import { startTestReceiver, waitUntil } from '../callbacks/receiver';
import type { TestReceiver } from '../callbacks/receiver';
import { TEST_SECRETS, stack } from '../fixtures/stack';
import { startTestApi, tenantWithKey } from './api-fixture';

describe('SwitchboardHttpClient: status callbacks', function () {
  this.timeout(60_000);
  let api: RunningApiServer;
  let receiver: TestReceiver;
  let secret = '';
  before(async () => {
    api = await startTestApi();
    receiver = await startTestReceiver(() => secret);
  });
  after(async () => {
    await receiver.stop();
    await api.close();
  });

  it('statusCallbackUrl reaches the message: the app’s endpoint gets its signed events', async () => {
    const { tenant, apiKey } = await tenantWithKey();
    ({ secret } = await new TenantWebhooks(stack().db, deriveKey(TEST_SECRETS, 'webhook-secrets')).set(
      tenant,
    ));
    const app = new SwitchboardHttpClient({ baseUrl: api.url, apiKey, pollMs: 100 });
    const sent = await app.send({
      to: '+15550300041',
      text: 'tell me when',
      e2ee: 'off',
      statusCallbackUrl: receiver.url,
    });
    assert.equal((await app.waitForOutcome(sent.messageId)).status, 'delivered');
    await waitUntil('three events', () => receiver.forMessage(sent.messageId).length >= 3, 15_000);
    assert.deepEqual(
      receiver.forMessage(sent.messageId).map((e) => e.status),
      ['accepted', 'fell_back', 'delivered'],
    );
    assert.equal(receiver.invalid, 0);
  });
});
