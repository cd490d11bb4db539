import assert from 'node:assert/strict';
import { DOCS_PREFIX, OPENAPI_PATH } from '../../api/app';
import type { RunningApiServer } from '../../workers/api-server';
import { call, startTestApi } from './api-fixture';

interface Document {
  openapi: string;
  paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>;
}

/** fastify's `/v1/messages/:id` (and `::` for a literal colon) as OpenAPI writes it. */
const openApiPath = (url: string) =>
  url
    .split('::')
    .map((part) => part.replace(/:(\w+)/g, '{$1}'))
    .join(':');

describe('REST API: the OpenAPI document', function () {
  this.timeout(60_000);
  const routes: Array<{ method: string; url: string }> = [];
  let api: RunningApiServer;
  before(async () => {
    api = await startTestApi({}, (route) => {
      for (const method of [route.method].flat())
        routes.push({ method: method.toLowerCase(), url: route.url });
    });
  });
  after(() => api.close());

  it('is a valid OpenAPI 3.1 document', async () => {
    const { Validator } = await import('@seriousme/openapi-schema-validator');
    const doc = await call<Document>(api.url, 'GET', OPENAPI_PATH);
    assert.equal(doc.status, 200);
    assert.equal(doc.body.openapi, '3.1.0');
    const validator = new Validator();
    const result = await validator.validate(doc.body as unknown as Parameters<typeof validator.validate>[0]);
    assert.equal(result.valid, true, JSON.stringify(result.errors));
  });

  it('documents every route the server registered (the docs page’s own assets aside)', async () => {
    const doc = await call<Document>(api.url, 'GET', OPENAPI_PATH);
    const served = routes.filter(
      (r) => r.method !== 'head' && r.url !== DOCS_PREFIX && !r.url.startsWith(`${DOCS_PREFIX}/`),
    );
    assert.ok(served.length >= 7, JSON.stringify(served));
    const missing = served.filter((r) => !doc.body.paths[openApiPath(r.url)]?.[r.method]);
    assert.deepEqual(missing, []);
    for (const path of ['/v1/messages', '/v1/messages/{id}', '/v1/messages:batch', '/v1/media'])
      for (const operation of Object.values(doc.body.paths[path] ?? {})) {
        assert.deepEqual(operation.security, [{ apiKey: [] }], path);
        for (const status of ['400', '401', '403', '429'])
          assert.ok(operation.responses[status], `${path} ${status}`);
      }
  });

  it('serves the docs page and its assets itself', async () => {
    const page = await fetch(`${api.url}${DOCS_PREFIX}/`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /swagger-ui/i);
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(assets.length > 0);
    for (const asset of assets) {
      assert.ok(!/^https?:\/\//.test(asset), `no CDN: ${asset}`);
      const url = new URL(asset, `${api.url}${DOCS_PREFIX}/`);
      assert.equal((await fetch(url)).status, 200, url.toString());
    }
  });
});
