// BENCH_REVISION: measure another git revision with its own code and its own bench, as the
// "before" of this run. It is checked out into a temporary git worktree (node_modules linked to
// this checkout's), and its `npm run bench` builds and runs it; its JSON is copied into this
// checkout's bench/results/ and the worktree removed.
import { execFileSync, spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../config/paths';
import { progress } from './progress';

export class OtherRevisionError extends Error {
  override name = 'OtherRevisionError';
}

function git(args: string[]): string {
  return execFileSync('git', args, { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    .toString()
    .trim();
}

function resolveCommit(revision: string): { commit: string; short: string } {
  try {
    const commit = git(['rev-parse', '--verify', '--end-of-options', `${revision}^{commit}`]);
    return { commit, short: git(['rev-parse', '--short', commit]) };
  } catch {
    throw new OtherRevisionError(
      `BENCH_REVISION: expected a commit of this repository (got ${JSON.stringify(revision)})`,
    );
  }
}

function hasBenchScript(dir: string): boolean {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    scripts?: Record<string, string>;
  };
  return typeof pkg.scripts?.bench === 'string';
}

/** Its bench's exit code; its table and progress go to our stderr, keeping our stdout this run's. */
function runItsBench(dir: string, short: string): Promise<number | null> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // Revisions that still had variants run one, named after the revision, with their defaults.
    BENCH_VARIANTS: JSON.stringify([{ name: short, env: {} }]),
  };
  delete env.BENCH_REVISION;
  delete env.BENCH_BEFORE;
  // Ctrl-C reaches its bench too (same process group), which stops its stack and exits; we stay
  // to remove the worktree.
  const ignore = () => undefined;
  process.on('SIGINT', ignore);
  return new Promise<number | null>((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'bench'], { cwd: dir, env, stdio: ['ignore', 2, 2] });
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  }).finally(() => process.off('SIGINT', ignore));
}

/** Runs `revision`'s bench; returns the path of its JSON, copied into bench/results/. */
export async function benchOtherRevision(revision: string): Promise<string> {
  const { commit, short } = resolveCommit(revision);
  const dir = mkdtempSync(join(tmpdir(), `switchboard-bench-${short}-`));
  progress(`BENCH_REVISION ${short}: checking it out in ${dir}`);
  try {
    git(['worktree', 'add', '--detach', dir, commit]);
    symlinkSync(realpathSync(join(PROJECT_ROOT, 'node_modules')), join(dir, 'node_modules'));
    if (!hasBenchScript(dir)) throw new OtherRevisionError(`BENCH_REVISION: ${short} has no npm run bench`);
    progress(`BENCH_REVISION ${short}: building it and running its bench (its own stack, its table below)`);
    const code = await runItsBench(dir, short);
    const written = join(dir, 'bench', 'results', 'latest.json');
    if (code !== 0 || !existsSync(written))
      throw new OtherRevisionError(
        `BENCH_REVISION: the bench of ${short} failed (exit ${code ?? 'by signal'})`,
      );
    const results = join(PROJECT_ROOT, 'bench', 'results');
    mkdirSync(results, { recursive: true });
    const at = (JSON.parse(readFileSync(written, 'utf8')) as { at?: string }).at ?? new Date().toISOString();
    const kept = join(results, `revision-${short}-${at.replace(/[:.]/g, '-')}.json`);
    copyFileSync(written, kept);
    progress(`BENCH_REVISION ${short}: its JSON is ${kept}`);
    return kept;
  } finally {
    // The link first: removing the worktree must never reach into the shared install.
    rmSync(join(dir, 'node_modules'), { force: true });
    try {
      git(['worktree', 'remove', '--force', dir]);
    } catch {
      // Never added, or half made: remove the directory and git's record of it.
      rmSync(dir, { recursive: true, force: true });
      git(['worktree', 'prune']);
    }
  }
}
