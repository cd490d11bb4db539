import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Client } from '@temporalio/client';
import { request } from 'undici';
import { AesGcmPayloadCodec, CodecKeyError } from '../codec/aes-gcm-codec';
import { startCodecServer } from '../workers/codec-server';
import { stack } from './fixtures/stack';

const payload = (text: string) => ({
  metadata: { encoding: Buffer.from('json/plain') },
  data: Buffer.from(JSON.stringify(text)),
});

describe('payload codec', function () {
  this.timeout(30_000);
  const k1 = randomBytes(32);
  const k2 = randomBytes(32);

  it('seals payloads with AES-256-GCM under the active key and opens them again', async () => {
    const codec = new AesGcmPayloadCodec({ k1 }, 'k1');
    const [sealed] = await codec.encode([payload('marker-1234')]);
    assert.ok(sealed);
    assert.equal(Buffer.from(sealed.metadata?.['encryption-key-id'] ?? []).toString(), 'k1');
    assert.ok(!Buffer.from(sealed.data ?? []).includes(Buffer.from('marker-1234')));
    const [opened] = await codec.decode([sealed]);
    assert.equal(Buffer.from(opened?.data ?? []).toString(), '"marker-1234"');
  });

  it('rotation: a new active key seals, the old key still opens old payloads', async () => {
    const [old] = await new AesGcmPayloadCodec({ k1 }, 'k1').encode([payload('old')]);
    const rotated = new AesGcmPayloadCodec({ k1, k2 }, 'k2');
    const [fresh] = await rotated.encode([payload('new')]);
    assert.equal(Buffer.from(fresh?.metadata?.['encryption-key-id'] ?? []).toString(), 'k2');
    const opened = await rotated.decode([old!, fresh!]);
    assert.deepEqual(
      opened.map((p) => Buffer.from(p.data ?? []).toString()),
      ['"old"', '"new"'],
    );
  });

  it('a payload sealed with an unknown key, or tampered with, is refused', async () => {
    const [sealed] = await new AesGcmPayloadCodec({ k1 }, 'k1').encode([payload('x')]);
    await assert.rejects(new AesGcmPayloadCodec({ k2 }, 'k2').decode([sealed!]), CodecKeyError);
    const data = Buffer.from(sealed!.data!);
    data.writeUInt8(data.readUInt8(data.length - 1) ^ 1, data.length - 1);
    await assert.rejects(new AesGcmPayloadCodec({ k1 }, 'k1').decode([{ ...sealed!, data }]));
  });

  it('refuses keys that are not 32 bytes, naming the key', () => {
    assert.throws(
      () => new AesGcmPayloadCodec({ short: randomBytes(16) }, 'short'),
      /codec key "short" must be 32 bytes/,
    );
  });

  it('the codec server decodes for a bearer token (header or URL) and refuses without one', async () => {
    const codec = new AesGcmPayloadCodec({ k1 }, 'k1');
    const token = randomBytes(16).toString('hex');
    const { url, browserEndpoint, server } = await startCodecServer({
      codec,
      auth: { mode: 'sandbox-url-token', token },
      host: '127.0.0.1',
      port: 0,
      allowedOrigins: ['http://127.0.0.1:8233'],
    });
    try {
      const [sealed] = await codec.encode([payload('for the operator')]);
      const body = JSON.stringify({
        payloads: [
          {
            metadata: Object.fromEntries(
              Object.entries(sealed!.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
            ),
            data: Buffer.from(sealed!.data!).toString('base64'),
          },
        ],
      });
      const post = (to: string, headers: Record<string, string> = {}) =>
        request(to, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
      const refused = await post(`${url}/decode`);
      assert.equal(refused.statusCode, 401);
      await refused.body.dump();
      const wrong = await post(`${url}/decode`, { authorization: 'Bearer nope' });
      assert.equal(wrong.statusCode, 401);
      await wrong.body.dump();
      for (const res of [
        await post(`${url}/decode`, { authorization: `Bearer ${token}`, origin: 'http://127.0.0.1:8233' }),
        await post(`${browserEndpoint}/decode`),
      ]) {
        assert.equal(res.statusCode, 200);
        const decoded = (await res.body.json()) as { payloads: Array<{ data: string }> };
        assert.equal(Buffer.from(decoded.payloads[0]!.data, 'base64').toString(), '"for the operator"');
      }
      const cors = await post(`${url}/decode`, {
        authorization: `Bearer ${token}`,
        origin: 'http://127.0.0.1:8233',
      });
      assert.equal(cors.headers['access-control-allow-origin'], 'http://127.0.0.1:8233');
      await cors.body.dump();
    } finally {
      await server.close();
    }
  });

  it('the Temporal server stores no number and no text: a raw history holds neither', async () => {
    const { switchboard, temporal } = stack();
    const marker = `leak-marker-${randomBytes(6).toString('hex')}`;
    const to = '+15550600077'; // RCS rejects, SMS delivers: failures and both channels in history
    const sent = await switchboard.send({ to, text: marker });
    await switchboard.waitForOutcome(sent.messageId);
    const raw = new Client({ connection: temporal.connection }); // no codec: what the server holds
    const history = JSON.stringify(await raw.workflow.getHandle(sent.workflowId).fetchHistory());
    assert.ok(!history.includes(marker), 'message text in raw history');
    assert.ok(!history.includes(to.slice(1)), 'recipient number in raw history');
    assert.ok(
      !history.includes(Buffer.from(marker).toString('base64')),
      'message text in raw history (base64)',
    );
    assert.ok(!history.includes('RCS hub rejected'), 'failure messages are encoded too');
  });
});
