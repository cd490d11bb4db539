import assert from 'node:assert/strict';
import { DEFAULT_NUMBER_PLAN } from '../../sandbox/number-plan';
import type { SandboxBehaviour } from '../../sandbox/number-plan';
import type { RunningApiServer } from '../../workers/api-server';
import { stack } from '../fixtures/stack';
import { call, settleWorkflowCount, startTestApi, tenantWithKey, waitForStatus } from './api-fixture';

type Accepted = { messageId: string; created: boolean; links: { self: string } };

/** A full number of the row: its prefix, filled up to a UK or NANP number's length. */
function numberIn(prefix: string): string {
  const width = prefix.startsWith('+44') ? 13 : 12;
  const fill = width - prefix.length;
  return fill === 0 ? prefix : `${prefix}${'7'.padStart(fill, '0')}`;
}

/** What the sandbox does with a plain text to a number of this row. */
function expected(b: SandboxBehaviour): {
  status: string;
  channel: string | null;
  fallbackReason: string | null;
} {
  if (!b.rcs)
    return b.smsFinalState === 'DELIVRD'
      ? { status: 'delivered', channel: 'sms', fallbackReason: 'not_rcs_capable' }
      : { status: 'failed', channel: null, fallbackReason: 'not_rcs_capable' };
  if (b.rcsRejects) return { status: 'delivered', channel: 'sms', fallbackReason: 'rcs_permanent_error' };
  if (b.rcsOffline) return { status: 'delivered', channel: 'sms', fallbackReason: 'rcs_receipt_timeout' };
  return { status: 'delivered', channel: 'rcs', fallbackReason: null };
}

