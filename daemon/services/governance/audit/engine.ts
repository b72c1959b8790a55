import { Document, Spectral, type ISpectralDiagnostic, type RulesetDefinition } from '@stoplight/spectral-core';
import { Json as JsonParser, Yaml as YamlParser } from '@stoplight/spectral-parsers';
// The oas ruleset alone: the package index also loads the AsyncAPI and Arazzo rulesets (megabytes of schemas).
import oas from '@stoplight/spectral-rulesets/dist/oas';
import owaspRuleset from '@stoplight/spectral-owasp-ruleset';
import type { AuditFinding, FindingSeverity, SpecFormat } from '../../../protocol';
import { categoryOfRule } from './categories';
import { CUSTOM_RULES } from './customRules';
import { fixFor } from './fixes';
import { SourceDocuments, toPointer } from './sourceDocuments';
import { createLocalResolver } from './localResolver';
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

  constructor(readonly maxBytes = MAX_SPEC_BYTES) {
    this.spectral = new Spectral({ resolver: createLocalResolver(maxBytes) });
    this.spectral.setRuleset(auditRuleset());
  }

  /** Audit one root document whose text the caller has read (and size-checked). */
  async audit(file: string, text: string): Promise<DocumentAudit> {
    const document = isJsonFile(file) ? new Document(text, JsonParser, file) : new Document(text, YamlParser, file);
    const diagnostics = await this.spectral.run(document, { ignoreUnknownFormat: false });
    const sources = new SourceDocuments(file, text, this.maxBytes);
    const format = formatOf(document.data);
    const findings: AuditFinding[] = [];
    for (const d of diagnostics) findings.push(await this.toFinding(d, file, format, sources));
    return { file, format, findings: dedupe(findings) };
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
