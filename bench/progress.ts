// Progress on stderr, so stdout carries only the table. Never a number or a text: ids, counts,
// phases and timings only.
const began = performance.now();

export function progress(line: string): void {
  const s = (performance.now() - began) / 1000;
  const clock = `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
  process.stderr.write(`[bench ${clock}] ${line}\n`);
}

export function elapsedSeconds(): number {
  return (performance.now() - began) / 1000;
}
