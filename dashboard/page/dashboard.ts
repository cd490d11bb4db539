// The operator page's entry module (index.html loads it after uPlot's bundle): it fetches
// /dashboard/data.json, draws it (charts.ts, tables.ts) and refreshes it every 15 s.

import { charts, renderCharts } from './charts.js';
import type { Data } from './data-types.js';
import { renderMessages, renderProbes, renderRegions, renderSlo } from './tables.js';

// For the page test (and a curious operator's console): the charts and the data they show.
(window as unknown as { switchboardDashboard: unknown }).switchboardDashboard = { charts, data: null };

function render(d: Data): void {
  renderCharts(d);
  renderMessages(d.current.messages);
  renderRegions(d);
  renderProbes(d);
  renderSlo(d.slo);
}

async function refresh(): Promise<void> {
  const status = document.getElementById('status')!;
  const window_ = new URLSearchParams(location.search).get('window') ?? '1h';
  try {
    const response = await fetch(`/dashboard/data.json?window=${encodeURIComponent(window_)}`);
    const body = (await response.json()) as Data | { error: { message: string } };
    if ('error' in body) throw new Error(body.error.message);
    render(body);
    (window as unknown as { switchboardDashboard: { data: Data } }).switchboardDashboard.data = body;
    status.textContent = `last ${window_}, updated ${new Date(body.generatedAt).toLocaleTimeString()}`;
    status.dataset.ready = 'true';
  } catch (err) {
    status.textContent = `could not load the data: ${err instanceof Error ? err.message : String(err)}`;
  }
}

void refresh();
setInterval(() => void refresh(), 15000);
