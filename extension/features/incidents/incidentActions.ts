import * as z from 'zod';
import {
  ErrorCode,
  INCIDENT_TRANSITIONS,
  SEVERITIES,
  Severity,
  type IncidentStatus,
  type IncidentSummary,
} from '../../../daemon/protocol';
import { SEVERITY_NAMES } from './incidentsTreeModel';

/** A QuickPick row that carries the value it stands for. */
export interface Choice<T> {
  readonly value: T;
  readonly label: string;
  readonly description: string;
}

/*
 * What each severity means. Shown on the description line, not a `detail` line: the workbench
 * reuses quick-pick rows, and a hidden detail row keeps its old label for later pickers.
 */
const SEVERITY_MEANINGS: Readonly<Record<Severity, string>> = {
  SEV1: 'Outage or data loss for many users; all hands, page now',
  SEV2: 'Major feature broken or badly degraded for many users; page now',
  SEV3: 'Partial degradation with a workaround; handle in working hours',
  SEV4: 'Minor or cosmetic issue; no user impact worth paging for',
};

/** What each severity means, shown when the user picks one. */
export const SEVERITY_CHOICES: readonly Choice<Severity>[] = SEVERITIES.map((s) => ({
  value: s,
  label: s,
  description: `${SEVERITY_NAMES[s]}: ${SEVERITY_MEANINGS[s]}`,
}));

const STATUS_DESCRIPTIONS: Readonly<Record<IncidentStatus, string>> = {
  detected: 'Noticed, nobody on it yet',
  acknowledged: 'Someone owns it',
  investigating: 'Looking for the cause',
  identified: 'Cause known (you can record the root cause)',
  resolving: 'Fix or mitigation rolling out; impact stopping',
  resolved: 'Impact over (asks for the resolution)',
  closed: 'Done, review written where required',
};

/**
 * The statuses an incident may move to now, exactly as the daemon's lifecycle table allows them,
 * with a word on each. The reopen (resolved → investigating) says that it reopens.
 */
export function nextStatusChoices(status: IncidentStatus): Choice<IncidentStatus>[] {
  return INCIDENT_TRANSITIONS[status].map((to) => ({
    value: to,
    label: to,
    description: status === 'resolved' && to === 'investigating' ? 'Reopen: the impact is back' : STATUS_DESCRIPTIONS[to],
  }));
}

/** Validation messages for an InputBox: undefined means the value is fine. */
export function validateTitle(value: string): string | undefined {
  const t = value.trim();
  if (t.length === 0) return 'Give the incident a title, e.g. "Checkout returns 502"';
  if (t.length > 200) return `At most 200 characters (this is ${t.length})`;
  return undefined;
}

export function validateRequiredText(what: string, max = 20_000): (value: string) => string | undefined {
  return (value) => {
    const t = value.trim();
    if (t.length === 0) return `${what} is required`;
    if (t.length > max) return `At most ${max} characters (this is ${t.length})`;
    return undefined;
  };
}

export function validateOptionalText(max = 20_000): (value: string) => string | undefined {
  return (value) => (value.length > max ? `At most ${max} characters (this is ${value.length})` : undefined);
}

