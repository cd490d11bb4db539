import assert from 'node:assert/strict';
import { AUTH_FAILURES_PER_MINUTE } from '../../api/auth';
import type { RunningApiServer } from '../../workers/api-server';
import { IdempotencyRecords } from '../../store/idempotency-records';
import { stack } from '../fixtures/stack';
import { call, keyStore, settleWorkflowCount, startTestApi, tenantWithKey } from './api-fixture';

type ProblemBody = {
  type: string;
  status: number;
  detail: string;
  errors?: Array<{ field: string; detail: string }>;
};

function assertProblem(
  answer: { status: number; headers: Headers; body: unknown },
  status: number,
): ProblemBody {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.match(answer.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const body = answer.body as ProblemBody;
  assert.equal(body.status, status);
  assert.match(body.type, /^urn:switchboard:problem:/);
  return body;
}

const fields = (body: ProblemBody) => (body.errors ?? []).map((e) => e.field).sort();

describe('REST API: refusals over real HTTP', function () {
  this.timeout(60_000);
  let api: RunningApiServer;
  before(async () => (api = await startTestApi()));
  after(() => api.close());
  const good = { to: '+15550200011', text: 'hello' };

  it('401 without a key, with a malformed, a forged or a revoked key', async () => {
    const { apiKey, keyId } = await tenantWithKey();
    const forged = `${apiKey.slice(0, -4)}AAAA`;
    for (const key of [undefined, 'not-a-key', forged]) {
      const answer = await call(api.url, 'POST', '/v1/messages', { key, body: good });
      assertProblem(answer, 401);
      assert.equal(answer.headers.get('www-authenticate'), 'Bearer');
    }
    assert.equal((await call(api.url, 'GET', '/v1/messages', { key: apiKey })).status, 200);
    assert.equal(await keyStore().revoke(keyId), true);
    // At once: every request reads the key's row.
    assertProblem(await call(api.url, 'GET', '/v1/messages', { key: apiKey }), 401);
  });

  it('429 for an address after 20 failed key checks a minute, before any more are checked', async () => {
    const guarded = await startTestApi();
    try {
      const { apiKey } = await tenantWithKey();
      const forged = `${apiKey.slice(0, -4)}AAAA`;
      for (let i = 0; i < AUTH_FAILURES_PER_MINUTE; i++)
        assertProblem(await call(guarded.url, 'GET', '/v1/messages', { key: forged }), 401);
      const refused = await call(guarded.url, 'GET', '/v1/messages', { key: forged });
      assertProblem(refused, 429);
      assert.ok(Number(refused.headers.get('retry-after')) > 0);
      // The address is refused every check that would need scrypt for the rest of the minute:
      // a good key not yet proven here too.
      assertProblem(await call(guarded.url, 'GET', '/v1/messages', { key: apiKey }), 429);
      // Public routes are not behind a key, nor behind its throttle.
      assert.equal((await call(guarded.url, 'GET', '/healthz')).status, 200);
    } finally {
      await guarded.close();
    }
  });

  it('403 for a key without the route’s scope', async () => {
    const reader = await tenantWithKey(['read']);
    const sender = await tenantWithKey(['send']);
    const refused = assertProblem(
      await call(api.url, 'POST', '/v1/messages', { key: reader.apiKey, body: good }),
      403,
    );
    assert.match(refused.detail, /"send" scope/);
    assertProblem(await call(api.url, 'GET', '/v1/messages', { key: sender.apiKey }), 403);
    assertProblem(
      await call(api.url, 'POST', '/v1/media?fileName=a.png', {
        key: reader.apiKey,
        raw: Buffer.from('x'),
        headers: { 'content-type': 'image/png' },
      }),
      403,
    );
    assert.equal(await settleWorkflowCount(reader.tenant, 0), 0);
  });

  it('malformed bodies: problem+json naming every bad field, and nothing started', async () => {
    const { tenant, apiKey } = await tenantWithKey();
    const cases: Array<[unknown, string[]]> = [
      [{ to: '+1', text: 5, flow: 'fast', extra: true }, ['extra', 'flow', 'text', 'to']],
      [{ to: '+15550200011' }, ['text']],
      [{ to: '+15550200011', text: 'x'.repeat(1531) }, ['text']],
      [{ to: '+8613800138000', text: 'hi' }, ['to']],
      [{ ...good, e2ee: 'required' }, ['text']],
      [{ ...good, rcsCopy: true }, ['rcsCopy']],
      [{ ...good, statusCallbackUrl: 'ftp://user:pw@example.com/' }, ['statusCallbackUrl']],
      [{ ...good, media: { mediaId: 'short' } }, ['media.mediaId']],
      [
        { ...good, media: { data: 'aGk=', contentType: 'image/png', fileName: '../etc/passwd' } },
        ['media.fileName'],
      ],
      [
        { ...good, e2ee: 'off', e2eePayload: { ciphertext: 'AA==', negotiationMs: 1, newGroup: true } },
        ['e2eePayload'],
      ],
      [{ ...good, metadata: { 'bad key': 'v' } }, ['metadata.bad key']],
      [[good], ['body']],
    ];
    for (const [body, expected] of cases) {
      const answer = await call(api.url, 'POST', '/v1/messages', {
        key: apiKey,
        body,
        headers: { 'idempotency-key': `k-${expected.join()}` },
      });
      const problem = assertProblem(answer, 400);
      assert.deepEqual(fields(problem), expected, JSON.stringify(body));
      for (const error of problem.errors ?? []) assert.ok(error.detail.length > 0);
      assert.ok(!JSON.stringify(problem).includes('+1555'), 'no number echoed');
    }
    const notJson = await call(api.url, 'POST', '/v1/messages', {
      key: apiKey,
      raw: '{"to":',
      headers: { 'content-type': 'application/json' },
    });
    assertProblem(notJson, 400);
    assertProblem(
      await call(api.url, 'POST', '/v1/messages', {
        key: apiKey,
        raw: 'to=x',
        headers: { 'content-type': 'text/plain' },
      }),
      415,
    );
    assert.equal(
      await new IdempotencyRecords(stack().db).count(tenant),
      0,
      'no idempotency record for a refusal',
    );
    // Once visibility shows a later message, it would show any refused one that had started.
    const sentinel = await call(api.url, 'POST', '/v1/messages', { key: apiKey, body: good });
    assert.equal(sentinel.status, 202);
    assert.equal(await settleWorkflowCount(tenant, 1), 1);
  });

  it('413 for an oversized body, read no further and nothing started', async () => {
    const { tenant, apiKey } = await tenantWithKey();
    const big = {
      to: '+15550200011',
      text: 'hi',
      metadata: { pad: 'x'.repeat(200) },
      media: { data: 'A'.repeat(1_100_000), contentType: 'image/png', fileName: 'a.png' },
    };
    assertProblem(await call(api.url, 'POST', '/v1/messages', { key: apiKey, body: big }), 413);
    assertProblem(
      await call(api.url, 'POST', '/v1/media?fileName=big.png', {
        key: apiKey,
        raw: Buffer.alloc(512 * 1024 + 1, 1),
        headers: { 'content-type': 'image/png' },
      }),
      413,
    );
    const sentinel = await call(api.url, 'POST', '/v1/messages', { key: apiKey, body: good });
    assert.equal(sentinel.status, 202);
    assert.equal(await settleWorkflowCount(tenant, 1), 1);
  });

  it('429 with Retry-After per tenant: one tenant over its budget does not slow another', async () => {
    const limited = await startTestApi({ API_RATE_LIMIT: '3', API_RATE_LIMIT_WINDOW_MS: '60000' });
    try {
      const busy = await tenantWithKey();
      const quiet = await tenantWithKey();
      // Two keys of one tenant share its budget.
      const second = await keyStore().create(busy.tenant, ['send', 'read']);
      for (const key of [busy.apiKey, second.apiKey, busy.apiKey])
        assert.equal((await call(limited.url, 'GET', '/v1/messages', { key })).status, 200);
      const refused = await call(limited.url, 'GET', '/v1/messages', { key: second.apiKey });
      assertProblem(refused, 429);
      const retryAfter = Number(refused.headers.get('retry-after'));
      assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After ${retryAfter}`);
      assertProblem(await call(limited.url, 'POST', '/v1/messages', { key: busy.apiKey, body: good }), 429);
      assert.equal((await call(limited.url, 'GET', '/v1/messages', { key: quiet.apiKey })).status, 200);
      assert.equal(await settleWorkflowCount(busy.tenant, 0), 0);
    } finally {
      await limited.close();
    }
  });
});
