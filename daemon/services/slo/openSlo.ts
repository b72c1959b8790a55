import { parseAllDocuments, stringify } from 'yaml';
import * as z from 'zod';
import { AlertingSettings, SloId, SloSpec, type Sli, type SloDefinition } from '../../protocol/slo';

/**
 * OpenSLO v1 (`apiVersion: openslo/v1`, `kind: SLO` with an inline indicator) to and from our SLO
 * definitions. The mapping, round-trippable:
 *
 * - `metadata.name` is the id with `_` as `-` (OpenSLO names are RFC 1123 labels); the exact id is
 *   kept in the annotation `cogniforge.dev/id`, aliases in `cogniforge.dev/aliases` (comma list),
 *   alerting settings that differ from the defaults in `cogniforge.dev/alerting` (JSON).
 * - `metadata.displayName` = name, `metadata.labels` = labels, `spec.description`, `spec.service`.
 * - `spec.timeWindow: [{duration: <N>d, isRolling: true}]` = windowDays; `budgetingMethod: Occurrences`.
 * - availability, errorRate, customRatio: `ratioMetric` (counter) whose good and total metric sources
 *   have `type: CogniForge`; the total's `spec` holds the SLI kind, its fields (expectedClientErrors)
 *   and the request filter (service, method, routePattern).
 * - latency: `thresholdMetric` with a CogniForge metric source (`spec.sli: latency` and the filter),
 *   and the objective's `op: lte`, `value: <threshold ms>`.
 * - `objectives: [{target}]` (or `targetPercent`) = objective.
 */

export const OPENSLO_SOURCE_TYPE = 'CogniForge';
const ANNOTATION_ID = 'cogniforge.dev/id';
const ANNOTATION_ALIASES = 'cogniforge.dev/aliases';
const ANNOTATION_ALERTING = 'cogniforge.dev/alerting';

/** One problem of an OpenSLO document: its index in the stream and the field path inside it. */
export class OpenSloError extends Error {
  constructor(
    readonly document: number,
    readonly path: string,
    readonly problem: string,
  ) {
    super(`document ${document + 1}: ${path === '' ? '' : `${path}: `}${problem}`);
    this.name = 'OpenSloError';
  }
}

/** An SLO read from OpenSLO: what `slo/create` takes, plus the aliases it carried. */
export interface ImportedSlo {
  spec: SloSpec;
  aliases: string[];
}

const Filterable = {
  service: z.string().optional(),
  method: z.string().optional(),
  routePattern: z.string().optional(),
};

const CogniForgeSource = z.object({
  type: z.literal(OPENSLO_SOURCE_TYPE, { message: `only ${OPENSLO_SOURCE_TYPE} metric sources are supported` }),
  spec: z.record(z.string(), z.unknown()),
});

const TotalSpec = z
  .object({
    sli: z.enum(['availability', 'errorRate', 'customRatio'], { message: 'must be availability, errorRate or customRatio for a ratioMetric' }),
    count: z.literal('total'),
    expectedClientErrors: z.array(z.number()).optional(),
    ...Filterable,
  })
  .strict();
const GoodSpec = z.object({ sli: z.string(), count: z.literal('good') }).strict();
const LatencySpec = z.object({ sli: z.literal('latency', { message: 'must be latency for a thresholdMetric' }), ...Filterable }).strict();

const unsupported = (what: string) => z.unknown().refine(() => false, { message: what });
const unsupportedOptional = (what: string) => unsupported(what).optional();

const Objective = z
  .object({
    displayName: z.string().optional(),
    op: z.enum(['lte', 'lt', 'gte', 'gt']).optional(),
    value: z.number().optional(),
    target: z.number().optional(),
    targetPercent: z.number().optional(),
    timeSliceTarget: unsupportedOptional('only Occurrences budgeting is supported, so no time slices'),
    timeSliceWindow: unsupportedOptional('only Occurrences budgeting is supported, so no time slices'),
    compositeWeight: unsupportedOptional('composite SLOs are not supported'),
    indicator: unsupportedOptional('give the indicator in spec.indicator'),
    indicatorRef: unsupportedOptional('give the indicator in spec.indicator'),
  })
  .strict();

