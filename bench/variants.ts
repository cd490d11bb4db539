// Worker configurations measured side by side in one run, each against the same stack and the
// same offered load. The first is the "before" of the before/after table; each line is one
// variant: a name and the environment overrides its worker starts with (see config/schema.ts).
// BENCH_VARIANTS='[{"name":…,"env":{…}}]' replaces this list for one run without editing it.

export interface Variant {
  name: string;
  env: Record<string, string>;
}

export const VARIANTS: Variant[] = [
  // Before the optimisations: one audit write per transition, capability probe as a remote activity.
  { name: 'before', env: { AUDIT_BATCH: 'false', LOCAL_PROBE: 'false' } },
  { name: 'audit batched', env: { AUDIT_BATCH: 'true', LOCAL_PROBE: 'false' } },
  { name: 'current', env: {} },
];
