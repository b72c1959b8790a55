import { Document, Spectral, type ISpectralDiagnostic, type RulesetDefinition } from '@stoplight/spectral-core';
import { Json as JsonParser, Yaml as YamlParser } from '@stoplight/spectral-parsers';
import type { Resolver } from '@stoplight/spectral-ref-resolver';
// The oas ruleset alone: the package index also loads the AsyncAPI and Arazzo rulesets (megabytes of schemas).
import oas from '@stoplight/spectral-rulesets/dist/oas';
import owaspRuleset from '@stoplight/spectral-owasp-ruleset';
import type { AuditFinding, FindingSeverity, SpecFormat } from '../../../protocol';
import { categoryOfRule } from './categories';
import { CUSTOM_RULES } from './customRules';
import { fixFor } from './fixes';
import { SourceDocuments, toPointer } from './sourceDocuments';
import { createLocalResolver } from './localResolver';
import { describeMember, readFileState, scanRefs, type FileState, type RefCycle } from './refGraph';
import { MAX_SPEC_BYTES } from './specFiles';

/** The rules of Spectral's `oas` ruleset we keep: validity of the document and undefined security schemes. */
const OAS_RULES_KEPT = [
  'oas2-schema',
  'oas3-schema',
  'path-params',
  'operation-operationId-unique',
  'oas2-operation-security-defined',
  'oas3-operation-security-defined',
  'no-script-tags-in-markdown',
  'no-eval-in-markdown',
] as const;

/** The audit ruleset: every OWASP rule, the kept `oas` rules, and ours. */
export function auditRuleset(): RulesetDefinition {
  return {
    extends: [
      [owaspRuleset as RulesetDefinition, 'all'],
      [oas as RulesetDefinition, 'off'],
    ],
    rules: { ...Object.fromEntries(OAS_RULES_KEPT.map((r) => [r, 'error'])), ...CUSTOM_RULES },
  } as RulesetDefinition;
}

const SEVERITIES: FindingSeverity[] = ['error', 'warn', 'info', 'hint'];

/** One root document's findings, in every file it `$ref`s. */
export interface DocumentAudit {
  file: string;
  format: SpecFormat;
  findings: AuditFinding[];
  /** The files the findings depend on besides the root: every file its `$ref`s reach, with its state then. */
  dependencies?: Record<string, FileState>;
}

export function formatOf(data: unknown): SpecFormat {
  if (typeof data !== 'object' || data === null) return 'unknown';
  const d = data as Record<string, unknown>;
  if (d.swagger === '2.0') return 'swagger-2.0';
  if (typeof d.openapi === 'string' && d.openapi.startsWith('3.1')) return 'openapi-3.1';
  if (typeof d.openapi === 'string' && d.openapi.startsWith('3.0')) return 'openapi-3.0';
  return 'unknown';
}

const isJsonFile = (file: string) => /\.json$/i.test(file);

/**
 * Spectral with the OWASP ruleset, kept warm: one instance audits document after document. `$ref`s to
 * local files are followed (size-limited); remote refs are refused.
 */
export class AuditEngine {
  private readonly spectral: Spectral;
  private readonly resolver: Resolver;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly maxBytes = MAX_SPEC_BYTES) {
    this.resolver = createLocalResolver(maxBytes);
    this.spectral = new Spectral({ resolver: this.resolver });
    this.spectral.setRuleset(auditRuleset());
  }

  /**
   * Audit one root document whose text the caller has read (and size-checked). Runs one at a time: each
   * run starts from an empty `$ref` cache, so a run never sees a file as an earlier run read it.
   */
  audit(file: string, text: string): Promise<DocumentAudit> {
    const run = this.queue.then(() => this.run(file, text));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async run(file: string, text: string): Promise<DocumentAudit> {
    // The resolver caches every file (and the root's own runner) by URI with no expiry: kept, a changed
    // `$ref`'d file would be audited as it was first read, and its parse errors reported only once.
    this.resolver.uriCache.purge();
    const document = isJsonFile(file) ? new Document(text, JsonParser, file) : new Document(text, YamlParser, file);
    const diagnostics = await this.spectral.run(document, { ignoreUnknownFormat: false });
    const scan = await scanRefs(file, text, document.data, (f) => readFileState(f, this.maxBytes));
    const sources = new SourceDocuments(scan.files, this.maxBytes);
    const format = formatOf(document.data);
    const findings: AuditFinding[] = [];
    for (const d of diagnostics) findings.push(await this.toFinding(d, file, format, sources));
    for (const cycle of scan.cycles) findings.push(cycleFinding(cycle, scan.files.get(cycle.file)!.text, format, await sources.get(cycle.file)));
    return { file, format, findings: dedupe(findings), dependencies: scan.dependencies };
  }

  private async toFinding(d: ISpectralDiagnostic, rootFile: string, format: SpecFormat, sources: SourceDocuments): Promise<AuditFinding> {
    const rule = String(d.code);
    // Spectral maps each finding to the file it is in, with a path inside that file.
    const file = d.source ?? rootFile;
    const severity = SEVERITIES[d.severity] ?? 'hint';
    const finding: AuditFinding = {
      rule,
      category: categoryOfRule(rule) ?? 'structure',
      severity,
      message: d.message,
      file,
      range: { start: { ...d.range.start }, end: { ...d.range.end } },
      pointer: toPointer(d.path),
      suggestedFix: '',
    };
    const fix = fixFor(finding, await sources.get(file), format);
    finding.suggestedFix = fix.text;
    if (fix.descriptor) finding.fix = fix.descriptor;
    return finding;
  }
}

/** Code of the finding for a `$ref` cycle that never reaches a value. */
export const CIRCULAR_REF_RULE = 'circular-ref';

function cycleFinding(cycle: RefCycle, text: string, format: SpecFormat, data: unknown): AuditFinding {
  const document = isJsonFile(cycle.file) ? new Document(text, JsonParser, cycle.file) : new Document(text, YamlParser, cycle.file);
  const range = document.getRangeForJsonPath(cycle.path, true) ?? { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  const chain = cycle.chain.map((m) => describeMember(m, cycle.file)).join(' → ');
  const finding: AuditFinding = {
    rule: CIRCULAR_REF_RULE,
    category: 'structure',
    severity: 'error',
    message: `Circular $ref: ${chain}; these refs only point at each other, so none resolves to a definition.`,
    file: cycle.file,
    range: { start: { ...range.start }, end: { ...range.end } },
    pointer: toPointer(cycle.path),
    suggestedFix: '',
  };
  finding.suggestedFix = fixFor(finding, data, format).text;
  return finding;
}

/** Spectral reports some rules twice at one spot (a missing 429 and its missing content); keep one per rule, place and message. */
function dedupe(findings: AuditFinding[]): AuditFinding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.rule}\u0000${f.file}\u0000${f.pointer}\u0000${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
