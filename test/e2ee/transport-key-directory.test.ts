// The key directory over HTTP, on real parts: sandbox phones publish KeyPackages to PostgreSQL,
// the receipts server answers claims, HttpKeyDirectory asks over undici.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import fastify from 'fastify';
import { request } from 'undici';
import {
  HttpKeyDirectory,
  KEY_PACKAGES_CLAIM_PATH,
  KeyDirectoryHttpError,
  registerKeyDirectoryRoutes,
} from '../../e2ee/key-directory-http';
import type { KeyDirectoryHttpErrorCode, KeyPackagesClaimResponse } from '../../e2ee/key-directory-http';
import { E2eeKeyNegotiationError } from '../../e2ee/errors';
import { parseKeyPackage } from '../../e2ee/mls';
import { SandboxPhones } from '../../sandbox/phones';
import { freshNumber, openE2eeTestDb } from './e2ee-fixtures';
import type { E2eeTestDb } from './e2ee-fixtures';
import { DIRECTORY_TOKEN, captureLog, startSwitchboardEndpoint } from './transport-helpers';
import type { CapturedLog, SwitchboardEndpoint } from './transport-helpers';

async function post(
  baseUrl: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: unknown; headers: Record<string, unknown> }> {
  const res = await request(`${baseUrl}${KEY_PACKAGES_CLAIM_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await res.body.text();
  return { status: res.statusCode, json: text ? (JSON.parse(text) as unknown) : null, headers: res.headers };
}

const auth = { authorization: `Bearer ${DIRECTORY_TOKEN}` };

async function rejectsWithCode(
  promise: Promise<unknown>,
  code: KeyDirectoryHttpErrorCode,
  status: number | null,
  msisdn: string,
): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof KeyDirectoryHttpError, `expected KeyDirectoryHttpError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.status, status);
    assert.ok(
      !err.message.includes(msisdn) && !String(err.stack).includes(msisdn),
      'the error names no number',
    );
    return true;
  });
}

