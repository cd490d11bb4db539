import assert from 'node:assert/strict';
import { SwitchboardMetrics, httpMeter } from '../../metrics';
import type { RunningApiServer } from '../../workers/api-server';
import { parseExposition, sumOf } from '../fixtures/exposition';
import { call, startTestApi, tenantWithKey } from './api-fixture';

// The REST API is a delivery endpoint: its answers feed the delivery-endpoints SLO
// (switchboard_http_requests_total, 5xx over all), by route pattern, never the URL or the key.
describe('REST API: requests are metered', () => {
  const metrics = new SwitchboardMetrics('api-test');
  let api: RunningApiServer;
  before(async () => (api = await startTestApi({}, undefined, httpMeter(metrics, 'api'))));
  after(() => api.close());

  it('counts each answer by route pattern and status, with process "api"', async () => {
    const { apiKey } = await tenantWithKey(['read']);
    assert.equal(
      (await call(api.url, 'GET', '/v1/messages/c8dec80c-0000-4000-8000-000000000000')).status,
      401,
    );
    const missing = await call(api.url, 'GET', '/v1/messages/c8dec80c-0000-4000-8000-000000000000', {
      key: apiKey,
    });
    assert.equal(missing.status, 404);
    const samples = parseExposition(await metrics.registry.metrics());
    const route = '/v1/messages/:id';
    assert.equal(
      sumOf(samples, 'switchboard_http_requests_total', { process: 'api', route, status: '401' }),
      1,
    );
    assert.equal(
      sumOf(samples, 'switchboard_http_requests_total', { process: 'api', route, status: '404' }),
      1,
    );
    for (const s of samples.filter((x) => x.name === 'switchboard_http_requests_total'))
      assert.doesNotMatch(JSON.stringify(s.labels), /c8dec80c|sb_live_/, 'no id or key in a label');
  });
});
