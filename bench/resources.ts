// CPU and memory around a phase. The worker, the load-generating client and baseline A's worker
// run in the bench process (process.cpuUsage / memoryUsage); the sandbox carriers run in a child
// process that reports its own; the Temporal dev server and PostgreSQL are read from /proc
// (Linux). Machine-wide busy time shows what else was running on this shared machine.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

let ticksPerSecond: number | null = null;
function clockTicks(): number {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime of a process in ms, or null when it is gone. */
function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks();
  } catch {
    return null;
  }
}

function pids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number);
  } catch {
    return [];
  }
}

/** The process whose command line mentions `marker` (e.g. the dev server's database file). */
export function findProcess(marker: string): number | null {
  for (const pid of pids()) {
    if (pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)) return pid;
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

/**
 * CPU ms of the PostgreSQL backends serving `database` (their command line names it). The
 * server's shared background processes (WAL writer, checkpointer) are not counted.
 */
function postgresCpu(database: string): Map<number, number> {
  const cpu = new Map<number, number>();
  for (const pid of pids()) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'postgres') continue;
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(` ${database} `)) continue;
    } catch {
      continue;
    }
    const ms = processCpuMs(pid);
    if (ms !== null) cpu.set(pid, ms);
  }
  return cpu;
}

function machineJiffies(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.slice(0, 8).reduce((s, n) => s + n, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

export interface Snapshot {
  at: number;
  self: NodeJS.CpuUsage;
  rss: number;
  carriersCpuMs: number;
  temporalCpuMs: number | null;
  postgres: Map<number, number>;
  machine: { busy: number; total: number } | null;
}

export interface ResourceUse {
  wallMs: number;
  /** Bench process: the worker (and its SDK threads), the load client, the receipt router. */
  benchCpuMs: number;
  carriersCpuMs: number;
  temporalCpuMs: number | null;
  /** The backends serving the bench's database. */
  postgresCpuMs: number | null;
  /** Share of all cores busy, by anyone. */
  machineBusyPct: number | null;
  /** Share of all cores busy with processes other than the bench's: noise from a shared machine. */
  othersBusyPct: number | null;
  rssEndMb: number;
  rssDeltaMb: number;
}

export class ResourceMeter {
  constructor(
    private readonly carriersCpuMs: () => Promise<number>,
    private readonly temporalPid: number | null,
    private readonly database: string,
  ) {}

  async snapshot(): Promise<Snapshot> {
    return {
      at: performance.now(),
      self: process.cpuUsage(),
      rss: process.memoryUsage().rss,
      carriersCpuMs: await this.carriersCpuMs(),
      temporalCpuMs: this.temporalPid === null ? null : processCpuMs(this.temporalPid),
      postgres: postgresCpu(this.database),
      machine: machineJiffies(),
    };
  }

  async since(start: Snapshot): Promise<ResourceUse> {
    const end = await this.snapshot();
    const self = process.cpuUsage(start.self);
    let pg: number | null = null;
    if (end.postgres.size > 0) {
      pg = 0;
      for (const [pid, ms] of end.postgres) pg += ms - (start.postgres.get(pid) ?? 0);
    }
    const machine =
      start.machine && end.machine && end.machine.total > start.machine.total
        ? ((end.machine.busy - start.machine.busy) / (end.machine.total - start.machine.total)) * 100
        : null;
    const wallMs = end.at - start.at;
    const benchCpuMs = (self.user + self.system) / 1000;
    const carriersCpuMs = end.carriersCpuMs - start.carriersCpuMs;
    const temporalCpuMs =
      start.temporalCpuMs === null || end.temporalCpuMs === null
        ? null
        : end.temporalCpuMs - start.temporalCpuMs;
    const oursPct =
      ((benchCpuMs + carriersCpuMs + (temporalCpuMs ?? 0) + (pg ?? 0)) / wallMs / cpus().length) * 100;
    return {
      wallMs,
      benchCpuMs,
      carriersCpuMs,
      temporalCpuMs,
      postgresCpuMs: pg,
      machineBusyPct: machine,
      othersBusyPct: machine === null ? null : Math.max(0, machine - oursPct),
      rssEndMb: end.rss / 1024 / 1024,
      rssDeltaMb: (end.rss - start.rss) / 1024 / 1024,
    };
  }
}
