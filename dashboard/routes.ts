// The operator page on the worker's metrics server (METRICS_HOST:METRICS_PORT/dashboard): the
// page, its script, uPlot from node_modules (no CDN), and the JSON it draws.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { DashboardWindowError, dashboardData, parseWindow } from './data';
import type { DashboardSources } from './data';

export const DASHBOARD_PATH = '/dashboard';

// index.html and the CSS stay in the source tree; the scripts are built by dashboard/page/tsconfig.json.
const PAGE_DIR = join(__dirname, '..', '..', 'dashboard', 'page');
const ASSETS = new Map([
  ...['charts.js', 'tables.js', 'dashboard.js'].map(
    (name) => [name, { file: join(__dirname, 'page', name), type: 'text/javascript' }] as const,
  ),
  ['dashboard.css', { file: join(PAGE_DIR, 'dashboard.css'), type: 'text/css' }],
  ['uPlot.iife.min.js', { file: require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript' }],
  ['uPlot.min.css', { file: require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css' }],
]);
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

export function registerDashboard(server: FastifyInstance, sources: DashboardSources): void {
  const page = readFileSync(join(PAGE_DIR, 'index.html'));
  // Read when first asked for: a build without the page's script (`tsc -p tsconfig.json` alone)
  // still starts the worker, and the script's answer (500) says what is missing.
  const loaded = new Map<string, Buffer>();
  const load = (file: string): Buffer => {
    let body = loaded.get(file);
    if (!body) loaded.set(file, (body = readFileSync(file)));
    return body;
  };
  server.get(DASHBOARD_PATH, (_request, reply) =>
    reply.headers(SECURITY_HEADERS).type('text/html; charset=utf-8').send(page),
  );
  server.get<{ Params: { name: string } }>(`${DASHBOARD_PATH}/assets/:name`, (request, reply) => {
    const { name } = request.params;
    const asset = ASSETS.get(name);
    if (!asset) return reply.code(404).send({ error: { code: 'not_found', message: 'no such asset' } });
    let body: Buffer;
    try {
      body = load(asset.file);
    } catch {
      const message = `${name} is not built: npm run build`;
      return reply.code(500).send({ error: { code: 'not_built', message } });
    }
    return reply.headers(SECURITY_HEADERS).type(asset.type).send(body);
  });
  server.get<{ Querystring: { window?: string } }>(`${DASHBOARD_PATH}/data.json`, async (request, reply) => {
    let windowSeconds: number;
    try {
      windowSeconds = parseWindow(request.query.window);
    } catch (err) {
      if (!(err instanceof DashboardWindowError)) throw err;
      return reply.code(400).send({ error: { code: 'bad_window', message: err.message, field: err.field } });
    }
    return reply.headers(SECURITY_HEADERS).send(await dashboardData(sources, windowSeconds));
  });
}
