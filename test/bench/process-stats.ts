import { readFileSync } from 'node:fs';

/** CPU seconds (user+system) used so far by a process, from /proc; 0 when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** The p-th percentile of an ascending list (NaN when empty). */
export const pct = (sorted: number[], p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

export const round = (n: number, d = 1) => Number(n.toFixed(d));
