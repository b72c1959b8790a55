import * as z from 'zod';
import { IsoTime, Ok } from './common';
import { defineNotification, defineRequest } from './define';
import { Severity } from './incidents';

/** An IANA time zone name that this runtime's Intl knows (`Europe/Berlin`, `UTC`). */
export const TimeZone = z
  .string()
  .min(1)
  .max(64)
  .refine(
    (tz) => {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    },
    { message: 'not an IANA time zone (e.g. Europe/Berlin)' },
  );

/** A person's short name, used everywhere a person is referenced. */
export const Handle = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'handle: lower-case letters, digits, . _ - (max 64)');
/** On-call role a schedule covers (`primary`, `secondary`, `incident_commander`...). */
export const OncallRole = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'role: lower-case letters, digits and _');
/** Local wall time, `HH:mm` (24 h). */
export const LocalTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'time of day is HH:mm (24 h)');
export const Weekday = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
export type Weekday = z.infer<typeof Weekday>;

export const Channel = z.enum(['email', 'sms', 'slack', 'pagerduty', 'webhook', 'phone_call']);
export type Channel = z.infer<typeof Channel>;

const HttpUrl = z.url({ protocol: /^https?$/ }).max(2000);
const Secret = z.string().min(16, 'secret: at least 16 characters').max(512);

/**
 * How a person is reached on one channel. Email, SMS and phone go through a relay webhook the user
 * runs (it receives the generic webhook body with `channel` and `to`).
 */
export const ContactMethod = z.discriminatedUnion('channel', [
  z.object({ channel: z.literal('slack'), webhookUrl: HttpUrl, memberId: z.string().regex(/^[UW][A-Z0-9]{2,20}$/, 'Slack member id looks like U012AB3CD').optional() }),
  z.object({ channel: z.literal('pagerduty'), routingKey: z.string().regex(/^[A-Za-z0-9]{32}$/, 'PagerDuty routing key: 32 letters/digits') }),
  z.object({ channel: z.literal('webhook'), url: HttpUrl, secret: Secret.optional() }),
  z.object({ channel: z.enum(['email', 'sms', 'phone_call']), to: z.string().trim().min(3).max(320), url: HttpUrl, secret: Secret.optional() }),
]);
export type ContactMethod = z.infer<typeof ContactMethod>;

export const Person = z.object({
  handle: Handle,
  name: z.string().trim().min(1).max(200),
  timeZone: TimeZone,
  contacts: z.array(ContactMethod).max(20).default([]),
});
export type Person = z.infer<typeof Person>;

/** A daily (every day) or weekly (given weekdays) window in the layer's time zone; `to` ≤ `from` ends the next day. */
export const Restriction = z.object({
  days: z.array(Weekday).min(1).max(7).optional(),
  from: LocalTime,
  to: LocalTime,
});
export type Restriction = z.infer<typeof Restriction>;

export const RotationLayer = z.object({
  name: z.string().trim().min(1).max(100),
  /** Handles, in turn order. */
  members: z.array(Handle).min(1).max(100),
  /** First day of the first member's first turn, `YYYY-MM-DD` in `timeZone`. */
  startDate: z.iso.date(),
  /** Local wall time of every handoff. */
  handoffTime: LocalTime,
  timeZone: TimeZone,
  /** Days and weeks are calendar units (a handoff stays at the same local time across DST); hours are elapsed time. */
  turn: z.object({ count: z.number().int().min(1).max(1000), unit: z.enum(['hours', 'days', 'weeks']) }),
  /** Only these windows are covered; outside them the layer below shows through. */
  restrictions: z.array(Restriction).max(14).optional(),
});
export type RotationLayer = z.infer<typeof RotationLayer>;

export const Override = z.object({
  id: z.string(),
  person: Handle,
  from: IsoTime,
  to: IsoTime,
});
export type Override = z.infer<typeof Override>;

export const Schedule = z.object({
  role: OncallRole,
  /** Bottom first: a later layer wins wherever it has coverage. */
  layers: z.array(RotationLayer).min(1).max(10),
  overrides: z.array(Override),
});
export type Schedule = z.infer<typeof Schedule>;

/** A page target: whoever is on call for a role (or holds that incident role), or a named person. */
export const EscalationTarget = z.union([z.object({ role: OncallRole }).strict(), z.object({ person: Handle }).strict()]);
export type EscalationTarget = z.infer<typeof EscalationTarget>;

export const EscalationLevel = z.object({
  /** Minutes after the incident was created at which this level is paged if still unacknowledged (level 1: 0). */
  delayMinutes: z.number().min(0).max(7 * 24 * 60),
  targets: z.array(EscalationTarget).min(1).max(20),
  channels: z.array(Channel).min(1).max(6),
});
export type EscalationLevel = z.infer<typeof EscalationLevel>;

/** Most levels a policy may have. */
export const MAX_ESCALATION_LEVELS = 10;