describe('E2EE transport: the key directory HTTP API', () => {
  let env: E2eeTestDb;
  let phones: SandboxPhones;
  let endpoint: SwitchboardEndpoint;
  let log: CapturedLog;

  before(async () => {
    env = await openE2eeTestDb('switchboard_kdhttp');
    log = captureLog();
    endpoint = await startSwitchboardEndpoint(env.directory, log.logger);
  });
  after(async () => {
    await endpoint?.stop();
    await env?.testDb.drop();
  });
  beforeEach(() => {
    phones = new SandboxPhones({ directory: env.directory, oneTimeBatch: 3, lowWatermark: 0 });
  });

  it('answers one valid KeyPackage per device and consumes one-time packages', async () => {
    const to = freshNumber();
    const devices = await phones.start(to, { devices: 2 });
    const before = await env.directory.count(to);

    const answer = await post(endpoint.baseUrl, JSON.stringify({ msisdn: to }), auth);
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['cache-control'], 'no-store');
    const body = answer.json as KeyPackagesClaimResponse;
    assert.deepEqual(body.devices.map((d) => d.deviceId).sort(), [...devices].sort());
    for (const d of body.devices) {
      assert.equal(d.lastResort, false);
      await parseKeyPackage(new Uint8Array(Buffer.from(d.keyPackage, 'base64')));
    }
    assert.equal(await env.directory.count(to), before - 2, 'one one-time package per device is gone');

    const again = (await post(endpoint.baseUrl, JSON.stringify({ msisdn: to }), auth))
      .json as KeyPackagesClaimResponse;
    const firstKps = new Set(body.devices.map((d) => d.keyPackage));
    assert.ok(
      again.devices.every((d) => !firstKps.has(d.keyPackage)),
      'never the same one-time package twice',
    );
  });

  it('falls back to the last-resort package once the one-time ones are used up', async () => {
    const to = freshNumber();
    await phones.start(to);
    const directory = new HttpKeyDirectory({ baseUrl: endpoint.baseUrl, bearerToken: DIRECTORY_TOKEN });
    const claims = [];
    for (let i = 0; i < 4; i++) claims.push(await directory.claim(to));
    assert.deepEqual(
      claims.map((c) => c.map((d) => d.lastResort)),
      [[false], [false], [false], [true]],
    );
    assert.ok(claims[3]?.[0]?.keyPackage instanceof Uint8Array);
    await parseKeyPackage(claims[3]?.[0]?.keyPackage ?? new Uint8Array());
  });

  it('answers 404 NO_KEY_PACKAGES for a number without packages; the client throws the library error', async () => {
    const to = freshNumber('+1555020');
    const answer = await post(endpoint.baseUrl, JSON.stringify({ msisdn: to }), auth);
    assert.equal(answer.status, 404);
    assert.equal((answer.json as { error: { code: string } }).error.code, 'NO_KEY_PACKAGES');

    const directory = new HttpKeyDirectory({ baseUrl: endpoint.baseUrl, bearerToken: DIRECTORY_TOKEN });
    await assert.rejects(directory.claim(to), (err: unknown) => {
      assert.ok(err instanceof E2eeKeyNegotiationError);
      assert.equal(err.code, 'NO_KEY_PACKAGES');
      return true;
    });
  });

  it('refuses a missing or wrong bearer token with 401 and consumes nothing', async () => {
    const to = freshNumber();
    await phones.start(to);
    const stock = await env.directory.count(to);
    const body = JSON.stringify({ msisdn: to });

    const refusals: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong-token-wrong-token' },
      { authorization: DIRECTORY_TOKEN },
      { authorization: `Basic ${DIRECTORY_TOKEN}` },
    ];
    for (const headers of refusals) {
      const answer = await post(endpoint.baseUrl, body, headers);
      assert.equal(answer.status, 401, JSON.stringify(headers));
      assert.equal(answer.headers['www-authenticate'], 'Bearer');
      assert.equal((answer.json as { error: { code: string } }).error.code, 'UNAUTHENTICATED');
    }
    assert.equal(await env.directory.count(to), stock);

    const wrong = new HttpKeyDirectory({ baseUrl: endpoint.baseUrl, bearerToken: 'not-the-directory-token' });
    await rejectsWithCode(wrong.claim(to), 'KEY_DIRECTORY_UNAUTHORIZED', 401, to);
  });

  it('refuses bad input with 400 naming the field', async () => {
    const cases: [string, string][] = [
      [JSON.stringify({}), 'msisdn'],
      [JSON.stringify({ msisdn: 15550100001 }), 'msisdn'],
      [JSON.stringify({ msisdn: '15550100001' }), 'msisdn'],
      [JSON.stringify({ msisdn: '+1 555 010 0001' }), 'msisdn'],
      [JSON.stringify({ msisdn: '+0555010000' }), 'msisdn'],
      [JSON.stringify({ msisdn: `+1${'5'.repeat(15)}` }), 'msisdn'],
      [JSON.stringify(['+15550100001']), 'body'],
      ['{"msisdn": ', 'body'],
    ];
    for (const [body, field] of cases) {
      const answer = await post(endpoint.baseUrl, body, auth);
      assert.equal(answer.status, 400, body);
      const error = (answer.json as { error: { code: string; field: string; message: string } }).error;
      assert.equal(error.code, 'INVALID_ARGUMENT');
      assert.equal(error.field, field, body);
      assert.ok(error.message.includes(field));
    }
    const directory = new HttpKeyDirectory({ baseUrl: endpoint.baseUrl, bearerToken: DIRECTORY_TOKEN });
    await rejectsWithCode(directory.claim('not-a-number'), 'KEY_DIRECTORY_REJECTED', 400, 'not-a-number');
  });

  it('works on a server that parses JSON itself (plugin registered on a plain fastify)', async () => {
    const app = fastify({ logger: false });
    await registerKeyDirectoryRoutes(app, { directory: env.directory, bearerToken: DIRECTORY_TOKEN });
    app.get('/other', () => ({ open: true }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      const to = freshNumber();
      await phones.start(to);
      const claimed = await new HttpKeyDirectory({ baseUrl: base, bearerToken: DIRECTORY_TOKEN }).claim(to);
      assert.equal(claimed.length, 1);
      assert.equal((await post(base, JSON.stringify({ msisdn: 'x' }), auth)).status, 400);
      // The bearer check is the plugin's own: the host's other routes stay as they were.
      const other = await request(`${base}/other`);
      assert.equal(other.statusCode, 200);
      await other.body.dump();
    } finally {
      await app.close();
    }
  });

  it('maps failures of the directory and of the transport to typed, retryable errors', async () => {
    const to = freshNumber();
    const failing = fastify({ logger: false });
    await registerKeyDirectoryRoutes(failing, {
      directory: { claim: () => Promise.reject(new Error(`database down while claiming for ${to}`)) },
      bearerToken: DIRECTORY_TOKEN,
      logger: log.logger,
    });
    await failing.listen({ host: '127.0.0.1', port: 0 });
    // A server that accepts connections and never answers.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const failingBase = `http://127.0.0.1:${(failing.server.address() as AddressInfo).port}`;
      const silentBase = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const client = (baseUrl: string, timeoutMs = 2000): HttpKeyDirectory =>
        new HttpKeyDirectory({ baseUrl, bearerToken: DIRECTORY_TOKEN, timeoutMs });

      await rejectsWithCode(client(failingBase).claim(to), 'KEY_DIRECTORY_UNAVAILABLE', 503, to);
      await rejectsWithCode(client(silentBase, 200).claim(to), 'KEY_DIRECTORY_TIMEOUT', null, to);
      await rejectsWithCode(client('http://127.0.0.1:9').claim(to), 'KEY_DIRECTORY_UNREACHABLE', null, to);
      // A 404 that is not the directory's (a wrong base URL) is a misconfiguration, not "no keys".
      await rejectsWithCode(client(`${endpoint.baseUrl}/wrong`).claim(to), 'KEY_DIRECTORY_REJECTED', 404, to);

      const err = await client(failingBase)
        .claim(to)
        .catch((e: unknown) => e);
      assert.ok(err instanceof KeyDirectoryHttpError && err.retryable);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
      await failing.close();
    }
  });

  it('logs no number, no KeyPackage and no token', () => {
    const text = log.text();
    assert.ok(text.includes('bearer refused'), 'the refusals were logged');
    assert.ok(text.includes('claim failed'), 'the directory failure was logged');
    assert.ok(!/\+1555\d{7}/.test(text), 'no number in the log');
    assert.ok(!text.includes(DIRECTORY_TOKEN), 'no token in the log');
    assert.ok(!text.includes('database down'), 'no underlying error text in the log');
  });
});