const Document = z
  .object({
    apiVersion: z.literal('openslo/v1', { message: 'only openslo/v1 is supported' }),
    kind: z.literal('SLO', { message: 'only kind SLO is supported' }),
    metadata: z
      .object({
        name: z.string().min(1),
        displayName: z.string().optional(),
        labels: z
          .record(
            z.string(),
            z.union([z.string(), z.array(z.string())]).refine((v) => typeof v === 'string' || v.length === 1, 'only one value per label is supported'),
          )
          .optional(),
        annotations: z.record(z.string(), z.string()).optional(),
      })
      .strict(),
    spec: z
      .object({
        description: z.string().optional(),
        service: z.string().optional(),
        indicator: z
          .object({
            metadata: z.object({ name: z.string().optional(), displayName: z.string().optional() }).strict().optional(),
            spec: z
              .object({
                ratioMetric: z
                  .object({
                    counter: z.boolean().optional(),
                    good: z.object({ metricSource: CogniForgeSource }).strict().optional(),
                    total: z.object({ metricSource: CogniForgeSource }).strict(),
                    bad: unsupportedOptional('give good and total'),
                    rawType: unsupportedOptional('raw ratios are not supported: give good and total'),
                    raw: unsupportedOptional('raw ratios are not supported: give good and total'),
                  })
                  .strict()
                  .optional(),
                thresholdMetric: z.object({ metricSource: CogniForgeSource }).strict().optional(),
              })
              .strict(),
          })
          .strict()
          .optional(),
        indicatorRef: unsupportedOptional('only an inline indicator (spec.indicator) is supported'),
        timeWindow: z
          .array(
            z
              .object({
                duration: z.string(),
                isRolling: z.boolean().optional(),
                calendar: unsupportedOptional('only rolling windows are supported'),
              })
              .strict(),
          )
          .length(1, 'give exactly one time window'),
        budgetingMethod: z.string(),
        objectives: z.array(Objective).length(1, 'give exactly one objective'),
        alertPolicies: unsupportedOptional('alert policies are not supported: CogniForge alerting is set in the cogniforge.dev/alerting annotation'),
      })
      .strict(),
  })
  .strict();

type Doc = z.infer<typeof Document>;

const dotted = (path: readonly PropertyKey[]): string => path.map(String).join('.');

function firstIssue(error: z.ZodError, document: number, prefix = ''): OpenSloError {
  const issue = error.issues[0]!;
  const path = [prefix, dotted(issue.path)].filter((p) => p !== '').join('.');
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    return new OpenSloError(document, path === '' ? key : `${path}.${key}`, 'not supported by CogniForge');
  }
  return new OpenSloError(document, path, issue.message);
}

/** Our SLO as an OpenSLO v1 SLO document. */
export function toOpenSlo(slo: SloDefinition): Record<string, unknown> {
  const name = slo.id.replace(/_/g, '-');
  const annotations: Record<string, string> = { [ANNOTATION_ID]: slo.id };
  if (slo.aliases.length > 0) annotations[ANNOTATION_ALIASES] = slo.aliases.join(',');
  if (JSON.stringify(slo.alerting) !== JSON.stringify(AlertingSettings.parse({}))) annotations[ANNOTATION_ALERTING] = JSON.stringify(slo.alerting);
  const filter = { ...slo.filter };
  const source = (spec: Record<string, unknown>) => ({ metricSource: { type: OPENSLO_SOURCE_TYPE, spec } });
  const objective: Record<string, unknown> = { displayName: slo.name, target: slo.objective };
  let indicatorSpec: Record<string, unknown>;
  if (slo.sli.kind === 'latency') {
    indicatorSpec = { thresholdMetric: source({ sli: 'latency', ...filter }) };
    objective.op = 'lte';
    objective.value = slo.sli.thresholdMs;
  } else {
    const kindFields = slo.sli.kind === 'errorRate' ? { expectedClientErrors: slo.sli.expectedClientErrors } : {};
    indicatorSpec = {
      ratioMetric: {
        counter: true,
        good: source({ sli: slo.sli.kind, count: 'good' }),
        total: source({ sli: slo.sli.kind, count: 'total', ...kindFields, ...filter }),
      },
    };
  }
  return {
    apiVersion: 'openslo/v1',
    kind: 'SLO',
    metadata: {
      name,
      displayName: slo.name,
      ...(Object.keys(slo.labels).length > 0 ? { labels: { ...slo.labels } } : {}),
      annotations,
    },
    spec: {
      description: slo.description,
      service: slo.service,
      indicator: { metadata: { name: `${name}-sli` }, spec: indicatorSpec },
      timeWindow: [{ duration: `${slo.windowDays}d`, isRolling: true }],
      budgetingMethod: 'Occurrences',
      objectives: [objective],
    },
  };
}

