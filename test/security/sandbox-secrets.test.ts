import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../config';
import { processRbmWebhookPost, signRbmEventBody } from '../../channels/rcs/webhook';

const ROOT = join(__dirname, '..', '..', '..');

/** A production environment with secrets of its own; each test spoils one part of it. */
const ownSecrets = (): Record<string, string> => ({
  SANDBOX: 'false',
  RCS_WEBHOOK_CLIENT_TOKEN: randomBytes(16).toString('hex'),
  RCS_HUB_TOKEN: randomBytes(16).toString('hex'),
  SMPP_PASSWORD: 'Xq7#pL2v',
  CODEC_KEYS: `k1:${randomBytes(32).toString('base64')}`,
  AUDIT_HASH_KEY: randomBytes(32).toString('hex'),
});

const forgedDelivered = () => ({
  agentId: 'switchboard-sandbox-agent',
  senderPhoneNumber: '+15550100001',
  eventType: 'DELIVERED',
  eventId: 'forged-1',
  messageId: '00000000-0000-4000-8000-000000000000',
  sendTime: new Date().toISOString(),
});

describe('security: no sandbox secret outside the sandbox', () => {
  it('the attack: a DELIVERED event signed with the public sandbox token verifies under the default config', () => {
    const env = loadConfig({});
    const { body, signature } = signRbmEventBody(forgedDelivered(), 'sandbox-client-token');
    const post = processRbmWebhookPost(body, signature, env.RCS_WEBHOOK_CLIENT_TOKEN);
    assert.equal(post.kind, 'event');
  });

  it('with SANDBOX=false, every secret left at its sandbox default is named in one error', () => {
    assert.throws(
      () => loadConfig({ SANDBOX: 'false' }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        for (const name of [
          'RCS_WEBHOOK_CLIENT_TOKEN',
          'RCS_HUB_TOKEN',
          'SMPP_PASSWORD',
          'CODEC_KEYS',
          'AUDIT_HASH_KEY',
        ]) {
          assert.match(err.message, new RegExp(`  ${name}: set a secret of your own`));
        }
        return true;
      },
    );
  });

  it('each public default is refused on its own, a region credential included', () => {
    for (const [name, value] of [
      ['RCS_WEBHOOK_CLIENT_TOKEN', 'sandbox-client-token'],
      ['RCS_HUB_TOKEN', 'sandbox-token'],
      ['SMPP_PASSWORD', 'sandbox'],
    ] as const) {
      assert.throws(
        () => loadConfig({ ...ownSecrets(), [name]: value }),
        (err: unknown) => err instanceof ConfigError && err.message.includes(`  ${name}:`),
        name,
      );
    }
    const regions = JSON.stringify({
      eu: {
        rcsHubUrl: 'https://eu.example',
        smppPort: 2775,
        rcsHubToken: 'sandbox-token',
        smppPassword: 'sandbox',
      },
    });
    assert.throws(
      () => loadConfig({ ...ownSecrets(), REGION_ENDPOINTS: regions }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message.includes('REGION_ENDPOINTS.eu.rcsHubToken') &&
        err.message.includes('REGION_ENDPOINTS.eu.smppPassword'),
    );
  });

  it('secrets of its own pass; the sandbox keeps its defaults', () => {
    assert.equal(loadConfig(ownSecrets()).SANDBOX, false);
    assert.equal(loadConfig({ SANDBOX: 'true' }).RCS_WEBHOOK_CLIENT_TOKEN, 'sandbox-client-token');
  });

  it('the worker entry refuses to start with the sandbox webhook token, naming it', async () => {
    const env = {
      PATH: process.env.PATH ?? '',
      ...ownSecrets(),
      RCS_WEBHOOK_CLIENT_TOKEN: 'sandbox-client-token',
      TEMPORAL_ADDRESS: '127.0.0.1:1',
      DATABASE_URL: 'postgres://127.0.0.1:1/none',
    };
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'workers', 'main.js')], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((done) => child.once('exit', done));
    assert.equal(code, 1);
    assert.match(stderr, /RCS_WEBHOOK_CLIENT_TOKEN: set a secret of your own/);
    assert.doesNotMatch(stderr, /RCS_HUB_TOKEN/);
  });
});
