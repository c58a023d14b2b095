import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../docker/local/stack';

/** Writes a bench's results as .local/bench/<name>.json, stamped with the time and Node version; returns the path. */
export function writeBenchResults(name: string, results: unknown): string {
  const dir = join(ROOT, '.local', 'bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({ at: new Date().toISOString(), node: process.version, results }, null, 2),
  );
  return file;
}

/** Prints rows under a header, each column right-aligned to `width` after a first one of `firstWidth`. */
export function printTable(
  head: string[],
  rows: (string | number)[][],
  firstWidth: number,
  width: number,
): void {
  const line = (cells: (string | number)[]) =>
    ` ${String(cells[0]).padEnd(firstWidth)}${cells
      .slice(1)
      .map((c) => String(c).padStart(width))
      .join('')}\n`;
  process.stdout.write(`\n${line(head)}`);
  for (const row of rows) process.stdout.write(line(row));
}

/** Runs a bench's main and exits with its outcome. */
export function runBench(name: string, main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(`[${name}] failed: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}
