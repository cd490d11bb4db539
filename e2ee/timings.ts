// Measures the MLS operations on this machine (median of `runs`), for the E2EE note:
// KeyPackage generation, group create + add (one commit, one Welcome), join, encrypt, decrypt,
// and the state round trip. Run: node dist/e2ee/timings.js [runs]

import { performance } from 'node:perf_hooks';
import {
  createGroupWith,
  decodeGroup,
  decrypt,
  encodeGroup,
  encrypt,
  generateIdentity,
  generateKeyPackage,
  joinFromWelcome,
} from './mls';

export interface MlsTimings {
  runs: number;
  /** Median milliseconds. */
  keyPackageMs: number;
  groupCreateAddMs: number;
  joinMs: number;
  encryptMs: number;
  decryptMs: number;
  stateRoundTripMs: number;
  /** Bytes. */
  sizes: { keyPackage: number; welcome: number; ciphertext: number; state: number };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const v = s.length % 2 ? s[mid] : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
  return Math.round((v ?? 0) * 1000) / 1000;
}

async function timed<T>(samples: number[], work: () => Promise<T> | T): Promise<T> {
  const t = performance.now();
  const out = await work();
  samples.push(performance.now() - t);
  return out;
}

/** One sender, one recipient device, 160-byte messages. */
export async function measureMlsTimings(runs = 50, messageBytes = 160): Promise<MlsTimings> {
  const sender = await generateIdentity();
  const recipient = await generateIdentity();
  const message = new Uint8Array(messageBytes).fill(0x61);
  const kpT: number[] = [];
  const createT: number[] = [];
  const joinT: number[] = [];
  const encT: number[] = [];
  const decT: number[] = [];
  const stateT: number[] = [];
  const sizes = { keyPackage: 0, welcome: 0, ciphertext: 0, state: 0 };
  // One warm-up round, not counted, so that module loading and JIT do not skew the medians.
  for (let i = -1; i < runs; i++) {
    const k: number[] = i < 0 ? [] : kpT;
    const kp = await timed(k, () => generateKeyPackage(recipient));
    const created = await timed(i < 0 ? [] : createT, () => createGroupWith(sender, [kp.keyPackage]));
    const joined = await timed(i < 0 ? [] : joinT, () => joinFromWelcome(created.welcome, [kp.secret]));
    const enc = await timed(i < 0 ? [] : encT, () => encrypt(created.group, message));
    const dec = await timed(i < 0 ? [] : decT, () => decrypt(joined.group, enc.ciphertext));
    if (dec.plaintext.length !== message.length) throw new Error('round trip failed');
    const state = await timed(i < 0 ? [] : stateT, () => {
      const bytes = encodeGroup(enc.group);
      decodeGroup(bytes);
      return bytes;
    });
    sizes.keyPackage = kp.keyPackage.length;
    sizes.welcome = created.welcome.length;
    sizes.ciphertext = enc.ciphertext.length;
    sizes.state = state.length;
  }
  return {
    runs,
    keyPackageMs: median(kpT),
    groupCreateAddMs: median(createT),
    joinMs: median(joinT),
    encryptMs: median(encT),
    decryptMs: median(decT),
    stateRoundTripMs: median(stateT),
    sizes,
  };
}

if (require.main === module) {
  const runs = Number(process.argv[2] ?? 50);
  measureMlsTimings(runs).then(
    (t) => console.log(JSON.stringify(t, null, 2)),
    (err: unknown) => {
      console.error(err instanceof Error ? err.name : 'error');
      process.exitCode = 1;
    },
  );
}
