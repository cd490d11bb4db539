// The failed-key-check throttle (api/auth.ts) against a proxy/NAT and against bursts: real HTTP,
// real PostgreSQL, real scrypt.
import assert from 'node:assert/strict';
import { AUTH_FAILURES_PER_MINUTE } from '../../api/auth';
import { KeyCheckGate } from '../../api/key-check-gate';
import { call, startTestApi, tenantWithKey } from './api-fixture';

const from = (address: string) => ({ 'x-forwarded-for': address });

describe('REST API: the failed-key-check throttle', function () {
  this.timeout(60_000);

  it('behind one address (NAT), a guesser does not lock out keys already proven; unproven ones wait', async () => {
    const api = await startTestApi();
    try {
      const proven = await tenantWithKey();
      const fresh = await tenantWithKey();
      assert.equal((await call(api.url, 'GET', '/v1/messages', { key: proven.apiKey })).status, 200);
      const forged = `${proven.apiKey.slice(0, -4)}AAAA`;
      for (let i = 0; i < AUTH_FAILURES_PER_MINUTE; i++)
        assert.equal((await call(api.url, 'GET', '/v1/messages', { key: forged })).status, 401);
      assert.equal((await call(api.url, 'GET', '/v1/messages', { key: forged })).status, 429);
      // Proven before: no scrypt needed, so the address's budget does not stand in its way.
      assert.equal((await call(api.url, 'GET', '/v1/messages', { key: proven.apiKey })).status, 200);
      // Not proven yet: it would need scrypt, refused until the minute is over.
      const refused = await call(api.url, 'GET', '/v1/messages', { key: fresh.apiKey });
      assert.equal(refused.status, 429);
      assert.ok(Number(refused.headers.get('retry-after')) > 0);
    } finally {
      await api.close();
    }
  });

  it('API_TRUST_PROXY: each client behind the proxy is its own address; X-Forwarded-For is ignored without it', async () => {
    const { apiKey } = await tenantWithKey();
    const forged = `${apiKey.slice(0, -4)}AAAA`;
    for (const [trust, expected] of [
      ['1', 200],
      ['false', 429],
    ] as const) {
      const api = await startTestApi({ API_TRUST_PROXY: trust });
      try {
        const other = await tenantWithKey();
        for (let i = 0; i <= AUTH_FAILURES_PER_MINUTE; i++)
          await call(api.url, 'GET', '/v1/messages', { key: forged, headers: from('10.9.0.1') });
        const answer = await call(api.url, 'GET', '/v1/messages', {
          key: other.apiKey,
          headers: from('10.9.0.2'),
        });
        assert.equal(answer.status, expected, `API_TRUST_PROXY=${trust}`);
      } finally {
        await api.close();
      }
    }
  });

  it('a parallel burst of forged keys gets at most the budget of checks, the rest 429 unchecked', async () => {
    const api = await startTestApi();
    try {
      const { apiKey } = await tenantWithKey();
      const forged = `${apiKey.slice(0, -4)}AAAA`;
      const answers = await Promise.all(
        Array.from({ length: 3 * AUTH_FAILURES_PER_MINUTE }, () =>
          call(api.url, 'GET', '/v1/messages', { key: forged }),
        ),
      );
      const statuses = answers.map((a) => a.status);
      const checked = statuses.filter((s) => s === 401).length;
      assert.ok(checked <= AUTH_FAILURES_PER_MINUTE, `${checked} keys checked`);
      assert.equal(statuses.filter((s) => s === 429).length, statuses.length - checked);
      // A good key's reservation is given back: the guesser's budget is spent, a good key's is not.
      const other = await startTestApi();
      try {
        for (let i = 0; i < AUTH_FAILURES_PER_MINUTE + 5; i++) {
          const { apiKey: good } = await tenantWithKey();
          assert.equal((await call(other.url, 'GET', '/v1/messages', { key: good })).status, 200);
        }
      } finally {
        await other.close();
      }
    } finally {
      await api.close();
    }
  });

  it('slow checks in flight: at most 4 overall and 2 per address, freed when done', () => {
    const gate = new KeyCheckGate(4, 2);
    const a1 = gate.enter('10.0.0.1');
    const a2 = gate.enter('10.0.0.1');
    assert.ok(a1 && a2);
    assert.equal(gate.enter('10.0.0.1'), null, 'a third for one address');
    const b1 = gate.enter('10.0.0.2');
    const c1 = gate.enter('2001:db8::1');
    assert.ok(b1 && c1);
    assert.equal(gate.enter('10.0.0.3'), null, 'a fifth overall');
    // Same /64: the same client.
    assert.ok(gate.enter('2001:db8::2') === null);
    a1();
    a1(); // released twice counts once
    const d1 = gate.enter('10.0.0.3');
    assert.ok(d1);
    assert.equal(gate.enter('10.0.0.4'), null);
  });
});