export const EscalationPolicy = z.object({
  severity: Severity,
  levels: z
    .array(EscalationLevel)
    .min(1)
    .max(MAX_ESCALATION_LEVELS)
    .refine((l) => l[0]?.delayMinutes === 0, { message: 'level 1 is paged when the incident is created: its delayMinutes must be 0' })
    .refine((l) => l.every((x, i) => i === 0 || x.delayMinutes > l[i - 1]!.delayMinutes), { message: 'delayMinutes must increase from level to level' }),
  /** True while the built-in default is in force (never upserted). */
  isDefault: z.boolean().optional(),
});
export type EscalationPolicy = z.infer<typeof EscalationPolicy>;

/** A piece of the final schedule; `person: null` is a gap. */
export const ScheduleSegment = z.object({ from: IsoTime, to: IsoTime, person: Handle.nullable() });
export type ScheduleSegment = z.infer<typeof ScheduleSegment>;

export const ListPeople = defineRequest('oncall/listPeople', z.object({}), z.object({ people: z.array(Person) }), {
  kind: 'query',
  doc: 'Everyone who can be on call, with time zone and contact methods.',
});
export const UpsertPerson = defineRequest('oncall/upsertPerson', Person, Person, {
  kind: 'command',
  doc: 'Create or replace a person (by handle).',
});
export const DeletePerson = defineRequest('oncall/deletePerson', z.object({ handle: Handle }), Ok, {
  kind: 'command',
  doc: 'Delete a person who is in no schedule, override or escalation policy.',
});

export const ListSchedules = defineRequest('oncall/listSchedules', z.object({}), z.object({ schedules: z.array(Schedule) }), {
  kind: 'query',
  doc: 'Every on-call schedule (one per role) with its layers and overrides.',
});
export const UpsertSchedule = defineRequest('oncall/upsertSchedule', Schedule.omit({ overrides: true }), Schedule, {
  kind: 'command',
  doc: "Create or replace a role's rotation layers (its overrides are kept).",
});
export const DeleteSchedule = defineRequest('oncall/deleteSchedule', z.object({ role: OncallRole }), Ok, {
  kind: 'command',
  doc: "Delete a role's schedule and its overrides.",
});
export const AddOverride = defineRequest(
  'oncall/addOverride',
  z
    .object({ role: OncallRole, person: Handle, from: IsoTime, to: IsoTime })
    .refine((p) => Date.parse(p.from) < Date.parse(p.to), { message: 'from must be before to', path: ['from'] }),
  Override,
  { kind: 'command', doc: 'Put a person on call for a role from..to, over every layer; overlapping overrides are refused.' },
);
export const RemoveOverride = defineRequest('oncall/removeOverride', z.object({ role: OncallRole, id: z.string().min(1).max(100) }), Ok, {
  kind: 'command',
  doc: 'Remove an override.',
});

export const WhoIsOnCall = defineRequest(
  'oncall/whoIsOnCall',
  z.object({ role: OncallRole.optional(), at: IsoTime.optional() }),
  z.object({
    at: IsoTime,
    /** Per role: who, since and until when the current segment runs (null person: nobody). */
    oncall: z.array(z.object({ role: OncallRole, person: Handle.nullable(), from: IsoTime, to: IsoTime })),
  }),
  { kind: 'query', doc: 'Who is on call for a role (or every role) at a time (default now), and until when.' },
);
export const GetOncallSchedule = defineRequest(
  'oncall/schedule',
  z.object({ role: OncallRole, from: IsoTime.optional(), days: z.number().int().min(1).max(90).default(7) }),
  z.object({
    role: OncallRole,
    from: IsoTime,
    to: IsoTime,
    segments: z.array(ScheduleSegment),
    /** The segments with nobody on call. */
    gaps: z.array(z.object({ from: IsoTime, to: IsoTime })),
  }),
  { kind: 'query', doc: 'The final schedule of a role (layers and overrides combined) for the next N days, gaps reported.' },
);

export const ListEscalationPolicies = defineRequest(
  'escalation/listPolicies',
  z.object({}),
  z.object({ policies: z.array(EscalationPolicy) }),
  { kind: 'query', doc: 'The escalation policy of every severity (built-in defaults until replaced).' },
);
export const UpsertEscalationPolicy = defineRequest('escalation/upsertPolicy', EscalationPolicy.omit({ isDefault: true }), EscalationPolicy, {
  kind: 'command',
  doc: "Replace a severity's escalation policy; incidents already paging keep the levels they started with.",
});

export const DidChangeOncall = defineNotification(
  'oncall/didChange',
  z.object({ change: z.enum(['person', 'schedule', 'override', 'policy']), key: z.string() }),
  'A person, schedule, override or escalation policy changed.',
);

export const DidEscalateIncident = defineNotification(
  'incidents/didEscalate',
  z.object({
    incidentId: z.string(),
    number: z.string(),
    level: z.number().int().positive(),
    /** Handles paged at this level. */
    people: z.array(Handle),
    delivered: z.number().int(),
    failed: z.number().int(),
  }),
  'An escalation level of an incident was paged (with how many deliveries succeeded).',
);
