// Worker configurations measured side by side in one run, each against the same stack and the
// same offered load. The first is the "before" of the before/after table; each line is one
// variant: a name and the environment overrides its worker starts with (see config/schema.ts).
// The list is cumulative: each variant adds one optimisation to the one above it, so each
// ratio to its neighbour is that optimisation's effect; the last is today's defaults.
// BENCH_VARIANTS='[{"name":…,"env":{…}}]' replaces this list for one run without editing it.

export interface Variant {
  name: string;
  env: Record<string, string>;
}

const OFF = { FOLD_LOOKUPS: 'false', SEARCH_ATTRIBUTE_BATCH: 'false', AUDIT_IN_SENDS: 'false' };

export const VARIANTS: Variant[] = [
  // Before any optimisation: one audit write per transition, the probe a remote activity.
  { name: 'before', env: { ...OFF, AUDIT_BATCH: 'false', LOCAL_PROBE: 'false' } },
  // The first round: audit rows batched before each wait, the probe a local activity.
  { name: 'batched+local', env: { ...OFF, AUDIT_BATCH: 'true', LOCAL_PROBE: 'true' } },
  // Policy, probe and routing context in one local activity.
  { name: '+folded', env: { ...OFF, FOLD_LOOKUPS: 'true' } },
  // Search attribute changes as one upsert before each activity, timer or wait.
  { name: '+SA batch', env: { ...OFF, FOLD_LOOKUPS: 'true', SEARCH_ATTRIBUTE_BATCH: 'true' } },
  // The sends write the audit rows due (no audit local activity before the receipt wait): today's defaults.
  { name: 'current', env: {} },
];
