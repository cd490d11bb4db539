// The shapes of /dashboard/data.json (dashboard/data.ts), for the page's modules (built by
// dashboard/page/tsconfig.json with the DOM types; the browser loads them as ES modules).

export interface Sample {
  labels: Record<string, string>;
  value: number;
}
export interface SloRow {
  name: string;
  target: number;
  source: string;
  budgetRemaining: number | null;
  burnRates: Record<string, number | null>;
}
export interface Data {
  generatedAt: string;
  windowSeconds: number;
  stepSeconds: number;
  fallbackThreshold: number;
  series: {
    latency: { at: number; channel: string; p50: number; p95: number }[];
    fallback: { at: number; region: string; eligible: number; fellBack: number }[];
    mix: { at: number; channel: string; count: number }[];
    e2ee: { at: number; delivered: number; e2ee: number }[];
  };
  slo: SloRow[];
  current: {
    messages: Sample[];
    guardThrottled: Sample[];
    guardFallbackRate: Sample[];
    rolloutPhase: Sample[];
    rolloutConfigVersion: Sample[];
    probes: { success: Sample[]; lastSuccessSeconds: Sample[] } | null;
  };
}
