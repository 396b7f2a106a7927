// Partial updates: which spec fields an `update` verb changes, from the flags the user actually
// gave (never from defaults), so a flag left out keeps its stored value. Each noun has one table:
// a flag (commander's attribute name: --values-file → valuesFile) → the snake_case field paths it
// sets (UpdateAssignmentRequest.fields). A --X/--no-X pair shares one attribute, so either counts.
import type { Command } from 'commander';

export type FieldTable = Readonly<Record<string, readonly string[]>>;

/** The field paths of the flags given on the command line (or from the environment), in table order. */
export function givenFields(cmd: Command, table: FieldTable): string[] {
  const out = new Set<string>();
  for (const [attribute, fields] of Object.entries(table)) {
    const source = cmd.getOptionValueSource(attribute);
    if (source === 'cli' || source === 'env') for (const f of fields) out.add(f);
  }
  return [...out];
}

/** The flags of `table` in --kebab-case, for "nothing to change" errors. */
export function flagNames(table: FieldTable): string {
  return Object.keys(table)
    .map((a) => `--${a.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`)
    .join(', ');
}
