// What a run measured: this checkout's revision. Results are compared across revisions (git),
// never across behaviour flags, so every run records the code it ran.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../config/paths';

export interface Revision {
  /** `git rev-parse --short HEAD`, `+dirty` with uncommitted tracked changes; else `v<version>`. */
  name: string;
  /** The full commit, null without git. */
  commit: string | null;
  dirty: boolean;
}

function git(args: string[]): string {
  return execFileSync('git', args, { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
    .toString()
    .trim();
}

export function currentRevision(): Revision {
  try {
    const commit = git(['rev-parse', 'HEAD']);
    const short = git(['rev-parse', '--short', 'HEAD']);
    // Untracked files (bench results, a node_modules symlink) do not change the code measured.
    const dirty = git(['status', '--porcelain', '--untracked-files=no']) !== '';
    return { name: dirty ? `${short}+dirty` : short, commit, dirty };
  } catch {
    // No git, or not a checkout (an unpacked release): the package's version names the code.
    const { version } = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
      version?: string;
    };
    return { name: `v${version ?? 'unknown'}`, commit: null, dirty: false };
  }
}
