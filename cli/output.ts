// -o table|json|yaml for every command.
import { stringify } from 'yaml';

export type OutputFormat = 'table' | 'json' | 'yaml';

export function parseFormat(value: string): OutputFormat {
  if (value === 'table' || value === 'json' || value === 'yaml') return value;
  throw new Error(`-o ${value}: use table, json or yaml`);
}

export interface Column<T> {
  header: string;
  get: (row: T) => string | number | boolean | undefined;
}

export function table<T>(rows: T[], columns: Column<T>[]): string {
  const cells = rows.map((r) => columns.map((c) => String(c.get(r) ?? '')));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i].length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => (i === vals.length - 1 ? v : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n');
}

/** Prints one object or a list in the chosen format. */
export function print<T>(format: OutputFormat, data: T | T[], columns: Column<T>[], key?: string): void {
  const rows = Array.isArray(data) ? data : [data];
  if (format === 'json') {
    process.stdout.write(JSON.stringify(Array.isArray(data) && key ? { [key]: data } : data, null, 2) + '\n');
  } else if (format === 'yaml') {
    process.stdout.write(stringify(Array.isArray(data) && key ? { [key]: data } : data));
  } else if (rows.length === 0) {
    process.stdout.write('No resources found.\n');
  } else {
    process.stdout.write(table(rows, columns) + '\n');
  }
}

export function age(ms: number, now = Date.now()): string {
  if (!ms) return '-';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

export function labels(m: Record<string, string> | undefined): string {
  const entries = Object.entries(m ?? {});
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(',') : '<none>';
}