describe('REST API: messages over real HTTP', function () {
  this.timeout(60_000);
  let api: RunningApiServer;
  before(async () => (api = await startTestApi()));
  after(() => api.close());

  for (const row of DEFAULT_NUMBER_PLAN) {
    const to = numberIn(row.prefix);
    it(`number plan ${row.prefix}… (${row.description}): sent through the API, outcome as the direct client sees it`, async () => {
      const { apiKey } = await tenantWithKey();
      const sent = await call<Accepted>(api.url, 'POST', '/v1/messages', {
        key: apiKey,
        body: { to, text: `api ${row.prefix}`, e2ee: 'off', metadata: { order: '42' } },
      });
      assert.equal(sent.status, 202, JSON.stringify(sent.body));
      assert.equal(sent.body.created, true);
      assert.equal(sent.headers.get('location'), `/v1/messages/${sent.body.messageId}`);
      const status = await waitForStatus(api.url, apiKey, sent.body.messageId);
      assert.deepEqual(
        { status: status.status, channel: status.channel, fallbackReason: status.fallbackReason },
        expected(row.behaviour),
      );
      assert.deepEqual(status.metadata, { order: '42' });
      const direct = await stack().switchboard.waitForOutcome(sent.body.messageId);
      assert.deepEqual(status.attempts, direct.attempts);
    });
  }

  it('an Idempotency-Key: same body → the same message (200), another body → 422, nothing new started', async () => {
    const { tenant, apiKey } = await tenantWithKey();
    const body = { to: '+15550200001', text: 'once only', flow: 'standard' };
    const headers = { 'idempotency-key': 'order-77-shipped' };
    const first = await call<Accepted>(api.url, 'POST', '/v1/messages', { key: apiKey, body, headers });
    assert.equal(first.status, 202);
    // The same fields in another order are the same body.
    const again = await call<Accepted>(api.url, 'POST', '/v1/messages', {
      key: apiKey,
      body: { flow: 'standard', text: 'once only', to: '+15550200001' },
      headers,
    });
    assert.equal(again.status, 200);
    assert.equal(again.body.messageId, first.body.messageId);
    assert.equal(again.body.created, false);
    const other = await call(api.url, 'POST', '/v1/messages', {
      key: apiKey,
      body: { ...body, text: 'something else' },
      headers,
    });
    assert.equal(other.status, 422);
    assert.match(other.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.deepEqual(
      (other.body as { errors: Array<{ field: string }> }).errors.map((e) => e.field),
      ['Idempotency-Key'],
    );
    // A later message of the tenant: once visibility shows it, it shows everything started before.
    const sentinel = await call<Accepted>(api.url, 'POST', '/v1/messages', {
      key: apiKey,
      body: { to: '+15550200009', text: 'sentinel' },
    });
    assert.equal(sentinel.status, 202);
    assert.equal(await settleWorkflowCount(tenant, 2), 2, 'one workflow for the key, whatever was replayed');
    // The key, which could hold a number, is not stored; only the message id and an HMAC of the body.
    const { rows } = await stack().db.query<{ message_id: string }>(
      'SELECT message_id FROM api_idempotency WHERE tenant = $1',
      [tenant],
    );
    assert.deepEqual(
      rows.map((r) => r.message_id),
      [first.body.messageId],
    );
    // The same key for another tenant is another message.
    const stranger = await tenantWithKey();
    const theirs = await call<Accepted>(api.url, 'POST', '/v1/messages', {
      key: stranger.apiKey,
      body,
      headers,
    });
    assert.equal(theirs.status, 202);
    assert.notEqual(theirs.body.messageId, first.body.messageId);
  });

  it('another tenant’s message is a 404, like one that does not exist', async () => {
    const owner = await tenantWithKey();
    const other = await tenantWithKey();
    const sent = await call<Accepted>(api.url, 'POST', '/v1/messages', {
      key: owner.apiKey,
      body: { to: '+15550200002', text: 'mine' },
    });
    assert.equal(sent.status, 202);
    const theirs = await call(api.url, 'GET', `/v1/messages/${sent.body.messageId}`, { key: other.apiKey });
    const unknown = await call(api.url, 'GET', '/v1/messages/6f1c1f7e-0000-4000-8000-000000000000', {
      key: other.apiKey,
    });
    assert.equal(theirs.status, 404);
    assert.deepEqual(theirs.body, unknown.body);
    assert.equal(
      (await call(api.url, 'GET', `/v1/messages/${sent.body.messageId}`, { key: owner.apiKey })).status,
      200,
    );
    const listed = await call<{ messages: unknown[] }>(api.url, 'GET', '/v1/messages', { key: other.apiKey });
    assert.deepEqual(listed.body.messages, []);
  });

  it('GET /v1/messages lists the tenant’s messages by status, since a time, page by page', async () => {
    const { tenant, apiKey } = await tenantWithKey();
    const since = new Date(Date.now() - 1000).toISOString();
    const ids: string[] = [];
    for (const to of ['+15550200003', '+15550200004', '+15550700003']) {
      const sent = await call<Accepted>(api.url, 'POST', '/v1/messages', {
        key: apiKey,
        body: { to, text: 'list me' },
      });
      ids.push(sent.body.messageId);
    }
    for (const id of ids) await waitForStatus(api.url, apiKey, id);
    assert.equal(await settleWorkflowCount(tenant, 3), 3);
    type Page = { messages: Array<{ messageId: string; status: string }>; nextCursor: string | null };
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const path: string = `/v1/messages?limit=2&since=${encodeURIComponent(since)}${cursor ? `&cursor=${cursor}` : ''}`;
      const page: { status: number; body: Page } = await call<Page>(api.url, 'GET', path, { key: apiKey });
      assert.equal(page.status, 200);
      assert.ok(page.body.messages.length <= 2);
      seen.push(...page.body.messages.map((m) => m.messageId));
      cursor = page.body.nextCursor;
    } while (cursor);
    assert.deepEqual([...seen].sort(), [...ids].sort());
    const failed = await call<Page>(api.url, 'GET', '/v1/messages?status=failed', { key: apiKey });
    assert.deepEqual(
      failed.body.messages.map((m) => m.messageId),
      [ids[2]],
    );
    const later = await call<Page>(
      api.url,
      'GET',
      `/v1/messages?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
      {
        key: apiKey,
      },
    );
    assert.deepEqual(later.body.messages, []);
    const badCursor = await call<{ errors: Array<{ field: string }> }>(
      api.url,
      'GET',
      '/v1/messages?cursor=AAAA',
      { key: apiKey },
    );
    assert.equal(badCursor.status, 400);
    assert.deepEqual(
      badCursor.body.errors.map((e) => e.field),
      ['cursor'],
    );
  });

  it('media: an upload with the API key, then a message with its id; another tenant cannot use it', async () => {
    const { apiKey } = await tenantWithKey();
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const upload = await call<{ mediaId: string; bytes: number }>(
      api.url,
      'POST',
      '/v1/media?fileName=ticket.png',
      {
        key: apiKey,
        raw: png,
        headers: { 'content-type': 'image/png' },
      },
    );
    assert.equal(upload.status, 201, JSON.stringify(upload.body));
    assert.equal(upload.body.bytes, png.length);
    const sent = await call<Accepted>(api.url, 'POST', '/v1/messages', {
      key: apiKey,
      body: { to: '+15550300005', text: 'your ticket', media: { mediaId: upload.body.mediaId } },
    });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const status = await waitForStatus(api.url, apiKey, sent.body.messageId);
    assert.equal(status.shortlink, true);
    const inline = await call<Accepted>(api.url, 'POST', '/v1/messages', {
      key: apiKey,
      body: {
        to: '+15550300006',
        text: 'inline',
        media: { data: png.toString('base64'), contentType: 'image/png', fileName: 'a.png' },
      },
    });
    assert.equal(inline.status, 202, JSON.stringify(inline.body));
    assert.equal((await waitForStatus(api.url, apiKey, inline.body.messageId)).shortlink, true);
    const stranger = await tenantWithKey();
    const stolen = await call<{ errors: Array<{ field: string }> }>(api.url, 'POST', '/v1/messages', {
      key: stranger.apiKey,
      body: { to: '+15550300005', text: 'not yours', media: { mediaId: upload.body.mediaId } },
    });
    assert.equal(stolen.status, 400);
    assert.deepEqual(
      stolen.body.errors.map((e) => e.field),
      ['media.mediaId'],
    );
  });
});