/** Several SLOs as one multi-document YAML stream. */
export function exportOpenSlo(slos: readonly SloDefinition[]): string {
  return slos.map((s) => stringify(toOpenSlo(s), { lineWidth: 0 })).join('---\n');
}

/** Parse a (multi-document) OpenSLO YAML stream; the first problem throws an OpenSloError naming document and field. */
export function parseOpenSlo(text: string): ImportedSlo[] {
  const docs = parseAllDocuments(text, { prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [docs];
  const out: ImportedSlo[] = [];
  list.forEach((doc, index) => {
    const err = doc.errors[0];
    if (err) throw new OpenSloError(index, '', `invalid YAML: ${err.message}`);
    const value: unknown = doc.toJS();
    // A stream ending in `---` holds an empty last document.
    if (value === null && list.length > 1) return;
    const parsed = Document.safeParse(value);
    if (!parsed.success) throw firstIssue(parsed.error, index);
    out.push(fromDocument(parsed.data, index));
  });
  if (out.length === 0) throw new OpenSloError(0, '', 'no SLO documents');
  return out;
}

function fromDocument(doc: Doc, index: number): ImportedSlo {
  const fail = (path: string, message: string): never => {
    throw new OpenSloError(index, path, message);
  };
  const { metadata, spec } = doc;
  if (spec.budgetingMethod !== 'Occurrences') fail('spec.budgetingMethod', 'only Occurrences is supported');
  const window = spec.timeWindow[0]!;
  if (window.isRolling !== true) fail('spec.timeWindow.0.isRolling', 'only rolling windows are supported (isRolling: true)');
  const duration = /^(\d+)([dw])$/.exec(window.duration);
  if (!duration) fail('spec.timeWindow.0.duration', `give whole days or weeks such as 30d or 4w (got ${window.duration})`);
  const windowDays = Number(duration![1]) * (duration![2] === 'w' ? 7 : 1);
  const objective = spec.objectives[0]!;
  if (objective.target !== undefined && objective.targetPercent !== undefined) fail('spec.objectives.0.targetPercent', 'give target or targetPercent, not both');
  const target = objective.target ?? (objective.targetPercent === undefined ? undefined : objective.targetPercent / 100);
  if (target === undefined) fail('spec.objectives.0.target', 'required');
  if (!spec.indicator) fail('spec.indicator', 'required (an inline SLI)');
  const ind = spec.indicator!.spec;
  if ((ind.ratioMetric === undefined) === (ind.thresholdMetric === undefined)) fail('spec.indicator.spec', 'give ratioMetric or thresholdMetric');

  let sli: Sli;
  let filterSource: Record<string, unknown>;
  if (ind.thresholdMetric) {
    const src = LatencySpec.safeParse(ind.thresholdMetric.metricSource.spec);
    if (!src.success) throw firstIssue(src.error, index, 'spec.indicator.spec.thresholdMetric.metricSource.spec');
    if (objective.op !== 'lte') fail('spec.objectives.0.op', 'a thresholdMetric needs op lte (good = duration ≤ value ms)');
    if (objective.value === undefined) fail('spec.objectives.0.value', 'required: the latency threshold in ms');
    sli = { kind: 'latency', thresholdMs: objective.value! };
    filterSource = src.data;
  } else {
    const ratio = ind.ratioMetric!;
    if (objective.op !== undefined) fail('spec.objectives.0.op', 'only a thresholdMetric takes op and value');
    if (objective.value !== undefined) fail('spec.objectives.0.value', 'only a thresholdMetric takes op and value');
    const total = TotalSpec.safeParse(ratio.total.metricSource.spec);
    if (!total.success) throw firstIssue(total.error, index, 'spec.indicator.spec.ratioMetric.total.metricSource.spec');
    if (ratio.good) {
      const good = GoodSpec.safeParse(ratio.good.metricSource.spec);
      if (!good.success) throw firstIssue(good.error, index, 'spec.indicator.spec.ratioMetric.good.metricSource.spec');
      if (good.data.sli !== total.data.sli) fail('spec.indicator.spec.ratioMetric.good.metricSource.spec.sli', `must equal the total's (${total.data.sli})`);
    }
    if (total.data.expectedClientErrors !== undefined && total.data.sli !== 'errorRate') {
      fail('spec.indicator.spec.ratioMetric.total.metricSource.spec.expectedClientErrors', 'only an errorRate SLI has expected client errors');
    }
    sli =
      total.data.sli === 'errorRate'
        ? { kind: 'errorRate', expectedClientErrors: total.data.expectedClientErrors ?? [] }
        : total.data.sli === 'availability'
          ? { kind: 'availability' }
          : { kind: 'customRatio' };
    filterSource = total.data;
  }

  const annotations = metadata.annotations ?? {};
  const id = annotations[ANNOTATION_ID] ?? metadata.name.replace(/-/g, '_');
  if (!SloId.safeParse(id).success) {
    if (annotations[ANNOTATION_ID] !== undefined) fail(`metadata.annotations.${ANNOTATION_ID}`, `"${id}" is no valid SLO id: lower-case letters, digits and "_", starting with a letter`);
    fail('metadata.name', `"${metadata.name}" gives no valid SLO id: lower-case letters, digits and "-" (read as "_"), starting with a letter`);
  }
  let alerting: unknown = undefined;
  if (annotations[ANNOTATION_ALERTING] !== undefined) {
    try {
      alerting = JSON.parse(annotations[ANNOTATION_ALERTING]);
    } catch {
      fail(`metadata.annotations.${ANNOTATION_ALERTING}`, 'must be JSON');
    }
  }
  const labels = Object.fromEntries(Object.entries(metadata.labels ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v[0]! : v]));
  const filter = Object.fromEntries(Object.entries({ service: filterSource.service, method: filterSource.method, routePattern: filterSource.routePattern }).filter(([, v]) => v !== undefined));
  const candidate = {
    id,
    name: metadata.displayName ?? objective.displayName ?? metadata.name,
    ...(spec.description !== undefined ? { description: spec.description } : {}),
    ...(spec.service !== undefined ? { service: spec.service } : {}),
    sli,
    objective: target,
    windowDays,
    filter,
    labels,
    ...(alerting !== undefined ? { alerting } : {}),
  };
  const parsed = SloSpec.safeParse(candidate);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    fail(specFieldPath(dotted(issue.path)), issue.message);
  }
  const aliases = (annotations[ANNOTATION_ALIASES] ?? '').split(',').map((a) => a.trim()).filter((a) => a !== '');
  return { spec: parsed.data!, aliases };
}

/** Where a field of our SLO spec lives in the OpenSLO document, for error messages. */
function specFieldPath(path: string): string {
  const top = path.split('.')[0];
  const map: Record<string, string> = {
    id: 'metadata.name',
    name: 'metadata.displayName',
    description: 'spec.description',
    service: 'spec.service',
    objective: 'spec.objectives.0.target',
    windowDays: 'spec.timeWindow.0.duration',
    labels: 'metadata.labels',
    alerting: `metadata.annotations.${ANNOTATION_ALERTING}`,
    filter: 'spec.indicator.spec (metric source spec)',
    sli: path === 'sli.thresholdMs' ? 'spec.objectives.0.value' : 'spec.indicator.spec',
  };
  const mapped = map[top ?? ''] ?? path;
  return top === 'alerting' || top === 'labels' || top === 'filter' ? `${mapped}${path.slice(top.length)}` : mapped;
}
