// PROBE_RECIPIENTS and the probe settings: bad values are refused at start, naming the variable,
// the entry and what was expected, never the number.
import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import pino from 'pino';
import { ConfigError, loadConfig } from '../../config';
import { SANDBOX_PROBE_RECIPIENTS } from '../../sandbox/number-plan';
import { ensureProbeSchedules, probeRecipients, probeSettingsFor } from '../../workers/probes';

const refused = (vars: Record<string, string>, ...expected: RegExp[]) =>
  assert.throws(
    () => loadConfig(vars),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      for (const e of expected) assert.match(err.message, e);
      assert.doesNotMatch(err.message, /\+\d{6,}/, 'no number in the message');
      return true;
    },
  );

describe('probe configuration', () => {
  it('defaults to the sandbox recipients in the sandbox, and to none outside it', () => {
    const sandbox = loadConfig({});
    assert.deepEqual(probeRecipients(sandbox), SANDBOX_PROBE_RECIPIENTS);
    assert.equal(sandbox.PROBE_INTERVAL_MS, 30_000);
    assert.equal(sandbox.CAPABILITY_TTL_TUNING, false);
    const production = { ...sandbox, SANDBOX: false };
    assert.deepEqual(probeRecipients(production), {});
    assert.deepEqual(probeSettingsFor(production, 'us'), { region: 'us', recipients: [], timeoutMs: 25_000 });
  });

  it('takes PROBE_RECIPIENTS as JSON, one recipient per carrier and capability', () => {
    const env = loadConfig({
      PROBE_RECIPIENTS: JSON.stringify({
        us: [
          { carrier: 'acme', capability: 'rcs', to: '+15550902009' },
          { carrier: 'acme', capability: 'sms', to: '+15550903009' },
        ],
      }),
    });
    assert.deepEqual(
      probeSettingsFor(env, 'us').recipients.map((r) => `${r.carrier}/${r.capability}`),
      ['acme/rcs', 'acme/sms'],
    );
  });

  it('refuses malformed recipients, naming the entry and what it expects', () => {
    refused({ PROBE_RECIPIENTS: '{"us": [' }, /PROBE_RECIPIENTS: JSON object/);
    refused(
      {
        PROBE_RECIPIENTS: JSON.stringify({
          us: [{ carrier: 'Acme Mobile', capability: 'rcs', to: '+15550902009' }],
        }),
      },
      /PROBE_RECIPIENTS\.us\.0\.carrier: a lowercase identifier/,
    );
    refused(
      {
        PROBE_RECIPIENTS: JSON.stringify({
          us: [{ carrier: 'acme', capability: 'mms', to: '+15550902009' }],
        }),
      },
      /PROBE_RECIPIENTS\.us\.0\.capability/,
    );
    refused(
      {
        PROBE_RECIPIENTS: JSON.stringify({ us: [{ carrier: 'acme', capability: 'rcs', to: '5550902009' }] }),
      },
      /PROBE_RECIPIENTS\.us\.0\.to: an E\.164 number/,
    );
    // Residency: a probe never leaves its region.
    refused(
      {
        PROBE_RECIPIENTS: JSON.stringify({
          us: [{ carrier: 'acme', capability: 'rcs', to: '+447700900902' }],
        }),
      },
      /PROBE_RECIPIENTS\.us\.0\.to: a number of region us/,
    );
    refused(
      {
        PROBE_RECIPIENTS: JSON.stringify({
          us: [
            { carrier: 'acme', capability: 'rcs', to: '+15550902009' },
            { carrier: 'acme', capability: 'rcs', to: '+15550902010' },
          ],
        }),
      },
      /PROBE_RECIPIENTS\.us\.1: one recipient per carrier and capability/,
    );
    refused(
      { PROBE_INTERVAL_MS: '500', CAPABILITY_TTL_TUNING: 'maybe' },
      /PROBE_INTERVAL_MS/,
      /CAPABILITY_TTL_TUNING/,
    );
  });

  it('refuses recipients of a region without endpoints before touching Temporal', async () => {
    const env = loadConfig({
      REGION_ENDPOINTS: '{}',
      PROBE_RECIPIENTS: JSON.stringify({ eu: [{ carrier: 'acme', capability: 'sms', to: '+447700900903' }] }),
    });
    const untouched = new Proxy({} as Client, { get: () => assert.fail('Temporal was called') });
    await assert.rejects(
      ensureProbeSchedules(untouched, env, pino({ enabled: false })),
      (err: unknown) =>
        err instanceof ConfigError &&
        /PROBE_RECIPIENTS\.eu: a region with endpoints \(us\)/.test(err.message),
    );
  });
});
