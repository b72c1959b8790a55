import { parse } from 'dotenv';

/**
 * `.env` text in the dialect of the `dotenv` package (16.x), which has no escape sequences except
 * `\n` and `\r` inside double quotes. So each value gets the quoting that carries it unchanged:
 * single quotes (literal, may span lines), else backticks (literal), else double quotes (the only
 * form that keeps a carriage return, since the parser turns CR LF into LF before anything else).
 * A value holding all three quote characters cannot be written; the caller reports it.
 */
export function quoteDotenvValue(value: string): string | undefined {
  const hasCr = value.includes('\r');
  if (!hasCr && !value.includes("'")) return `'${value}'`;
  if (!hasCr && !value.includes('`')) return `\`${value}\``;
  // Inside double quotes the parser turns the two-character sequences \n and \r into line breaks.
  if (!value.includes('"') && !/\\[nr]/.test(value)) return `"${value.replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;
  return undefined;
}

/** Parse `.env` text with the `dotenv` package: every value is a string. */
export function parseDotenv(content: string): Record<string, string> {
  return parse(content);
}

/** The string an exported value stands for: strings as they are, anything else as its JSON text. */
export function dotenvString(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
