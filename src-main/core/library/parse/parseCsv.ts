import { extname } from 'node:path';
import type { Block, ParsedDocument } from '../types';
import { decodeText } from './decodeText';
import { memoryBudget } from './memoryBudget';
import { tooManyLines } from './parsePlainText';

export interface CsvRecord {
  fields: string[];
  /** 1-based source lines; a quoted field with newlines makes a record span several. */
  lineStart: number;
  lineEnd: number;
}

const DELIMITERS = [',', ';', '\t'] as const;
/** Records the delimiter sniffer looks at. */
const SNIFF_RECORDS = 20;

/**
 * CSV and TSV: RFC 4180 quoting, the delimiter sniffed from the first records. The first record
 * is the header; each data row becomes a table block reading "column: value; column: value",
 * so a row found by search makes sense without the header next to it.
 */
export function parseCsv(bytes: Uint8Array, path: string): ParsedDocument {
  const { text, encoding } = decodeText(bytes);
  const delimiter = sniffDelimiter(text, extname(path).toLowerCase() === '.tsv' ? '\t' : ',');
  const records = readCsv(text, delimiter).filter((record) => record.fields.some((field) => field.trim().length > 0));
  const [headerRecord, ...rows] = records;
  if (!headerRecord) return { format: 'csv', title: null, blocks: [], encoding, warnings: [] };

  const columns = headerRecord.fields.map((name, i) => name.trim() || `column ${i + 1}`);
  const header = columns.join(' | ');
  const blocks: Block[] = rows.map((record) => ({
    kind: 'table',
    text: record.fields
      .map((value, i) => [columns[i] ?? `column ${i + 1}`, value.trim()] as const)
      .filter(([, value]) => value.length > 0)
      .map(([name, value]) => `${name}: ${value}`)
      .join('; '),
    header,
    lineStart: record.lineStart,
    lineEnd: record.lineEnd,
  }));
  // A header with no rows is still the file's only content.
  if (blocks.length === 0) blocks.push({ kind: 'table', text: header, header, lineStart: headerRecord.lineStart, lineEnd: headerRecord.lineEnd });
  return { format: 'csv', title: null, blocks, encoding, warnings: [] };
}

/** RFC 4180 records with their line ranges; lenient where files in the wild break the rules. */
export function readCsv(text: string, delimiter: string, limit = Number.POSITIVE_INFINITY): CsvRecord[] {
  const budget = Math.floor(memoryBudget().lines / 2); // a record costs more than a line
  const fieldEnd = new RegExp(`[${delimiter === '\t' ? '\\t' : delimiter}\\r\\n]`, 'g');
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let cells = 0;
  let line = 1;
  let recordLine = 1;
  let i = 0;
  const endRecord = (): void => {
    // Blank lines are not records; skipping them here keeps a file of empty lines cheap.
    if (fields.length > 1 || fields[0] !== '') {
      records.push({ fields, lineStart: recordLine, lineEnd: line });
      cells += fields.length;
    }
    fields = [];
  };
  while (i < text.length && records.length < limit) {
    let value = '';
    if (text[i] === '"') {
      // Quoted: runs to the closing quote, across delimiters and line breaks; "" is a quote.
      let from = i + 1;
      for (;;) {
        const quote = text.indexOf('"', from);
        if (quote < 0) {
          value += text.slice(from); // unterminated: the rest of the file
          i = text.length;
          break;
        }
        value += text.slice(from, quote);
        if (text[quote + 1] === '"') {
          value += '"';
          from = quote + 2;
        } else {
          i = quote + 1;
          break;
        }
      }
      line += lineBreaks(value);
    }
    // Unquoted text, or stray text after a closing quote, runs to the next delimiter or line break.
    fieldEnd.lastIndex = i;
    const end = fieldEnd.exec(text)?.index ?? text.length;
    value += text.slice(i, end);
    i = end;
    fields.push(value);
    if (cells + fields.length > budget) throw tooManyLines(budget); // counted in cells: one line can hold millions
    if (i >= text.length) break;
    if (text[i] === delimiter) {
      i++;
      if (i >= text.length) fields.push(''); // a trailing delimiter ends with an empty field
      continue;
    }
    i += text[i] === '\r' && text[i + 1] === '\n' ? 2 : 1;
    endRecord();
    line++;
    recordLine = line;
  }
  if (fields.length > 0 && records.length < limit) endRecord();
  return records;
}

function lineBreaks(text: string): number {
  return text.match(/\r\n?|\n/g)?.length ?? 0;
}

/** The delimiter that splits the first records into the most columns, most consistently. */
function sniffDelimiter(text: string, preferred: string): string {
  const sample = text.slice(0, 64 * 1024);
  let best = preferred;
  let bestScore = 0;
  for (const delimiter of [preferred, ...DELIMITERS.filter((d) => d !== preferred)]) {
    const records = readCsv(sample, delimiter, SNIFF_RECORDS);
    const width = records[0]?.fields.length ?? 0;
    if (width < 2) continue;
    const consistent = records.filter((record) => record.fields.length === width).length / records.length;
    const score = consistent * width;
    if (score > bestScore) {
      best = delimiter;
      bestScore = score;
    }
  }
  return best;
}
