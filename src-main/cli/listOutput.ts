import type { CliContext } from './cliContext';
import { table } from './format';
import { printResult } from './output';

/** How a list command shows its items as text. */
export interface ListView<T> {
  /** The line printed when there are none (often saying how to make one). */
  empty: string;
  /** The table's header row. */
  columns: string[];
  /** One item's cells, in the columns' order (table() makes each cell terminal-safe). */
  row: (item: T) => string[];
}

/**
 * Prints a list the one way list commands do: with --json the data (the items themselves unless
 * `data` says otherwise), else a table with a header row, or the `empty` line when there are none.
 */
export function printList<T>(ctx: CliContext, asJson: boolean, items: readonly T[], view: ListView<T>, data: unknown = items): void {
  printResult(ctx, asJson, data, () => (items.length === 0 ? view.empty : table([view.columns, ...items.map(view.row)])));
}
