import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const ROOT = join(__dirname, '..', '..');

/** The repository's own .ts files, each with the files it imports, type-only imports included. */
function importGraph(): Map<string, string[]> {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) =>
        assert.fail(ts.flattenDiagnosticMessageText(d.messageText, '\n')),
    },
  );
  assert.ok(config);
  const graph = new Map<string, string[]>();
  for (const file of config.fileNames) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = importedFiles
      .map((i) => i.fileName)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => resolve(dirname(file), spec))
      .map((base) => [`${base}.ts`, join(base, 'index.ts')].find((f) => existsSync(f)))
      .filter((f): f is string => f !== undefined);
    graph.set(resolve(file), targets);
  }
  return graph;
}

/** One cycle of the graph as a path of files (first = last), or null. */
function findCycle(graph: Map<string, string[]>): string[] | null {
  const done = new Set<string>();
  const onPath: string[] = [];
  const visit = (file: string): string[] | null => {
    const at = onPath.indexOf(file);
    if (at >= 0) return [...onPath.slice(at), file];
    if (done.has(file)) return null;
    onPath.push(file);
    for (const next of graph.get(file) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    onPath.pop();
    done.add(file);
    return null;
  };
  for (const file of graph.keys()) {
    const cycle = visit(file);
    if (cycle) return cycle;
  }
  return null;
}

describe('module structure', () => {
  // eslint's import/no-cycle skips type-only imports, so a cycle through `import type` passes lint.
  it('has no import cycle, type-only imports included', () => {
    const graph = importGraph();
    assert.ok(graph.size > 100, `only ${graph.size} files found under ${ROOT}`);
    const cycle = findCycle(graph);
    assert.equal(cycle && cycle.map((f) => relative(ROOT, f)).join(' → '), null);
  });
});
