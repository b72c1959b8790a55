import type { ChangeSeverity } from '../../../protocol';

/**
 * Every rule the comparison applies, with its severity. "Request" is what a client sends
 * (parameters, request bodies): a change breaks clients when the new contract accepts less.
 * "Response" is what a client reads: a change breaks clients when the new contract may send something
 * the old one promised not to, or stops sending something it promised.
 */
export const COMPARE_RULES = {
  'path-removed': { severity: 'breaking', title: 'Path removed (each of its operations)' },
  'operation-removed': { severity: 'breaking', title: 'Operation removed' },
  'deprecated-operation-removed': { severity: 'info', title: 'Operation removed after its sunset date (allowed)' },
  'path-added': { severity: 'info', title: 'Path added' },
  'operation-added': { severity: 'info', title: 'Operation added' },
  'operation-deprecated': { severity: 'warning', title: 'Operation marked deprecated' },
  'operation-undeprecated': { severity: 'info', title: 'Deprecated flag removed from an operation' },
  'operation-id-changed': { severity: 'warning', title: 'operationId changed (generated clients rename the method)' },
  'required-parameter-added': { severity: 'breaking', title: 'Required request parameter added' },
  'optional-parameter-added': { severity: 'info', title: 'Optional request parameter added' },
  'parameter-removed': { severity: 'warning', title: 'Request parameter removed (clients still send it)' },
  'parameter-became-required': { severity: 'breaking', title: 'Request parameter optional → required' },
  'parameter-became-optional': { severity: 'info', title: 'Request parameter required → optional' },
  'parameter-type-changed': { severity: 'breaking', title: 'Request parameter type changed incompatibly' },
  'request-body-required-added': { severity: 'breaking', title: 'Required request body added' },
  'request-body-added': { severity: 'info', title: 'Optional request body added' },
  'request-body-removed': { severity: 'warning', title: 'Request body removed' },
  'request-body-became-required': { severity: 'breaking', title: 'Request body optional → required' },
  'request-media-type-removed': { severity: 'breaking', title: 'Request media type no longer accepted' },
  'request-media-type-added': { severity: 'info', title: 'Request media type added' },
  'request-required-property-added': { severity: 'breaking', title: 'Required request property added' },
  'request-optional-property-added': { severity: 'info', title: 'Optional request property added' },
  'request-property-removed': { severity: 'warning', title: 'Request property removed (clients still send it)' },
  'request-property-became-required': { severity: 'breaking', title: 'Request property optional → required' },
  'request-property-became-optional': { severity: 'info', title: 'Request property required → optional' },
  'request-property-type-changed': { severity: 'breaking', title: 'Request property or body type changed incompatibly' },
  'request-enum-value-removed': { severity: 'breaking', title: 'Enum value removed from a request parameter or property' },
  'request-enum-value-added': { severity: 'info', title: 'Enum value added to a request parameter or property' },
  'success-response-removed': { severity: 'breaking', title: 'Success (2xx) response removed' },
  'response-removed': { severity: 'info', title: 'Non-success response removed' },
  'response-added': { severity: 'info', title: 'Response status added' },
  'response-media-type-removed': { severity: 'breaking', title: 'Response media type removed' },
  'response-media-type-added': { severity: 'info', title: 'Response media type added' },
  'response-property-removed': { severity: 'breaking', title: 'Response property removed' },
  'response-property-added': { severity: 'info', title: 'Response property added' },
  'response-property-became-optional': { severity: 'breaking', title: 'Response property required → optional (clients may find it missing)' },
  'response-property-type-changed': { severity: 'breaking', title: 'Response property or body type changed incompatibly' },
  'response-enum-value-added': { severity: 'warning', title: 'Enum value added to a response (strict clients may reject it)' },
  'response-enum-value-removed': { severity: 'info', title: 'Enum value removed from a response' },
  'type-generalized': { severity: 'info', title: 'Type changed compatibly (request widened or response narrowed)' },
  'security-requirement-added': { severity: 'breaking', title: 'Security requirement added (scheme or scope a client may lack)' },
  'security-requirement-removed': { severity: 'warning', title: 'Security requirement removed or relaxed' },
} as const satisfies Record<string, { severity: ChangeSeverity; title: string }>;

export type CompareRuleId = keyof typeof COMPARE_RULES;

export const COMPARE_RULE_IDS = Object.keys(COMPARE_RULES) as CompareRuleId[];
