// POST /v1/e2ee/keyPackages:claim: an app that seals E2EE itself needs only its API key. Real
// HTTP, the sandbox phones' KeyPackages in PostgreSQL, real MLS sealing and a real phone reading it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeyPackages, fetchEscrowMemberViaApi } from '../../client/api-key-packages';
import { createEscrow } from '../../e2ee/escrow';
import { EscrowStore } from '../../store/escrow-store';
import { SwitchboardHttpClient } from '../../client/http-client';
import { E2eeKeyNegotiationError } from '../../e2ee/errors';
import { E2eeSender, loadOrCreateSenderIdentity } from '../../e2ee/sender';
import { FileSenderStateStore } from '../../e2ee/sender-state-store';
import type { RunningApiServer } from '../../workers/api-server';
import { stack } from '../fixtures/stack';
import { call, startTestApi, tenantWithKey } from './api-fixture';

const PATH = '/v1/e2ee/keyPackages:claim';
const ESCROW_PATH = '/v1/e2ee/escrowMember';

describe('REST API: KeyPackages for apps that seal E2EE themselves', function () {
  this.timeout(60_000);
  let api: RunningApiServer;
  before(async () => (api = await startTestApi()));
  after(() => api.close());

  it('answers the devices’ KeyPackages to a send key; refuses no key, a read key, a bad number; 404 for none', async () => {
    const sender = await tenantWithKey(['send']);
    const reader = await tenantWithKey(['read']);
    const claimed = await call<{ devices: Array<{ keyPackage: string }> }>(api.url, 'POST', PATH, {
      key: sender.apiKey,
      body: { msisdn: '+15550100034' },
    });
    assert.equal(claimed.status, 200, JSON.stringify(claimed.body));
    assert.ok(claimed.body.devices.length >= 1 && claimed.body.devices[0]!.keyPackage.length > 0);
    assert.equal(claimed.headers.get('cache-control'), 'no-store');
    const body = { msisdn: '+15550100034' };
    assert.equal((await call(api.url, 'POST', PATH, { body })).status, 401);
    assert.equal((await call(api.url, 'POST', PATH, { key: reader.apiKey, body })).status, 403);
    const bad = await call<{ errors: Array<{ field: string }> }>(api.url, 'POST', PATH, {
      key: sender.apiKey,
      body: { msisdn: 'nobody' },
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(
      bad.body.errors.map((e) => e.field),
      ['msisdn'],
    );
    // A number that is no RCS user has published nothing.
    await assert.rejects(
      new ApiKeyPackages({ baseUrl: api.url, apiKey: sender.apiKey }).claim('+15550300032'),
      E2eeKeyNegotiationError,
    );
  });

  it('an e2ee "required" send with only baseUrl and the API key: sealed in the app, the phone reads it', async () => {
    const { apiKey } = await tenantWithKey();
    const store = new FileSenderStateStore({
      dir: mkdtempSync(join(tmpdir(), 'switchboard-api-sealer-')),
      key: randomBytes(32),
    });
    const sealer = new E2eeSender({
      directory: new ApiKeyPackages({ baseUrl: api.url, apiKey }),
      store,
      identity: await loadOrCreateSenderIdentity(store),
    });
    const app = new SwitchboardHttpClient({ baseUrl: api.url, apiKey, e2ee: sealer, pollMs: 100 });
    const sent = await app.send({ to: '+15550100036', text: 'sealed with a key only', e2ee: 'required' });
    assert.equal(sent.encrypted, true);
    const outcome = await app.waitForOutcome(sent.messageId);
    assert.deepEqual([outcome.status, outcome.channel, outcome.e2ee], ['delivered', 'rcs', true]);
    const entry = stack().carriers.phones?.inbox('+15550100036').at(-1);
    assert.equal(entry?.ok, true);
    assert.equal(
      (JSON.parse(entry?.plaintext?.toString('utf8') ?? '{}') as { text?: string }).text,
      'sealed with a key only',
    );
  });

  it('answers the key’s own tenant’s escrow member (null when not escrowed); refuses no key and a read key', async () => {
    const escrowed = await tenantWithKey(['send']);
    const plain = await tenantWithKey(['send']);
    const reader = await tenantWithKey(['read']);
    const { record } = await createEscrow({ tenant: escrowed.tenant, threshold: 2, custodians: 3 });
    await new EscrowStore(stack().db).activate(record);
    const member = await fetchEscrowMemberViaApi({ baseUrl: api.url, apiKey: escrowed.apiKey });
    assert.equal(member?.escrowId, record.escrowId);
    assert.deepEqual(
      member?.keyPackages.map((k) => Buffer.from(k).toString('hex')),
      record.keyPackages.map((k) => Buffer.from(k).toString('hex')),
    );
    assert.equal(await fetchEscrowMemberViaApi({ baseUrl: api.url, apiKey: plain.apiKey }), null);
    assert.equal((await call(api.url, 'GET', ESCROW_PATH)).status, 401);
    assert.equal((await call(api.url, 'GET', ESCROW_PATH, { key: reader.apiKey })).status, 403);
    await assert.rejects(fetchEscrowMemberViaApi({ baseUrl: api.url, apiKey: reader.apiKey }), /403/);
  });
});