/** A person's handle: one word-ish token, as the daemon stores it. */
export function validateHandle(value: string): string | undefined {
  const t = value.trim();
  if (t.length === 0) return undefined;
  if (t.length > 200) return 'At most 200 characters';
  if (/\s/.test(t)) return 'A handle has no spaces, e.g. "alice" or "@alice"';
  return undefined;
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** `checkout, payments api ,auth` → three names; empty → none. Duplicates are dropped. */
export function parseServices(text: string): Parsed<string[]> {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const tooLong = names.find((n) => n.length > 200);
  if (tooLong !== undefined) return { ok: false, error: `Service name "${tooLong.slice(0, 30)}…" is longer than 200 characters` };
  if (names.length > 100) return { ok: false, error: `At most 100 services (this is ${names.length})` };
  return { ok: true, value: [...new Set(names)] };
}

export interface ReviewActionItem {
  readonly description: string;
  readonly owner: string;
  /** `YYYY-MM-DD`. */
  readonly due: string;
  readonly done: boolean;
}

/** `alice | 2026-12-01 | Add a canary for the checkout deploy` → an action item, checked as the daemon will. */
export function parseActionItem(text: string): Parsed<ReviewActionItem> {
  const parts = text.split('|').map((p) => p.trim());
  if (parts.length < 3) return { ok: false, error: 'Write it as: owner | YYYY-MM-DD | what to do' };
  const [owner = '', due = '', ...rest] = parts;
  const description = rest.join(' | ').trim();
  if (owner.length === 0 || /\s/.test(owner)) return { ok: false, error: 'The owner is a handle without spaces, e.g. alice' };
  if (!z.iso.date().safeParse(due).success) return { ok: false, error: `"${due}" is not a date like 2026-12-01` };
  if (description.length === 0) return { ok: false, error: 'Say what is to be done after the second |' };
  if (description.length > 2000) return { ok: false, error: 'At most 2000 characters for what is to be done' };
  return { ok: true, value: { owner, due, description, done: false } };
}

export function formatActionItem(item: ReviewActionItem): string {
  return `${item.owner} | ${item.due} | ${item.description}${item.done ? ' (done)' : ''}`;
}

/** What `cogniforge.createIncident` accepts from another feature (the SLO page alert), all optional. */
export const CreateIncidentArgs = z.object({
  title: z.string().max(200).optional(),
  severity: Severity.optional(),
  sloIds: z.array(z.string().min(1).max(200)).max(100).optional(),
  services: z.array(z.string().min(1).max(200)).max(100).optional(),
  description: z.string().max(20_000).optional(),
});
export type CreateIncidentArgs = z.infer<typeof CreateIncidentArgs>;

/**
 * The pre-fill of the create wizard. A command run from the palette gets no argument (or VS Code's
 * own context): anything that is not an object of the expected shape means "no pre-fill".
 */
export function parseCreateArgs(arg: unknown): CreateIncidentArgs {
  if (typeof arg !== 'object' || arg === null || Array.isArray(arg)) return {};
  const parsed = CreateIncidentArgs.safeParse(arg);
  return parsed.success ? parsed.data : {};
}

/**
 * The incident a command was run on: a tree row, `{ incidentId }`, `{ id }`, or a bare id / number
 * string (for other features and keybindings). Undefined: ask the user to pick one.
 */
export function incidentRefOf(arg: unknown): string | undefined {
  if (typeof arg === 'string' && arg.trim().length > 0) return arg.trim();
  if (typeof arg !== 'object' || arg === null) return undefined;
  const o = arg as Record<string, unknown>;
  if (typeof o['incidentId'] === 'string') return o['incidentId'];
  if (typeof o['id'] === 'string' && !o['id'].startsWith('incident:') && !o['id'].startsWith('group:')) return o['id'];
  return undefined;
}

/** The daemon refused to close because the incident still needs its post-incident review. */
export function isReviewRequiredError(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const { code, data } = e as { code?: unknown; data?: unknown };
  return code === ErrorCode.FailedPrecondition && typeof data === 'object' && data !== null && (data as { missing?: unknown }).missing === 'review';
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A row of the "pick an incident" QuickPick. */
export function incidentChoice(inc: IncidentSummary): Choice<string> {
  return {
    value: inc.id,
    label: `${inc.number} ${inc.title}`,
    description: [inc.severity, inc.status, ...inc.services].join(' · '),
  };
}

/** An input box is one line: multi-line text is shown with its lines joined by " ⏎ ". */
export function oneLine(text: string | undefined): string | undefined {
  return text?.replace(/\r?\n/g, ' ⏎ ');
}

/** The multi-line original when the user accepted it unchanged, else what they typed (" ⏎ " back to newlines). */
export function keepLines(original: string | undefined, typed: string): string {
  if (original !== undefined && typed === oneLine(original)) return original;
  return typed.replace(/ ⏎ /g, '\n');
}
