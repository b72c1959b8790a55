// Generates the README's method reference, notification list and error-code table from the
// declarations in daemon/protocol, and the extension's command list from package.json. `--check` fails when the README is stale (npm run check and a
// unit test run it); without it the README is rewritten in place.
import { readFileSync, writeFileSync } from 'node:fs';
import * as z from 'zod';
import { loadProtocol } from './loadProtocol.mjs';

const README = 'README.md';

function typeOf(schema) {
  if (!schema || typeof schema !== 'object') return 'any';
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  if (schema.anyOf || schema.oneOf) return (schema.anyOf ?? schema.oneOf).map(typeOf).join(' \\| ');
  if (schema.type === 'array') return `${typeOf(schema.items)}[]`;
  if (schema.type === 'object' && schema.properties) return 'object';
  if (schema.type === 'object') return 'object';
  if (schema.type === 'string' && schema.format) return `string (${schema.format})`;
  if (schema.type === 'integer') return 'integer';
  if (Array.isArray(schema.type)) return schema.type.join(' \\| ');
  return schema.type ?? 'any';
}

function constraints(s) {
  const parts = [];
  const SAFE = Number.MAX_SAFE_INTEGER;
  if (s.minimum !== undefined && s.minimum !== -SAFE) parts.push(`≥ ${s.minimum}`);
  if (s.exclusiveMinimum !== undefined) parts.push(`> ${s.exclusiveMinimum}`);
  if (s.maximum !== undefined && s.maximum !== SAFE) parts.push(`≤ ${s.maximum}`);
  if (s.exclusiveMaximum !== undefined) parts.push(`< ${s.exclusiveMaximum}`);
  if (s.maxLength !== undefined) parts.push(`max ${s.maxLength} chars`);
  if (s.maxItems !== undefined) parts.push(`max ${s.maxItems} items`);
  if (s.default !== undefined) parts.push(`default ${JSON.stringify(s.default)}`);
  return parts.join(', ');
}

function fields(schema, io) {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' });
  const props = json.properties ?? {};
  const required = new Set(json.required ?? []);
  const names = Object.keys(props);
  if (names.length === 0) return '_none_';
  return names
    .map((n) => {
      const p = props[n];
      const c = constraints(p);
      const desc = p.description ? ` — ${p.description}` : '';
      return `\`${n}\`${required.has(n) ? '' : '?'}: ${typeOf(p)}${c ? ` (${c})` : ''}${desc}`;
    })
    .join('<br>');
}

export async function render() {
  const protocol = await loadProtocol();
  const byDomain = new Map();
  for (const r of protocol.requests) {
    const domain = r.method.split('/')[0];
    if (!byDomain.has(domain)) byDomain.set(domain, []);
    byDomain.get(domain).push(r);
  }
  let methods = '';
  for (const [domain, list] of byDomain) {
    methods += `\n#### ${domain}\n\n| method | kind | scope | what it does | params | result |\n|---|---|---|---|---|---|\n`;
    for (const r of list) {
      methods += `| \`${r.method}\` | ${r.kind} | ${r.scope} | ${r.doc} | ${fields(r.params, 'input')} | ${fields(r.result, 'output')} |\n`;
    }
  }
  let notes = '\n| notification | when | params |\n|---|---|---|\n';
  for (const n of protocol.notifications) notes += `| \`${n.method}\` | ${n.doc} | ${fields(n.params, 'output')} |\n`;
  let errors = '\n| code | name | meaning |\n|---|---|---|\n';
  for (const [name, code] of Object.entries(protocol.ErrorCode)) errors += `| ${code} | ${name} | ${protocol.ErrorCodeDoc[name]} |\n`;
  const manifest = JSON.parse(readFileSync('package.json', 'utf8'));
  let commands = '\n| command | title |\n|---|---|\n';
  for (const c of manifest.contributes.commands) commands += `| \`${c.command}\` | ${c.category ? `${c.category}: ` : ''}${c.title} |\n`;
  return { methods, notifications: notes, errors, commands };
}

export function splice(readme, section, body) {
  const begin = `<!-- BEGIN GENERATED: ${section} -->`;
  const end = `<!-- END GENERATED: ${section} -->`;
  const i = readme.indexOf(begin);
  const j = readme.indexOf(end);
  if (i < 0 || j < i) throw new Error(`README.md lacks the markers for the generated ${section} section`);
  return readme.slice(0, i + begin.length) + '\n' + body.trim() + '\n' + readme.slice(j);
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const sections = await render();
  const current = readFileSync(README, 'utf8');
  let next = current;
  for (const [name, body] of Object.entries(sections)) next = splice(next, name, body);
  if (process.argv.includes('--check')) {
    if (next !== current) {
      console.error('README.md is stale: its generated sections differ from daemon/protocol. Run `npm run docs`.');
      process.exit(1);
    }
    console.log('README.md generated sections are current.');
  } else {
    writeFileSync(README, next);
    console.log('README.md generated sections rewritten.');
  }
}
