// Attack: one client hammers the key directory API (claims drain one-time KeyPackages; guesses
// at the bearer token). Closed: each client address has its own window; over it, 429 with
// Retry-After, and other clients are served as before. Real receipts server, real PostgreSQL.

import assert from 'node:assert/strict';
import { request } from 'undici';
import {
  HttpKeyDirectory,
  KEY_PACKAGES_CLAIM_PATH,
  KeyDirectoryHttpError,
} from '../../e2ee/key-directory-http';
import { SandboxPhones } from '../../sandbox/phones';
import { freshNumber, openE2eeTestDb } from '../e2ee/e2ee-fixtures';
import type { E2eeTestDb } from '../e2ee/e2ee-fixtures';
import { DIRECTORY_TOKEN, startSwitchboardEndpoint } from '../e2ee/transport-helpers';
import type { SwitchboardEndpoint } from '../e2ee/transport-helpers';
import { closeClients, from } from './client-address';

const LIMIT = 5;

describe('security: the key directory API limits each client', () => {
  let env: E2eeTestDb;
  let endpoint: SwitchboardEndpoint;
  let to: string;

  before(async () => {
    env = await openE2eeTestDb('switchboard_kd_limit');
    endpoint = await startSwitchboardEndpoint(env.directory, undefined, { limit: LIMIT, windowMs: 60_000 });
    to = freshNumber();
    await new SandboxPhones({ directory: env.directory, oneTimeBatch: 20, lowWatermark: 0 }).start(to);
  });
  after(async () => {
    await endpoint?.stop();
    await closeClients();
    await env?.testDb.drop();
  });

  const claim = async (client: string, authorization = `Bearer ${DIRECTORY_TOKEN}`) => {
    const res = await request(`${endpoint.baseUrl}${KEY_PACKAGES_CLAIM_PATH}`, {
      method: 'POST',
      dispatcher: from(client),
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ msisdn: to }),
    });
    const body = await res.body.text();
    return { status: res.statusCode, retryAfter: res.headers['retry-after'], body };
  };

  it('answers 429 with Retry-After to a client over its limit while another client is served', async () => {
    const packagesBefore = await env.directory.count(to);
    for (let i = 0; i < LIMIT; i++) assert.equal((await claim('127.0.0.2')).status, 200);
    const refused = await claim('127.0.0.2');
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.retryAfter) > 0 && Number(refused.retryAfter) <= 60, 'Retry-After in seconds');
    assert.equal((JSON.parse(refused.body) as { error: { code: string } }).error.code, 'RESOURCE_EXHAUSTED');
    assert.equal(await env.directory.count(to), packagesBefore - LIMIT, 'the refused claim consumed nothing');

    // Another client is served, and the app-side client sees a retryable refusal.
    assert.equal((await claim('127.0.0.3')).status, 200);
    const throttledApp = new HttpKeyDirectory({
      baseUrl: endpoint.baseUrl,
      bearerToken: DIRECTORY_TOKEN,
      dispatcher: from('127.0.0.2'),
    });
    await assert.rejects(throttledApp.claim(to), (err: unknown) => {
      assert.ok(err instanceof KeyDirectoryHttpError);
      assert.equal(err.status, 429);
      assert.equal(err.retryable, true);
      return true;
    });
  });

  it('limits bearer-token guesses the same way, before the token is looked at', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 2; i++) statuses.push((await claim('127.0.0.4', `Bearer guess-${i}`)).status);
    assert.deepEqual(statuses, [...Array<number>(LIMIT).fill(401), 429, 429]);
    // Even the right token now waits for the window: the limit is the client's, whatever it sends.
    assert.equal((await claim('127.0.0.4')).status, 429);
    assert.equal((await claim('127.0.0.5')).status, 200);
  });
});
