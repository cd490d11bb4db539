import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { request } from 'undici';
import { ConfigError, loadConfig } from '../../config';
import type { Env } from '../../config';
import { CodecServerConfigError, startCodecServer } from '../../workers/codec-server';
import { codecServerAuth, startCodecServerForUi } from '../../workers/codec-wiring';
import { STACK_DEV_SERVER_ARGS, startDevServer } from '../../workers/temporal-server';
import type { DevServer } from '../../workers/temporal-server';
import { codecOf } from '../../codec/data-converter';
import { TEST_SECRETS, testDataConverter } from '../fixtures/stack';

const freePort = () =>
  new Promise<number>((done) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => done(typeof address === 'object' && address ? address.port : 0));
    });
  });

/** Every command line this machine shows in /proc that contains `secret`. */
function commandLinesWith(secret: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue; // the process ended while we looked
    }
    if (cmdline.includes(secret)) found.push(`${pid}: ${cmdline}`);
  }
  return found;
}

async function uiSettings(server: DevServer): Promise<string> {
  const answer = await request(`${server.uiUrl}/api/v1/settings`);
  assert.equal(answer.statusCode, 200);
  return answer.body.text();
}

async function devServer(dataDir: string, extraArgs: string[]): Promise<DevServer> {
  // A port found free can be taken before the server binds it (the suite runs beside others):
  // try again on new ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDevServer({
        dataDir,
        port: await freePort(),
        uiPort: await freePort(),
        namespace: 'default',
        logger: pino({ enabled: false }),
        extraArgs,
      });
    } catch (err) {
      if (attempt >= 3 || !/port taken/.test((err as Error).message)) throw err;
    }
  }
}

const decodeBody = JSON.stringify({ payloads: [] });
const decode = (url: string, headers: Record<string, string> = {}) =>
  request(url, {
    method: 'POST',
    body: decodeBody,
    headers: { 'content-type': 'application/json', ...headers },
  });

describe('security: the codec server token', function () {
  this.timeout(90_000);
  let dir: string;
  const stops: Array<() => Promise<unknown>> = [];
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'codec-security-'))));
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const sandboxEnv = (overrides: Record<string, string> = {}): Env =>
    loadConfig({ DATA_DIR: dir, CODEC_SERVER_PORT: '0', ...overrides });

  it('the attack: a codec URL given to the dev server shows in /proc and in GET /api/v1/settings', async () => {
    const token = randomBytes(16).toString('hex');
    const server = await devServer(dir, ['--ui-codec-endpoint', `http://127.0.0.1:1/t/${token}`]);
    stops.push(() => server.stop());
    assert.notDeepEqual(commandLinesWith(token), []);
    assert.ok((await uiSettings(server)).includes(token));
  });

  it("the stack's wiring: the token is in no command line and not in the UI's settings", async () => {
    const env = sandboxEnv({ CODEC_SERVER_TOKEN: randomBytes(16).toString('hex') });
    const token = env.CODEC_SERVER_TOKEN as string;
    const codecServer = await startCodecServerForUi(env, TEST_SECRETS, dir);
    stops.push(() => codecServer.server.close());
    const server = await devServer(dir, [...STACK_DEV_SERVER_ARGS]);
    stops.push(() => server.stop());

    assert.deepEqual(commandLinesWith(token), []);
    const settings = await uiSettings(server);
    assert.ok(!settings.includes(token), 'token in /api/v1/settings');

    // The operator's copy: a 0600 file under DATA_DIR, for the UI's browser-only codec setting.
    const file = codecServer.browserEndpointFile as string;
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const endpoint = readFileSync(file, 'utf8').trim();
    assert.ok(endpoint.includes(token));
    assert.equal((await decode(`${endpoint}/decode`)).statusCode, 200);
  });

  it('with access tokens: refuses a missing or wrong bearer and the URL form, accepts a configured one', async () => {
    const tokens = [randomBytes(16).toString('hex'), randomBytes(16).toString('hex')];
    const env = sandboxEnv({ CODEC_ACCESS_TOKENS: tokens.join(',') });
    const codecServer = await startCodecServerForUi(env, TEST_SECRETS, dir);
    stops.push(() => codecServer.server.close());
    assert.equal(codecServer.browserEndpointFile, null);
    const url = `${codecServer.url}/decode`;
    assert.equal((await decode(url)).statusCode, 401);
    assert.equal((await decode(url, { authorization: `Bearer ${tokens[0]}x` })).statusCode, 401);
    assert.equal((await decode(url, { authorization: `Basic ${tokens[0]}` })).statusCode, 401);
    assert.equal((await decode(`${codecServer.url}/t/${tokens[1]}/decode`)).statusCode, 404);
    for (const token of tokens) {
      const answer = await decode(url, { authorization: `Bearer ${token}` });
      assert.equal(answer.statusCode, 200);
      assert.deepEqual(await answer.body.json(), { payloads: [] });
    }
  });

  it('the URL-token mode is refused outside the sandbox and off loopback', async () => {
    const production = loadConfig({
      SANDBOX: 'false',
      RCS_WEBHOOK_CLIENT_TOKEN: randomBytes(16).toString('hex'),
      RCS_HUB_TOKEN: randomBytes(16).toString('hex'),
      SMPP_PASSWORD: 'Xq7#pL2v',
      CODEC_KEYS: TEST_SECRETS.codecKeys,
      AUDIT_HASH_KEY: TEST_SECRETS.auditHashKey,
    });
    const names = (err: unknown) =>
      err instanceof ConfigError && /CODEC_ACCESS_TOKENS: required/.test(err.message);
    assert.throws(() => codecServerAuth(production, TEST_SECRETS), names);
    assert.throws(() => codecServerAuth(sandboxEnv({ CODEC_SERVER_HOST: '0.0.0.0' }), TEST_SECRETS), names);
    await assert.rejects(
      startCodecServer({
        codec: codecOf(testDataConverter()),
        auth: { mode: 'sandbox-url-token', token: randomBytes(16).toString('hex') },
        host: '0.0.0.0',
        port: 0,
        allowedOrigins: [],
      }),
      CodecServerConfigError,
    );
  });
});
