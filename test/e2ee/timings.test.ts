// Prints the MLS timings measured on this machine (medians over 50 runs). Logged, not asserted:
// they depend on the machine.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateIdentity } from '../../e2ee/mls';
import { E2eeSender } from '../../e2ee/sender';
import { FileSenderStateStore, MemorySenderStateStore } from '../../e2ee/sender-state-store';
import { measureMlsTimings } from '../../e2ee/timings';
import { SandboxPhones } from '../../sandbox/phones';
import { freshNumber, openE2eeTestDb } from './e2ee-fixtures';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round((s[Math.floor(s.length / 2)] ?? 0) * 1000) / 1000;
};

describe('MLS timings (logged, not asserted)', () => {
  it('measures KeyPackage generation, group create + add, join, encrypt, decrypt', async function () {
    this.timeout(120_000);
    const t = await measureMlsTimings(50);
    const dir = await mkdtemp(join(tmpdir(), 'sb-timings-'));
    const saves: number[] = [];
    try {
      const store = new FileSenderStateStore({ dir, key: randomBytes(32) });
      const state = randomBytes(t.sizes.state);
      for (let i = 0; i < 50; i++) {
        const s = performance.now();
        await store.save('k', state);
        saves.push(performance.now() - s);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const fileSaveMs = median(saves);
    console.log(`      MLS timings (median of ${t.runs}, suite 1, 160-byte messages):`);
    console.log(`        KeyPackage generation    ${t.keyPackageMs} ms (${t.sizes.keyPackage} B)`);
    console.log(`        group create + add       ${t.groupCreateAddMs} ms (Welcome ${t.sizes.welcome} B)`);
    console.log(`        join from Welcome        ${t.joinMs} ms`);
    console.log(`        encrypt                  ${t.encryptMs} ms (ciphertext ${t.sizes.ciphertext} B)`);
    console.log(`        decrypt                  ${t.decryptMs} ms`);
    console.log(`        state encode + decode    ${t.stateRoundTripMs} ms (${t.sizes.state} B)`);
    console.log(`        encrypted file save      ${fileSaveMs} ms (fsync + rename)`);
    for (const v of [t.keyPackageMs, t.groupCreateAddMs, t.joinMs, t.encryptMs, t.decryptMs]) {
      assert.ok(Number.isFinite(v) && v > 0);
    }
  });

  it('measures negotiation as E2eeSender reports it: first message of a group vs later ones', async function () {
    this.timeout(120_000);
    const env = await openE2eeTestDb('switchboard_e2ee_timings');
    try {
      const phones = new SandboxPhones({ directory: env.directory, oneTimeBatch: 2, lowWatermark: 0 });
      const sender = new E2eeSender({
        directory: env.directory,
        store: new MemorySenderStateStore(),
        identity: await generateIdentity(),
      });
      const first: number[] = [];
      const later: number[] = [];
      const message = 'a'.repeat(160);
      for (let i = 0; i < 20; i++) {
        const to = freshNumber();
        await phones.start(to);
        const m1 = await sender.encryptFor(to, message);
        const m2 = await sender.encryptFor(to, message);
        assert.ok(m1.newGroup && !m2.newGroup);
        if (i > 0) {
          first.push(m1.negotiationMs);
          later.push(m2.negotiationMs);
        }
      }
      console.log(`      E2eeSender negotiationMs (median of ${first.length}, PostgreSQL key directory):`);
      console.log(`        first message (claim + create + add + encrypt)  ${median(first)} ms`);
      console.log(`        later message (encrypt only)                    ${median(later)} ms`);
    } finally {
      await env.testDb.drop();
    }
  });
});
